// req (SP reqrep, 0x30): sends requests with a 31-bit id word (high bit set)
// and matches the replies to waiting Request calls by that id, in the socket's
// receive filter. Unanswered requests are re-sent (same bytes, same id) every
// resend interval until their deadline, and at once when the pipe that carried
// them closes.
#include <algorithm>
#include <deque>
#include <mutex>
#include <optional>
#include <utility>

#include "absl/time/clock.h"
#include "msock/protocols/reqrep.h"
#include "protocols/pending_table.h"
#include "socket/socket_access.h"

namespace msock {

namespace {
// Pipes recently closed, remembered so that a request sent on one just before
// it closed is still resent.
constexpr size_t kRecentlyClosed = 32;
}  // namespace

using internal::Visit;
using internal::WaitResult;

// What the Request calls and the receive filter share. Lock order: the
// socket's lock (held while the filter and the pipe hook run), then mu, then
// the table's lock.
struct Req::State {
  // A request in flight (the table's peer is the pipe it last went out on).
  struct Slot {
    std::optional<Message> reply;
    bool pipe_closed = false;  // that pipe closed: resend now
  };

  internal::PendingTable<Slot> table{internal::IdSpace::kSp};
  std::mutex mu;
  absl::Duration resend = absl::Seconds(60);  // guarded by mu
  std::deque<uint32_t> recently_closed;       // guarded by mu

  // Records that request `id` went out on `pipe`.
  void SentOn(uint32_t id, uint32_t pipe) {
    std::lock_guard<std::mutex> lock(mu);
    const bool gone = std::find(recently_closed.begin(), recently_closed.end(),
                                pipe) != recently_closed.end();
    table.SetPeer(id, pipe);
    table.Update(id, [gone](Slot& s) {
      s.pipe_closed = gone;
      return Visit::kKeep;
    });
  }
  void PipeClosed(uint32_t pipe) {
    std::lock_guard<std::mutex> lock(mu);
    recently_closed.push_back(pipe);
    if (recently_closed.size() > kRecentlyClosed) recently_closed.pop_front();
    // Only requests still waiting for their reply (done ones are not visited).
    table.ForPeer(pipe, [](uint32_t, Slot& s) {
      s.pipe_closed = true;
      return Visit::kKeep;
    });
  }
};

Req::Req(Context& ctx)
    : Role(protocols::kReq, ctx), state_(std::make_shared<State>()) {
  // Captures the state, not `this`: the socket may still deliver while Req is
  // destroyed.
  std::shared_ptr<State> st = state_;
  internal::SocketAccess::SetRecvFilter(socket_, [st](Message& m, int /*ttl*/) {
    if (m.size() < 4) return internal::RecvVerdict::kClosePipe;
    const uint32_t id = m.PopFrontWord();
    const bool taken = st->table.Match(id, [&m](State::Slot& s) {
      s.reply.emplace(std::move(m));
      return Visit::kDone;
    });
    // Late, duplicate or unsolicited replies are dropped.
    return taken ? internal::RecvVerdict::kConsumed
                 : internal::RecvVerdict::kDrop;
  });
  internal::SocketAccess::SetProtocolPipeHook(
      socket_, [st](const PipeEvent& ev) {
        if (ev.type == PipeEventType::kRemoved) st->PipeClosed(ev.pipe_id);
      });
}

Req::~Req() { Close(); }

void Req::Close() {
  state_->table.Close();
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

uint64_t Req::replies_matched() const { return state_->table.matched(); }

absl::StatusOr<Message> Req::Request(Message& msg, absl::Time deadline) {
  State& st = *state_;
  absl::Duration resend;
  {
    std::lock_guard<std::mutex> lock(st.mu);
    resend = st.resend;
  }
  // Registered before sending: the reply may come before Send returns.
  absl::StatusOr<uint32_t> added = st.table.Add(0, State::Slot{});
  if (!added.ok()) return absl::FailedPreconditionError("req socket: closed");
  const uint32_t id = *added;

  msg.header().insert(msg.header().begin(), id);
  Message copy = msg.Clone();  // for resending; shares the body
  uint32_t pipe = 0;
  absl::Status sent =
      internal::SocketAccess::Send(socket_, msg, deadline, &pipe);
  if (!sent.ok()) {
    st.table.Remove(id);
    msg.header().erase(msg.header().begin());
    return sent;
  }
  // From here on the caller's message lives in `copy`; give it back on failure.
  auto fail = [&](absl::Status why) {
    st.table.Remove(id);
    msg = std::move(copy);
    msg.header().erase(msg.header().begin());
    return why;
  };
  auto closed = [&] {
    return fail(
        absl::CancelledError("req socket: closed while waiting for the reply"));
  };
  auto expired = [&] {
    return fail(absl::DeadlineExceededError(
        "req socket: no reply before the deadline"));
  };

  st.SentOn(id, pipe);
  absl::Time next_resend = resend == absl::InfiniteDuration()
                               ? absl::InfiniteFuture()
                               : absl::Now() + resend;
  const auto settled = [](const State::Slot& s) { return s.pipe_closed; };
  for (;;) {
    const absl::Time until = std::min(deadline, next_resend);
    // Reads the reply on this thread when it can (one wake-up, not two).
    internal::SocketAccess::AwaitOnCaller(
        socket_, until, [&] { return st.table.Settled(id, settled); });
    const WaitResult w = st.table.Wait(id, until, settled);
    if (w == WaitResult::kClosed || w == WaitResult::kGone) return closed();
    if (w == WaitResult::kReady) {
      bool answered = false;
      st.table.Update(id, [&answered](State::Slot& s) {
        answered = s.reply.has_value();
        if (!answered) s.pipe_closed = false;
        return Visit::kKeep;
      });
      if (answered) {
        std::optional<State::Slot> done = st.table.Remove(id);
        return std::move(*done->reply);
      }
      if (st.table.closed()) return closed();
      if (absl::Now() >= deadline) return expired();
      // The rep that had the request is gone: send it to another, waiting for
      // one until the deadline (or the next interval, whichever is first).
      Message again = copy.Clone();
      absl::Status s = internal::SocketAccess::Send(
          socket_, again, std::min(deadline, next_resend), &pipe);
      if (absl::IsCancelled(s) || absl::IsFailedPrecondition(s)) {
        return closed();
      }
      if (s.ok()) st.SentOn(id, pipe);
      next_resend = absl::Now() + resend;
      continue;
    }
    const absl::Time now = absl::Now();
    if (now >= deadline) return expired();
    // The resend interval passed. Best effort: if no pipe has room now, the
    // next interval tries again.
    Message again = copy.Clone();
    absl::Status s = internal::SocketAccess::Send(socket_, again,
                                                  absl::InfinitePast(), &pipe);
    if (s.ok()) st.SentOn(id, pipe);
    next_resend = now + resend;
  }
}

}  // namespace msock
