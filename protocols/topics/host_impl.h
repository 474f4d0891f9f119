// TopicHost::Impl: the hub side of topics. One lock (mu) guards the store,
// the validators and the access hook; every action, create, remove and
// subscribe runs whole under it, and queues its messages (updates through the
// hub's non-blocking ToRoom, answers through the non-blocking Responder)
// before releasing it, so that messages leave in the order the state
// changed. Lock order: mu -> the hub's locks. Validators and the access hook
// run under mu (documented in topics.h: they must not call the TopicHost).
//
// Subscribers of topic T are the members of room T in namespace "_topics";
// updates are the event "_topics/update" sent to that room (the hub's fan-out:
// one body shared by every copy). The hub forgets a client's rooms when it
// leaves, so a departed client needs no cleanup here.
#ifndef MSOCK_PROTOCOLS_TOPICS_HOST_IMPL_H_
#define MSOCK_PROTOCOLS_TOPICS_HOST_IMPL_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "msock/protocols/topics.h"
#include "protocols/rooms/hub_access.h"
#include "protocols/topics/change.h"
#include "protocols/topics/rebase.h"
#include "protocols/topics/store.h"

namespace msock {

struct TopicHost::Impl {
  Impl(Hub* hub, const TopicHostOptions& options);

  // ---- topic_host.cc ----
  absl::Status CreateLocked(std::string_view name, TopicType type,
                            google::protobuf::Value initial,
                            const TopicOptions& options = {});
  absl::Status RemoveLocked(std::string_view name);
  // Applies `action` from `client` ("" = the hub) atomically and queues its
  // updates. Returns each touched topic's new version.
  absl::StatusOr<internal::topics::pb::Applied> ApplyLocked(
      const std::string& client, internal::topics::pb::Action& action);
  // Checks what a client may do (the hub itself may do anything).
  absl::Status Allowed(const std::string& client, const std::string& topic,
                       TopicAccess what);
  // Records `change` in the topic list and queues its update.
  void ListChanged(internal::topics::pb::Change change);
  void SendUpdate(const internal::topics::pb::Update& update);
  // Retries the version notices of subscribers that missed updates.
  void ArmLagTimer();
  void NotifyLagging();
  // Sends `update` now, or adds it to its topic's coalescing buffer.
  void Publish(internal::topics::pb::Update update);
  // Sends a coalesced topic's buffered changes as one update (no-op if none).
  void FlushLocked(const std::string& topic);

  static constexpr size_t kMaxCoalesced = 1024;  // changes held per topic
  struct Coalescer {
    absl::Duration interval;
    uint64_t base = 0;  // the version the buffered changes apply to
    std::vector<internal::topics::pb::Change> buffered;
    bool armed = false;
  };

  // ---- host_requests.cc ----
  // The "_topics/" system events of clients.
  void Handle(internal::SystemCall call);
  internal::topics::pb::Subscribed Subscribe(
      const std::string& client, const internal::topics::pb::Subscribe& req);
  absl::Status Unsubscribe(const std::string& client, const std::string& name);
  absl::StatusOr<internal::topics::pb::Snapshot> SnapshotLocked(
      std::string_view name);

  Hub* const hub;
  const TopicHostOptions opts;

  mutable std::mutex mu;
  std::unique_ptr<internal::topics::TopicStore> store;
  absl::flat_hash_map<std::string, std::vector<TopicValidator>> validators;
  TopicAccessHook access_hook;
  absl::flat_hash_map<std::string, internal::topics::StringHistory> histories;
  absl::flat_hash_map<std::string, Coalescer> coalescers;
  std::weak_ptr<Impl> self;
  // Subscribers (by connection) whose queue was full when an update of
  // these topics went out; retried with a growing delay.
  static constexpr absl::Duration kFirstLagDelay = absl::Milliseconds(20);
  absl::flat_hash_map<uint32_t, std::set<std::string>> lagging;
  absl::Duration lag_delay = kFirstLagDelay;
  bool lag_armed = false;
  uint64_t next_action = 1;  // ids of the hub's own actions

  std::atomic<uint64_t> actions{0}, refused{0}, updates{0}, subscribes{0},
      bad_requests{0};
};

}  // namespace msock

#endif  // MSOCK_PROTOCOLS_TOPICS_HOST_IMPL_H_
