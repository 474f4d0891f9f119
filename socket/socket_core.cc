// SocketCore: pipe table, Sender (none / to one / to all / to a path) and
// Receiver (none / all) over bounded queues. Locking pattern: lock, change
// queues, note whom to wake, unlock, wake.
#include "socket/socket_core.h"

#include <algorithm>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"

namespace msock::internal {

namespace {

size_t WireSize(const Message& m) { return m.size() + m.header_size(); }

}  // namespace

SocketCore::SocketCore(const SocketSpec& spec, Context& ctx)
    : spec_(spec), ctx_(ctx), connector_(this) {
  absl::BitGen gen;
  next_pipe_id_ = absl::Uniform<uint32_t>(gen, 1, 0x7fffffff);
}

SocketCore::~SocketCore() = default;

SocketOptions SocketCore::options() const {
  Lock lock(mu_);
  return opts_;
}

bool SocketCore::closed() const {
  Lock lock(mu_);
  return closed_;
}

// ---------------------------------------------------------------------------------------------
// Pipe table

bool SocketCore::AttachPipe(const std::shared_ptr<Pipe>& pipe) {
  WakeList wake;
  PipeEvent ev;
  bool resume = false;
  {
    Lock lock(mu_);
    if (closed_) return false;
    if (spec_.max_pipes > 0 &&
        static_cast<int>(pipes_.size()) >= spec_.max_pipes) {
      stats_.rejected_pipe_limit++;
      return false;
    }
    uint32_t id;
    do {
      id = next_pipe_id_;
      next_pipe_id_ = next_pipe_id_ >= 0x7fffffff ? 1 : next_pipe_id_ + 1;
    } while (pipes_.contains(id));
    pipe->id = id;
    pipe->core_state.attached = true;
    resume = std::exchange(pipe->core_state.recv_blocked, false);
    pipes_[id] = pipe;
    order_.push_back(pipe.get());
    stats_.pipes_opened++;
    if (!orphans_.empty()) PlaceOrphans(&wake);
    ev = PipeEvent{PipeEventType::kAdded, id, pipe->local_address,
                   pipe->remote_address, absl::OkStatus()};
    if (send_waiters_ > 0) send_cv_.notify_all();
    peers_cv_.notify_all();
  }
  for (auto& p : wake) p->Wake();
  if (resume) pipe->ResumeRecv();
  EmitEvent(ev);
  return true;
}

void SocketCore::DetachPipe(Pipe* pipe, const absl::Status& why) {
  std::shared_ptr<Pipe> keep;  // released after unlocking
  WakeList wake;
  PipeEvent ev;
  {
    Lock lock(mu_);
    if (!pipe->core_state.attached) return;
    pipe->core_state.attached = false;
    pipe->core_state.detached = true;
    auto it = pipes_.find(pipe->id);
    if (it == pipes_.end()) return;
    keep = std::move(it->second);
    pipes_.erase(it);
    order_.erase(std::find(order_.begin(), order_.end(), pipe));
    stats_.pipes_closed++;
    auto& q = pipe->core_state.sendq;
    if (spec_.send == SendMode::kToOne && !closed_) {
      // Messages this pipe never wrote go to another pipe, ahead of newer ones.
      for (auto rit = q.rbegin(); rit != q.rend(); ++rit)
        orphans_.push_front(std::move(*rit));
      PlaceOrphans(&wake);
    } else {
      stats_.dropped += q.size();
    }
    q.clear();
    pipe->core_state.sendq_bytes = 0;
    std::erase(recv_blocked_, keep);
    ev = PipeEvent{PipeEventType::kRemoved, pipe->id, pipe->local_address,
                   pipe->remote_address, why};
    peers_cv_.notify_all();
    // A fan-out sender blocked on this pipe's full queue can go on.
    if (send_waiters_ > 0) send_cv_.notify_all();
    if (drain_waiters_ > 0) drain_cv_.notify_all();
  }
  for (auto& p : wake) p->Wake();
  EmitEvent(ev);
}

void SocketCore::TrackPipe(const std::shared_ptr<Pipe>& pipe) {
  Lock lock(mu_);
  live_[pipe.get()] = pipe;
}

void SocketCore::UntrackPipe(Pipe* pipe) {
  Lock lock(mu_);
  live_.erase(pipe);
  peers_cv_.notify_all();
}

int SocketCore::pipe_count() const {
  Lock lock(mu_);
  return static_cast<int>(pipes_.size());
}

void SocketCore::ClosePipe(uint32_t pipe_id) {
  std::shared_ptr<Pipe> p;
  {
    Lock lock(mu_);
    auto it = pipes_.find(pipe_id);
    if (it == pipes_.end()) return;
    p = it->second;
  }
  p->Close(absl::OkStatus());
}

void SocketCore::CountReject(Reject why) {
  switch (why) {
    case Reject::kProtocol:
      stats_.rejected_protocol++;
      break;
    case Reject::kBadFrame:
      stats_.rejected_bad_frame++;
      break;
    case Reject::kOversize:
      stats_.rejected_oversize++;
      break;
    case Reject::kHandshakeTimeout:
      stats_.rejected_handshake_timeout++;
      break;
    case Reject::kPipeLimit:
      stats_.rejected_pipe_limit++;
      break;
  }
}

// ---------------------------------------------------------------------------------------------
// Sender

bool SocketCore::HasRoom(const Pipe& p) const {
  const PipeCoreState& s = p.core_state;
  return s.sendq.empty() || (s.sendq.size() < opts_.send_queue_messages &&
                             s.sendq_bytes < opts_.send_queue_bytes);
}

bool SocketCore::Enqueue(Pipe& p, Message&& m) {
  PipeCoreState& s = p.core_state;
  s.sendq_bytes += WireSize(m);
  s.sendq.push_back(std::move(m));
  if (s.wake_pending) return false;
  s.wake_pending = true;
  return true;
}

bool SocketCore::Post(Pipe& p, Message&& m) {
  PipeCoreState& s = p.core_state;
  if (s.sendq.empty() && !s.wake_pending && p.SendNow(m)) return false;
  return Enqueue(p, std::move(m));
}

Pipe* SocketCore::PickToOne() {
  size_t n = order_.size();
  for (size_t i = 0; i < n; ++i) {
    Pipe* p = order_[(rr_ + i) % n];
    if (HasRoom(*p)) {
      rr_ = (rr_ + i + 1) % n;
      return p;
    }
  }
  return nullptr;
}

void SocketCore::PlaceOrphans(WakeList* wake) {
  while (!orphans_.empty()) {
    Pipe* p = PickToOne();
    if (p == nullptr) return;
    if (Enqueue(*p, std::move(orphans_.front())))
      wake->push_back(p->shared_from_this());
    orphans_.pop_front();
  }
}

absl::Status SocketCore::WaitOn(Lock& lock, std::condition_variable* cv,
                                int* waiters, absl::Time deadline, bool* waited,
                                const char* what) {
  if (deadline <= absl::Now()) {
    if (*waited) {
      return absl::DeadlineExceededError(
          absl::StrCat(spec_.name, " socket: deadline passed: ", what));
    }
    return absl::UnavailableError(
        absl::StrCat(spec_.name, " socket: ", what, " (would block)"));
  }
  *waited = true;
  ++*waiters;
  bool timed_out = WaitUntil(*cv, lock, deadline);
  --*waiters;
  if (closed_)
    return absl::CancelledError(absl::StrCat(spec_.name, " socket: closed"));
  if (timed_out && deadline <= absl::Now()) {
    return absl::DeadlineExceededError(
        absl::StrCat(spec_.name, " socket: deadline passed: ", what));
  }
  return absl::OkStatus();
}

absl::Status SocketCore::Send(Message& msg, absl::Time deadline,
                              uint32_t* sent_on) {
  if (spec_.send == SendMode::kNone) {
    return absl::FailedPreconditionError(
        absl::StrCat(spec_.name, " socket cannot send"));
  }
  if (spec_.send == SendMode::kToDest) {
    return absl::FailedPreconditionError(
        absl::StrCat(spec_.name, " socket sends only with SendTo(path)"));
  }
  if (spec_.send == SendMode::kByHeader) return SendByHeader(msg, deadline);
  WakeList wake;
  bool waited = false;
  {
    Lock lock(mu_);
    if (closed_)
      return absl::FailedPreconditionError(
          absl::StrCat(spec_.name, " socket: closed"));
    if (spec_.send == SendMode::kToAll) {
      MSOCK_RETURN_IF_ERROR(SendToAll(lock, 0, msg, deadline, &wake));
    } else {
      const size_t bytes = WireSize(msg);
      for (;;) {
        if (orphans_.empty()) {
          if (Pipe* p = PickToOne()) {
            if (sent_on != nullptr) *sent_on = p->id;
            p->core_state.messages_out++;
            if (Post(*p, std::move(msg))) wake.push_back(p->shared_from_this());
            stats_.messages_out++;
            stats_.bytes_out += bytes;
            break;
          }
        }
        MSOCK_RETURN_IF_ERROR(WaitOn(lock, &send_cv_, &send_waiters_, deadline,
                                     &waited, "no peer can take the message"));
        if (!orphans_.empty()) PlaceOrphans(&wake);
      }
    }
  }
  for (auto& p : wake) p->Wake();
  return absl::OkStatus();
}

absl::Status SocketCore::SendExcept(uint32_t except_pipe, Message& msg,
                                    absl::Time deadline) {
  if (spec_.send != SendMode::kToAll) {
    return absl::FailedPreconditionError(
        absl::StrCat(spec_.name, " socket does not send to all pipes"));
  }
  WakeList wake;
  {
    Lock lock(mu_);
    if (closed_)
      return absl::FailedPreconditionError(
          absl::StrCat(spec_.name, " socket: closed"));
    MSOCK_RETURN_IF_ERROR(SendToAll(lock, except_pipe, msg, deadline, &wake));
  }
  for (auto& p : wake) p->Wake();
  return absl::OkStatus();
}

absl::Status SocketCore::SendToAll(Lock& lock, uint32_t except, Message& msg,
                                   absl::Time deadline, WakeList* wake) {
  if (opts_.overflow == Overflow::kBlock) {
    // Every pipe must have room: one slow peer holds up all (never a drop).
    bool waited = false;
    for (;;) {
      bool room = true;
      for (Pipe* p : order_) {
        if (p->id != except && !HasRoom(*p)) {
          room = false;
          break;
        }
      }
      if (room) break;
      MSOCK_RETURN_IF_ERROR(WaitOn(lock, &send_cv_, &send_waiters_, deadline,
                                   &waited, "a peer's queue is full"));
    }
  }
  const size_t bytes = WireSize(msg);
  for (Pipe* p : order_) {
    if (p->id == except) continue;
    PipeCoreState& s = p->core_state;
    if (!HasRoom(*p)) {
      if (opts_.overflow == Overflow::kDropOldest) {
        // Make room by dropping the oldest messages this pipe has not taken.
        while (!HasRoom(*p) && !s.sendq.empty()) {
          s.sendq_bytes -= WireSize(s.sendq.front());
          s.sendq.pop_front();
          s.dropped++;
          stats_.dropped++;
        }
      } else {
        s.dropped++;
        stats_.dropped++;
        continue;
      }
    }
    s.messages_out++;
    if (Post(*p, msg.Clone())) wake->push_back(p->shared_from_this());
  }
  stats_.messages_out++;
  stats_.bytes_out += bytes;
  msg = Message();
  return absl::OkStatus();
}

absl::Status SocketCore::SendByHeader(Message& msg, absl::Time deadline) {
  if (msg.header().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(spec_.name,
                     " raw socket: the message has no header word naming "
                     "the pipe to send on"));
  }
  const uint32_t pipe = msg.header().front();
  msg.header().erase(msg.header().begin());
  Path path{pipe};
  absl::Status s = SendTo(path, msg, deadline);
  if (!s.ok()) msg.header().insert(msg.header().begin(), pipe);
  return s;
}

