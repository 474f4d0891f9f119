// rep (SP reqrep, 0x31): receives requests, moving their backtrace from the
// body into the header (protocols/backtrace.h), and sends each reply with that
// backtrace in front, on the pipe the request came from.
#include "msock/protocols/reqrep.h"
#include "protocols/backtrace.h"
#include "socket/socket_access.h"

namespace msock {

Rep::Rep(Context& ctx) : Role(protocols::kRep, ctx) {
  internal::SocketAccess::SetRecvFilter(socket_, internal::TakeBacktrace);
}

absl::Status Rep::Reply(const Message& request, Message& reply,
                        absl::Time deadline) {
  return internal::SendReply(socket_, request, reply, deadline);
}

}  // namespace msock
