// SocketCore: the state behind a Socket: the pipe table, per-pipe send queues,
// the shared receive queue, the Sender and Receiver modes, options and
// statistics. Users reach it through Socket (msock/socket.h); transports
// through the "transports" section below. One mutex guards the queues and the
// table; it is never held while calling out.
#ifndef MSOCK_SOCKET_SOCKET_CORE_H_
#define MSOCK_SOCKET_SOCKET_CORE_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "msock/socket.h"
#include "msock/status.h"
#include "socket/connector.h"
#include "socket/sync.h"
#include "transports/transport.h"

namespace msock::internal {

enum class Reject {
  kProtocol,
  kBadFrame,
  kOversize,
  kHandshakeTimeout,
  kPipeLimit
};

struct AtomicStats {
  std::atomic<uint64_t> messages_in{0}, bytes_in{0}, messages_out{0},
      bytes_out{0}, pipes_opened{0}, pipes_closed{0}, rejected_protocol{0},
      rejected_bad_frame{0}, rejected_oversize{0},
      rejected_handshake_timeout{0}, rejected_pipe_limit{0}, dropped{0};
};

class SocketCore : public std::enable_shared_from_this<SocketCore> {
 public:
  SocketCore(const SocketSpec& spec, Context& ctx);
  ~SocketCore();

  const SocketSpec& spec() const { return spec_; }
  Context& ctx() { return ctx_; }
  SocketOptions options() const;

  // ---- transports ----
  // Adds a handshaken pipe. False if the socket is closed or at its pipe limit
  // (counted); the caller then closes the pipe.
  bool AttachPipe(const std::shared_ptr<Pipe>& pipe);
  // Removes the pipe (no-op if not attached). Its unsent kToOne messages go to
  // other pipes.
  void DetachPipe(Pipe* pipe, const absl::Status& why);
  // Queues (*batch)[*next...] for receivers. Returns true when all were taken;
  // false when the receive queue filled: *next then points at the first message
  // left, and ResumeRecv will be called on the pipe when there is room. A
  // filter verdict of kClosePipe closes the pipe.
  bool Deliver(Pipe* pipe, std::vector<Message>* batch, size_t* next);
  // Called by another core (an inproc peer's) with its own mutex held: queues
  // `m`, which arrived on `pipe`, for receivers at once. Never blocks and takes
  // mu_ only if it is free. False, with m untouched, when it cannot: mu_ busy,
  // the queue full, the pipe not attached, or a receive filter set (filters
  // may take locks of their own); the sender then queues m as usual.
  bool DeliverNow(Pipe* pipe, Message& m);
  // Moves queued messages of `pipe` to `out`, up to about max_bytes (at least
  // one). Returns the number moved; 0 also clears the pipe's wake_pending flag.
  // With `drained`, a call that leaves the queue empty clears wake_pending too
  // and sets *drained: the transport then need not call again (the next Send
  // wakes it), which saves a locked round trip per batch.
  size_t TakeSend(Pipe* pipe, std::vector<Message>* out, size_t max_bytes,
                  bool* drained = nullptr);
  void CountReject(Reject why);
  // A dial attempt to `url` failed (the connector will retry): tells the
  // user's pipe-event observer (not the protocol hook).
  void DialFailed(const std::string& url, absl::Status why);
  bool closed() const;
  // Every pipe that holds an I/O handle registers here from creation (before
  // its handshake, even before it connects) until its handles are closed: Close
  // closes them all and waits for each to finish, so no handle of this socket
  // outlives Socket::Close.
  void TrackPipe(const std::shared_ptr<Pipe>& pipe);
  void UntrackPipe(Pipe* pipe);

  // ---- users (via Socket) ----
  absl::Status Send(Message& msg, absl::Time deadline,
                    uint32_t* sent_on = nullptr);
  absl::Status SendExcept(uint32_t except_pipe, Message& msg,
                          absl::Time deadline);
  absl::Status SendTo(const Path& path, Message& msg, absl::Time deadline);
  absl::StatusOr<Message> Recv(absl::Time deadline);
  absl::Status WaitForPeers(int n, absl::Time deadline);
  int pipe_count() const;
  void OnPipeEvent(std::function<void(const PipeEvent&)> fn);
  void SetProtocolPipeHook(std::function<void(const PipeEvent&)> fn);
  void SetRecvFilter(RecvFilter filter);
  void ClosePipe(uint32_t pipe_id);
  absl::Status SetOption(int id, absl::Duration d);
  absl::Status SetOption(int id, size_t v);
  absl::Status SetOption(int id, int v);
  absl::Status SetOption(int id, std::string v);
  absl::Status SetOverflow(Overflow v);
  SocketStats stats() const;
  std::vector<PipeStats> pipe_stats() const;
  absl::StatusOr<std::string> Listen(std::string_view url);
  absl::Status Dial(std::string_view url);
  void Close();

