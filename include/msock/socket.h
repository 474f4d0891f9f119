// msock/socket.h: the stateless, thread-safe socket every protocol is built
// from.
//
// A Socket is three parts a protocol recipe configures (see SocketSpec):
//   - a Connector: dials and listens on any number of URLs, keeps the table of
//     pipes (one pipe per connected peer), limits their number, re-dials with
//     exponential back-off;
//   - a Sender: kNone (cannot send), kToOne (round robin over pipes with room;
//     messages queued on a pipe that dies go to another, unless the recipe
//     says otherwise: requeue_on_pipe_close), kToAll (every pipe
//     gets the message, one shared body; a full pipe is handled per the
//     kOverflow option: drop the new message or its oldest one, counted per
//     pipe, or block), kToDest (SendTo a path), kByHeader (to the pipe named
//     by the first header word);
//   - a Receiver: kNone or kAll (fair-queued from every pipe into one bounded
//     queue).
// Every received message carries its source path (the pipe it came through).
//
// Most users want the typed classes of msock/protocols/*.h (Push, Pull, Pair0,
// Pub, Req, ...), which expose only what their role allows. Socket is for
// devices, raw sockets and tests. The hooks protocols install on a socket
// (receive filter, pipe hook) are not part of this API.
//
// Example:
//   msock::Socket pull(msock::protocols::kPull);
//   // Port 0: the socket picks a free port and returns the bound URL.
//   std::string url = pull.Listen("tcp://127.0.0.1:0").value();
//   msock::Socket push(msock::protocols::kPush);
//   absl::Status s = push.Dial(url);  // connects in the background
//   msock::Message m("job");
//   absl::Time deadline = absl::Now() + absl::Seconds(1);
//   if (s.ok()) s = push.Send(m, deadline);  // waits for the connection
//   absl::StatusOr<msock::Message> got = pull.Recv(deadline);  // "job"
//
// Thread-safety: every member is thread-safe; several threads may Send and
// Recv at once. Blocking calls take a deadline (absl::InfiniteFuture() waits
// for ever; absl::InfinitePast() never waits); the overloads without one use
// the send / recv timeout options. Close() wakes every blocked call with
// kCancelled and always returns.
#ifndef MSOCK_SOCKET_H_
#define MSOCK_SOCKET_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "msock/context.h"
#include "msock/export.h"
#include "msock/message.h"
#include "msock/options.h"
#include "msock/peer.h"

