// AckTable: pending acknowledgements on a PendingTable (ids 1, 2, ...,
// bounded per peer); blocking waiters sleep in the table's Wait, async
// outcomes are handed back to the caller to run outside the lock.
#include "protocols/rooms/acks.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace msock::internal::rooms {

absl::StatusOr<uint32_t> AckTable::Add(uint32_t peer, AckCallback cb) {
  Slot slot;
  slot.peer = peer;
  slot.cb = std::move(cb);
  absl::StatusOr<uint32_t> id = table_.Add(peer, std::move(slot));
  if (absl::IsFailedPrecondition(id.status())) {
    return absl::CancelledError("rooms: closed");
  }
  if (absl::IsResourceExhausted(id.status())) {
    return absl::ResourceExhaustedError(
        absl::StrCat("rooms: ", limit_, " acks already pending"));
  }
  return id;
}

bool AckTable::SetTimer(uint32_t id, uint64_t timer) {
  bool set = false;
  table_.Update(id, [&](Slot& slot) {
    // A finished async slot is gone; a finished blocking one has no timer.
    set = slot.cb != nullptr;
    if (set) slot.timer = timer;
    return Visit::kSkip;
  });
  return set;
}

absl::StatusOr<std::string> AckTable::Wait(uint32_t id, absl::Time deadline) {
  const WaitResult w = table_.Wait(id, deadline);
  if (w == WaitResult::kGone) {
    return absl::InternalError("rooms: unknown ack id");
  }
  // Removed whatever woke us: an ack that came just after the deadline still
  // counts.
  std::optional<Slot> slot = table_.Remove(id);
  if (slot.has_value() && slot->done) return std::move(slot->result);
  if (w == WaitResult::kClosed) {
    return absl::CancelledError("rooms: closed while waiting");
  }
  ++timed_out_;
  return absl::DeadlineExceededError("rooms: no ack before the deadline");
}

bool AckTable::Settled(uint32_t id) const {
  return table_.Settled(id, [](const Slot&) { return false; });
}

uint64_t AckTable::Abandon(uint32_t id) {
  std::optional<Slot> slot = table_.Remove(id);
  return slot.has_value() ? slot->timer : 0;
}

Visit AckTable::Finish(Slot& slot, absl::StatusOr<std::string> result,
                       std::optional<Done>& out) {
  if (!slot.cb) {
    slot.done = true;
    slot.result = std::move(result);
    return Visit::kDone;  // its waiter removes it
  }
  out = Done{std::move(slot.cb), std::move(result), slot.timer, slot.peer};
  return Visit::kErase;
}

std::optional<AckTable::Done> AckTable::Complete(
    uint32_t peer, uint32_t id, absl::StatusOr<std::string> result) {
  std::optional<Done> out;
  // Late, already finished or from another peer: counted in late().
  table_.MatchFrom(peer, id, [&](Slot& slot) {
    return Finish(slot, std::move(result), out);
  });
  return out;
}

std::vector<AckTable::Done> AckTable::FailPeer(uint32_t peer,
                                               const absl::Status& why) {
  std::vector<Done> out;
  table_.ForPeer(peer, [&](uint32_t, Slot& slot) {
    std::optional<Done> d;
    const Visit v = Finish(slot, why, d);
    if (d) out.push_back(std::move(*d));
    return v;
  });
  return out;
}

std::optional<AckTable::Done> AckTable::Expire(uint32_t id) {
  std::optional<Done> out;
  table_.Update(id, [&](Slot& slot) {
    if (!slot.cb) return Visit::kSkip;  // blocking: its Wait has the deadline
    ++timed_out_;
    slot.timer = 0;  // it is this timer firing
    return Finish(
        slot, absl::DeadlineExceededError("rooms: no ack before the deadline"),
        out);
  });
  return out;
}

std::vector<AckTable::Done> AckTable::CancelAll() {
  std::vector<Done> out;
  table_.Close([&](uint32_t, Slot& slot) {
    std::optional<Done> d;
    const Visit v =
        Finish(slot, absl::CancelledError("rooms: closed while waiting"), d);
    if (d) out.push_back(std::move(*d));
    return v;
  });
  return out;
}

uint64_t AckTable::late() const { return table_.late(); }

uint64_t AckTable::timed_out() const { return timed_out_; }

}  // namespace msock::internal::rooms
