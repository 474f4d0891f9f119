// The SP backtrace shared by rep, respondent and their raw forms: 32-bit words
// in front of the body, up to and including the first with bit 31 set (the
// request or survey id); every word before it is a hop a device added. Also the
// header filters of the raw sockets.
#ifndef MSOCK_PROTOCOLS_BACKTRACE_H_
#define MSOCK_PROTOCOLS_BACKTRACE_H_

#include "msock/socket.h"
#include "socket/recv_filter.h"

namespace msock::internal {

// Bit 31 marks the last word of a backtrace (the requester's id).
inline constexpr uint32_t kLastWord = 0x80000000u;

// Moves the backtrace from m's body to the end of m.header(). kDrop if the
// header then holds more than `ttl` words (too many hops); kClosePipe if the
// body ends before the last word (NNG closes the pipe too); kKeep otherwise.
RecvVerdict TakeBacktrace(Message& m, int ttl);

// The receive filters of the raw sockets (msock/protocols/device.h):
//   PushHop (raw rep / respondent): m.source().back(), the pipe the message
//     came on, becomes the first header word (bit 31 clear), then
//     TakeBacktrace; kTtl bounds the whole stack.
//   TakeHop (raw req / surveyor): the first payload word, the hop a device
//     below added, moves to the header; kClosePipe if there is none.
//   CountHop (raw pair1): the hop count, plus one, moves to the header; over
//     255 closes the pipe, over kTtl drops the message.
RecvVerdict PushHop(Message& m, int ttl);
RecvVerdict TakeHop(Message& m, int ttl);
RecvVerdict CountHop(Message& m, int ttl);

// Sends `reply` on the pipe `request` came from, with request's backtrace in
// front. On error the caller keeps reply as given.
absl::Status SendReply(Socket& socket, const Message& request, Message& reply,
                       absl::Time deadline);

}  // namespace msock::internal

#endif  // MSOCK_PROTOCOLS_BACKTRACE_H_
