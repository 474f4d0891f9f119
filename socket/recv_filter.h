// The receive filter: the hook through which a protocol inspects, rewrites or
// takes each message a socket receives, before it is queued for Recv. Internal:
// protocols install it through internal::SocketAccess (socket/socket_access.h);
// users cannot, so they cannot break a protocol's framing.
#ifndef MSOCK_SOCKET_RECV_FILTER_H_
#define MSOCK_SOCKET_RECV_FILTER_H_

#include <functional>

#include "msock/message.h"

namespace msock::internal {

// What a receiving socket does with a message that just arrived on a pipe
// (before it is queued): keep it, drop it (counted in stats().dropped), close
// that pipe (counted in stats().rejected_bad_frame), or nothing because the
// filter took it itself (kConsumed: e.g. req hands a reply to the thread
// waiting for it; neither queued nor counted as dropped).
enum class RecvVerdict { kKeep, kDrop, kClosePipe, kConsumed };

// The filter may change the message (strip header words). It gets the socket's
// kTtl value. It runs on the I/O thread (or an inproc sender's thread) under
// the socket's lock: it must be quick, must not block and must not call the
// socket.
using RecvFilter = std::function<RecvVerdict(Message& msg, int ttl)>;

}  // namespace msock::internal

#endif  // MSOCK_SOCKET_RECV_FILTER_H_
