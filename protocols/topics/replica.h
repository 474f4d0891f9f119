// ReplicaSet: a client's copies of the topics it subscribed to, and its
// actions in flight. Pure state, no I/O and no lock (TopicsClient holds its
// lock around every call): the I/O side feeds it snapshots, updates and
// verdicts and sends what it asks for (resyncs).
//
// Model: per topic, the confirmed value (the hub's, at `version`) and the
// shown value = confirmed + the previews of this client's actions still
// open on that topic, re-applied in order (a preview that no longer applies
// after a foreign change is skipped: rebase, spec 5.6). An action's preview
// on a topic closes when the hub's update with that action id arrives, when
// a snapshot at or past the version the hub gave it arrives, or when the
// action is refused or lost.
#ifndef MSOCK_PROTOCOLS_TOPICS_REPLICA_H_
#define MSOCK_PROTOCOLS_TOPICS_REPLICA_H_

#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "msock/protocols/topics.h"
#include "protocols/topics/change.h"

namespace msock::internal::topics {

class ReplicaSet {
 public:
  // Events for the user's callbacks, appended by every call.
  using Events = std::vector<TopicEvent>;

  // Starts a replica waiting for its snapshot (no-op if it exists).
  void Expect(const std::string& topic);
  void Drop(const std::string& topic);
  bool Has(const std::string& topic) const;
  bool Ready(const std::string& topic) const;
  std::vector<std::string> Topics() const;

  // A snapshot (subscribe or resync). Returns false if buffered updates still
  // leave a gap (the caller resyncs again).
  bool OnSnapshot(const pb::Snapshot& snap, Events* events);
  // An update from the hub. Returns true if the topic needs a resync (gap,
  // or a change that does not apply).
  bool OnUpdate(const pb::Update& update, const std::string& self,
                Events* events);

  // Checks `action` against the shown values and previews it. Changes to
  // topics not (yet) subscribed are sent but not previewed. kInvalidArgument
  // etc. from the first change that does not apply locally (then nothing is
  // previewed).
  // String inserts and deletes get their base version set.
  absl::Status Preview(pb::Action& action, Events* events);
  // The hub accepted `id` with these versions.
  void Accepted(const std::string& id, const pb::Applied& applied,
                Events* events);
  // The hub refused `id`, or its outcome is unknown: undo its previews.
  // Returns the topics it touched.
  std::vector<std::string> Failed(const std::string& id,
                                  const absl::Status& why, Events* events);

  absl::StatusOr<std::string> Shown(const std::string& topic) const;
  absl::StatusOr<uint64_t> Version(const std::string& topic) const;
  size_t pending() const { return actions_.size(); }

 private:
  struct Replica {
    bool ready = false;
    bool has_value = false;  // a snapshot came once
    TopicType type = TopicType::kGeneric;
    Value confirmed;
    uint64_t version = 0;
    Value shown;
    std::map<uint64_t, pb::Update> buffered;  // by version, while not ready
    uint64_t told = 0;  // the newest version the hub named while not ready
  };
  struct PendingAction {
    std::string id;
    std::vector<pb::Change> changes;           // previewed ones
    std::set<std::string> open;                // topics awaiting confirmation
    std::map<std::string, uint64_t> accepted;  // topic -> version given
    bool answered = false;
  };

  void Recompute(const std::string& topic, Replica& r);
  void Close(PendingAction& a, const std::string& topic);
  void Prune();
  TopicEvent MakeEvent(TopicEvent::Kind kind, const std::string& topic,
                       const Replica& r) const;

  std::map<std::string, Replica> replicas_;
  std::deque<PendingAction> actions_;
};

}  // namespace msock::internal::topics

#endif  // MSOCK_PROTOCOLS_TOPICS_REPLICA_H_
