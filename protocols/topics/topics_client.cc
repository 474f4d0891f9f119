// TopicsClient: the client side of topics on a RoomsClient. Requests are
// rooms events "_topics/..." with an ack (binary protobuf payloads; the hub
// answers a JSON client in JSON); updates arrive as the event
// "_topics/update". The replicas (ReplicaSet) sit under mu; user
// callbacks run after mu is released, on the RoomsClient's handler thread
// (updates) or callback thread (verdicts, resyncs).
#include <future>
#include <set>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "protocols/rooms/client_access.h"
#include "protocols/rooms/runtime.h"
#include "protocols/topics/replica.h"

namespace msock {

namespace tp = internal::topics;

struct TopicsClient::Impl : std::enable_shared_from_this<TopicsClient::Impl> {
  Impl(RoomsClient* c, const TopicsClientOptions& o)
      : client(c), opts(o), epoch(absl::Uniform<uint32_t>(absl::BitGen())) {}

  // Where replica events go: nowhere while no callback is set (building an
  // event serializes the value).
  tp::ReplicaSet::Events* Sink(tp::ReplicaSet::Events* events) {
    return has_callbacks.load(std::memory_order_relaxed) ? events : nullptr;
  }

  // Runs the callbacks of `events` (no lock held).
  void Fire(const tp::ReplicaSet::Events& events) {
    for (const TopicEvent& ev : events) {
      TopicCallback one, all;
      {
        std::lock_guard<std::mutex> lock(mu);
        auto it = callbacks.find(ev.topic);
        if (it != callbacks.end()) one = it->second;
        auto any = callbacks.find("");
        if (any != callbacks.end()) all = any->second;
      }
      if (one) internal::rooms::Quietly([&] { one(ev); });
      if (all) internal::rooms::Quietly([&] { all(ev); });
    }
  }

  void OnUpdate(const std::string& body) {
    tp::pb::Update u;
    if (!tp::DecodePayload(body, &u).ok()) return;
    tp::ReplicaSet::Events events;
    bool resync;
    {
      std::lock_guard<std::mutex> lock(mu);
      resync = replicas.OnUpdate(u, client->id(), Sink(&events));
    }
    Fire(events);
    if (resync) Resync(u.topic());
  }

