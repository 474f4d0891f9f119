// PendingTable's id counter (the table itself is a template, in
// pending_table.h): SP ids carry bit 31 and 31 counting bits from a random
// start; msock's own ids count from 1 and skip 0.
#include "protocols/pending_table.h"

#include <random>

#include "protocols/backtrace.h"

namespace msock::internal {

IdAllocator::IdAllocator(IdSpace space) : space_(space), next_(1) {
  if (space == IdSpace::kSp) {
    // A random start, so that a restarted requester does not take a reply
    // meant for its previous life as its own.
    std::random_device rd;
    next_ = rd();
  }
}

uint32_t IdAllocator::Next() {
  switch (space_) {
    case IdSpace::kSp:
      return kLastWord | (next_++ & ~kLastWord);
    case IdSpace::kNonZero:
      break;
  }
  uint32_t id = next_++;
  if (id == 0) id = next_++;
  return id;
}

}  // namespace msock::internal
