// SocketCore's Sender: per-pipe bounded send queues filled by user threads and
// drained by pipes (TakeSend). kToOne round-robins over pipes with room (a
// dead pipe's unsent messages go to another), kToAll fans one shared body out
// per the overflow policy, kToDest / kByHeader send to one named pipe, and
// SendToEach copies one body to a list of named pipes (a hub's rooms);
// SendManyTo queues several messages on one pipe with one wake.
#include <utility>

#include "absl/strings/str_cat.h"
#include "socket/socket_access.h"
#include "socket/socket_core.h"

namespace msock::internal {

namespace {

size_t WireSize(const Message& m) { return m.size() + m.header_size(); }

}  // namespace

void SocketCore::WakeAll(WakeList& wake) {
  if (wake.size() <= kDirectWakes) {
    for (auto& p : wake) p->Wake();
    return;
  }
  ctx_.Post([pipes = std::move(wake)] {
    for (const auto& p : pipes) p->WakeOnLoop();
  });
}

bool SocketCore::HasRoom(Pipe& p) {
  const CorePipe& s = Known(p);
  return s.sendq.empty() || (s.sendq.size() < opts_.send_queue_messages &&
                             s.sendq_bytes < opts_.send_queue_bytes);
}

bool SocketCore::HasReserve(Pipe& p, const Message& m, size_t reserve_bytes) {
  const CorePipe& s = Known(p);
  return reserve_bytes > 0 &&
         s.sendq.size() < opts_.send_queue_messages + kReplyReserveMessages &&
         s.sendq_bytes + WireSize(m) <= opts_.send_queue_bytes + reserve_bytes;
}

bool SocketCore::Enqueue(Pipe& p, Message&& m) {
  CorePipe& s = Known(p);
  s.sendq_bytes += WireSize(m);
  s.sendq.push_back(std::move(m));
  if (s.wake_pending) return false;
  s.wake_pending = true;
  return true;
}

bool SocketCore::Post(Pipe& p, Message&& m) {
  const CorePipe& s = Known(p);
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

absl::Status SocketCore::Send(Message& msg, absl::Time deadline,
                              uint32_t* sent_on) {
  NoteSent();
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
    MutexLock lock(mu_);
    if (closed_) return ClosedError();
    if (spec_.send == SendMode::kToAll) {
      MSOCK_RETURN_IF_ERROR(SendToAll(lock, 0, msg, deadline, &wake));
    } else {
      const size_t bytes = WireSize(msg);
      for (;;) {
        if (orphans_.empty()) {
          if (Pipe* p = PickToOne()) {
            if (sent_on != nullptr) *sent_on = p->id;
            Known(*p).messages_out++;
            if (Post(*p, std::move(msg))) wake.push_back(p->shared_from_this());
            stats_.Add(kMessagesOut);
            stats_.Add(kBytesOut, bytes);
            break;
          }
        }
        MSOCK_RETURN_IF_ERROR(WaitOn(lock, &send_cv_, &send_waiters_, deadline,
                                     &waited, "no peer can take the message"));
        if (!orphans_.empty()) PlaceOrphans(&wake);
      }
    }
  }
  WakeAll(wake);
  return absl::OkStatus();
}

absl::Status SocketCore::SendExcept(uint32_t except_pipe, Message& msg,
                                    absl::Time deadline) {
  NoteSent();
  if (spec_.send != SendMode::kToAll) {
    return absl::FailedPreconditionError(
        absl::StrCat(spec_.name, " socket does not send to all pipes"));
  }
  WakeList wake;
  {
    MutexLock lock(mu_);
    if (closed_) return ClosedError();
    MSOCK_RETURN_IF_ERROR(SendToAll(lock, except_pipe, msg, deadline, &wake));
  }
  WakeAll(wake);
  return absl::OkStatus();
}

absl::Status SocketCore::SendToAll(MutexLock& lock, uint32_t except,
                                   Message& msg, absl::Time deadline,
                                   WakeList* wake) {
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
    CorePipe& s = Known(*p);
    if (!HasRoom(*p)) {
      if (opts_.overflow == Overflow::kDropOldest) {
        // Make room by dropping the oldest messages this pipe has not taken.
        while (!HasRoom(*p) && !s.sendq.empty()) {
          s.sendq_bytes -= WireSize(s.sendq.front());
          s.sendq.pop_front();
          s.dropped++;
          stats_.Add(kDropped);
        }
      } else {
        s.dropped++;
        stats_.Add(kDropped);
        continue;
      }
    }
    s.messages_out++;
    if (Post(*p, msg.Clone())) wake->push_back(p->shared_from_this());
  }
  stats_.Add(kMessagesOut);
  stats_.Add(kBytesOut, bytes);
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
                                absl::Time deadline, size_t reserve_bytes) {
  NoteSent();
  if (spec_.send == SendMode::kNone) {
    return absl::FailedPreconditionError(
        absl::StrCat(spec_.name, " socket cannot send"));
  }
  if (path.empty()) return absl::InvalidArgumentError("SendTo: empty path");
  std::shared_ptr<Pipe> target;
  bool waited = false;
  {
    MutexLock lock(mu_);
    for (;;) {
      if (closed_) return ClosedError();
      auto it = pipes_.find(path.back());
      if (it == pipes_.end() || Known(*it->second).lingering) {
        stats_.Add(kDropped);
        return absl::UnavailableError(
            absl::StrCat(spec_.name, " socket: pipe ", path.back(),
                         it == pipes_.end() ? " is gone" : " is closing"));
      }
      Pipe& p = *it->second;
      if (HasRoom(p) || HasReserve(p, msg, reserve_bytes)) {
        Known(p).messages_out++;
        stats_.Add(kMessagesOut);
        stats_.Add(kBytesOut, WireSize(msg));
        if (Post(p, std::move(msg))) target = it->second;
        break;
      }
      MSOCK_RETURN_IF_ERROR(WaitOn(lock, &send_cv_, &send_waiters_, deadline,
                                   &waited, "the destination pipe is full"));
    }
  }
  if (target) target->Wake();
  return absl::OkStatus();
}