absl::Status SocketCore::SendTo(const Path& path, Message& msg,
                                absl::Time deadline) {
  if (spec_.send == SendMode::kNone) {
    return absl::FailedPreconditionError(
        absl::StrCat(spec_.name, " socket cannot send"));
  }
  if (path.empty()) return absl::InvalidArgumentError("SendTo: empty path");
  std::shared_ptr<Pipe> target;
  bool waited = false;
  {
    Lock lock(mu_);
    for (;;) {
      if (closed_) {
        return absl::FailedPreconditionError(
            absl::StrCat(spec_.name, " socket: closed"));
      }
      auto it = pipes_.find(path.back());
      if (it == pipes_.end()) {
        stats_.dropped++;
        return absl::UnavailableError(absl::StrCat(spec_.name, " socket: pipe ",
                                                   path.back(), " is gone"));
      }
      if (HasRoom(*it->second)) {
        it->second->core_state.messages_out++;
        stats_.messages_out++;
        stats_.bytes_out += WireSize(msg);
        if (Post(*it->second, std::move(msg))) target = it->second;
        break;
      }
      MSOCK_RETURN_IF_ERROR(WaitOn(lock, &send_cv_, &send_waiters_, deadline,
                                   &waited, "the destination pipe is full"));
    }
  }
  if (target) target->Wake();
  return absl::OkStatus();
}

