// The SP backtrace shared by rep, respondent and their raw forms: 32-bit words
// in front of the body, up to and including the first with bit 31 set (the
// request or survey id); every word before it is a hop a device added.
#ifndef MSOCK_PROTOCOLS_BACKTRACE_H_
#define MSOCK_PROTOCOLS_BACKTRACE_H_

#include "msock/socket.h"

namespace msock::internal {

// Bit 31 marks the last word of a backtrace (the requester's id).
inline constexpr uint32_t kLastWord = 0x80000000u;

// Moves the backtrace from m's body to the end of m.header(). kDrop if the
// header then holds more than `ttl` words (too many hops); kClosePipe if the
// body ends before the last word (NNG closes the pipe too); kKeep otherwise.
RecvVerdict TakeBacktrace(Message& m, int ttl);

// Sends `reply` on the pipe `request` came from, with request's backtrace in
// front. On error the caller keeps reply as given.
absl::Status SendReply(Socket& socket, const Message& request, Message& reply,
                       absl::Time deadline);

}  // namespace msock::internal

#endif  // MSOCK_PROTOCOLS_BACKTRACE_H_
