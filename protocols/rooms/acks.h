// AckTable: the acknowledgements a Hub or RoomsClient waits for (Emit, Join,
// Leave), keyed by a non-zero 32-bit id and bounded per peer, on a
// PendingTable. A caller either blocks in Wait or gets an async callback back
// from Complete / FailPeer / Expire / CancelAll to run outside the table's
// lock.
#ifndef MSOCK_PROTOCOLS_ROOMS_ACKS_H_
#define MSOCK_PROTOCOLS_ROOMS_ACKS_H_

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "msock/protocols/rooms.h"
#include "protocols/pending_table.h"

namespace msock::internal::rooms {

class AckTable {
 public:
  // An async outcome to deliver: run cb(result) outside any lock, after
  // cancelling `timer` (if not 0).
  struct Done {
    AckCallback cb;
    absl::StatusOr<std::string> result;
    uint64_t timer = 0;
    uint32_t peer = 0;
  };

  explicit AckTable(size_t per_peer_limit)
      : limit_(per_peer_limit), table_(IdSpace::kNonZero, per_peer_limit) {}

  // Reserves an id for an ack expected from `peer`: `cb` null for a caller
  // that will Wait, else the async callback. kResourceExhausted when `peer`
  // already has the limit in flight; kCancelled after CancelAll.
  absl::StatusOr<uint32_t> Add(uint32_t peer, AckCallback cb);
  // Attaches the deadline timer of an async slot. False if the slot is already
  // finished (the caller then cancels the timer itself).
  bool SetTimer(uint32_t id, uint64_t timer);
  // Waits for the outcome of a blocking slot until `deadline`, then forgets
  // it. kDeadlineExceeded (counted in timed_out) if none came.
  absl::StatusOr<std::string> Wait(uint32_t id, absl::Time deadline);
  // Whether Wait(id) would return at once (answered, gone or closed). Takes
  // only the table's lock (a leaf: it may run under the socket's).
  bool Settled(uint32_t id) const;
  // Forgets a slot whose request was never sent. Returns its timer (or 0).
  uint64_t Abandon(uint32_t id);

  // An ack `id` arrived from `peer`. Returns the async outcome to deliver,
  // if any; an id nobody waits for (late, wrong peer) is counted in late().
  std::optional<Done> Complete(uint32_t peer, uint32_t id,
                               absl::StatusOr<std::string> result);
  // `peer` is gone: every slot it had gets `why`.
  std::vector<Done> FailPeer(uint32_t peer, const absl::Status& why);
  // The deadline of async slot `id` passed.
  std::optional<Done> Expire(uint32_t id);
  // Closing: every slot gets kCancelled; Add fails from now on.
  std::vector<Done> CancelAll();

  uint64_t late() const;
  uint64_t timed_out() const;

 private:
  struct Slot {
    uint32_t peer = 0;
    AckCallback cb;  // null: a blocking caller
    bool done = false;
    absl::StatusOr<std::string> result;
    uint64_t timer = 0;
  };

  // Finishes `slot` with `result` (under the table's lock): a blocking
  // caller's slot becomes done and its Wait wakes; an async slot is erased and
  // its outcome goes to `out`.
  static Visit Finish(Slot& slot, absl::StatusOr<std::string> result,
                      std::optional<Done>& out);

  const size_t limit_;
  PendingTable<Slot> table_;
  std::atomic<uint64_t> timed_out_{0};
};

}  // namespace msock::internal::rooms

#endif  // MSOCK_PROTOCOLS_ROOMS_ACKS_H_
