// The contract between a transport (inproc, ipc, tcp, ws, wss) and the socket
// above it. A Transport turns a URL into a Listener or one connection attempt;
// a Pipe is one connected, framed, bidirectional link to one peer; a PipeHost
// (the socket core implements it) owns the queues that pipes fill and drain.
// Transports see the host only through PipeHost: nothing of socket/ is visible.
//
// The pipe lifecycle, in order (each step exactly once unless it says so):
//  1. Creation. A Listener (on accept) or Transport::Connect makes the pipe on
//     the loop thread. A pipe that holds I/O handles calls host.TrackPipe at
//     once, so that the host's Close can close it at any later step.
//  2. Handshake. The pipe exchanges protocol ids (SP hello, ws upgrade) and
//     refuses a wrong peer with host.CountReject + Close. Loop thread.
//  3. Attach. The transport fills pipe.peer with what it learnt of the peer
//     (ipc credentials, ws request, TLS subject). host.AttachPipe runs the
//     socket's admission hook on it (unless host.Admit already did: a ws
//     listener asks before answering the upgrade), then sets the pipe's id and
//     makes it visible to senders and receivers; false (socket closed, pipe
//     limit, refused by the hook) means the transport closes the pipe. Connect's `done` hands the pipe to the
//     connector, which attaches it; a listener attaches its own pipes.
//  4. Traffic. The host calls Wake (any thread, never blocks) when the pipe's
//     send queue goes from empty to non-empty; the pipe then calls
//     host.TakeSend until it returns 0 (or reports `drained`). The pipe gives
//     received messages to host.Deliver (DeliverInbox); when that returns
//     false the pipe stops reading until the host calls ResumeRecv (any
//     thread, never blocks). SendNow (inproc) runs under the host's lock.
//  5. Close. Close(why) may be called any number of times from any thread and
//     never blocks; the first call starts the close. When the pipe's handles
//     are closed, FinishClose runs on the thread that finished: it detaches
//     the pipe from the host (unsent messages of a kToOne socket go to other
//     pipes if its recipe says so), then runs on_closed (the dialer re-dials),
//     then untracks the pipe. After FinishClose the host never calls the pipe
//     again.
// No host call made by a pipe blocks; the host never calls a pipe while a
// pipe's own lock is held by the host (except SendNow, documented below).
#ifndef MSOCK_TRANSPORTS_TRANSPORT_H_
#define MSOCK_TRANSPORTS_TRANSPORT_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "msock/context.h"
#include "msock/message.h"
#include "msock/options.h"
#include "msock/socket.h"
#include "msock/url.h"
#include "transports/recv_budget.h"

struct uv_loop_s;

namespace msock::internal {

class Pipe;

// Why a transport refused or closed a pipe, or (kPongDropped) what else a
// transport counts in the socket's stats; socket_core.h's Stat table follows
// this order.
enum class Reject {
  kProtocol,
  kBadFrame,
  kOversize,
  kHandshakeTimeout,
  kPipeLimit,
  kUnfinishedLimit,  // kMaxUnfinishedBytes would be passed
  kStalled,          // kRecvProgressTimeout ran out mid-message
  kPongDropped,  // ws: a ping answered only by a later pong (nothing closed)
  kHttp,         // ws: an HTTP request refused (400, 404, 426, ...)
  kAdmission,    // the socket's admission hook refused the peer
};

// What the host keeps on each pipe. Transports hold it and never look inside.
class PipeHostState {
 public:
  virtual ~PipeHostState() = default;
};

// The socket as a transport sees it. Every call is thread-safe and never
// blocks (they take the host's short internal locks only).
class PipeHost {
 public:
  virtual ~PipeHost() = default;

  // The protocol this host speaks (ids checked in the handshake, names used in
  // ws subprotocols and error messages).
  virtual const SocketSpec& spec() const = 0;
  // A snapshot of the socket's options (limits, timeouts, TLS settings).
  virtual SocketOptions options() const = 0;
  // The Context whose loop runs this host's pipes: Post(), IsLoopThread();
  // its loop and AtStop() through internal::ContextAccess
  // (base/context_access.h).
  virtual Context& context() = 0;
  // True once the socket's Close has begun (it attaches no more pipes).
  virtual bool closed() const = 0;

