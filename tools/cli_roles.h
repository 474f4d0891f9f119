// tools/cli_roles.h: the tables of socket roles and device patterns the msock
// command-line tool knows.
//
// Each role row names a role, says what it can do (send, receive, answer,
// survey, subscribe) and makes its socket. A new pattern is one more row in
// Roles() (cli_roles.cc) plus, if it needs a new flow, a branch in cli_run.cc.
// Each device row names the two raw sockets `msock device` joins.
#ifndef MSOCK_TOOLS_CLI_ROLES_H_
#define MSOCK_TOOLS_CLI_ROLES_H_

#include <functional>
#include <memory>
#include <span>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "msock/msock.h"

namespace msock::cli {

// The socket of one role, seen through the calls the tool uses. Each call
// returns kFailedPrecondition when the role cannot do it (the table's flags
// say which it can).
class CliSocket {
 public:
  virtual ~CliSocket() = default;
  virtual Socket& socket() = 0;
  virtual absl::Status Send(Message& msg, absl::Time deadline) = 0;
  virtual absl::StatusOr<Message> Recv(absl::Time deadline) = 0;
  // Answering roles (rep, respondent): sends `reply` back to where `request`
  // came from.
  virtual absl::Status Answer(const Message& request, Message& reply,
                              absl::Time deadline) {
    return absl::FailedPreconditionError("this role does not answer");
  }
  // Surveying roles (surveyor): sends `msg` to every peer and calls `each` with
  // every answer that arrives before `deadline`; returns at the deadline.
  virtual absl::Status Survey(Message& msg, absl::Time deadline,
                              const std::function<void(Message&)>& each) {
    return absl::FailedPreconditionError("this role does not survey");
  }
  // Subscribing roles (sub): adds a prefix ("" = everything).
  virtual absl::Status Subscribe(std::string_view prefix) {
    return absl::FailedPreconditionError("this role does not subscribe");
  }
  // Closes the socket and wakes every call blocked in it.
  virtual void Close() { socket().Close(); }
};

struct RoleInfo {
  const char* name;     // as typed on the command line: "push"
  const char* summary;  // one line for --help
  bool can_send;
  bool can_recv;
  std::unique_ptr<CliSocket> (*make)();
  // rep, respondent: --data/--file is the answer to every message received.
  bool answers = false;
  // req: every send is a request and its reply is what Recv prints, so the
  // receiver stops after as many replies as sends.
  bool replies_to_sends = false;
  // surveyor: --data/--file goes out as --count surveys; the answers to each
  // are printed until its deadline (--survey-time).
  bool surveys = false;
  // sub: takes --subscribe.
  bool subscribes = false;
};

// Every role, in --help order.
std::span<const RoleInfo> Roles();
// The role called `name`, or nullptr.
const RoleInfo* FindRole(std::string_view name);

// One --pattern of `msock device`: the raw socket on each side. Front faces
// the peers that start exchanges (requesters, publishers, pushers, surveyors),
// back the peers that serve them.
struct DevicePattern {
  const char* name;     // "reqrep"
  const char* summary;  // one line for --help
  const SocketSpec* front;
  const SocketSpec* back;
  // bus: with no back endpoint, one bus socket forwards between its own peers.
  bool back_optional = false;
};

// Every device pattern, in --help order.
std::span<const DevicePattern> DevicePatterns();
// The pattern called `name`, or nullptr.
const DevicePattern* FindDevicePattern(std::string_view name);

}  // namespace msock::cli

#endif  // MSOCK_TOOLS_CLI_ROLES_H_