size_t SocketCore::TakeSend(Pipe* pipe, std::vector<Message>* out,
                            size_t max_bytes, bool* drained) {
  Lock lock(mu_);
  PipeCoreState& s = pipe->core_state;
  size_t n = 0, bytes = 0;
  while (!s.sendq.empty() && (n == 0 || bytes < max_bytes)) {
    size_t b = WireSize(s.sendq.front());
    bytes += b;
    s.sendq_bytes -= b;
    out->push_back(std::move(s.sendq.front()));
    s.sendq.pop_front();
    ++n;
  }
  if (n == 0 || (drained != nullptr && s.sendq.empty())) {
    s.wake_pending = false;
    if (drained != nullptr) *drained = true;
    if (drain_waiters_ > 0) drain_cv_.notify_all();
  }
  if (n > 0 && send_waiters_ > 0) send_cv_.notify_all();
  return n;
}

// ---------------------------------------------------------------------------------------------
// Receiver

bool SocketCore::RecvFull() const {
  return !recvq_.empty() && (recvq_.size() >= opts_.recv_queue_messages ||
                             recvq_bytes_ >= opts_.recv_queue_bytes);
}

bool SocketCore::DeliverNow(Pipe* pipe, Message& m) {
  if (spec_.recv == RecvMode::kNone) return false;
  int notify = 0;
  {
    Lock lock(mu_, std::try_to_lock);
    if (!lock.owns_lock() || !pipe->core_state.attached || filter_ ||
        RecvFull()) {
      return false;
    }
    stats_.messages_in++;
    stats_.bytes_in += m.size();
    m.source().push_back(pipe->id);
    recvq_bytes_ += m.size();
    recvq_.push_back(std::move(m));
    recv_avail_.store(true, std::memory_order_release);
    if (recv_waiters_ > 0 && !recv_woken_) {
      recv_woken_ = true;
      notify = 1;
    }
  }
  if (notify) recv_cv_.notify_one();
  return true;
}

