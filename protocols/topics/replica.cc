// ReplicaSet: confirmed values, previews of actions in flight, and the rules
// that close a preview (echo, snapshot past its version, refusal).
#include "protocols/topics/replica.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace msock::internal::topics {

namespace {
constexpr size_t kMaxBuffered = 4096;  // updates held while resyncing
}  // namespace

void ReplicaSet::Expect(const std::string& topic) { replicas_[topic]; }

void ReplicaSet::Drop(const std::string& topic) {
  replicas_.erase(topic);
  for (PendingAction& a : actions_) a.open.erase(topic);
  Prune();
}

bool ReplicaSet::Has(const std::string& topic) const {
  return replicas_.contains(topic);
}

bool ReplicaSet::Ready(const std::string& topic) const {
  auto it = replicas_.find(topic);
  return it != replicas_.end() && it->second.ready;
}

std::vector<std::string> ReplicaSet::Topics() const {
  std::vector<std::string> out;
  for (const auto& [name, r] : replicas_) out.push_back(name);
  return out;
}

TopicEvent ReplicaSet::MakeEvent(TopicEvent::Kind kind,
                                 const std::string& topic,
                                 const Replica& r) const {
  TopicEvent ev;
  ev.kind = kind;
  ev.topic = topic;
  ev.version = r.version;
  ev.value_json = ToJson(r.shown);
  return ev;
}

void ReplicaSet::Recompute(const std::string& topic, Replica& r) {
  r.shown = r.confirmed;
  for (const PendingAction& a : actions_) {
    if (!a.open.contains(topic)) continue;
    for (const pb::Change& c : a.changes) {
      if (c.topic() != topic) continue;
      pb::Change copy = c;
      Apply(r.type, r.shown, copy).IgnoreError();  // no longer valid: skip
    }
  }
}

void ReplicaSet::Close(PendingAction& a, const std::string& topic) {
  a.open.erase(topic);
}

void ReplicaSet::Prune() {
  while (!actions_.empty() && actions_.front().answered &&
         actions_.front().open.empty()) {
    actions_.pop_front();
  }
  // Answered and closed actions behind an open one go too.
  actions_.erase(std::remove_if(actions_.begin(), actions_.end(),
                                [](const PendingAction& a) {
                                  return a.answered && a.open.empty();
                                }),
                 actions_.end());
}

bool ReplicaSet::OnSnapshot(const pb::Snapshot& snap, Events* events) {
  auto it = replicas_.find(snap.topic());
  if (it == replicas_.end()) return true;
  Replica& r = it->second;
  absl::StatusOr<TopicType> type = ParseType(snap.type());
  r.type = type.ok() ? *type : TopicType::kGeneric;
  r.confirmed = snap.value();
  r.version = snap.version();
  r.ready = true;
  r.has_value = true;
  for (PendingAction& a : actions_) {
    auto v = a.accepted.find(snap.topic());
    if (v != a.accepted.end() && v->second <= r.version) Close(a, snap.topic());
  }
  Prune();
  std::map<uint64_t, pb::Update> held = std::move(r.buffered);
  r.buffered.clear();
  Recompute(snap.topic(), r);
  if (events)
    events->push_back(MakeEvent(TopicEvent::Kind::kSnapshot, snap.topic(), r));
  const uint64_t told = std::exchange(r.told, 0);
  bool whole = true;
  for (auto& [version, u] : held) {
    if (version <= r.version) continue;
    if (!whole || OnUpdate(u, "", events)) whole = false;
  }
  if (whole && r.version < told) {
    // The hub named a newer version while this snapshot was on its way, and
    // the updates up to it were lost: no later update may come to show the
    // gap, so ask again (once: `told` is spent).
    r.ready = false;
    whole = false;
  }
  return whole;
}

