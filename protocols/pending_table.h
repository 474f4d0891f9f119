// PendingTable: the requests a socket has sent and waits for answers to, keyed
// by the id the request carried. One table serves req, surveyor and the rooms
// acks (and is meant for anything else that matches answers by id): it
// allocates the ids, maps each to its waiting slot, matches incoming answers,
// lets a caller wait with a deadline and wakes every waiter on close.
//
// Contract
//   Threads: every member is thread-safe. Typically the calling thread Adds and
//     Waits, the receive filter (socket's I/O side) Matches, pipe hooks visit
//     ForPeer, and Close comes from any thread.
//   Ownership: the table owns each entry's value `T` from Add until Remove (or
//     until a visitor returns Visit::kErase). Callers never hold a pointer into
//     the table: they act on a value only inside a visitor, under the lock.
//     An entry someone Waits on is removed only by that waiter (Remove);
//     kErase is for entries nobody waits on (async ones).
//   Lock order: the table's lock is a leaf. It may be taken while the caller
//     holds the socket's lock (receive filters, pipe hooks) or its own protocol
//     lock, never the other way round. Visitors run under it, so they must not
//     block, call user code, or take any lock but another leaf; hand work out
//     (a callback to run, a message to send) and do it after the call returns.
//   Waking: Wait sleeps on its entry's own condition variable; anything that
//     changes an entry (Match, Update, ForPeer, Close) wakes that entry's
//     waiter, and Close wakes all of them. Match, Update and ForPeer wake
//     after releasing the table's lock, and through DeferWakes
//     (socket/defer_wakes.h): a Match inside a receive filter wakes its
//     waiter only once the socket's lock is released too.
//
// Example (one answer per request, as req does):
//   PendingTable<std::optional<Message>> table(IdSpace::kSp);
//   uint32_t id = table.Add(/*peer=*/0, std::nullopt).value();
//   ... send the request carrying id ...
//   // In the receive filter, for an answer `m` carrying `id`:
//   //   table.Match(id, [&](std::optional<Message>& slot) {
//   //     slot = std::move(m);
//   //     return Visit::kDone;
//   //   });
//   if (table.Wait(id, deadline) == WaitResult::kReady) {
//     Message reply = std::move(*table.Remove(id).value());
//   }
//
// Users: protocols/req.cc, protocols/surveyor.cc, protocols/rooms/acks.cc.
#ifndef MSOCK_PROTOCOLS_PENDING_TABLE_H_
#define MSOCK_PROTOCOLS_PENDING_TABLE_H_

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "socket/defer_wakes.h"

namespace msock::internal {

// How ids are chosen. Ids are unique among a table's pending entries; an id
// is reused only after the counter wraps and only if its entry is gone.
enum class IdSpace {
  // SP request and survey ids: 0x80000000 | a 31-bit counter that starts at a
  // random value (NNG and nanomsg do the same; the high bit marks the last
  // word of the backtrace, see protocols/backtrace.h).
  kSp,
  // Ids of msock's own protocols (rooms acks): 1, 2, ... 0xffffffff, 1, ...
  // (0 means "no answer wanted" on their wire).
  kNonZero,
};

// The id counter of a table. Not thread-safe: the table's lock guards it.
class IdAllocator {
 public:
  // kSp starts at a random value, kNonZero at 1.
  explicit IdAllocator(IdSpace space);

  // The next candidate id (the caller skips ones still in use).
  uint32_t Next();
  // Next() goes on from the id `next` maps to in the space.
  void set_next(uint32_t next) { next_ = next; }

 private:
  IdSpace space_;
  uint32_t next_;
};

// What a visitor did to an entry.
enum class Visit {
  kSkip,   // not taken, or nothing a waiter needs to see: a Match counts the
           // answer as late; nobody is woken
  kKeep,   // changed it; it stays pending (more answers may come)
  kDone,   // answered: no more matches, no longer counted against its peer;
           // it stays for its waiter to Remove
  kErase,  // finished and removed now (the visitor moved out what it needs);
           // only for entries nobody Waits on (async ones)
};

enum class WaitResult {
  kReady,     // the entry is done, or the caller's predicate holds
  kTimedOut,  // `until` passed
  kClosed,    // the table was closed (and the entry is not ready)
  kGone,      // there is no such entry (erased, or never added)
};

template <typename T>
class PendingTable {
 public:
  static constexpr size_t kNoLimit = std::numeric_limits<size_t>::max();

