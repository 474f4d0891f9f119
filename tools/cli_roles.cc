// tools/cli_roles.cc: the role table of the msock tool (see cli_roles.h).
//
// RoleSocket<R> adapts any typed protocol class of msock/protocols/*.h; whether
// the role can send or receive is read from the class itself (does it have Send
// / Recv?), so a row cannot claim a direction its class does not offer.
#include "tools/cli_roles.h"

#include <array>
#include <concepts>

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

template <typename R>
constexpr RoleInfo MakeRole(const char* name, const char* summary) {
  return RoleInfo{name, summary, RoleSocket<R>::kCanSend,
                  RoleSocket<R>::kCanRecv, []() -> std::unique_ptr<CliSocket> {
                    return std::make_unique<RoleSocket<R>>();
                  }};
}

const std::array<RoleInfo, 4> kRoles = {
    MakeRole<Push>("push",
                   "sends --data/--file to one connected pull at a time "
                   "(round robin)"),
    MakeRole<Pull>("pull", "receives and prints messages from push peers"),
    MakeRole<Pair0>("pair0",
                    "one peer, both directions (NNG pair0, nanomsg NN_PAIR)"),
    MakeRole<Pair1>("pair1",
                    "one peer, both directions, with hop count (NNG pair1)"),
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