namespace msock {

// kByHeader: Send() takes the destination pipe id from the first header word
// (and removes it), as a raw rep or respondent in a device does.
enum class SendMode { kNone, kToOne, kToAll, kToDest, kByHeader };
enum class RecvMode { kNone, kAll };

// The constant part of a protocol: who it is, whom it talks to, and how it
// routes.
struct SocketSpec {
  const char* name;  // "push"
  uint16_t self_id;  // SP protocol id sent in the connection header, e.g. 0x50
  uint16_t peer_id;  // the only peer protocol id accepted, e.g. 0x51
  const char* peer_name;  // "pull"
  int max_pipes;          // 0 = no limit; pair = 1
  SendMode send;
  RecvMode recv;
  // kToOne: when a pipe dies, the messages still queued on it go to another
  // pipe (now or when one comes), ahead of newer ones: right for push, whose
  // messages may go to any peer, and pair (as NNG's, whose send buffer
  // belongs to the socket, not the peer). False: they are dropped (counted in
  // stats().dropped); req sets it, because it re-sends a request whose pipe
  // died itself. Other send modes ignore it.
  bool requeue_on_pipe_close = true;
};

// Counters of a socket since it was made: traffic, pipes, and why pipes or
// messages were refused.
struct SocketStats {
  uint64_t messages_in = 0;
  uint64_t bytes_in = 0;
  uint64_t messages_out = 0;
  uint64_t bytes_out = 0;
  uint64_t pipes_opened = 0;
  uint64_t pipes_closed = 0;
  uint64_t rejected_protocol = 0;  // peer spoke another SP protocol
  // Bad connection header, bad frame, or the protocol refused a message.
  uint64_t rejected_bad_frame = 0;
  uint64_t rejected_oversize = 0;  // message over kMaxRecvSize
  // No SP header within kHandshakeTimeout.
  uint64_t rejected_handshake_timeout = 0;
  uint64_t rejected_pipe_limit = 0;  // socket already had max_pipes pipes
  // Closed because its unfinished message would pass kMaxUnfinishedBytes.
  uint64_t rejected_unfinished_limit = 0;
  // Closed because its started message made no progress for
  // kRecvProgressTimeout.
  uint64_t rejected_stalled = 0;
  // Peers the admission hook refused (Socket::SetAdmission).
  uint64_t rejected_admission = 0;
  // Messages dropped (kToAll full queue, protocol filter, ...).
  uint64_t dropped = 0;
  // ws/wss: pings not answered with a pong of their own because the peer
  // pinged again before the last pong was written (only the latest is
  // answered, RFC 6455 5.5.3). A peer that floods pings without reading
  // moves it; nothing is closed.
  uint64_t ws_pongs_dropped = 0;
  // ws/wss ports: HTTP requests refused with an error answer (400 malformed
  // or not HTTP at all, e.g. a TLS ClientHello; 404 no socket or file there;
  // 405; 426 wrong WebSocket version; 400 wrong subprotocol, which also counts
  // in rejected_protocol). Counted on the socket the path names, else on any
  // socket listening on that port (none if the port only serves files).
  uint64_t rejected_http = 0;
  // tcp/ipc reads done by a receiving thread itself, not by the I/O thread
  // (kRecvOnCaller).
  uint64_t reads_on_caller = 0;
};

// One pipe's queue and losses (Socket::pipe_stats).
struct PipeStats {
  uint32_t pipe_id = 0;
  std::string remote_address;
  size_t queued_messages = 0;  // waiting in its send queue
  size_t queued_bytes = 0;
  uint64_t messages_out = 0;  // queued for it since it opened
  uint64_t dropped = 0;       // fan-out messages it missed (kOverflow policy)
};

// kDialFailed: a connection attempt of a Dial failed (refused, TLS
// certificate refused, upgrade refused, ...); the socket retries after its
// back-off. It has no pipe (pipe_id 0); remote_address is the dialed URL.
// kRefused: this socket's admission hook (SetAdmission) refused a peer; the
// connection was closed before it became a pipe (pipe_id 0, no kAdded or
// kRemoved for it); the addresses are the peer's, reason is the hook's error.
// A dialer then retries after its back-off.
enum class PipeEventType { kAdded, kRemoved, kDialFailed, kRefused };
struct PipeEvent {
  PipeEventType type;
  uint32_t pipe_id;
  std::string local_address;
  std::string remote_address;
  // kRemoved: why the pipe closed (OK when closed by us); kDialFailed: why the
  // attempt failed; kRefused: the admission hook's error.
  absl::Status reason;
};

// Names one dialer of a socket (Socket::StartDial), for StopDial.
struct DialerId {
  uint64_t value = 0;
  friend bool operator==(DialerId, DialerId) = default;
};

namespace internal {
class SocketCore;
class SocketAccess;  // protocol plumbing (socket/socket_access.h)
}  // namespace internal

class MSOCK_EXPORT Socket {
 public:
  // A socket on `ctx` (which must outlive it), following `spec`.
  explicit Socket(const SocketSpec& spec, Context& ctx = Context::Default());
  // Moving keeps the same socket (pipes, queues, options); the moved-from
  // Socket may only be destroyed or assigned to. Assigning closes the socket
  // assigned to first.
  Socket(Socket&&) noexcept;
  Socket& operator=(Socket&&) noexcept;
  ~Socket();  // Close()

  const SocketSpec& spec() const;

  // Listens on `url`; returns the bound URL (tcp port 0 is replaced by the real
  // port). Errors: kInvalidArgument (bad URL), kAlreadyExists (address in use),
  // kFailedPrecondition (closed), kUnavailable (other bind failure, with the
  // system's reason).
  [[nodiscard]] absl::StatusOr<std::string> Listen(std::string_view url);
  // Starts dialing `url` in the background: connects, and re-dials with
  // back-off whenever the connection fails or is lost. Returns once the URL is
  // checked; use WaitForPeers to know when a peer is there. Errors:
  // kInvalidArgument, kFailedPrecondition.
  [[nodiscard]] absl::Status Dial(std::string_view url);
  // Dial, returning the dialer's id so that it can be stopped:
  //   absl::StatusOr<msock::DialerId> d = sock.StartDial(url);
  //   ...
  //   if (d.ok()) sock.StopDial(*d).IgnoreError();  // no more re-dialing
  [[nodiscard]] absl::StatusOr<DialerId> StartDial(std::string_view url);
  // Stops the dialer `id`: it makes no more attempts (the socket's other
  // dialers and listeners go on), and the pipe it made, if any, is closed as
  // ClosePipe does (what is queued for it is written first, up to kLinger; a
  // kRemoved event with an OK reason follows). Returns once the dialer is
  // stopped. Errors: kNotFound (no such dialer, or already stopped),
  // kFailedPrecondition (closed).
  [[nodiscard]] absl::Status StopDial(DialerId id);

