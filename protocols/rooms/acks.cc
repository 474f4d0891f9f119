// AckTable: pending acknowledgements, bounded per peer; blocking waiters sleep
// on their own condition variable, async outcomes are handed back to the
// caller to run outside the lock.
#include "protocols/rooms/acks.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "base/sync.h"

namespace msock::internal::rooms {

absl::StatusOr<uint32_t> AckTable::Add(uint32_t peer, AckCallback cb) {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return absl::CancelledError("rooms: closed");
  auto& ids = by_peer_[peer];
  if (ids.size() >= limit_) {
    return absl::ResourceExhaustedError(
        absl::StrCat("rooms: ", limit_, " acks already pending"));
  }
  uint32_t id;
  do {
    id = next_id_++;
  } while (id == 0 || slots_.contains(id));
  auto slot = std::make_unique<Slot>();
  slot->peer = peer;
  slot->cb = std::move(cb);
  slots_.emplace(id, std::move(slot));
  ids.insert(id);
  return id;
}

bool AckTable::SetTimer(uint32_t id, uint64_t timer) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = slots_.find(id);
  if (it == slots_.end() || it->second->done) return false;
  it->second->timer = timer;
  return true;
}

void AckTable::Unlink(uint32_t id, uint32_t peer) {
  auto it = by_peer_.find(peer);
  if (it == by_peer_.end()) return;
  it->second.erase(id);
  if (it->second.empty()) by_peer_.erase(it);
}

absl::StatusOr<std::string> AckTable::Wait(uint32_t id, absl::Time deadline) {
  Lock lock(mu_);
  auto it = slots_.find(id);
  if (it == slots_.end()) return absl::InternalError("rooms: unknown ack id");
  Slot& slot = *it->second;
  while (!slot.done) {
    if (WaitUntil(slot.cv, lock, deadline) && !slot.done) {
      Unlink(id, slot.peer);
      slots_.erase(id);
      ++timed_out_;
      return absl::DeadlineExceededError("rooms: no ack before the deadline");
    }
  }
  absl::StatusOr<std::string> result = std::move(slot.result);
  slots_.erase(id);
  return result;
}

uint64_t AckTable::Abandon(uint32_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = slots_.find(id);
  if (it == slots_.end()) return 0;
  const uint64_t timer = it->second->timer;
  Unlink(id, it->second->peer);
  slots_.erase(it);
  return timer;
}

std::optional<AckTable::Done> AckTable::Finish(
    uint32_t id, Slot& slot, absl::StatusOr<std::string> result) {
  Unlink(id, slot.peer);
  if (!slot.cb) {
    slot.done = true;
    slot.result = std::move(result);
    slot.cv.notify_one();
    return std::nullopt;  // the waiter removes the slot
  }
  Done d{std::move(slot.cb), std::move(result), slot.timer, slot.peer};
  slots_.erase(id);
  return d;
}

std::optional<AckTable::Done> AckTable::Complete(
    uint32_t peer, uint32_t id, absl::StatusOr<std::string> result) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = slots_.find(id);
  if (it == slots_.end() || it->second->done || it->second->peer != peer) {
    ++late_;
    return std::nullopt;
  }
  return Finish(id, *it->second, std::move(result));
}

std::vector<AckTable::Done> AckTable::FailPeer(uint32_t peer,
                                               const absl::Status& why) {
  std::vector<Done> out;
  std::lock_guard<std::mutex> lock(mu_);
  auto p = by_peer_.find(peer);
  if (p == by_peer_.end()) return out;
  const absl::flat_hash_set<uint32_t> ids = p->second;
  for (uint32_t id : ids) {
    auto it = slots_.find(id);
    if (it == slots_.end()) continue;
    if (auto d = Finish(id, *it->second, why)) out.push_back(std::move(*d));
  }
  return out;
}

std::optional<AckTable::Done> AckTable::Expire(uint32_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = slots_.find(id);
  if (it == slots_.end() || it->second->done || !it->second->cb) {
    return std::nullopt;
  }
  ++timed_out_;
  it->second->timer = 0;  // it is this timer firing
  return Finish(
      id, *it->second,
      absl::DeadlineExceededError("rooms: no ack before the deadline"));
}

std::vector<AckTable::Done> AckTable::CancelAll() {
  std::vector<Done> out;
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = true;
  std::vector<uint32_t> ids;
  for (auto& [id, slot] : slots_) {
    if (!slot->done) ids.push_back(id);
  }
  for (uint32_t id : ids) {
    auto it = slots_.find(id);
    if (auto d = Finish(id, *it->second,
                        absl::CancelledError("rooms: closed while waiting"))) {
      out.push_back(std::move(*d));
    }
  }
  return out;
}

uint64_t AckTable::late() const {
  std::lock_guard<std::mutex> lock(mu_);
  return late_;
}

uint64_t AckTable::timed_out() const {
  std::lock_guard<std::mutex> lock(mu_);
  return timed_out_;
}

}  // namespace msock::internal::rooms