bool SocketCore::Deliver(Pipe* pipe, std::vector<Message>* batch,
                         size_t* next) {
  if (spec_.recv == RecvMode::kNone) {
    // A peer that sends to a send-only socket breaks the protocol.
    stats_.dropped += batch->size() - *next;
    *next = batch->size();
    return true;
  }
  bool close_pipe = false;
  bool all = true;
  int notify = 0;  // 1: one receiver, 2: all
  {
    Lock lock(mu_);
    if (!pipe->core_state.attached) {
      if (pipe->core_state.detached) {
        *next = batch->size();  // closing: nobody will read these
        return true;
      }
      // An inproc peer sent before this side was attached: hold on until
      // AttachPipe.
      pipe->core_state.recv_blocked = true;
      return false;
    }
    const RecvFilter* filter = filter_.get();
    size_t added = 0;
    while (*next < batch->size()) {
      if (RecvFull()) {
        all = false;
        pipe->core_state.recv_blocked = true;
        recv_blocked_.push_back(pipe->shared_from_this());
        break;
      }
      Message& m = (*batch)[*next];
      ++*next;
      stats_.messages_in++;
      stats_.bytes_in += m.size();
      m.source().push_back(pipe->id);
      if (filter) {
        // Filters are protocol code (never user callbacks) and do not take
        // locks.
        RecvVerdict v = (*filter)(m, opts_.ttl);
        if (v == RecvVerdict::kDrop) {
          stats_.dropped++;
          continue;
        }
        if (v == RecvVerdict::kConsumed) continue;
        if (v == RecvVerdict::kClosePipe) {
          stats_.rejected_bad_frame++;
          close_pipe = true;
          *next = batch->size();
          break;
        }
      }
      recvq_bytes_ += m.size();
      recvq_.push_back(std::move(m));
      recv_avail_.store(true, std::memory_order_release);
      ++added;
    }
    // One wake-up per sleep: a receiver already woken and not yet running
    // will take everything queued by then.
    if (added > 0 && recv_waiters_ > 0 && !recv_woken_) {
      recv_woken_ = true;
      notify = added == 1 ? 1 : 2;
    }
  }
  // Notified after unlocking, so the woken receiver does not block on mu_.
  if (notify == 1) recv_cv_.notify_one();
  if (notify == 2) recv_cv_.notify_all();
  if (close_pipe) {
    pipe->Close(absl::DataLossError("message rejected by the protocol"));
    return true;
  }
  return all;
}