  // Step 1/5: every pipe holding an I/O handle is tracked from creation until
  // its handles are closed, so that the host's Close can close and await it.
  virtual void TrackPipe(const std::shared_ptr<Pipe>& pipe) = 0;
  virtual void UntrackPipe(Pipe* pipe) = 0;
  // Step 3: false if the socket is closed, at its pipe limit (counted) or its
  // admission hook refused the peer (see Admit); the transport then closes the
  // pipe.
  virtual bool AttachPipe(const std::shared_ptr<Pipe>& pipe) = 0;
  // Step 3, ahead of AttachPipe (loop thread, before attach): fills
  // pipe.peer's transport and addresses and runs the socket's admission hook on
  // it, once per pipe (AttachPipe then skips it). On refusal returns the
  // hook's error, counted (Reject::kAdmission) and reported (kRefused); the
  // transport then closes the pipe without attaching it.
  virtual absl::Status Admit(Pipe& pipe) = 0;
  // Step 5 (through FinishClose): removes the pipe; no-op if not attached.
  virtual void DetachPipe(Pipe* pipe, const absl::Status& why) = 0;

  // Queues (*batch)[*next...] for receivers. True when all were taken; false
  // when the receive queue filled: *next then points at the first message
  // left, and ResumeRecv will be called on the pipe when there is room. A
  // protocol that refuses a message closes the pipe (with kDataLoss).
  virtual bool Deliver(Pipe* pipe, std::vector<Message>* batch,
                       size_t* next) = 0;
  // Called by another host (an inproc peer's) with its own lock held: queues
  // `m` for receivers at once, or returns false with m untouched when it
  // cannot without blocking (lock busy, queue full, pipe not attached, a
  // protocol filter installed); the sender then queues m as usual.
  virtual bool DeliverNow(Pipe* pipe, Message& m) = 0;
  // Moves queued messages of `pipe` to `out`, up to about max_bytes (at least
  // one). Returns the number moved; 0 also ends the wake (the next queued
  // message calls Wake again). With `drained`, a call that leaves the queue
  // empty ends the wake too and sets *drained.
  virtual size_t TakeSend(Pipe* pipe, std::vector<Message>* out,
                          size_t max_bytes, bool* drained = nullptr) = 0;
  // Counts a refused or broken pipe in the socket's statistics.
  virtual void CountReject(Reject why) = 0;
  // The budget every pipe's decoder takes the buffers of unfinished messages
  // from (kMaxUnfinishedBytes); it lives as long as the host. Null: none.
  virtual UnfinishedBudget* unfinished_budget() { return nullptr; }

