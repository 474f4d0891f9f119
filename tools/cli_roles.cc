// tools/cli_roles.cc: the role and device tables of the msock tool (see
// cli_roles.h).
//
// RoleSocket<R> adapts any typed protocol class of msock/protocols/*.h; what
// the role can do is read from the class itself (does it have Send, Recv,
// Reply, Survey, Subscribe?), so a row cannot claim a call its class does not
// offer.
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
  static constexpr bool kCanAnswer =
      requires(R & r, const Message& q, Message& a, absl::Time t) {
    { r.Reply(q, a, t) } -> std::same_as<absl::Status>;
  };
  static constexpr bool kCanSurvey =
      requires(R & r, Message& m, absl::Time t,
               const std::function<void(Message&)>& each) {
    { r.Survey(m, t, each) } -> std::same_as<absl::Status>;
  };
  static constexpr bool kCanSubscribe = requires(R & r, std::string_view p) {
    r.Subscribe(p);
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

  absl::Status Answer(const Message& request, Message& reply,
                      absl::Time deadline) override {
    if constexpr (kCanAnswer) {
      return role_.Reply(request, reply, deadline);
    } else {
      return CliSocket::Answer(request, reply, deadline);
    }
  }

  absl::Status Survey(Message& msg, absl::Time deadline,
                      const std::function<void(Message&)>& each) override {
    if constexpr (kCanSurvey) {
      return role_.Survey(msg, deadline, each);
    } else {
      return CliSocket::Survey(msg, deadline, each);
    }
  }

  absl::Status Subscribe(std::string_view prefix) override {
    if constexpr (kCanSubscribe) {
      role_.Subscribe(prefix);
      return absl::OkStatus();
    } else {
      return CliSocket::Subscribe(prefix);
    }
  }

  // R's own Close where it has one (surveyor wakes its running surveys).
  void Close() override { role_.Close(); }

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

template <typename R>
constexpr RoleInfo MakeRole(const char* name, const char* summary) {
  using S = RoleSocket<R>;
  return RoleInfo{.name = name,
                  .summary = summary,
                  .can_send = S::kCanSend,
                  .can_recv = S::kCanRecv,
                  .make = []() -> std::unique_ptr<CliSocket> {
                    return std::make_unique<S>();
                  },
                  .answers = S::kCanAnswer,
                  .surveys = S::kCanSurvey,
                  .subscribes = S::kCanSubscribe};
}

const std::array<RoleInfo, 11> kRoles = {
    MakeRole<Push>("push",
                   "sends --data/--file to one connected pull at a time "
                   "(round robin)"),
    MakeRole<Pull>("pull", "receives and prints messages from push peers"),
    MakeRole<Pair0>("pair0",
                    "one peer, both directions (NNG pair0, nanomsg NN_PAIR)"),
    MakeRole<Pair1>("pair1",
                    "one peer, both directions, with hop count (NNG pair1)"),
    RoleInfo{.name = "req",
             .summary = "sends --data/--file as --count requests, prints each "
                        "reply",
             .can_send = true,
             .can_recv = true,
             .make = []() -> std::unique_ptr<CliSocket> {
               return std::make_unique<ReqSocket>();
             },
             .replies_to_sends = true},
    MakeRole<Rep>(
        "rep",
        "prints each request and answers it with --data/--file (if given)"),
    MakeRole<Pub>("pub", "sends --data/--file to every connected sub"),
    MakeRole<Sub>("sub",
                  "prints messages starting with a --subscribe prefix "
                  "(default: all)"),
    MakeRole<Bus>("bus",
                  "sends --data/--file to every peer and prints what peers "
                  "send"),
    MakeRole<Surveyor>("surveyor",
                       "sends --data/--file as --count surveys, prints every "
                       "answer"),
    MakeRole<Respondent>(
        "respondent",
        "prints each survey and answers it with --data/--file (if given)"),
};

const std::array<DevicePattern, 7> kDevicePatterns = {
    DevicePattern{"reqrep", "req -> front (rep) | back (req) <- rep",
                  &protocols::kRep, &protocols::kReq},
    DevicePattern{"pubsub", "pub -> front (sub, takes all) | back (pub) -> sub",
                  &protocols::kSub, &protocols::kPub},
    DevicePattern{"pipeline", "push -> front (pull) | back (push) -> pull",
                  &protocols::kPull, &protocols::kPush},
    DevicePattern{"survey",
                  "surveyor -> front (respondent) | back (surveyor) <- "
                  "respondent",
                  &protocols::kRespondent, &protocols::kSurveyor},
    DevicePattern{"bus",
                  "bus <-> front (bus) | back (bus) <-> bus; no back: one bus "
                  "hub",
                  &protocols::kBus, &protocols::kBus, true},
    DevicePattern{"pair", "pair1 <-> front (pair1) | back (pair1) <-> pair1",
                  &protocols::kPair1, &protocols::kPair1},
    DevicePattern{"pair0", "pair0 <-> front (pair0) | back (pair0) <-> pair0",
                  &protocols::kPair0, &protocols::kPair0},
};

}  // namespace

std::span<const RoleInfo> Roles() { return kRoles; }

const RoleInfo* FindRole(std::string_view name) {
  for (const RoleInfo& role : kRoles) {
    if (name == role.name) return &role;
  }
  return nullptr;
}

std::span<const DevicePattern> DevicePatterns() { return kDevicePatterns; }

const DevicePattern* FindDevicePattern(std::string_view name) {
  for (const DevicePattern& p : kDevicePatterns) {
    if (name == p.name) return &p;
  }
  return nullptr;
}

}  // namespace msock::cli
