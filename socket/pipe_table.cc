// SocketCore's pipe table (the Connector's side of the core): attaching and
// detaching pipes, tracking pipes that hold I/O handles, and the pipe events
// that tell the protocol and the user about them. A pipe's kAdded event runs
// before any message from it is queued for Recv (or seen by the receive
// filter), and its kRemoved after its kAdded.
#include <sys/eventfd.h>

#include <algorithm>
#include <utility>

#include "socket/socket_core.h"

namespace msock::internal {

CorePipe& SocketCore::State(Pipe& p) {
  std::unique_ptr<PipeHostState>& slot = PipeHost::StateOf(p);
  if (!slot) slot = std::make_unique<CorePipe>();
  return static_cast<CorePipe&>(*slot);
}

bool SocketCore::AttachPipe(const std::shared_ptr<Pipe>& pipe) {
  if (!Admit(*pipe).ok()) return false;  // refused: counted and reported
  WakeList wake;
  PipeEvent ev;
  bool resume = false;
  {
    MutexLock lock(mu_);
    if (closed_) return false;
    if (spec_.max_pipes > 0 &&
        static_cast<int>(pipes_.size()) >= spec_.max_pipes) {
      stats_.Add(kRejectedPipeLimit);
      return false;
    }
    uint32_t id;
    do {
      id = next_pipe_id_;
      next_pipe_id_ = next_pipe_id_ >= 0x7fffffff ? 1 : next_pipe_id_ + 1;
    } while (pipes_.contains(id));
    pipe->id = id;
    // The descriptor that wakes a receiver polling this socket's pipes
    // (PollPipes), made with the first pipe it could poll: one per socket.
    if (wake_fd_ < 0 && pipe->RecvFd() >= 0)
      wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    CorePipe& s = State(*pipe);
    s.attached = true;
    pipes_[id] = pipe;
    order_.push_back(pipe.get());
    stats_.Add(kPipesOpened);
    if (!orphans_.empty()) PlaceOrphans(&wake);
    ev = PipeEvent{PipeEventType::kAdded, id, pipe->local_address,
                   pipe->remote_address, absl::OkStatus()};
    if (send_waiters_ > 0) send_cv_.notify_all();
    peers_cv_.notify_all();
  }
  for (auto& p : wake) p->Wake();
  EmitEvent(ev);
  // Only now may its messages be received (Deliver held them), and its
  // kRemoved be told (DetachPipe left it to us).
  PipeEvent removed;
  bool was_removed;
  {
    MutexLock lock(mu_);
    CorePipe& s = Known(*pipe);
    s.announced = true;
    resume = s.attached && std::exchange(s.recv_blocked, false);
    was_removed = std::exchange(s.removed_pending, false);
    if (was_removed) {
      removed = PipeEvent{PipeEventType::kRemoved, ev.pipe_id, ev.local_address,
                          ev.remote_address, s.removed_why};
    }
  }
  if (resume) pipe->ResumeRecv();
  if (was_removed) EmitEvent(removed);
  return true;
}

void SocketCore::DetachPipe(Pipe* pipe, const absl::Status& why) {
  std::shared_ptr<Pipe> keep;  // released after unlocking
  WakeList wake;
  PipeEvent ev;
  bool announced;
  {
    MutexLock lock(mu_);
    CorePipe& s = State(*pipe);
    if (!s.attached) return;
    s.attached = false;
    s.detached = true;
    auto it = pipes_.find(pipe->id);
    if (it == pipes_.end()) return;
    keep = std::move(it->second);
    pipes_.erase(it);
    std::erase(order_, pipe);  // a lingering pipe has left it already
    stats_.Add(kPipesClosed);
    if (spec_.send == SendMode::kToOne && spec_.requeue_on_pipe_close &&
        !closed_) {
      // Messages this pipe never wrote go to another pipe, ahead of newer ones.
      for (auto rit = s.sendq.rbegin(); rit != s.sendq.rend(); ++rit)
        orphans_.push_front(std::move(*rit));
      PlaceOrphans(&wake);
    } else {
      stats_.Add(kDropped, s.sendq.size());
    }
    s.sendq.clear();
    s.sendq_bytes = 0;
    std::erase(recv_blocked_, keep);
    if (s.announced) {
      ev = PipeEvent{PipeEventType::kRemoved, pipe->id, pipe->local_address,
                     pipe->remote_address, why};
    } else {
      s.removed_pending = true;  // AttachPipe tells it after kAdded
      s.removed_why = why;
    }
    announced = s.announced;
    peers_cv_.notify_all();
    // A fan-out sender blocked on this pipe's full queue can go on.
    if (send_waiters_ > 0) send_cv_.notify_all();
    if (drain_waiters_ > 0) drain_cv_.notify_all();
  }
  for (auto& p : wake) p->Wake();
  // A receiver polling this pipe's descriptor holds the connection open (the
  // kernel releases a file when the last poll on it returns): let it go.
  WakePoller();
  if (announced) EmitEvent(ev);
}

void SocketCore::TrackPipe(const std::shared_ptr<Pipe>& pipe) {
  MutexLock lock(mu_);
  live_[pipe.get()] = pipe;
}

void SocketCore::UntrackPipe(Pipe* pipe) {
  MutexLock lock(mu_);
  live_.erase(pipe);
  peers_cv_.notify_all();
}

int SocketCore::pipe_count() const {
  MutexLock lock(mu_);
  return static_cast<int>(pipes_.size());
}

absl::Status SocketCore::WaitForPeers(int n, absl::Time deadline) {
  MutexLock lock(mu_);
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

void SocketCore::ClosePipe(uint32_t pipe_id) {
  std::shared_ptr<Pipe> p;
  absl::Duration linger;
  bool wake = false;
  {
    MutexLock lock(mu_);
    auto it = pipes_.find(pipe_id);
    if (it == pipes_.end()) return;
    p = it->second;
    CorePipe& s = Known(*p);
    if (s.lingering) return;
    // No new message for it: out of the round robin and the fan-out, refused
    // by SendTo.
    s.lingering = true;
    std::erase(order_, p.get());
    linger = closed_ ? absl::ZeroDuration() : opts_.linger;
    if (linger > absl::ZeroDuration()) {
      // Woken even with an empty queue: its answer to TakeSend (nothing
      // left, once all it took is written) is what closes it.
      wake = !s.wake_pending;
      s.wake_pending = true;
    }
  }
  if (linger <= absl::ZeroDuration()) {
    p->Close(absl::OkStatus());
    return;
  }
  connector_.CloseAfter(p, linger);
  if (wake) p->Wake();
}

void SocketCore::CountReject(Reject why) {
  stats_.Add(static_cast<Stat>(kRejectedProtocol + static_cast<int>(why)));
}

std::vector<PipeStats> SocketCore::pipe_stats() const {
  MutexLock lock(mu_);
  std::vector<PipeStats> out;
  out.reserve(order_.size());
  for (Pipe* p : order_) {
    const CorePipe& s = Known(*p);
    out.push_back(PipeStats{p->id, p->remote_address, s.sendq.size(),
                            s.sendq_bytes, s.messages_out, s.dropped});
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Pipe events

void SocketCore::OnPipeEvent(std::function<void(const PipeEvent&)> fn) {
  MutexLock lock(hooks_mu_);
  event_fn_ =
      fn ? std::make_shared<const std::function<void(const PipeEvent&)>>(
               std::move(fn))
         : nullptr;
}

void SocketCore::SetProtocolPipeHook(std::function<void(const PipeEvent&)> fn) {
  MutexLock lock(hooks_mu_);
  proto_fn_ =
      fn ? std::make_shared<const std::function<void(const PipeEvent&)>>(
               std::move(fn))
         : nullptr;
}

void SocketCore::EmitEvent(const PipeEvent& ev) {
  std::shared_ptr<const std::function<void(const PipeEvent&)>> fn, proto;
  {
    MutexLock lock(hooks_mu_);
    if (!event_fn_ && !proto_fn_) return;
    fn = event_fn_;
    proto = proto_fn_;
    ++emitting_;
  }
  if (proto) (*proto)(ev);
  if (fn) (*fn)(ev);
  MutexLock lock(hooks_mu_);
  if (--emitting_ == 0) hooks_cv_.notify_all();
}

void SocketCore::DialFailed(const std::string& url, absl::Status why) {
  EmitUserEvent(
      PipeEvent{PipeEventType::kDialFailed, 0, "", url, std::move(why)});
}

void SocketCore::StopEvents(bool wait) {
  MutexLock lock(hooks_mu_);
  event_fn_ = nullptr;
  proto_fn_ = nullptr;
  admission_ = nullptr;
  if (!wait) return;
  while (emitting_ != 0) hooks_cv_.wait(lock.native());
}

}  // namespace msock::internal