 private:
  // Pipes to Wake() once mu_ is released. kToOne sends wake at most one, so
  // the common case needs no heap allocation.
  using WakeList = absl::InlinedVector<std::shared_ptr<Pipe>, 1>;

  bool HasRoom(const Pipe& p) const;
  // Appends to p's queue; returns true if the caller must Wake() p after
  // unlocking.
  bool Enqueue(Pipe& p, Message&& m);
  // Hands m to pipe p: straight to the peer if p is idle and can (inproc),
  // else into p's queue. Returns true if the caller must Wake() p after
  // unlocking.
  bool Post(Pipe& p, Message&& m);
  Pipe* PickToOne();
  // kToAll: queues msg for every pipe but `except` (0: none) per the overflow
  // policy; appends pipes to wake. May wait (kBlock).
  absl::Status SendToAll(Lock& lock, uint32_t except, Message& msg,
                         absl::Time deadline, WakeList* wake);
  // kByHeader: the destination is the first header word.
  absl::Status SendByHeader(Message& msg, absl::Time deadline);
  // Moves orphaned messages to pipes with room; appends pipes to wake.
  void PlaceOrphans(WakeList* wake);
  bool RecvFull() const;
  // Releases mu_ and polls for a delivery until one comes or `until`; then
  // re-locks mu_.
  void SpinForMessage(Lock& lock, absl::Time until);
  bool Drained() const;
  void EmitEvent(const PipeEvent& ev);
  // Drops the pipe-event observer; with `wait`, returns once no call to it is
  // running.
  void StopEvents(bool wait);
  // Waits on cv until notified or the deadline. kUnavailable if the deadline
  // had passed before any wait (*waited false: a non-blocking call),
  // kDeadlineExceeded if it passed while waiting, kCancelled if the socket
  // closed. Sets *waited.
  absl::Status WaitOn(Lock& lock, std::condition_variable* cv, int* waiters,
                      absl::Time deadline, bool* waited, const char* what);

  const SocketSpec spec_;
  Context& ctx_;
  Connector connector_;
  AtomicStats stats_;

  // Helpers without a Lock& parameter expect mu_ to be held.
  mutable std::mutex mu_;  // guards everything below up to hooks_mu_
  SocketOptions opts_;
  bool closed_ = false;
  uint32_t next_pipe_id_;
  absl::flat_hash_map<uint32_t, std::shared_ptr<Pipe>> pipes_;
  absl::flat_hash_map<Pipe*, std::weak_ptr<Pipe>> live_;  // see TrackPipe
  std::vector<Pipe*> order_;                              // round-robin order
  size_t rr_ = 0;
  std::deque<Message> orphans_;  // unsent messages of dead pipes
  // The receive filter, read by Deliver under mu_ (set rarely, by protocols).
  std::shared_ptr<const RecvFilter> filter_;
  std::vector<Message> recvq_;
  size_t recvq_bytes_ = 0;
  std::atomic<bool> recv_avail_{
      false};  // !recvq_.empty(), readable without mu_
  std::vector<std::shared_ptr<Pipe>> recv_blocked_;
  std::condition_variable send_cv_, recv_cv_, peers_cv_, drain_cv_;
  int send_waiters_ = 0;
  int recv_waiters_ = 0;
  // A receiver was notified of new messages and has not run since: Deliver
  // need not notify again.
  bool recv_woken_ = false;
  int drain_waiters_ = 0;

  // Messages a receiver took from recvq_ in one batch and not yet handed out.
  // Bounded by the receive queue limits, so at most twice those are buffered in
  // all.
  std::mutex recv_mu_;
  std::vector<Message> recv_local_;  // guarded by recv_mu_
  size_t local_next_ = 0;            // the next one to hand out
  // !recv_local_.empty(); written under recv_mu_ (and mu_ when it becomes
  // true), read under mu_ by receivers deciding whether to sleep.
  std::atomic<bool> local_avail_{false};

  std::mutex hooks_mu_;  // guards the two hooks; never held while calling one
  std::shared_ptr<const std::function<void(const PipeEvent&)>> event_fn_;
  std::shared_ptr<const std::function<void(const PipeEvent&)>> proto_fn_;
  int emitting_ = 0;  // observer calls running, guarded by hooks_mu_
  std::condition_variable hooks_cv_;
};

}  // namespace msock::internal

#endif  // MSOCK_SOCKET_SOCKET_CORE_H_
