// SocketCore: the state behind a Socket, in four parts, each in its own file:
//   pipe_table.cc  the Connector's side: attach / detach / track pipes, events;
//   sender.cc      per-pipe send queues, kToOne / kToAll / kToDest / kByHeader;
//   receiver.cc    the shared receive queue, the receive filter, Recv;
//   socket_core.cc options, statistics, Listen / Dial, Close.
//   admission.cc   the admission hook (Admit) and PeerOf.
// Users reach it through Socket (msock/socket.h); transports through the
// PipeHost interface (transports/transport.h), which it implements.
//
// Locks (a lock may be taken while holding only those above it in the list):
//   1. a transport's own pipe lock (StreamPipe::io_mu_ around TakeSend);
//   2. mu_: the pipe table, the send queues, the receive queue, options. Held
//      while running the protocol's receive filter (which takes the protocol's
//      own lock, e.g. req's) and Pipe::SendNow (inproc), which may try-lock
//      (never lock) the peer core's mu_;
//   3. recv_mu_: the receivers' local batch (taken under mu_ or alone);
//   hooks_mu_: the two pipe-event observers and the admission hook; a leaf,
//   never held with another.
//   opts_mu_: the copy of the options that GetOption reads (so that reading
//   one never waits for a delivery holding mu_); a leaf, taken under mu_ by
//   SetOption and alone by GetOption.
// Never held while calling out: Wake, ResumeRecv, Close of a pipe, the
// pipe-event observers, the Connector. Pattern: lock, change queues, note
// whom to wake, unlock, wake.
#ifndef MSOCK_SOCKET_SOCKET_CORE_H_
#define MSOCK_SOCKET_SOCKET_CORE_H_

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/types/span.h"
#include "base/sync.h"
#include "msock/socket.h"
#include "msock/status.h"
#include "socket/connector.h"
#include "socket/recv_filter.h"
#include "transports/transport.h"

namespace msock::internal {

// The socket's counters, one table indexed by Stat; stats() maps it onto
// SocketStats. The kRejected* entries follow the order of Reject.
enum Stat : int {
  kMessagesIn,
  kBytesIn,
  kMessagesOut,
  kBytesOut,
  kPipesOpened,
  kPipesClosed,
  kRejectedProtocol,  // Reject::kProtocol, then one per Reject value
  kRejectedBadFrame,
  kRejectedOversize,
  kRejectedHandshakeTimeout,
  kRejectedPipeLimit,
  kRejectedUnfinishedLimit,
  kRejectedStalled,
  kWsPongsDropped,
  kRejectedHttp,
  kRejectedAdmission,
  kDropped,
  kReadsOnCaller,
  kStatCount
};

class Counters {
 public:
  void Add(Stat s, uint64_t n = 1) {
    v_[s].fetch_add(n, std::memory_order_relaxed);
  }
  uint64_t Get(Stat s) const { return v_[s].load(std::memory_order_relaxed); }