  // `per_peer_limit` bounds the not-yet-done entries of one peer (Add).
  explicit PendingTable(IdSpace space, size_t per_peer_limit = kNoLimit)
      : ids_(space), limit_(per_peer_limit) {}
  PendingTable(const PendingTable&) = delete;
  PendingTable& operator=(const PendingTable&) = delete;

  // Registers a request whose answer is expected from `peer` (0: none yet,
  // see SetPeer) holding `value`, and returns its new id. Register before
  // sending: the answer may arrive before the send returns. Errors:
  // kFailedPrecondition once closed, kResourceExhausted when `peer` already
  // has per_peer_limit entries pending. Callers reword them for their users.
  absl::StatusOr<uint32_t> Add(uint32_t peer, T value) {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return absl::FailedPreconditionError("closed");
    if (peer != 0 && limit_ != kNoLimit) {
      auto p = by_peer_.find(peer);
      if (p != by_peer_.end() && p->second.size() >= limit_) {
        return absl::ResourceExhaustedError("too many pending");
      }
    }
    uint32_t id;
    do {  // terminates: a table never holds anywhere near 2^31 entries
      id = ids_.Next();
    } while (entries_.contains(id));
    auto e = std::make_shared<Entry>(std::move(value));
    e->peer = peer;
    entries_.emplace(id, std::move(e));
    if (peer != 0) by_peer_[peer].insert(id);
    return id;
  }

  // An answer to `id` arrived. If `id` is pending (not done), runs
  // visit(T&) -> Visit under the lock and wakes its waiter. Returns true if
  // the answer was taken; false (counted in late()) if `id` is unknown,
  // already done, or the visitor returned kSkip.
  template <typename Fn>
  bool Match(uint32_t id, Fn&& visit) {
    return MatchFrom(0, id, std::forward<Fn>(visit));
  }
  // Same, but only an answer from the entry's own peer counts (another
  // peer's is late): for protocols whose ids are unique per connection.
  template <typename Fn>
  bool MatchFrom(uint32_t from, uint32_t id, Fn&& visit) {
    Woken woken;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = entries_.find(id);
      if (it == entries_.end() || it->second->done ||
          (from != 0 && it->second->peer != from) ||
          Apply(it, visit(it->second->value), &woken) == Visit::kSkip) {
        ++late_;
        return false;
      }
      ++matched_;
    }
    Wake(woken);
    return true;
  }

