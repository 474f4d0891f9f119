// respondent (SP survey, 0x63): receives surveys with their backtrace moved
// into the header, and answers each on the pipe it came from, exactly as rep
// does for requests.
#include "msock/protocols/survey.h"
#include "protocols/backtrace.h"
#include "socket/socket_access.h"

namespace msock {

Respondent::Respondent(Context& ctx) : Role(protocols::kRespondent, ctx) {
  internal::SocketAccess::SetRecvFilter(socket_, internal::TakeBacktrace);
}

absl::Status Respondent::Reply(const Message& survey, Message& answer,
                               absl::Time deadline) {
  return internal::SendReply(socket_, survey, answer, deadline);
}

}  // namespace msock
