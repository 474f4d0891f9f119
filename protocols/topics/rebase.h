// String rebasing (spec section 10): a string insert or delete made against
// an older version of the topic is moved over the changes other clients made
// since, so that it lands where its author meant. The hub keeps a bounded
// history per string topic; a change older than that history is refused
// (kFailedPrecondition "stale base": the client resubscribes).
//
// Best effort by design: the author's own changes since its base are not
// transformed over (its positions already counted them), and the hub stays
// the authority, so every replica still converges whatever the transform
// does.
#ifndef MSOCK_PROTOCOLS_TOPICS_REBASE_H_
#define MSOCK_PROTOCOLS_TOPICS_REBASE_H_

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "protocols/topics/change.h"

namespace msock::internal::topics {

// Moves `mine` (insert or delete on a string) over `other`, a change applied
// after the version `mine` was made against. Positions and lengths count
// code points. An insert that falls inside text deleted meanwhile is dropped
// (its text becomes empty).
void TransformOver(pb::Change& mine, const pb::Change& other);

class StringHistory {
 public:
  explicit StringHistory(size_t max_versions = 256) : max_(max_versions) {}

  // Records the changes that made `version` (applied by `origin`).
  void Record(uint64_t version, const std::string& origin,
              const std::vector<pb::Change>& changes);
  // Rebases `c` (made by `origin` against version c.base()) onto `current`.
  // kFailedPrecondition if the base is older than the history kept.
  absl::Status Rebase(pb::Change& c, const std::string& origin,
                      uint64_t current) const;

 private:
  struct Entry {
    uint64_t version;
    std::string origin;
    std::vector<pb::Change> changes;
  };
  size_t max_;
  std::deque<Entry> entries_;
};

}  // namespace msock::internal::topics

#endif  // MSOCK_PROTOCOLS_TOPICS_REBASE_H_