 protected:
  // The host's own state on `pipe` (null until the host sets it).
  static std::unique_ptr<PipeHostState>& StateOf(Pipe& pipe);
};

// One link to one peer, made by a transport (see the lifecycle above).
class Pipe : public std::enable_shared_from_this<Pipe> {
 public:
  virtual ~Pipe() = default;
  // The host's send queue for this pipe went from empty to non-empty: call
  // host.TakeSend until it returns 0 (or reports drained). Any thread.
  virtual void Wake() = 0;
  // Wake, called on the loop thread by a fan-out that woke many pipes at
  // once (one Post for all of them): no direct write from the sending thread,
  // so each pipe's messages go out in batches. Default: Wake().
  virtual void WakeOnLoop() { Wake(); }
  // The host's receive queue has room again after Deliver refused part of a
  // batch: deliver the rest, then read again. Any thread.
  virtual void ResumeRecv() = 0;
  // Closes the link (idempotent, any thread, never blocks); FinishClose runs
  // once the handles are closed.
  virtual void Close(absl::Status why) = 0;
  // Called by the host, with its lock held, for a message to this pipe while
  // its send queue is empty and no Wake is pending: a transport that can hand
  // m to the peer at once, without blocking (try-locks only), does so and
  // returns true. Default: false (m is queued and the pipe woken).
  virtual bool SendNow(Message& m) { return false; }
  // Receiving on the receiver's thread (socket/recv_on_caller.cc): a pipe that
  // can read its peer's bytes from any thread returns the descriptor to poll
  // (else -1, the default); once poll() finds it readable, RecvOnCaller reads
  // and delivers what is there, as the loop would, and returns how many bytes
  // it read (0: none were there). It returns -1 when it cannot read now (the
  // loop is reading, the pipe is paused or closing, the peer left): the
  // receiver then waits for the loop instead. Never called with the host's
  // lock held. Polling(true/false) brackets each poll() of RecvFd: while
  // receivers poll a pipe (or did a moment ago), the loop may leave its
  // reading to them.
  // Unlend: the receivers that polled the pipe stopped, and none will poll it
  // for now: the loop reads it again at once, if it had left the reading to
  // them (else a message would wait until it noticed).
  virtual int RecvFd() { return -1; }
  virtual ssize_t RecvOnCaller() { return -1; }
  virtual void Polling(bool on) {}
  virtual void Unlend() {}

  uint32_t id = 0;  // set by the host on attach; read-only for transports
  std::string local_address;
  std::string remote_address;
  // What the admission hook sees: the transport fills its own fields before
  // attach; the host fills transport, local_address and remote_address (from
  // the fields above) in Admit. Read-only once attached.
  PeerInfo peer;
  // Set by the dialer that made this pipe, before attach; run by FinishClose.
  std::function<void()> on_closed;

 protected:
  // Gives inbox_[inbox_next_...] to the host. True when all were taken (the
  // inbox is then empty); false when the host's receive queue is full: the
  // pipe stops reading until ResumeRecv. Loop thread (inproc: any one thread
  // at a time).
  bool DeliverInbox(PipeHost& host);
  // The end of step 5, exactly once: detaches from the host, runs on_closed,
  // then untracks the pipe if it was tracked. Drops the inbox.
  void FinishClose(PipeHost& host, const absl::Status& why, bool tracked);

  std::vector<Message> inbox_;  // decoded, not yet delivered
  size_t inbox_next_ = 0;       // the first message of inbox_ not delivered

 private:
  friend class PipeHost;
  std::unique_ptr<PipeHostState> host_state_;  // see PipeHost::StateOf
};

// Accepts connections on one address; every accepted link that completes its
// handshake is attached to the host. Lives on the loop thread.
class Listener {
 public:
  virtual ~Listener() = default;
  // The bound address as a URL (port 0 replaced by the real port).
  virtual std::string url() const = 0;
  // Stops accepting (loop thread). `done` runs once every handle is closed, as
  // the last thing the listener does (it may delete the listener).
  virtual void Close(absl::AnyInvocable<void()> done) = 0;
};

using ConnectDone =
    absl::AnyInvocable<void(absl::StatusOr<std::shared_ptr<Pipe>>)>;

class Transport {
 public:
  virtual ~Transport() = default;
  // Called on the caller's thread before Listen is posted to the loop: blocking
  // preparation (name resolution, stale ipc file probe). Default: nothing.
  virtual absl::Status PrepareListen(Url& url) { return absl::OkStatus(); }
  // Loop thread (inproc: any thread). Binds and starts accepting.
  virtual absl::StatusOr<std::unique_ptr<Listener>> Listen(
      const Url& url, std::shared_ptr<PipeHost> host) = 0;
  // Loop thread. One attempt to connect and complete the handshake; `done` runs
  // exactly once on the loop thread with a pipe ready to attach, or an error.
  virtual void Connect(const Url& url, std::shared_ptr<PipeHost> host,
                       ConnectDone done) = 0;
};

// The transport registered for `scheme`, or null.
Transport* FindTransport(std::string_view scheme);

}  // namespace msock::internal

#endif  // MSOCK_TRANSPORTS_TRANSPORT_H_
