// internal::SocketAccess: the protocol plumbing of a Socket, kept out of the
// public API (msock/socket.h) so that users cannot break a protocol's state
// (say req's request matching) by replacing its hooks. Protocols, raw sockets
// and devices include this header; the functions forward to the SocketCore.
#ifndef MSOCK_SOCKET_SOCKET_ACCESS_H_
#define MSOCK_SOCKET_SOCKET_ACCESS_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "msock/message.h"
#include "msock/socket.h"
#include "socket/recv_filter.h"

namespace msock::internal {

class SocketCore;

// How many messages over kSendQueueMessages SocketAccess::SendReply may queue.
inline constexpr size_t kReplyReserveMessages = 64;

class SocketAccess {
 public:
  // Installs the receive filter of `socket` (pair1's hop count, sub's
  // prefixes, req's reply matching), replacing any earlier one; nullptr
  // removes it. Thread-safe; messages already queued are not filtered again.
  static void SetRecvFilter(Socket& socket, RecvFilter filter);

  // Like Socket::OnPipeEvent, but a separate slot that the user's observer
  // does not replace; it runs first. Same rules: on the I/O thread, must not
  // block nor call Close.
  static void SetProtocolPipeHook(Socket& socket,
                                  std::function<void(const PipeEvent&)> fn);

  // Socket::Send; for kToOne sockets *sent_on receives the id of the pipe the
  // message was queued on (req uses it to resend when that pipe dies).
  [[nodiscard]] static absl::Status Send(Socket& socket, Message& msg,
                                         absl::Time deadline,
                                         uint32_t* sent_on);

  // Socket::SendTo for an answer that must not be lost to a queue filled by
  // other traffic (a rooms hub's acks under a room's flood): never waits; on
  // a full pipe it is still queued when it fits within `reserve_bytes` and
  // kReplyReserveMessages over the queue limits, which only such answers use.
  // kUnavailable (dropped) otherwise, as SendTo with a past deadline.
  [[nodiscard]] static absl::Status SendReply(Socket& socket, const Path& path,
                                              Message& msg,
                                              size_t reserve_bytes);

  // Fan-out to named pipes (a rooms hub's ToRoom): queues a copy of `msg` (a
  // shared body) on each of `pipes` under one lock round and wakes them once
  // it is released. Never waits: a pipe whose queue is full loses its copy
  // (counted in stats().dropped and appended to *full when `full` is given);
  // a pipe that is gone or closing loses it too (counted, not in *full).
  // Returns how many copies were queued; 0 on a closed socket.
  [[nodiscard]] static size_t SendToEach(Socket& socket,
                                         absl::Span<const uint32_t> pipes,
                                         const Message& msg,
                                         std::vector<uint32_t>* full);

  // Several messages to one named pipe (a queue server's deliveries): queues
  // the first of `msgs` while the pipe's queue has room, under one lock
  // round, and wakes the pipe once, so that it writes them together (one
  // syscall on tcp/ipc). Never waits. Returns how many were queued (moved
  // out of `msgs`; the rest are left as they were). A pipe that is gone or
  // closing, or a closed socket: 0 and *gone.
  [[nodiscard]] static size_t SendManyTo(Socket& socket, uint32_t pipe,
                                         absl::Span<Message> msgs, bool* gone);

  // A receiver that waits reads the socket's tcp/ipc pipes itself (receive
  // on caller, opt::kRecvOnCaller) whether or not the socket sent since its
  // last message. For a server whose answers go out from other threads (a
  // rooms hub answers from handlers and the queue's store writer): its next
  // request then wakes the waiting receiver alone, not the loop and then the
  // receiver. Off by default: a stream's receiver leaves the reading to the
  // loop, which reads the next bytes while it consumes these. `max_pipes`:
  // a receiver polls up to this many stream pipes (at most 64; four unless
  // said), beyond which it sleeps and the loop reads them in batches.
  static void SetPollAlways(Socket& socket, bool on, size_t max_pipes = 4);

  // Waits for an answer the receive filter takes (req's reply): until done()
  // holds, `deadline` passes or the socket closes, reading the socket's
  // tcp/ipc pipes on the calling thread meanwhile (opt::kRecvOnCaller), as
  // Socket::Recv does. done() runs under the socket's lock, where the filter
  // runs, so it sees what the filter stored (it may take only leaf locks).
  // Returns at once when it cannot read here (the option is off, another
  // receiver is polling, the socket has no tcp/ipc pipe or more than four);
  // the caller then waits its own way, and always looks at the answer again.
  static void AwaitOnCaller(Socket& socket, absl::Time deadline,
                            absl::FunctionRef<bool()> done);

  // Made before a request is sent and kept until its answer is in, around
  // AwaitOnCaller, on a socket whose other messages a thread takes with Recv
  // (a rooms client's dispatcher): while one lives, Recv sleeps rather than
  // polls, so the answer is read by the thread that waits for it (one
  // wake-up, not two). What that thread reads for Recv wakes the receiver.
  // Afterwards the pipes may stay lent to pollers (StreamPipe::lent_) while
  // the receiver sleeps: a message for it that comes then is read by the
  // next awaiting thread or, once the pipe was idle for 2 ms, by the loop
  // (it waits up to ~4 ms more than it would have).
  class AwaitScope {
   public:
    explicit AwaitScope(Socket& socket);
    ~AwaitScope();
    AwaitScope(const AwaitScope&) = delete;
    AwaitScope& operator=(const AwaitScope&) = delete;

   private:
    SocketCore* core_;
  };

  // kToAll sockets: sends to every pipe except `except_pipe` (a bus device
  // forwarding what came in on that pipe). Errors as Socket::Send.
  [[nodiscard]] static absl::Status SendExcept(Socket& socket,
                                               uint32_t except_pipe,
                                               Message& msg,
                                               absl::Time deadline);
};

}  // namespace msock::internal

#endif  // MSOCK_SOCKET_SOCKET_ACCESS_H_