bool ReplicaSet::OnUpdate(const pb::Update& u, const std::string& self,
                          Events* events) {
  auto it = replicas_.find(u.topic());
  if (it == replicas_.end()) return false;  // not subscribed (any more)
  Replica& r = it->second;
  if (u.removed()) {
    TopicEvent ev = MakeEvent(TopicEvent::Kind::kRolledBack, u.topic(), r);
    ev.status = absl::NotFoundError(
        absl::StrCat("topic \"", u.topic(), "\" was removed"));
    if (events) events->push_back(std::move(ev));
    Drop(u.topic());
    return false;
  }
  if (u.changes_size() == 0) {  // a version notice: resync if behind
    if (!r.ready) {  // the snapshot on its way may be older than this
      r.told = std::max(r.told, u.version());
      return false;
    }
    if (u.version() <= r.version) return false;
    r.ready = false;
    return true;
  }
  const uint64_t base = u.has_base() ? u.base() : u.version() - 1;
  if (!r.ready || base != r.version) {
    if (r.ready && u.version() <= r.version) return false;  // old news
    r.told = std::max(r.told, u.version());  // even if not held below
    if (r.buffered.size() < kMaxBuffered) r.buffered[u.version()] = u;
    const bool gap = r.ready;
    r.ready = false;
    return gap;
  }
  Value next = r.confirmed;
  TopicEvent ev;
  for (const pb::Change& c : u.changes()) {
    pb::Change copy = c;
    if (!Apply(r.type, next, copy).ok()) {
      r.ready = false;  // we disagree with the hub: take its snapshot
      return true;
    }
    if (events) ev.changes_json.push_back(ChangeJson(c));
  }
  r.confirmed = std::move(next);
  r.version = u.version();
  if (!u.origin().empty() && u.origin() == self) {
    for (PendingAction& a : actions_) {
      if (a.id == u.action()) Close(a, u.topic());
    }
    Prune();
  }
  Recompute(u.topic(), r);
  TopicEvent out = MakeEvent(TopicEvent::Kind::kApplied, u.topic(), r);
  out.origin = u.origin();
  out.changes_json = std::move(ev.changes_json);
  if (events) events->push_back(std::move(out));
  return false;
}

absl::Status ReplicaSet::Preview(pb::Action& action, Events* events) {
  PendingAction a;
  a.id = action.id();
  std::map<std::string, Value> trial;
  for (pb::Change& c : *action.mutable_changes()) {
    auto it = replicas_.find(c.topic());
    if (it == replicas_.end() || !it->second.ready) continue;
    if (it->second.type == TopicType::kString &&
        (c.type() == "insert" || c.type() == "delete")) {
      c.set_base(it->second.version);  // the hub rebases from there
    }
    auto [t, fresh] = trial.try_emplace(c.topic(), it->second.shown);
    pb::Change copy = c;
    absl::Status st = Apply(it->second.type, t->second, copy);
    if (!st.ok()) {
      return absl::Status(
          st.code(), absl::StrCat("topics: ", c.type(), " on \"", c.topic(),
                                  "\": ", st.message()));
    }
    a.changes.push_back(c);
    a.open.insert(c.topic());
  }
  actions_.push_back(std::move(a));
  for (auto& [topic, value] : trial) {
    Replica& r = replicas_[topic];
    r.shown = std::move(value);
    if (events) {
      TopicEvent ev = MakeEvent(TopicEvent::Kind::kPreview, topic, r);
      for (const pb::Change& c : action.changes()) {
        if (c.topic() == topic) ev.changes_json.push_back(ChangeJson(c));
      }
      events->push_back(std::move(ev));
    }
  }
  return absl::OkStatus();
}

void ReplicaSet::Accepted(const std::string& id, const pb::Applied& applied,
                          Events* events) {
  (void)events;
  for (PendingAction& a : actions_) {
    if (a.id != id) continue;
    a.answered = true;
    for (const auto& [topic, version] : applied.versions()) {
      a.accepted[topic] = version;
      auto r = replicas_.find(topic);
      if (r != replicas_.end() && r->second.ready &&
          r->second.version >= version) {
        Close(a, topic);
      }
    }
  }
  Prune();
}

std::vector<std::string> ReplicaSet::Failed(const std::string& id,
                                            const absl::Status& why,
                                            Events* events) {
  std::vector<std::string> touched;
  auto it = std::find_if(actions_.begin(), actions_.end(),
                         [&](const PendingAction& a) { return a.id == id; });
  if (it == actions_.end()) return touched;
  touched.assign(it->open.begin(), it->open.end());
  actions_.erase(it);
  for (const std::string& topic : touched) {
    auto r = replicas_.find(topic);
    if (r == replicas_.end()) continue;
    Recompute(topic, r->second);
    if (events) {
      TopicEvent ev =
          MakeEvent(TopicEvent::Kind::kRolledBack, topic, r->second);
      ev.status = why;
      events->push_back(std::move(ev));
    }
  }
  return touched;
}

absl::StatusOr<std::string> ReplicaSet::Shown(const std::string& topic) const {
  auto it = replicas_.find(topic);
  if (it == replicas_.end() || !it->second.has_value) {
    return absl::NotFoundError(
        absl::StrCat("topics: not subscribed to \"", topic, "\""));
  }
  return ToJson(it->second.shown);
}

absl::StatusOr<uint64_t> ReplicaSet::Version(const std::string& topic) const {
  auto it = replicas_.find(topic);
  if (it == replicas_.end()) {
    return absl::NotFoundError(
        absl::StrCat("topics: not subscribed to \"", topic, "\""));
  }
  return it->second.version;
}

}  // namespace msock::internal::topics