absl::StatusOr<Message> SocketCore::Recv(absl::Time deadline) {
  if (spec_.recv == RecvMode::kNone) {
    return absl::FailedPreconditionError(
        absl::StrCat(spec_.name, " socket cannot receive"));
  }
  // Receivers take the whole shared queue at once into recv_local_, so the
  // producers (pipes) and the receivers meet on mu_ once per batch, not once
  // per message. Lock order: mu_, then recv_mu_; recv_mu_ alone on the fast
  // path.
  bool waited = false;
  for (;;) {
    {
      std::lock_guard<std::mutex> local(recv_mu_);
      if (local_next_ < recv_local_.size()) {
        Message m = std::move(recv_local_[local_next_++]);
        if (local_next_ == recv_local_.size()) {
          recv_local_.clear();  // keeps its capacity for the next batch
          local_next_ = 0;
          local_avail_.store(false, std::memory_order_relaxed);
        }
        return m;
      }
    }
    std::vector<std::shared_ptr<Pipe>> resume;
    {
      Lock lock(mu_);
      for (;;) {
        if (closed_) {
          return absl::FailedPreconditionError(
              absl::StrCat(spec_.name, " socket: closed"));
        }
        if (!recvq_.empty() || local_avail_.load(std::memory_order_relaxed))
          break;
        if (!waited && opts_.recv_spin > absl::ZeroDuration() &&
            deadline > absl::Now()) {
          waited = true;
          SpinForMessage(lock,
                         std::min(deadline, absl::Now() + opts_.recv_spin));
          continue;  // mu_ was released: look at the queue again before
                     // sleeping
        }
        absl::Status s = WaitOn(lock, &recv_cv_, &recv_waiters_, deadline,
                                &waited, "no message");
        recv_woken_ = false;
        if (!s.ok()) {
          // A wake-up meant for a message this receiver now leaves behind
          // goes to another receiver.
          if (!recvq_.empty() && recv_waiters_ > 0) recv_cv_.notify_one();
          return s;
        }
      }
      if (!recvq_.empty()) {
        const size_t taken = recvq_.size();
        {
          std::lock_guard<std::mutex> local(recv_mu_);
          // Usually recv_local_ is empty here: taking the whole batch is then
          // a swap, not a move per message. The two vectors trade buffers, so
          // a steady stream allocates nothing (a deque here allocated a block
          // per few messages on one thread and freed it on another).
          if (recv_local_.empty()) {
            recv_local_.swap(recvq_);
          } else {
            for (Message& m : recvq_) recv_local_.push_back(std::move(m));
          }
          local_avail_.store(true, std::memory_order_relaxed);
        }
        // Other receivers asleep on mu_ can serve themselves from recv_local_
        // too.
        if (taken > 1 && recv_waiters_ > 0) recv_cv_.notify_all();
        recvq_.clear();
        recvq_bytes_ = 0;
        recv_avail_.store(false, std::memory_order_relaxed);
        resume.swap(recv_blocked_);
        for (auto& p : resume) p->core_state.recv_blocked = false;
      }
    }
    for (auto& p : resume) p->ResumeRecv();
  }
}