  // Asks for a fresh snapshot of `topic` (one request in flight per topic).
  // An answer lost to a full queue times out and is asked for again; after a
  // reconnect every topic is asked for (the hub forgot the subscriptions).
  void Resync(const std::string& topic, bool force = false) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!replicas.Has(topic)) return;
      if (!resyncing.insert(topic).second && !force) return;
    }
    tp::pb::Subscribe req;
    req.add_topics(topic);
    std::weak_ptr<Impl> weak = weak_from_this();
    resyncs++;
    absl::Status sent =
        client->EmitAsync("_topics/subscribe", tp::EncodeFor(req, false),
                          absl::Now() + kResyncTimeout,
                          [weak, topic](absl::StatusOr<std::string> answer) {
                            if (auto self = weak.lock())
                              self->Resynced(topic, answer);
                          });
    if (!sent.ok()) {  // not connected: the reconnect listener asks again
      std::lock_guard<std::mutex> lock(mu);
      resyncing.erase(topic);
    }
  }

  void Resynced(const std::string& topic,
                const absl::StatusOr<std::string>& answer) {
    {
      std::lock_guard<std::mutex> lock(mu);
      resyncing.erase(topic);
    }
    if (absl::IsDeadlineExceeded(answer.status())) {
      Resync(topic);  // the answer was lost: the deadline paces the retries
      return;
    }
    OnSubscribed(answer).IgnoreError();
  }

  void Reconnected() {
    std::vector<std::string> topics;
    {
      std::lock_guard<std::mutex> lock(mu);
      topics = replicas.Topics();
    }
    for (const std::string& topic : topics) Resync(topic, /*force=*/true);
  }

  absl::Status OnSubscribed(const absl::StatusOr<std::string>& answer) {
    if (!answer.ok()) return answer.status();
    tp::pb::Subscribed out;
    MSOCK_RETURN_IF_ERROR(tp::DecodePayload(*answer, &out));
    tp::ReplicaSet::Events events;
    std::vector<std::string> again;
    absl::Status refused;
    {
      std::lock_guard<std::mutex> lock(mu);
      for (const auto& snap : out.snapshots()) {
        if (!replicas.OnSnapshot(snap, Sink(&events)))
          again.push_back(snap.topic());
      }
      for (const auto& r : out.refused()) {
        replicas.Drop(r.topic());
        refused =
            absl::Status(static_cast<absl::StatusCode>(r.code()), r.reason());
      }
    }
    Fire(events);
    for (const std::string& topic : again) Resync(topic);
    return refused;
  }

  // The verdict on an action, and the hub's versions when accepted.
  using Done = std::function<void(absl::Status, const tp::pb::Applied&)>;

  void OnVerdict(const std::string& id,
                 const absl::StatusOr<std::string>& answer, const Done& done) {
    tp::pb::Applied applied;
    tp::ReplicaSet::Events events;
    std::vector<std::string> unknown;
    absl::Status verdict = answer.status();
    {
      std::lock_guard<std::mutex> lock(mu);
      if (verdict.ok()) verdict = tp::DecodePayload(*answer, &applied);
      if (verdict.ok()) {
        replicas.Accepted(id, applied, Sink(&events));
      } else {
        std::vector<std::string> touched =
            replicas.Failed(id, verdict, Sink(&events));
        // Lost, not refused: the hub may have applied it; ask what it has.
        if (absl::IsDeadlineExceeded(verdict) || absl::IsUnavailable(verdict)) {
          unknown = std::move(touched);
        }
      }
    }
    Fire(events);
    for (const std::string& topic : unknown) Resync(topic);
    if (done) done(verdict, applied);
  }

  absl::Status Start(const std::vector<Change>& changes, absl::Time deadline,
                     Done done);

  RoomsClient* const client;
  const TopicsClientOptions opts;
  const uint32_t epoch;  // tells this object's action ids from older ones
  mutable std::mutex mu;
  tp::ReplicaSet replicas;
  uint64_t next_action = 1;
  absl::flat_hash_map<std::string, TopicCallback> callbacks;
  std::atomic<uint64_t> resyncs{0};
  std::atomic<bool> has_callbacks{false};
  std::set<std::string> resyncing;  // snapshots asked for, under mu
  uint64_t reconnect_key = 0;
  static constexpr absl::Duration kResyncTimeout = absl::Seconds(2);
};

TopicsClient::TopicsClient(RoomsClient& client,
                           const TopicsClientOptions& options)
    : impl_(std::make_shared<Impl>(&client, options)) {
  std::weak_ptr<Impl> weak = impl_;
  client.On(tp::kUpdateEvent,
            [weak](const RoomEvent& ev) -> absl::StatusOr<std::string> {
              if (auto self = weak.lock()) self->OnUpdate(ev.payload);
              return std::string();
            });
  impl_->reconnect_key = internal::ClientAccess::AddReconnectListener(
      client, [weak](const std::string&, bool) {
        if (auto self = weak.lock()) self->Reconnected();
      });
}

TopicsClient::~TopicsClient() {
  impl_->client->On(tp::kUpdateEvent, nullptr);
  internal::ClientAccess::RemoveReconnectListener(*impl_->client,
                                                  impl_->reconnect_key);
}

absl::Status TopicsClient::Subscribe(std::string_view name,
                                     absl::Time deadline) {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->replicas.Expect(std::string(name));
  }
  tp::pb::Subscribe req;
  req.add_topics(std::string(name));
  absl::StatusOr<std::string> answer = impl_->client->Emit(
      "_topics/subscribe", tp::EncodeFor(req, false), deadline);
  if (!answer.ok()) {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->replicas.Drop(std::string(name));
    return answer.status();
  }
  return impl_->OnSubscribed(answer);
}

absl::Status TopicsClient::Unsubscribe(std::string_view name,
                                       absl::Time deadline) {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->replicas.Drop(std::string(name));
  }
  tp::pb::Subscribe req;
  req.add_topics(std::string(name));
  return impl_->client
      ->Emit("_topics/unsubscribe", tp::EncodeFor(req, false), deadline)
      .status();
}