  // Runs visit(T&) -> Visit on entry `id` (done or not) under the lock and
  // wakes its waiter. False if there is no such entry.
  template <typename Fn>
  bool Update(uint32_t id, Fn&& visit) {
    Woken woken;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = entries_.find(id);
      if (it == entries_.end()) return false;
      Apply(it, visit(it->second->value), &woken);
    }
    Wake(woken);
    return true;
  }

  // Records that the request `id` went out to `peer` (ForPeer then finds it).
  void SetPeer(uint32_t id, uint32_t peer) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(id);
    if (it == entries_.end()) return;
    Entry& e = *it->second;
    if (!e.done) {
      Unlink(id, e.peer);
      if (peer != 0) by_peer_[peer].insert(id);
    }
    e.peer = peer;
  }

  // Runs visit(id, T&) -> Visit on every pending (not done) entry of `peer`,
  // under the lock, waking each: e.g. to fail them when the peer is gone.
  template <typename Fn>
  void ForPeer(uint32_t peer, Fn&& visit) {
    Woken woken;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto p = by_peer_.find(peer);
      if (p == by_peer_.end()) return;
      const absl::flat_hash_set<uint32_t> ids = p->second;  // Apply unlinks
      for (uint32_t id : ids) {
        auto it = entries_.find(id);
        if (it != entries_.end()) {
          Apply(it, visit(id, it->second->value), &woken);
        }
      }
    }
    Wake(woken);
  }

  // Blocks until entry `id` is done or ready(T&) holds (checked under the
  // lock, on every wake), `until` passes, or the table closes, in that order
  // of precedence. The entry stays: the caller Removes it when finished.
  WaitResult Wait(uint32_t id, absl::Time until) {
    return Wait(id, until, [](const T&) { return false; });
  }
  template <typename Pred>
  WaitResult Wait(uint32_t id, absl::Time until, Pred&& ready) {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      auto it = entries_.find(id);
      if (it == entries_.end()) return WaitResult::kGone;
      Entry& e = *it->second;
      if (e.done || ready(e.value)) return WaitResult::kReady;
      if (closed_) return WaitResult::kClosed;
      const absl::Time now = absl::Now();
      if (now >= until) return WaitResult::kTimedOut;
      // Bounded steps: a far-off (or infinite) time never overflows the clock.
      const absl::Duration step = std::min(until - now, absl::Hours(1));
      e.cv.wait_for(lock, absl::ToChronoNanoseconds(step));
    }
  }

  // True when Wait(id, ..., ready) would return at once for a reason other
  // than time: the entry is done or ready, gone, or the table closed.
  template <typename Pred>
  bool Settled(uint32_t id, Pred&& ready) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(id);
    return it == entries_.end() || it->second->done ||
           ready(it->second->value) || closed_;
  }

  // Forgets entry `id` and returns its value (nullopt if there is none). Only
  // its own waiter (or anyone, for an entry nobody Waits on) may remove it.
  std::optional<T> Remove(uint32_t id) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(id);
    if (it == entries_.end()) return std::nullopt;
    std::optional<T> value(std::move(it->second->value));
    if (!it->second->done) Unlink(id, it->second->peer);
    entries_.erase(it);
    return value;
  }

  // Closes the table: Add fails from now on, and every waiter wakes (Wait
  // returns kClosed unless its entry is ready). Idempotent.
  void Close() {
    Close([](uint32_t, T&) { return Visit::kSkip; });
  }
  // Same, first running visit(id, T&) -> Visit on every pending entry (e.g.
  // to finish it with kCancelled).
  template <typename Fn>
  void Close(Fn&& visit) {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    std::vector<uint32_t> ids;
    ids.reserve(entries_.size());
    for (auto& [id, e] : entries_) {
      if (!e->done) ids.push_back(id);
    }
    for (uint32_t id : ids) {
      auto it = entries_.find(id);
      Apply(it, visit(id, it->second->value), nullptr);  // all woken below
    }
    for (auto& [id, e] : entries_) e->cv.notify_all();
  }

  bool closed() const {
    std::lock_guard<std::mutex> lock(mu_);
    return closed_;
  }
  size_t size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return entries_.size();
  }
  // Answers taken by Match / MatchFrom, and answers refused as late.
  uint64_t matched() const {
    std::lock_guard<std::mutex> lock(mu_);
    return matched_;
  }
  uint64_t late() const {
    std::lock_guard<std::mutex> lock(mu_);
    return late_;
  }

  // Sets the id counter: tests of wrap-around, or restoring a counter.
  void SetNextId(uint32_t next) {
    std::lock_guard<std::mutex> lock(mu_);
    ids_.set_next(next);
  }

 private:
  struct Entry {
    explicit Entry(T v) : value(std::move(v)) {}
    T value;
    uint32_t peer = 0;
    bool done = false;
    std::condition_variable cv;
  };
  // Shared so that a wake run after unlocking outlives a waiter's Remove.
  using Map = absl::flat_hash_map<uint32_t, std::shared_ptr<Entry>>;
  // Condition variables to wake once mu_ is released (aliases of entries).
  using Woken =
      absl::InlinedVector<std::shared_ptr<std::condition_variable>, 1>;

  static void Wake(Woken& woken) {
    for (auto& cv : woken) DeferWakes::NotifyAll(std::move(cv));
  }

  // Applies a visitor's verdict to `it` (mu_ held) and notes its waiter in
  // `woken` (unless null: the caller wakes everyone itself).
  Visit Apply(typename Map::iterator it, Visit v, Woken* woken) {
    Entry& e = *it->second;
    switch (v) {
      case Visit::kSkip:
        return v;
      case Visit::kKeep:
        break;
      case Visit::kDone:
        Unlink(it->first, e.peer);
        e.done = true;
        break;
      case Visit::kErase:
        Unlink(it->first, e.peer);
        entries_.erase(it);  // nobody waits on it (see Visit::kErase)
        return v;
    }
    if (woken != nullptr) woken->emplace_back(it->second, &e.cv);
    return v;
  }

  void Unlink(uint32_t id, uint32_t peer) {
    if (peer == 0) return;
    auto p = by_peer_.find(peer);
    if (p == by_peer_.end()) return;
    p->second.erase(id);
    if (p->second.empty()) by_peer_.erase(p);
  }

  mutable std::mutex mu_;  // guards every member below but limit_
  IdAllocator ids_;
  const size_t limit_;
  bool closed_ = false;
  Map entries_;
  // The not-done entries of each peer (the per-peer limit counts these).
  absl::flat_hash_map<uint32_t, absl::flat_hash_set<uint32_t>> by_peer_;
  uint64_t matched_ = 0;
  uint64_t late_ = 0;
};

}  // namespace msock::internal

#endif  // MSOCK_PROTOCOLS_PENDING_TABLE_H_
