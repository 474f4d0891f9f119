// msock/protocols/reqrep.h: SP request/reply (NNG req0/rep0, nanomsg REQ/REP).
//
// A Req sends requests and waits for the matching replies; a Rep receives
// requests and answers each on the pipe it came from. On the wire a request
// carries a stack of 32-bit header words: the requester's id (0x80000000 |
// 31-bit counter, random start) and, added by devices, one word per hop; the
// Rep echoes that stack verbatim in front of the reply body.
//
// Example:
//   msock::Rep rep;
//   std::string url = rep.Listen("tcp://127.0.0.1:0").value();
//   msock::Req req;
//   req.Dial(url).IgnoreError();  // Request waits for the connection
//   std::thread server([&] {
//     absl::Time deadline = absl::Now() + absl::Seconds(5);
//     absl::StatusOr<msock::Message> q = rep.Recv(deadline);
//     msock::Message answer("pong");
//     if (q.ok()) rep.Reply(*q, answer, deadline).IgnoreError();
//   });
//   msock::Message ping("ping");
//   absl::StatusOr<msock::Message> r =
//       req.Request(ping, absl::Now() + absl::Seconds(5));  // "pong"
//   server.join();
//
// Thread-safe. Surface: msock/protocols/role.h; Req sends only through
// Request, Rep through Reply.
#ifndef MSOCK_PROTOCOLS_REQREP_H_
#define MSOCK_PROTOCOLS_REQREP_H_

#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "msock/export.h"
#include "msock/protocols/role.h"

namespace msock {

namespace protocols {

// req re-sends a request whose pipe closed itself (to another rep): the socket
// must not move the unsent copy too, or the rep would get it twice.
inline constexpr SocketSpec kReq{"req",
                                 0x30,
                                 0x31,
                                 "rep",
                                 0,
                                 SendMode::kToOne,
                                 RecvMode::kAll,
                                 /*requeue_on_pipe_close=*/false};
inline constexpr SocketSpec kRep{
    "rep", 0x31, 0x30, "req", 0, SendMode::kToDest, RecvMode::kAll};

}  // namespace protocols

// The requesting side. Any number of threads may have requests in flight at
// once; each reply is matched to its request by id. Requests go round robin to
// the connected reps; a request made before any rep is connected waits (until
// its deadline) for one.
class MSOCK_EXPORT Req : public internal::Role {
 public:
  explicit Req(Context& ctx = Context::Default());
  ~Req();

  // Sends `msg` as a request and waits for its reply, until `deadline`. The
  // request id is put in front of msg's header words. While no reply has come,
  // the same request (same id, same bytes) is sent again every resend interval,
  // as NNG and nanomsg do. On success the reply is returned (header words
  // stripped) and msg is left empty; on error the caller keeps msg as given.
  // Errors: kDeadlineExceeded (no reply in time; a reply that arrives later is
  // dropped and counted in stats().dropped), kUnavailable (deadline already
  // past and no peer could take it), kCancelled (Close() while waiting),
  // kFailedPrecondition (closed).
  [[nodiscard]] absl::StatusOr<Message> Request(Message& msg,
                                                absl::Time deadline);
  // Same, with deadline = now + the kRecvTimeout option.
  [[nodiscard]] absl::StatusOr<Message> Request(Message& msg) {
    return Request(msg, absl::Now() + Get(opt::kRecvTimeout));
  }

  // How long to wait for a reply before sending a request again; default 60 s
  // (as NNG and nanomsg). absl::InfiniteDuration() disables resending.
  void SetResendInterval(absl::Duration interval);
  absl::Duration resend_interval() const;

  // Replies handed to a waiting Request so far. Replies no request waited for
  // (late, duplicate or unsolicited) are counted in stats().dropped instead.
  uint64_t replies_matched() const;

  // Wakes every waiting Request with kCancelled, then closes the socket.
  void Close();

 private:
  struct State;
  std::shared_ptr<State> state_;  // shared with the receive filter
};

// The replying side. Recv gives the next request (its header() holds the
// backtrace, its source() the pipe it came on); Reply answers it. Requests may
// be answered in any order and from several threads.
class MSOCK_EXPORT Rep : public internal::Role {
 public:
  explicit Rep(Context& ctx = Context::Default());

  // The next request. Requests whose backtrace is longer than the kTtl option
  // (default 8 words) are dropped (stats().dropped); a payload that ends before
  // a word with bit 31 set closes that pipe (stats().rejected_bad_frame), as
  // NNG does. Same errors as Socket::Recv.
  using Role::Recv;
  using Role::TryRecv;

  // Sends `reply` back to where `request` came from, with request's backtrace
  // in front. On success reply is left empty; on error the caller keeps it as
  // given. kUnavailable if that pipe is gone (the requester will resend the
  // request on another pipe); kDeadlineExceeded if the pipe stayed full;
  // kFailedPrecondition if closed.
  [[nodiscard]] absl::Status Reply(const Message& request, Message& reply,
                                   absl::Time deadline);
  // Same, with deadline = now + the kSendTimeout option.
  [[nodiscard]] absl::Status Reply(const Message& request, Message& reply) {
    return Reply(request, reply, absl::Now() + Get(opt::kSendTimeout));
  }
};

}  // namespace msock

#endif  // MSOCK_PROTOCOLS_REQREP_H_
