// tools/cli_roles.h: the table of socket roles the msock command-line tool
// knows.
//
// Each row names a role, says whether it can send and receive, and makes its
// socket. A new pattern (req, rep, pub, sub, ...) is one more row in Roles()
// (cli_roles.cc) plus, if it needs a new flow (say "reply to each request"), a
// branch in cli_run.cc.
#ifndef MSOCK_TOOLS_CLI_ROLES_H_
#define MSOCK_TOOLS_CLI_ROLES_H_

#include <memory>
#include <span>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "msock/msock.h"

namespace msock::cli {

// The socket of one role, seen through the calls the tool uses. Send / Recv
// return kFailedPrecondition when the role cannot do them (the table's can_send
// / can_recv say so).
class CliSocket {
 public:
  virtual ~CliSocket() = default;
  virtual Socket& socket() = 0;
  virtual absl::Status Send(Message& msg, absl::Time deadline) = 0;
  virtual absl::StatusOr<Message> Recv(absl::Time deadline) = 0;
  // Answering roles (rep): sends `reply` back to where `request` came from.
  virtual absl::Status Answer(const Message& request, Message& reply,
                              absl::Time deadline) {
    return absl::FailedPreconditionError("this role does not answer");
  }
  // Closes the socket and wakes a Recv blocked in the adapter.
  virtual void Close() { socket().Close(); }
};

struct RoleInfo {
  const char* name;     // as typed on the command line: "push"
  const char* summary;  // one line for --help
  bool can_send;
  bool can_recv;
  std::unique_ptr<CliSocket> (*make)();
  // rep: --data/--file is the answer to every request received.
  bool answers = false;
  // req: every send is a request and its reply is what Recv prints, so the
  // receiver stops after as many replies as sends.
  bool replies_to_sends = false;
};

// Every role, in --help order.
std::span<const RoleInfo> Roles();
// The role called `name`, or nullptr.
const RoleInfo* FindRole(std::string_view name);

}  // namespace msock::cli

#endif  // MSOCK_TOOLS_CLI_ROLES_H_
