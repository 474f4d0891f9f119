// req (SP reqrep, 0x30): sends requests with a 31-bit id word (high bit set)
// and matches the replies to waiting Request calls by that id, in the socket's
// receive filter. Unanswered requests are re-sent (same bytes, same id) every
// resend interval until their deadline, and at once when the pipe that carried
// them closes.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <random>
#include <unordered_map>
#include <utility>

#include "absl/time/clock.h"
#include "msock/protocols/reqrep.h"
#include "socket/socket_access.h"

namespace msock {

namespace {
constexpr uint32_t kLastWord = 0x80000000u;
// Pipes recently closed, remembered so that a request sent on one just before
// it closed is still resent.
constexpr size_t kRecentlyClosed = 32;
}  // namespace

// The table of outstanding requests, shared by the Request calls and the
// receive filter. Lock order: the socket's lock (held while the filter runs),
// then mu.
struct Req::State {
  struct Slot {
    std::condition_variable cv;
    std::optional<Message> reply;
    uint32_t pipe = 0;         // the pipe the request last went out on
    bool pipe_closed = false;  // that pipe closed: resend now
  };

  std::mutex mu;
  // Request id -> the slot of the Request call waiting for it.
  std::unordered_map<uint32_t, Slot*> slots;
  uint32_t next_id = 0;
  absl::Duration resend = absl::Seconds(60);
  uint64_t matched = 0;
  bool closed = false;
  std::deque<uint32_t> recently_closed;

  // Records that the request of `slot` went out on `pipe`. Called with mu held.
  void SentOn(Slot& slot, uint32_t pipe) {
    slot.pipe = pipe;
    slot.pipe_closed = std::find(recently_closed.begin(), recently_closed.end(),
                                 pipe) != recently_closed.end();
  }
  void PipeClosed(uint32_t pipe) {
    std::lock_guard<std::mutex> lock(mu);
    recently_closed.push_back(pipe);
    if (recently_closed.size() > kRecentlyClosed) recently_closed.pop_front();
    for (auto& [id, slot] : slots) {
      if (slot->pipe == pipe && !slot->reply.has_value()) {
        slot->pipe_closed = true;
        slot->cv.notify_one();
      }
    }
  }
};

Req::Req(Context& ctx)
    : Role(protocols::kReq, ctx), state_(std::make_shared<State>()) {
  std::random_device rd;
  state_->next_id = rd();
  // Captures the state, not `this`: the socket may still deliver while Req is
  // destroyed.
  std::shared_ptr<State> st = state_;
  internal::SocketAccess::SetRecvFilter(socket_, [st](Message& m, int /*ttl*/) {
    if (m.size() < 4) return internal::RecvVerdict::kClosePipe;
    const uint32_t id = m.PopFrontWord();
    std::lock_guard<std::mutex> lock(st->mu);
    auto it = st->slots.find(id);
    if (it == st->slots.end() || it->second->reply.has_value())
      return internal::RecvVerdict::kDrop;
    it->second->reply.emplace(std::move(m));
    ++st->matched;
    it->second->cv.notify_one();
    return internal::RecvVerdict::kConsumed;  // handed to its Request
  });
  internal::SocketAccess::SetProtocolPipeHook(
      socket_, [st](const PipeEvent& ev) {
        if (ev.type == PipeEventType::kRemoved) st->PipeClosed(ev.pipe_id);
      });
}

Req::~Req() { Close(); }

void Req::Close() {
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->closed = true;
    for (auto& [id, slot] : state_->slots) slot->cv.notify_one();
  }
  socket_.Close();
}

void Req::SetResendInterval(absl::Duration interval) {
  std::lock_guard<std::mutex> lock(state_->mu);
  state_->resend = interval;
}

absl::Duration Req::resend_interval() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->resend;
}

uint64_t Req::replies_matched() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->matched;
}

absl::StatusOr<Message> Req::Request(Message& msg, absl::Time deadline) {
  State& st = *state_;
  State::Slot slot;
  uint32_t id;
  absl::Duration resend;
  {
    std::lock_guard<std::mutex> lock(st.mu);
    if (st.closed) return absl::FailedPreconditionError("req socket: closed");
    do {
      id = kLastWord | (st.next_id++ & ~kLastWord);
    } while (st.slots.contains(id));
    st.slots.emplace(id, &slot);
    resend = st.resend;
  }
  // Registered before sending: the reply may come before Send returns.
  auto forget = [&] {
    std::lock_guard<std::mutex> lock(st.mu);
    st.slots.erase(id);
  };

  msg.header().insert(msg.header().begin(), id);
  Message copy = msg.Clone();  // for resending; shares the body
  uint32_t pipe = 0;
  absl::Status sent =
      internal::SocketAccess::Send(socket_, msg, deadline, &pipe);
  if (!sent.ok()) {
    forget();
    msg.header().erase(msg.header().begin());
    return sent;
  }
  // From here on the caller's message lives in `copy`; give it back on failure.
  auto give_back = [&] {
    msg = std::move(copy);
    msg.header().erase(msg.header().begin());
  };

  std::unique_lock<std::mutex> lock(st.mu);
  st.SentOn(slot, pipe);
  absl::Time next_resend = resend == absl::InfiniteDuration()
                               ? absl::InfiniteFuture()
                               : absl::Now() + resend;
  for (;;) {
    if (slot.reply.has_value()) {
      Message reply = std::move(*slot.reply);
      st.slots.erase(id);
      return reply;
    }
    if (st.closed) {
      st.slots.erase(id);
      lock.unlock();
      give_back();
      return absl::CancelledError(
          "req socket: closed while waiting for the reply");
    }
    const absl::Time now = absl::Now();
    if (now >= deadline) {
      st.slots.erase(id);
      lock.unlock();
      give_back();
      return absl::DeadlineExceededError(
          "req socket: no reply before the deadline");
    }
    if (slot.pipe_closed) {
      // The rep that had the request is gone: send it to another, waiting for
      // one until the deadline (or the next interval, whichever is first).
      slot.pipe_closed = false;
      lock.unlock();
      Message again = copy.Clone();
      absl::Status s = internal::SocketAccess::Send(
          socket_, again, std::min(deadline, next_resend), &pipe);
      if (absl::IsCancelled(s) || absl::IsFailedPrecondition(s)) {
        lock.lock();
        st.slots.erase(id);
        lock.unlock();
        give_back();
        return absl::CancelledError(
            "req socket: closed while waiting for the reply");
      }
      lock.lock();
      if (s.ok()) st.SentOn(slot, pipe);
      next_resend = absl::Now() + resend;
      continue;
    }
    if (now >= next_resend) {
      lock.unlock();
      Message again = copy.Clone();
      // Best effort: if no pipe has room now, the next interval tries again.
      absl::Status s = internal::SocketAccess::Send(
          socket_, again, absl::InfinitePast(), &pipe);
      lock.lock();
      if (s.ok()) st.SentOn(slot, pipe);
      next_resend = now + resend;
      continue;
    }
    // Wait in bounded steps so that far-off (or infinite) times never overflow.
    const absl::Duration wait =
        std::min({deadline - now, next_resend - now, absl::Hours(1)});
    slot.cv.wait_for(lock, absl::ToChronoNanoseconds(wait));
  }
}

}  // namespace msock