void SocketCore::SpinForMessage(Lock& lock, absl::Time until) {
  // A sleeping receiver costs a futex wake-up per batch on the producer's side
  // and a context switch on ours; on a multi-core machine the next message is
  // usually microseconds away.
  lock.unlock();
  bool got = false;
  for (int i = 0; !got; ++i) {
    got = recv_avail_.load(std::memory_order_acquire);
    if ((i & 63) == 63 && absl::Now() >= until) break;
  }
  lock.lock();
}

absl::Status SocketCore::WaitForPeers(int n, absl::Time deadline) {
  Lock lock(mu_);
  for (;;) {
    if (closed_)
      return absl::CancelledError(absl::StrCat(spec_.name, " socket: closed"));
    if (static_cast<int>(pipes_.size()) >= n) return absl::OkStatus();
    if (deadline <= absl::Now()) {
      return absl::DeadlineExceededError(
          absl::StrCat(spec_.name, " socket: ", pipes_.size(), " of ", n,
                       " peers connected at the deadline"));
    }
    WaitUntil(peers_cv_, lock, deadline);
  }
}

// ---------------------------------------------------------------------------------------------
// Hooks, options, statistics

void SocketCore::OnPipeEvent(std::function<void(const PipeEvent&)> fn) {
  Lock lock(hooks_mu_);
  event_fn_ =
      fn ? std::make_shared<const std::function<void(const PipeEvent&)>>(
               std::move(fn))
         : nullptr;
}

void SocketCore::SetProtocolPipeHook(std::function<void(const PipeEvent&)> fn) {
  Lock lock(hooks_mu_);
  proto_fn_ =
      fn ? std::make_shared<const std::function<void(const PipeEvent&)>>(
               std::move(fn))
         : nullptr;
}

void SocketCore::SetRecvFilter(RecvFilter filter) {
  std::shared_ptr<const RecvFilter> f =
      filter ? std::make_shared<const RecvFilter>(std::move(filter)) : nullptr;
  Lock lock(mu_);
  filter_.swap(f);  // the old filter is destroyed after unlocking
}

void SocketCore::EmitEvent(const PipeEvent& ev) {
  std::shared_ptr<const std::function<void(const PipeEvent&)>> fn, proto;
  {
    Lock lock(hooks_mu_);
    if (!event_fn_ && !proto_fn_) return;
    fn = event_fn_;
    proto = proto_fn_;
    ++emitting_;
  }
  if (proto) (*proto)(ev);
  if (fn) (*fn)(ev);
  Lock lock(hooks_mu_);
  if (--emitting_ == 0) hooks_cv_.notify_all();
}

void SocketCore::DialFailed(const std::string& url, absl::Status why) {
  std::shared_ptr<const std::function<void(const PipeEvent&)>> fn;
  {
    Lock lock(hooks_mu_);
    if (!event_fn_) return;
    fn = event_fn_;
    ++emitting_;
  }
  (*fn)(PipeEvent{PipeEventType::kDialFailed, 0, "", url, std::move(why)});
  Lock lock(hooks_mu_);
  if (--emitting_ == 0) hooks_cv_.notify_all();
}

void SocketCore::StopEvents(bool wait) {
  Lock lock(hooks_mu_);
  event_fn_ = nullptr;
  proto_fn_ = nullptr;
  if (wait) hooks_cv_.wait(lock, [this] { return emitting_ == 0; });
}