size_t SocketCore::SendToEach(absl::Span<const uint32_t> pipes,
                              const Message& msg, std::vector<uint32_t>* full) {
  if (spec_.send == SendMode::kNone || pipes.empty()) return 0;
  WakeList wake;
  size_t queued = 0;
  {
    MutexLock lock(mu_);
    if (closed_) return 0;
    for (uint32_t id : pipes) {
      auto it = pipes_.find(id);
      if (it == pipes_.end() || Known(*it->second).lingering) {
        stats_.Add(kDropped);
        continue;
      }
      Pipe& p = *it->second;
      CorePipe& s = Known(p);
      if (!HasRoom(p)) {
        s.dropped++;
        stats_.Add(kDropped);
        if (full != nullptr) full->push_back(id);
        continue;
      }
      s.messages_out++;
      ++queued;
      if (Post(p, msg.Clone())) wake.push_back(it->second);
    }
    stats_.Add(kMessagesOut, queued);
    stats_.Add(kBytesOut, queued * WireSize(msg));
  }
  WakeAll(wake);
  return queued;
}

size_t SocketCore::SendManyTo(uint32_t pipe, absl::Span<Message> msgs,
                              bool* gone) {
  *gone = false;
  if (spec_.send == SendMode::kNone || msgs.empty()) return 0;
  std::shared_ptr<Pipe> target;
  size_t queued = 0;
  {
    MutexLock lock(mu_);
    auto it = closed_ ? pipes_.end() : pipes_.find(pipe);
    if (it == pipes_.end() || Known(*it->second).lingering) {
      if (!closed_) stats_.Add(kDropped, msgs.size());
      *gone = true;
      return 0;
    }
    Pipe& p = *it->second;
    size_t bytes = 0;
    for (Message& m : msgs) {
      if (!HasRoom(p)) break;  // the rest stay with the caller
      bytes += WireSize(m);
      ++queued;
      if (Post(p, std::move(m))) target = it->second;
    }
    Known(p).messages_out += queued;
    stats_.Add(kMessagesOut, queued);
    stats_.Add(kBytesOut, bytes);
  }
  if (target) target->Wake();  // once: the pipe takes them in one write
  return queued;
}

size_t SocketCore::TakeSend(Pipe* pipe, std::vector<Message>* out,
                            size_t max_bytes, bool* drained) {
  bool close = false;
  size_t n = 0;
  {
    MutexLock lock(mu_);
    CorePipe& s = State(*pipe);
    size_t bytes = 0;
    while (!s.sendq.empty() && (n == 0 || bytes < max_bytes)) {
      size_t b = WireSize(s.sendq.front());
      bytes += b;
      s.sendq_bytes -= b;
      out->push_back(std::move(s.sendq.front()));
      s.sendq.pop_front();
      ++n;
    }
    if (s.lingering) {
      // A pipe calls TakeSend only once what it took before is written (or
      // handed to the peer): an empty answer means all is out. Until then the
      // wake stays pending (no `drained`), so the pipe comes back.
      if (n == 0) {
        s.wake_pending = false;
        close = !std::exchange(s.close_posted, true);
        if (drained != nullptr) *drained = true;
        if (drain_waiters_ > 0) drain_cv_.notify_all();
      }
    } else if (n == 0 || (drained != nullptr && s.sendq.empty())) {
      s.wake_pending = false;
      if (drained != nullptr) *drained = true;
      if (drain_waiters_ > 0) drain_cv_.notify_all();
    }
    if (n > 0 && send_waiters_ > 0) send_cv_.notify_all();
  }
  // The caller may hold its own pipe lock: the close runs on the loop.
  if (close) {
    ctx_.Post([p = pipe->shared_from_this()] { p->Close(absl::OkStatus()); });
  }
  return n;
}

}  // namespace msock::internal