absl::Status TopicsClient::Impl::Start(const std::vector<Change>& changes,
                                       absl::Time deadline, Done done) {
  tp::pb::Action action;
  for (size_t i = 0; i < changes.size(); ++i) {
    absl::StatusOr<tp::pb::Change> c = tp::ParseChange(changes[i].json);
    if (!c.ok()) return c.status();
    c->set_topic(changes[i].topic);
    *action.add_changes() = std::move(*c);
  }
  tp::ReplicaSet::Events events;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (replicas.pending() >= opts.max_pending_actions) {
      return absl::ResourceExhaustedError(
          absl::StrCat("topics: ", opts.max_pending_actions,
                       " actions already wait for the hub"));
    }
    action.set_id(absl::StrCat(client->id(), "_", epoch, "_", next_action++));
    for (int i = 0; i < action.changes_size(); ++i) {
      action.mutable_changes(i)->set_id(absl::StrCat(action.id(), "_", i));
    }
    MSOCK_RETURN_IF_ERROR(replicas.Preview(action, Sink(&events)));
  }
  Fire(events);
  std::weak_ptr<Impl> weak = weak_from_this();
  const std::string id = action.id();
  absl::Status sent = client->EmitAsync(
      "_topics/action", tp::EncodeFor(action, false), deadline,
      [weak, id, done](absl::StatusOr<std::string> answer) {
        if (auto self = weak.lock()) self->OnVerdict(id, answer, done);
      });
  if (!sent.ok()) OnVerdict(id, sent, nullptr);
  return sent;
}

absl::Status TopicsClient::ApplyAsync(
    const std::vector<Change>& changes, absl::Time deadline,
    std::function<void(absl::Status verdict)> done) {
  return impl_->Start(
      changes, deadline,
      [done = std::move(done)](absl::Status s, const tp::pb::Applied&) {
        if (done) done(s);
      });
}

absl::Status TopicsClient::Apply(const std::vector<Change>& changes,
                                 absl::Time deadline,
                                 std::vector<uint64_t>* versions) {
  auto verdict = std::make_shared<std::promise<absl::Status>>();
  std::future<absl::Status> result = verdict->get_future();
  MSOCK_RETURN_IF_ERROR(impl_->Start(
      changes, deadline,
      [verdict, versions, &changes](absl::Status s,
                                    const tp::pb::Applied& applied) {
        if (s.ok() && versions != nullptr) {
          versions->clear();
          for (const Change& c : changes) {
            auto v = applied.versions().find(c.topic);
            versions->push_back(v == applied.versions().end() ? 0 : v->second);
          }
        }
        verdict->set_value(s);
      }));
  return result.get();  // `done` always runs (at the deadline at the latest)
}

absl::StatusOr<std::string> TopicsClient::Value(std::string_view name) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->replicas.Shown(std::string(name));
}

absl::StatusOr<uint64_t> TopicsClient::Version(std::string_view name) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->replicas.Version(std::string(name));
}

size_t TopicsClient::pending() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->replicas.pending();
}

absl::StatusOr<std::string> TopicsClient::Fetch(std::string_view name,
                                                absl::Time deadline) {
  tp::pb::Subscribe req;
  req.add_topics(std::string(name));
  MSOCK_ASSIGN_OR_RETURN(
      std::string answer,
      impl_->client->Emit("_topics/fetch", tp::EncodeFor(req, false),
                          deadline));
  tp::pb::Subscribed out;
  MSOCK_RETURN_IF_ERROR(tp::DecodePayload(answer, &out));
  if (out.snapshots_size() != 1) {
    return absl::InternalError("topics: fetch answered no snapshot");
  }
  return tp::ToJson(out.snapshots(0).value());
}

absl::Status TopicsClient::Create(std::string_view name, TopicType type,
                                  absl::Time deadline,
                                  std::string_view initial_json) {
  tp::pb::Create req;
  req.set_topic(std::string(name));
  req.set_type(std::string(tp::TypeName(type)));
  if (!initial_json.empty()) {
    MSOCK_ASSIGN_OR_RETURN(*req.mutable_value(), tp::ParseJson(initial_json));
  }
  return impl_->client
      ->Emit("_topics/create", tp::EncodeFor(req, false), deadline)
      .status();
}

absl::Status TopicsClient::Remove(std::string_view name, absl::Time deadline) {
  tp::pb::Create req;
  req.set_topic(std::string(name));
  return impl_->client
      ->Emit("_topics/remove", tp::EncodeFor(req, false), deadline)
      .status();
}

void TopicsClient::OnChange(std::string_view name, TopicCallback callback) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->callbacks[std::string(name)] = std::move(callback);
  impl_->has_callbacks = true;
}

}  // namespace msock