absl::Status SocketCore::SetOption(int id, absl::Duration d) {
  Lock lock(mu_);
  if (closed_) return absl::FailedPreconditionError("socket closed");
  if (d < absl::ZeroDuration())
    return absl::InvalidArgumentError("negative duration");
  switch (id) {
    case opt::kSendTimeout.id:
      opts_.send_timeout = d;
      break;
    case opt::kRecvTimeout.id:
      opts_.recv_timeout = d;
      break;
    case opt::kReconnectMin.id:
      if (d == absl::ZeroDuration())
        return absl::InvalidArgumentError("reconnect-min must be > 0");
      opts_.reconnect_min = d;
      break;
    case opt::kReconnectMax.id:
      opts_.reconnect_max = d;
      break;
    case opt::kHandshakeTimeout.id:
      if (d == absl::ZeroDuration()) {
        return absl::InvalidArgumentError("handshake-timeout must be > 0");
      }
      opts_.handshake_timeout = d;
      break;
    case opt::kLinger.id:
      opts_.linger = d;
      break;
    case opt::kRecvSpin.id:
      opts_.recv_spin = d;
      break;
    case opt::kWsPingInterval.id:
      opts_.ws_ping_interval = d;
      break;
    default:
      return absl::InvalidArgumentError("unknown duration option");
  }
  return absl::OkStatus();
}

absl::Status SocketCore::SetOption(int id, size_t v) {
  Lock lock(mu_);
  if (closed_) return absl::FailedPreconditionError("socket closed");
  if (v == 0 && id != opt::kMaxRecvSize.id) {
    return absl::InvalidArgumentError("queue limits must be at least 1");
  }
  switch (id) {
    case opt::kSendQueueMessages.id:
      opts_.send_queue_messages = v;
      break;
    case opt::kSendQueueBytes.id:
      opts_.send_queue_bytes = v;
      break;
    case opt::kRecvQueueMessages.id:
      opts_.recv_queue_messages = v;
      break;
    case opt::kRecvQueueBytes.id:
      opts_.recv_queue_bytes = v;
      break;
    case opt::kMaxRecvSize.id:
      opts_.max_recv_size = v;
      break;
    default:
      return absl::InvalidArgumentError("unknown size option");
  }
  return absl::OkStatus();
}

absl::Status SocketCore::SetOption(int id, int v) {
  Lock lock(mu_);
  if (closed_) return absl::FailedPreconditionError("socket closed");
  if (id == opt::kWsText.id || id == opt::kTlsVerifyPeer.id) {
    if (v != 0 && v != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat(id == opt::kWsText.id ? "ws-text" : "tls-verify-peer",
                       " must be 0 or 1"));
    }
    (id == opt::kWsText.id ? opts_.ws_text : opts_.tls_verify_peer) = v;
    return absl::OkStatus();
  }
  if (id != opt::kTtl.id)
    return absl::InvalidArgumentError("unknown int option");
  if (v < 1 || v > 15)
    return absl::InvalidArgumentError("ttl must be in 1..15");
  opts_.ttl = v;
  return absl::OkStatus();
}

absl::Status SocketCore::SetOption(int id, std::string v) {
  Lock lock(mu_);
  if (closed_) return absl::FailedPreconditionError("socket closed");
  switch (id) {
    case opt::kTlsCert.id:
      opts_.tls_cert = std::move(v);
      break;
    case opt::kTlsKey.id:
      opts_.tls_key = std::move(v);
      break;
    case opt::kTlsCa.id:
      opts_.tls_ca = std::move(v);
      break;
    case opt::kTlsServerName.id:
      opts_.tls_server_name = std::move(v);
      break;
    default:
      return absl::InvalidArgumentError("unknown string option");
  }
  return absl::OkStatus();
}

absl::Status SocketCore::SetOverflow(Overflow v) {
  Lock lock(mu_);
  if (closed_) return absl::FailedPreconditionError("socket closed");
  if (v != Overflow::kDropNewest && v != Overflow::kDropOldest &&
      v != Overflow::kBlock) {
    return absl::InvalidArgumentError("unknown overflow policy");
  }
  opts_.overflow = v;
  // Senders blocked under kBlock re-check with the new policy.
  if (send_waiters_ > 0) send_cv_.notify_all();
  return absl::OkStatus();
}

