// tools/cli_roles.cc: the role table of the msock tool (see cli_roles.h).
//
// RoleSocket<R> adapts any typed protocol class of msock/protocols/*.h; whether
// the role can send or receive is read from the class itself (does it have Send
// / Recv?), so a row cannot claim a direction its class does not offer.
#include "tools/cli_roles.h"

#include <array>
#include <chrono>
#include <concepts>
#include <condition_variable>
#include <deque>
#include <mutex>

namespace msock::cli {
namespace {

template <typename R>
class RoleSocket final : public CliSocket {
 public:
  static constexpr bool kCanSend = requires(R & r, Message& m, absl::Time t) {
    { r.Send(m, t) } -> std::same_as<absl::Status>;
  };
  static constexpr bool kCanRecv = requires(R & r, absl::Time t) {
    { r.Recv(t) } -> std::same_as<absl::StatusOr<Message>>;
  };

  Socket& socket() override { return role_.socket(); }

  absl::Status Send(Message& msg, absl::Time deadline) override {
    if constexpr (kCanSend) {
      return role_.Send(msg, deadline);
    } else {
      return absl::FailedPreconditionError("this role cannot send");
    }
  }

  absl::StatusOr<Message> Recv(absl::Time deadline) override {
    if constexpr (kCanRecv) {
      return role_.Recv(deadline);
    } else {
      return absl::FailedPreconditionError("this role cannot receive");
    }
  }

 private:
  R role_;
};

// req: Send makes a request and keeps its reply for Recv, so the tool's sender
// and receiver flows work unchanged.
class ReqSocket final : public CliSocket {
 public:
  Socket& socket() override { return req_.socket(); }

  absl::Status Send(Message& msg, absl::Time deadline) override {
    absl::StatusOr<Message> reply = req_.Request(msg, deadline);
    if (!reply.ok()) return reply.status();
    std::lock_guard<std::mutex> lock(mu_);
    replies_.push_back(*std::move(reply));
    cv_.notify_all();
    return absl::OkStatus();
  }

  absl::StatusOr<Message> Recv(absl::Time deadline) override {
    std::unique_lock<std::mutex> lock(mu_);
    while (replies_.empty() && !closed_) {
      if (deadline == absl::InfiniteFuture()) {
        cv_.wait(lock);
      } else if (cv_.wait_for(
                     lock, absl::ToChronoNanoseconds(deadline - absl::Now())) ==
                     std::cv_status::timeout &&
                 replies_.empty() && !closed_) {
        return absl::DeadlineExceededError("no reply in time");
      }
    }
    if (replies_.empty()) return absl::CancelledError("closed");
    Message m = std::move(replies_.front());
    replies_.pop_front();
    return m;
  }

  void Close() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      closed_ = true;
      cv_.notify_all();
    }
    req_.Close();
  }

 private:
  Req req_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Message> replies_;
  bool closed_ = false;
};

class RepSocket final : public CliSocket {
 public:
  Socket& socket() override { return rep_.socket(); }
  absl::Status Send(Message&, absl::Time) override {
    return absl::FailedPreconditionError("rep only answers requests");
  }
  absl::StatusOr<Message> Recv(absl::Time deadline) override {
    return rep_.Recv(deadline);
  }
  absl::Status Answer(const Message& request, Message& reply,
                      absl::Time deadline) override {
    return rep_.Reply(request, reply, deadline);
  }

 private:
  Rep rep_;
};

template <typename R>
constexpr RoleInfo MakeRole(const char* name, const char* summary) {
  return RoleInfo{name,
                  summary,
                  RoleSocket<R>::kCanSend,
                  RoleSocket<R>::kCanRecv,
                  []() -> std::unique_ptr<CliSocket> {
                    return std::make_unique<RoleSocket<R>>();
                  },
                  false,
                  false};
}

const std::array<RoleInfo, 6> kRoles = {
    MakeRole<Push>("push",
                   "sends --data/--file to one connected pull at a time "
                   "(round robin)"),
    MakeRole<Pull>("pull", "receives and prints messages from push peers"),
    MakeRole<Pair0>("pair0",
                    "one peer, both directions (NNG pair0, nanomsg NN_PAIR)"),
    MakeRole<Pair1>("pair1",
                    "one peer, both directions, with hop count (NNG pair1)"),
    RoleInfo{"req",
             "sends --data/--file as requests (--count, default 1) and prints "
             "each reply",
             true, true,
             []() -> std::unique_ptr<CliSocket> {
               return std::make_unique<ReqSocket>();
             },
             false, true},
    RoleInfo{"rep",
             "prints each request and answers it with --data/--file (if given)",
             false, true,
             []() -> std::unique_ptr<CliSocket> {
               return std::make_unique<RepSocket>();
             },
             true, false},
};

}  // namespace

std::span<const RoleInfo> Roles() { return kRoles; }

const RoleInfo* FindRole(std::string_view name) {
  for (const RoleInfo& role : kRoles) {
    if (name == role.name) return &role;
  }
  return nullptr;
}

}  // namespace msock::cli
