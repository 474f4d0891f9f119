// SocketCore's Receiver: pipes deliver whole batches into one bounded receive
// queue (through the protocol's receive filter, if any); receivers take the
// whole queue at once and hand it out from a local batch, so producers and
// consumers meet on mu_ once per batch, not per message. A full queue pauses
// the delivering pipe until a receiver makes room (ResumeRecv).
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "socket/defer_wakes.h"
#include "socket/socket_core.h"

namespace msock::internal {

bool SocketCore::RecvFull() const {
  return !recvq_.empty() && (recvq_.size() >= opts_.recv_queue_messages ||
                             recvq_bytes_ >= opts_.recv_queue_bytes);
}

bool SocketCore::QueueReceived(Pipe& pipe, Message& m) {
  recvq_bytes_ += m.size();
  recvq_.push_back(std::move(m));
  recv_avail_.store(true, std::memory_order_release);
  // One wake-up per sleep: a receiver already woken and not yet running will
  // take everything queued by then.
  if (recv_waiters_ == 0 || recv_woken_) return false;
  recv_woken_ = true;
  return true;
}

bool SocketCore::DeliverNow(Pipe* pipe, Message& m) {
  if (spec_.recv == RecvMode::kNone) return false;
  if (!mu_.try_lock()) return false;
  bool notify;
  {
    MutexLock lock(mu_, std::adopt_lock);
    const CorePipe* s = static_cast<const CorePipe*>(StateOf(*pipe).get());
    if (s == nullptr || !s->attached || !s->announced || s->lingering ||
        filter_ || RecvFull())
      return false;
    stats_.Add(kMessagesIn);
    stats_.Add(kBytesIn, m.size());
    m.source().push_back(pipe->id);
    notify = QueueReceived(*pipe, m);
  }
  if (notify) NotifyRecv(false);
  return true;
}

bool SocketCore::Deliver(Pipe* pipe, std::vector<Message>* batch,
                         size_t* next) {
  if (spec_.recv == RecvMode::kNone) {
    // A peer that sends to a send-only socket breaks the protocol.
    stats_.Add(kDropped, batch->size() - *next);
    *next = batch->size();
    return true;
  }
  bool close_pipe = false;
  bool all = true;
  size_t notify = 0;      // messages queued for a receiver that must be woken
  bool consumed = false;  // the filter took a message (AwaitOnCaller)
  {
    // Waiters the filter answers wake once mu_ is released (declared first,
    // so destroyed last): woken under it, they would block on it at once.
    DeferWakes defer;
    MutexLock lock(mu_);
    CorePipe& s = State(*pipe);
    if (!s.attached || !s.announced) {
      if (s.detached) {
        *next = batch->size();  // closing: nobody will read these
        return true;
      }
      // An inproc peer sent before this side was attached, or its kAdded
      // event has not run yet: hold on until AttachPipe resumes the pipe.
      s.recv_blocked = true;
      return false;
    }
    if (s.lingering) {
      // ClosePipe was called: nothing more is received from this pipe.
      stats_.Add(kDropped, batch->size() - *next);
      *next = batch->size();
      return true;
    }
    const RecvFilter* filter = filter_.get();
    while (*next < batch->size()) {
      if (RecvFull()) {
        all = false;
        s.recv_blocked = true;
        recv_blocked_.push_back(pipe->shared_from_this());
        break;
      }
      Message& m = (*batch)[*next];
      ++*next;
      stats_.Add(kMessagesIn);
      stats_.Add(kBytesIn, m.size());
      m.source().push_back(pipe->id);
      if (filter) {
        // Filters are protocol code (never user callbacks); they may take
        // the protocol's own lock (see the lock order in socket_core.h).
        RecvVerdict v = (*filter)(m, opts_.ttl);
        if (v == RecvVerdict::kDrop) {
          stats_.Add(kDropped);
          continue;
        }
        if (v == RecvVerdict::kConsumed) {
          consumed = true;  // an answer someone may be polling for
          continue;
        }
        if (v == RecvVerdict::kClosePipe) {
          stats_.Add(kRejectedBadFrame);
          close_pipe = true;
          *next = batch->size();
          break;
        }
      }
      if (QueueReceived(*pipe, m) || notify > 0) ++notify;
    }
  }
  // Notified after unlocking, so the woken receiver does not block on mu_.
  if (notify > 0) {
    NotifyRecv(notify > 1);
  } else if (consumed) {
    WakePoller();
  }
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
  // Receivers take the whole shared queue at once into recv_local_. Lock
  // order: mu_, then recv_mu_; recv_mu_ alone on the fast path.
  bool waited = false;
  bool poll = true;  // may read on this thread (PollPipes) when it waits
  for (;;) {
    {
      MutexLock local(recv_mu_);
      if (local_next_ < recv_local_.size()) {
        Message m = std::move(recv_local_[local_next_++]);
        if (local_next_ == recv_local_.size()) {
          recv_local_.clear();  // keeps its capacity for the next batch
          local_next_ = 0;
          local_avail_.store(false, std::memory_order_relaxed);
        }
        if (sent_since_recv_.load(std::memory_order_relaxed))
          sent_since_recv_.store(false, std::memory_order_relaxed);
        return m;
      }
    }
    std::vector<std::shared_ptr<Pipe>> resume;
    {
      MutexLock lock(mu_);
      for (;;) {
        if (closed_) return ClosedError();
        if (!recvq_.empty() || local_avail_.load(std::memory_order_relaxed))
          break;
        if (!waited && opts_.recv_spin > absl::ZeroDuration() &&
            deadline > absl::Now()) {
          waited = true;
          SpinForMessage(std::min(deadline, absl::Now() + opts_.recv_spin));
          continue;  // mu_ was released: look again before sleeping
        }
        absl::Status s;
        // Only a receiver that sent since its last message (it waits for an
        // answer: request/reply, ping-pong), or a server's (poll_always_),
        // reads on its own thread; a stream's receiver leaves the reading to
        // the loop, which reads the next bytes while it consumes these
        // (sent_since_recv_).
        if (poll && opts_.recv_on_caller && recv_waiters_ == 0 &&
            awaiting_.load(std::memory_order_relaxed) == 0 &&
            (sent_since_recv_.load(std::memory_order_relaxed) ||
             poll_always_.load(std::memory_order_relaxed))) {
          bool fallback;
          s = PollPipes(lock, deadline, &waited, &fallback);
          recv_woken_ = false;
          // mu_ was released: look again; sleep on recv_cv_ next time if
          // polling could not go on.
          poll = !fallback;
          if (s.ok()) continue;
        } else {
          if (!polled_.empty() && recv_waiters_ == 0) {
            // The loop may have lent these pipes to the receiver that polled
            // them; none will poll now, so it reads them again at once.
            UnlendPolled(lock);
            continue;  // mu_ was released: look again
          }
          s = WaitOn(lock, &recv_cv_, &recv_waiters_, deadline, &waited,
                     "no message");
          recv_woken_ = false;
          poll = true;
        }
        if (!s.ok()) {
          // A wake-up meant for a message this receiver now leaves behind
          // goes to another receiver.
          if (!recvq_.empty() && recv_waiters_ > 0) NotifyRecv(false);
          return s;
        }
      }
      if (!recvq_.empty()) {
        const size_t taken = recvq_.size();
        {
          MutexLock local(recv_mu_);
          // Usually recv_local_ is empty here: taking the whole batch is then
          // a swap, not a move per message. The two vectors trade buffers, so
          // a steady stream allocates nothing.
          if (recv_local_.empty()) {
            recv_local_.swap(recvq_);
          } else {
            for (Message& m : recvq_) recv_local_.push_back(std::move(m));
          }
          local_avail_.store(true, std::memory_order_relaxed);
        }
        // Other receivers asleep on mu_ can serve themselves from recv_local_
        // too.
        if (taken > 1 && recv_waiters_ > 0) NotifyRecv(true);
        recvq_.clear();
        recvq_bytes_ = 0;
        recv_avail_.store(false, std::memory_order_relaxed);
        resume.swap(recv_blocked_);
        for (auto& p : resume) Known(*p).recv_blocked = false;
      }
    }
    for (auto& p : resume) p->ResumeRecv();
  }
}

void SocketCore::SpinForMessage(absl::Time until) {
  // A sleeping receiver costs a futex wake-up per batch on the producer's side
  // and a context switch on ours; on a multi-core machine the next message is
  // usually microseconds away.
  mu_.unlock();  // the caller's MutexLock still owns mu_ when we return
  bool got = false;
  for (int i = 0; !got; ++i) {
    got = recv_avail_.load(std::memory_order_acquire);
    if ((i & 63) == 63 && absl::Now() >= until) break;
  }
  mu_.lock();
}

void SocketCore::WakePoller() {
  if (recv_polling_.load(std::memory_order_acquire)) {
    const uint64_t one = 1;
    // A full counter (never, in practice) still leaves the poller woken.
    (void)!write(wake_fd_, &one, sizeof(one));
  }
}

void SocketCore::NotifyRecv(bool all) {
  WakePoller();
  if (all) {
    recv_cv_.notify_all();
  } else {
    recv_cv_.notify_one();
  }
}

void SocketCore::SetRecvFilter(RecvFilter filter) {
  std::shared_ptr<const RecvFilter> f =
      filter ? std::make_shared<const RecvFilter>(std::move(filter)) : nullptr;
  MutexLock lock(mu_);
  filter_.swap(f);  // the old filter is destroyed after unlocking
}

}  // namespace msock::internal