std::vector<PipeStats> SocketCore::pipe_stats() const {
  Lock lock(mu_);
  std::vector<PipeStats> out;
  out.reserve(order_.size());
  for (const Pipe* p : order_) {
    const PipeCoreState& s = p->core_state;
    out.push_back(PipeStats{p->id, p->remote_address, s.sendq.size(),
                            s.sendq_bytes, s.messages_out, s.dropped});
  }
  return out;
}

SocketStats SocketCore::stats() const {
  SocketStats s;
  s.messages_in = stats_.messages_in;
  s.bytes_in = stats_.bytes_in;
  s.messages_out = stats_.messages_out;
  s.bytes_out = stats_.bytes_out;
  s.pipes_opened = stats_.pipes_opened;
  s.pipes_closed = stats_.pipes_closed;
  s.rejected_protocol = stats_.rejected_protocol;
  s.rejected_bad_frame = stats_.rejected_bad_frame;
  s.rejected_oversize = stats_.rejected_oversize;
  s.rejected_handshake_timeout = stats_.rejected_handshake_timeout;
  s.rejected_pipe_limit = stats_.rejected_pipe_limit;
  s.dropped = stats_.dropped;
  return s;
}

// ---------------------------------------------------------------------------------------------
// Connector and close

absl::StatusOr<std::string> SocketCore::Listen(std::string_view url) {
  if (closed())
    return absl::FailedPreconditionError(
        absl::StrCat(spec_.name, " socket: closed"));
  return connector_.Listen(url);
}

absl::Status SocketCore::Dial(std::string_view url) {
  if (closed())
    return absl::FailedPreconditionError(
        absl::StrCat(spec_.name, " socket: closed"));
  return connector_.Dial(url);
}

bool SocketCore::Drained() const {
  if (!orphans_.empty()) return false;
  for (const auto& [id, p] : pipes_) {
    if (!p->core_state.sendq.empty() || p->core_state.wake_pending)
      return false;
  }
  return true;
}

void SocketCore::Close() {
  const bool on_loop = ctx_.IsLoopThread();
  {
    Lock lock(mu_);
    if (closed_) return;
    // Linger: give queued messages time to reach the wire (dialers keep working
    // meanwhile).
    absl::Time linger_end = absl::Now() + opts_.linger;
    while (!on_loop && !Drained() && absl::Now() < linger_end) {
      ++drain_waiters_;
      WaitUntil(drain_cv_, lock, linger_end);
      --drain_waiters_;
    }
    closed_ = true;
    send_cv_.notify_all();
    recv_cv_.notify_all();
    peers_cv_.notify_all();
    stats_.dropped += orphans_.size() + recvq_.size();
    orphans_.clear();
    recvq_.clear();
    recvq_bytes_ = 0;
  }
  {
    std::lock_guard<std::mutex> local(recv_mu_);
    stats_.dropped += recv_local_.size() - local_next_;
    recv_local_.clear();
    local_next_ = 0;
    local_avail_.store(false, std::memory_order_relaxed);
  }
  // No pipe event after Close returns: stop them now and wait out one being
  // delivered.
  StopEvents(/*wait=*/!on_loop);
  connector_.Shutdown();
  // Close every pipe, attached or still connecting / handshaking, and wait for
  // them to end. A pipe created meanwhile (an accept already under way) is
  // closed on the next round.
  absl::Time limit = absl::Now() + absl::Seconds(10);
  for (;;) {
    std::vector<std::shared_ptr<Pipe>> pipes;
    {
      Lock lock(mu_);
      if ((pipes_.empty() && live_.empty()) || absl::Now() >= limit) return;
      for (auto& [id, p] : pipes_) pipes.push_back(p);
      for (auto& [raw, weak] : live_) {
        if (auto p = weak.lock()) pipes.push_back(std::move(p));
      }
    }
    for (auto& p : pipes) p->Close(absl::CancelledError("socket closed"));
    pipes.clear();
    if (on_loop) return;  // the loop must run for the pipes to finish closing
    Lock lock(mu_);
    WaitUntil(peers_cv_, lock,
              std::min(limit, absl::Now() + absl::Milliseconds(100)));
  }
}

}  // namespace msock::internal