 private:
  std::array<std::atomic<uint64_t>, kStatCount> v_{};
};

// The core's state on one pipe (PipeHost::StateOf), guarded by the core's mu_.
struct CorePipe final : PipeHostState {
  std::deque<Message> sendq;
  size_t sendq_bytes = 0;
  bool wake_pending = false;  // the pipe will call TakeSend before sleeping
  bool recv_blocked = false;  // Deliver returned false; ResumeRecv owed
  bool attached = false;
  bool detached = false;  // was attached, then removed
  bool admitted = false;  // the admission hook let it in (Admit)
  // ClosePipe: takes no new message and drops what it receives; closes once
  // its queue is written (the first TakeSend that finds it empty) or when
  // kLinger runs out.
  bool lingering = false;
  bool close_posted = false;  // lingering and written: Close is on its way
  // Its kAdded event has run: Deliver holds its messages until then.
  bool announced = false;
  // Detached before it was announced: AttachPipe emits kRemoved after kAdded.
  bool removed_pending = false;
  absl::Status removed_why;
  uint64_t messages_out = 0;  // queued for this pipe since it was attached
  uint64_t dropped = 0;       // fan-out messages it missed (overflow policy)
};

// The default of kRecvOnCaller: true, unless the environment has
// MSOCK_RECV_ON_CALLER=0 (for comparisons).
bool RecvOnCallerDefault();

class SocketCore final : public PipeHost,
                         public std::enable_shared_from_this<SocketCore> {
 public:
  SocketCore(const SocketSpec& spec, Context& ctx);
  ~SocketCore() override;

  // ---- PipeHost (transports; contracts in transports/transport.h) ----
  const SocketSpec& spec() const override { return spec_; }
  SocketOptions options() const override;
  Context& context() override { return ctx_; }
  bool closed() const override;
  void TrackPipe(const std::shared_ptr<Pipe>& pipe) override;
  void UntrackPipe(Pipe* pipe) override;
  bool AttachPipe(const std::shared_ptr<Pipe>& pipe) override;
  void DetachPipe(Pipe* pipe, const absl::Status& why) override;
  bool Deliver(Pipe* pipe, std::vector<Message>* batch, size_t* next) override;
  bool DeliverNow(Pipe* pipe, Message& m) override;
  size_t TakeSend(Pipe* pipe, std::vector<Message>* out, size_t max_bytes,
                  bool* drained = nullptr) override;
  void CountReject(Reject why) override;
  UnfinishedBudget* unfinished_budget() override { return &budget_; }
  absl::Status Admit(Pipe& pipe) override;

  // ---- the Connector ----
  // A dial attempt to `url` failed (the connector will retry): tells the
  // user's pipe-event observer (not the protocol hook).
  void DialFailed(const std::string& url, absl::Status why);

  // ---- users (via Socket; contracts in msock/socket.h) ----
  absl::Status Send(Message& msg, absl::Time deadline,
                    uint32_t* sent_on = nullptr);
  absl::Status SendExcept(uint32_t except_pipe, Message& msg,
                          absl::Time deadline);
  // reserve_bytes > 0: also queue `msg` on a full pipe when it fits within
  // that many bytes (and kReplyReserveMessages messages) over the limits
  // (SocketAccess::SendReply).
  absl::Status SendTo(const Path& path, Message& msg, absl::Time deadline,
                      size_t reserve_bytes = 0);
  // SocketAccess::SendToEach: a copy of `msg` to each of `pipes` under one
  // lock round, never waiting; returns how many were queued.
  size_t SendToEach(absl::Span<const uint32_t> pipes, const Message& msg,
                    std::vector<uint32_t>* full);
  // SocketAccess::SendManyTo: the first of `msgs` that fit, queued on one
  // pipe under one lock round with one wake, never waiting.
  size_t SendManyTo(uint32_t pipe, absl::Span<Message> msgs, bool* gone);
  absl::StatusOr<Message> Recv(absl::Time deadline);
  // SocketAccess::AwaitOnCaller (recv_on_caller.cc): PollPipes until done()
  // (run under mu_), the deadline, or the socket closes.
  void AwaitOnCaller(absl::Time deadline, absl::FunctionRef<bool()> done)
      ABSL_LOCKS_EXCLUDED(mu_);
  // SocketAccess::AwaitScope: threads about to wait in AwaitOnCaller.
  void BeginAwait() { awaiting_.fetch_add(1, std::memory_order_relaxed); }
  void EndAwait() { awaiting_.fetch_sub(1, std::memory_order_relaxed); }
  absl::Status WaitForPeers(int n, absl::Time deadline);
  int pipe_count() const;
  void OnPipeEvent(std::function<void(const PipeEvent&)> fn);
  void SetProtocolPipeHook(std::function<void(const PipeEvent&)> fn);
  void SetRecvFilter(RecvFilter filter);
  // SocketAccess::SetPollAlways.
  void SetPollAlways(bool on, size_t max_pipes) {
    max_polled_.store(std::min(max_pipes, kPollCap), std::memory_order_relaxed);
    poll_always_.store(on, std::memory_order_relaxed);
  }
  void ClosePipe(uint32_t pipe_id);
  void SetAdmission(AdmissionHook hook);
  absl::StatusOr<PeerInfo> PeerOf(uint32_t pipe_id) const;
  // One template for every option (the key names its field and its check);
  // instantiated in socket_core.cc for the value types of msock/options.h.
  template <typename T>
  absl::Status SetOption(const OptionKey<T>& key, T value);
  template <typename T>
  T GetOption(const OptionKey<T>& key) const;
  SocketStats stats() const;
  std::vector<PipeStats> pipe_stats() const;
  absl::StatusOr<std::string> Listen(std::string_view url);
  absl::StatusOr<uint64_t> Dial(std::string_view url);
  absl::Status StopDial(uint64_t id);
  void Close();

 private:
  // Pipes to Wake() once mu_ is released. kToOne sends wake at most one, so
  // the common case needs no heap allocation.
  using WakeList = absl::InlinedVector<std::shared_ptr<Pipe>, 1>;
  // Wakes `wake` (mu_ not held): each at once, or, when a fan-out woke more
  // than kDirectWakes, all in one Post to the loop (Pipe::WakeOnLoop), so that
  // the sender never writes to many pipes itself and each pipe batches.
  static constexpr size_t kDirectWakes = 4;
  void WakeAll(WakeList& wake);

  // The core's state on `p`, made on first use.
  CorePipe& State(Pipe& p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The state of a pipe the core has seen (attached, or in pipes_ / order_).
  static CorePipe& Known(Pipe& p) {
    return static_cast<CorePipe&>(*PipeHost::StateOf(p));
  }

  // ---- pipe_table.cc ----
  void EmitEvent(const PipeEvent& ev) ABSL_LOCKS_EXCLUDED(hooks_mu_);
  // Drops the pipe-event observers; with `wait`, returns once no call to one
  // is running.
  void StopEvents(bool wait) ABSL_LOCKS_EXCLUDED(hooks_mu_);

  // ---- admission.cc ----
  // Tells the user's pipe-event observer only (not the protocol hook, which
  // knows kAdded and kRemoved alone): kDialFailed, kRefused.
  void EmitUserEvent(const PipeEvent& ev) ABSL_LOCKS_EXCLUDED(hooks_mu_);

  // ---- sender.cc ----
  bool HasRoom(Pipe& p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Room for `m` within `reserve_bytes` (and kReplyReserveMessages) over the
  // queue limits.
  bool HasReserve(Pipe& p, const Message& m, size_t reserve_bytes)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Appends to p's queue; true if the caller must Wake() p after unlocking.
  bool Enqueue(Pipe& p, Message&& m) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Hands m to pipe p: straight to the peer if p is idle and can (inproc),
  // else into p's queue. True if the caller must Wake() p after unlocking.
  bool Post(Pipe& p, Message&& m) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Pipe* PickToOne() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // kToAll: queues msg for every pipe but `except` (0: none) per the overflow
  // policy; appends pipes to wake. May wait (kBlock).
  absl::Status SendToAll(MutexLock& lock, uint32_t except, Message& msg,
                         absl::Time deadline, WakeList* wake)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // kByHeader: the destination is the first header word.
  absl::Status SendByHeader(Message& msg, absl::Time deadline);
  // Moves orphaned messages to pipes with room; appends pipes to wake.
  void PlaceOrphans(WakeList* wake) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // ---- receiver.cc ----
  bool RecvFull() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Queues m (from `pipe`) for receivers; true if a receiver must be
  // notified after unlocking.
  bool QueueReceived(Pipe& pipe, Message& m) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Releases mu_ and polls for a delivery until one comes or `until`; then
  // re-locks mu_.
  void SpinForMessage(absl::Time until) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Wakes one (or all) receivers: those asleep on recv_cv_ and the one
  // polling, if any. mu_ not needed.
  void NotifyRecv(bool all);
  // Wakes the receiver polling in PollPipes, if any.
  void WakePoller();

  // ---- recv_on_caller.cc ----
  // A receiver about to sleep polls its stream pipes' descriptors (at most
  // max_polled_ of them, else it sleeps on recv_cv_) and the socket's
  // wake-up descriptor instead, and reads what arrives on its own thread
  // (Pipe::RecvOnCaller), without a hop through the loop. Releases mu_ while
  // it polls. *fallback: sleep on recv_cv_ this time (nothing to poll, or a
  // readable pipe the loop must handle). Statuses as WaitOn's.
  static constexpr size_t kMaxPolledPipes = 4;  // default max_polled_
  static constexpr size_t kPollCap = 64;        // SetPollAlways's max
  // hand_over: once done, wake a receiver asleep on recv_cv_ to take over
  // the polling (Recv); AwaitOnCaller's pollers do not (see awaiting_):
  // woken for every answer, the receiver would poll and take it instead.
  absl::Status PollPipes(MutexLock& lock, absl::Time deadline, bool* waited,
                         bool* fallback, bool hand_over = true)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Pipe::Unlend on the pipes in polled_ (and clears it). Releases mu_ while
  // it calls them.
  void UnlendPolled(MutexLock& lock) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // ---- socket_core.cc ----
  bool Drained() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Waits on cv until notified or the deadline. kUnavailable if the deadline
  // had passed before any wait (*waited false: a non-blocking call),
  // kDeadlineExceeded if it passed while waiting, kCancelled if the socket
  // closed. Sets *waited.
  absl::Status WaitOn(MutexLock& lock, std::condition_variable* cv,
                      int* waiters, absl::Time deadline, bool* waited,
                      const char* what) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status ClosedError() const;

  const SocketSpec spec_;
  Context& ctx_;
  Connector connector_;
  Counters stats_;
  UnfinishedBudget budget_;  // limit = opts_.max_unfinished_bytes

  mutable Mutex mu_;
  SocketOptions opts_ ABSL_GUARDED_BY(mu_);
  mutable Mutex opts_mu_;
  SocketOptions opts_read_ ABSL_GUARDED_BY(opts_mu_);  // = opts_
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  uint32_t next_pipe_id_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<uint32_t, std::shared_ptr<Pipe>> pipes_
      ABSL_GUARDED_BY(mu_);
  // Every pipe holding I/O handles (see TrackPipe).
  absl::flat_hash_map<Pipe*, std::weak_ptr<Pipe>> live_ ABSL_GUARDED_BY(mu_);
  std::vector<Pipe*> order_ ABSL_GUARDED_BY(mu_);  // round-robin order
  size_t rr_ ABSL_GUARDED_BY(mu_) = 0;
  // Unsent messages of dead kToOne pipes.
  std::deque<Message> orphans_ ABSL_GUARDED_BY(mu_);
  // The receive filter, run by Deliver under mu_ (set rarely, by protocols).
  std::shared_ptr<const RecvFilter> filter_ ABSL_GUARDED_BY(mu_);
  std::vector<Message> recvq_ ABSL_GUARDED_BY(mu_);
  size_t recvq_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  // !recvq_.empty(), readable without mu_.
  std::atomic<bool> recv_avail_{false};
  std::vector<std::shared_ptr<Pipe>> recv_blocked_ ABSL_GUARDED_BY(mu_);
  // Waited on with mu_.
  std::condition_variable send_cv_, recv_cv_, peers_cv_, drain_cv_;
  int send_waiters_ ABSL_GUARDED_BY(mu_) = 0;
  int recv_waiters_ ABSL_GUARDED_BY(mu_) = 0;
  // A receiver was notified of new messages and has not run since: Deliver
  // need not notify again.
  bool recv_woken_ ABSL_GUARDED_BY(mu_) = false;
  int drain_waiters_ ABSL_GUARDED_BY(mu_) = 0;
  // Receiving on the caller's thread (PollPipes, opts_.recv_on_caller):
  // wake_fd_ is an eventfd made when the first tcp/ipc pipe attaches (under
  // mu_, before recv_polling_ is first set; closed by the destructor);
  // recv_polling_: a receiver is in poll().
  int wake_fd_ = -1;
  std::atomic<bool> recv_polling_{false};
  // The pipes a receiver last polled (PollPipes), which the loop may have
  // lent to it: a Recv that sleeps on recv_cv_ instead hands them back first
  // (UnlendPolled), so that what comes next is read at once. A std::vector:
  // clear() keeps its capacity, so a hub polling many pipes allocates once.
  std::vector<uint32_t> polled_ ABSL_GUARDED_BY(mu_);
  // Receivers in poll() now (PollPipes): one at a time reads the pipes.
  int pollers_ ABSL_GUARDED_BY(mu_) = 0;
  // Threads in an AwaitScope (a request sent, its answer awaited through
  // AwaitOnCaller, e.g. a rooms client's Emit): Recv does not poll then, so
  // that the thread waiting for the answer reads it itself (one wake-up)
  // rather than a dispatcher thread in Recv reading it and waking that
  // thread (two). Such a waiter polls while nobody else does, even if a
  // receiver sleeps on recv_cv_ (what it reads for Recv wakes that one).
  std::atomic<int> awaiting_{0};

  // The socket sent a message since Recv last returned one: a receiver that
  // waits now waits for an answer, and polls (a stream's receiver, which
  // never sends, leaves the reading to the loop). Written only when it
  // changes, so a thread that only sends or only receives never writes its
  // cache line again.
  std::atomic<bool> sent_since_recv_{false};
  // Receivers poll as if the socket had always just sent (SetPollAlways).
  std::atomic<bool> poll_always_{false};
  // Beyond this many stream pipes, receivers sleep rather than poll.
  std::atomic<size_t> max_polled_{kMaxPolledPipes};
  void NoteSent() {
    if (!sent_since_recv_.load(std::memory_order_relaxed))
      sent_since_recv_.store(true, std::memory_order_relaxed);
  }

  // Messages a receiver took from recvq_ in one batch and not yet handed out.
  // Bounded by the receive queue limits, so at most twice those are buffered in
  // all.
  Mutex recv_mu_ ABSL_ACQUIRED_AFTER(mu_);
  std::vector<Message> recv_local_ ABSL_GUARDED_BY(recv_mu_);
  size_t local_next_ ABSL_GUARDED_BY(recv_mu_) = 0;  // the next to hand out
  // !recv_local_.empty(); written under recv_mu_ (and mu_ when it becomes
  // true), read under mu_ by receivers deciding whether to sleep.
  std::atomic<bool> local_avail_{false};

  Mutex hooks_mu_;  // never held while calling an observer
  std::shared_ptr<const std::function<void(const PipeEvent&)>> event_fn_
      ABSL_GUARDED_BY(hooks_mu_);
  std::shared_ptr<const std::function<void(const PipeEvent&)>> proto_fn_
      ABSL_GUARDED_BY(hooks_mu_);
  std::shared_ptr<const AdmissionHook> admission_ ABSL_GUARDED_BY(hooks_mu_);
  // Observer and admission hook calls running.
  int emitting_ ABSL_GUARDED_BY(hooks_mu_) = 0;
  std::condition_variable hooks_cv_;
};

}  // namespace msock::internal

#endif  // MSOCK_SOCKET_SOCKET_CORE_H_
