// AttemptBuffer: the delivery-attempt counts a SqliteStore has not written
// yet. Every delivery records its attempt number (QueueStore::Attempt) so
// that a restarted server counts on from it; writing each one would add an
// UPDATE per message between its INSERT and the DELETE of its ack. So a
// first attempt is held for kHold before it is due: most entries are acked
// sooner, and the ack drops the held record (Drop), so the common entry is
// never updated at all. Later attempts are due at once, and supersede a held
// first one. What a crash costs: the first attempts of the last kHold count
// again from 1 after the restart (the entries are redelivered all the same);
// a store that closes writes what it holds (TakeDue with `all`), and a load
// of a node's queue counts what is held for it (Held).
//
// Not thread-safe: SqliteStore guards it with its mu_.
//
// Example:
//   AttemptBuffer b;
//   b.Add({"bob", "phone"}, 7, 1, now);           // held
//   b.Drop({"bob", "phone"}, {7});                // acked: never written
//   b.Add({"bob", "phone"}, 8, 2, now);           // due at once
//   std::vector<AttemptBuffer::Record> w = b.TakeDue(now, false);  // {8}
#ifndef MSOCK_PROTOCOLS_QUEUE_ATTEMPT_BUFFER_H_
#define MSOCK_PROTOCOLS_QUEUE_ATTEMPT_BUFFER_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "protocols/queue/store.h"

namespace msock::internal::queue {

class AttemptBuffer {
 public:
  using Clock = std::chrono::steady_clock;
  struct Record {
    NodeKey node;
    uint64_t id = 0;
    uint32_t attempts = 0;
  };
  static constexpr Clock::duration kHold = std::chrono::milliseconds(250);
  static constexpr size_t kMax = 65536;  // records waiting, held or due

  // Adds a record made at `now`; false (dropped) when kMax are waiting: the
  // server's own count stays right, only a restart would find it lower.
  bool Add(NodeKey node, uint64_t id, uint32_t attempts, Clock::time_point now);
  // `node` no longer holds `ids` (acknowledged): their held first attempts
  // are not written.
  void Drop(const NodeKey& node, const std::vector<uint64_t>& ids);
  // Whether a first attempt of `id` at `node` is held (not written yet): a
  // load of the node's queue counts it (SqliteStore::DoLoad).
  bool Held(const NodeKey& node, uint64_t id) const {
    return !live_.empty() && live_.contains(Key(node, id));
  }
  // The records due at `now` (every one with `all`), in the order to write.
  std::vector<Record> TakeDue(Clock::time_point now, bool all);
  size_t due() const { return due_.size(); }
  bool empty() const { return due_.empty() && held_.empty(); }

 private:
  struct HeldRecord {
    std::string key;  // Key(node, id)
    Record record;
    Clock::time_point at;
  };
  static std::string Key(const NodeKey& node, uint64_t id);

  std::vector<Record> due_;
  std::deque<HeldRecord> held_;            // oldest first
  absl::flat_hash_set<std::string> live_;  // keys of held_ still to write
};

}  // namespace msock::internal::queue

#endif  // MSOCK_PROTOCOLS_QUEUE_ATTEMPT_BUFFER_H_