  // Queues `msg` for sending. On success the socket owns the message (msg is
  // left empty); on error the caller keeps it. Blocks while no pipe can take
  // it, until the deadline. Errors: kDeadlineExceeded, kUnavailable (would
  // block and deadline already past), kCancelled (closed while waiting),
  // kFailedPrecondition (closed / role cannot send).
  [[nodiscard]] absl::Status Send(Message& msg, absl::Time deadline);
  // Same, with deadline = now + the kSendTimeout option.
  [[nodiscard]] absl::Status Send(Message& msg);
  // Same, never waiting: kUnavailable when no pipe has room now.
  [[nodiscard]] absl::Status TrySend(Message& msg) {
    return Send(msg, absl::InfinitePast());
  }
  // Sends to the pipe named by path.back() (kToDest sockets). kUnavailable if
  // that pipe is gone (counted in stats().dropped); otherwise as Send.
  [[nodiscard]] absl::Status SendTo(const Path& path, Message& msg,
                                    absl::Time deadline);

  // Receives the next message (fair across pipes). Its source() ends with the
  // id of the pipe it came on. Errors as Send.
  [[nodiscard]] absl::StatusOr<Message> Recv(absl::Time deadline);
  // Same, with deadline = now + the kRecvTimeout option.
  [[nodiscard]] absl::StatusOr<Message> Recv();
  // Same, never waiting: kUnavailable when nothing is queued.
  [[nodiscard]] absl::StatusOr<Message> TryRecv() {
    return Recv(absl::InfinitePast());
  }

  // Waits until at least `n` pipes are connected. Errors: kDeadlineExceeded,
  // kCancelled, kFailedPrecondition (closed).
  [[nodiscard]] absl::Status WaitForPeers(int n, absl::Time deadline);
  // Pipes connected now.
  int pipe_count() const;

  // Calls `fn` on every pipe added or removed, on every failed dial attempt
  // and on every peer the admission hook refused, on the I/O thread (inproc: the thread that made or closed the
  // pipe): it must not block nor call Close.
  // Replaces any earlier observer; pass nullptr to remove it. Events stop when
  // Close starts; none runs after Close returns.
  void OnPipeEvent(std::function<void(const PipeEvent&)> fn);
  // Closes the pipe with id `pipe_id`, if it still exists (no-op otherwise),
  // without waiting. From the call on the pipe takes no new message (SendTo
  // it fails with kUnavailable, Send and fan-out skip it) and what it
  // receives is dropped; the messages already queued for it are written
  // first, then it closes, or after kLinger if they are not all written by
  // then (the rest are handled as those of any pipe that dies). With kLinger
  // 0 (or once Close has begun) it closes at once.
  void ClosePipe(uint32_t pipe_id);

  // Installs the admission hook (msock/peer.h): it sees every new peer before
  // its pipe is added and may refuse it. Replaces any earlier hook; nullptr
  // admits everyone (the default). Applies to connections whose handshake
  // ends after the call. Example (tcp peers from loopback only):
  //   sock.SetAdmission([](const msock::PeerInfo& p) -> absl::Status {
  //     if (p.transport == "tcp" &&
  //         !p.remote_address.starts_with("tcp://127.0.0.1:"))
  //       return absl::PermissionDeniedError("loopback only");
  //     return absl::OkStatus();
  //   });
  void SetAdmission(AdmissionHook hook);
  // What the admission hook saw of the peer of pipe `pipe_id` (say the sender
  // of a message: msg.source().back()). kNotFound if no such pipe is
  // connected.
  [[nodiscard]] absl::StatusOr<PeerInfo> PeerOf(uint32_t pipe_id) const;

  // Sets an option (msock/options.h). kInvalidArgument names the option and
  // why the value is refused; kFailedPrecondition after Close.
  template <typename T>
  [[nodiscard]] absl::Status Set(OptionKey<T> key,
                                 std::type_identity_t<T> value);
  // The option's current value.
  template <typename T>
  T Get(OptionKey<T> key) const;

  // A snapshot of the socket's counters.
  SocketStats stats() const;
  // Queue lengths and drop counts of every connected pipe.
  std::vector<PipeStats> pipe_stats() const;

  // Stops listening and dialing, waits up to kLinger for queued messages to be
  // written, closes every pipe and wakes every blocked call with kCancelled.
  // Idempotent; always returns.
  void Close();

 private:
  friend class internal::SocketAccess;

  std::shared_ptr<internal::SocketCore> core_;
};

// Socket::Set and Get exist for the value types of the options in
// msock/options.h.
#define MSOCK_SOCKET_OPTION_TYPE(T)                                     \
  extern template absl::Status Socket::Set<T>(OptionKey<T>,             \
                                              std::type_identity_t<T>); \
  extern template T Socket::Get<T>(OptionKey<T>) const;
MSOCK_FOR_EACH_OPTION_TYPE(MSOCK_SOCKET_OPTION_TYPE)
#undef MSOCK_SOCKET_OPTION_TYPE

}  // namespace msock

#endif  // MSOCK_SOCKET_H_
