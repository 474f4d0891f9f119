// TopicHost: the hub side of topics. The public calls, and the engine every
// path shares: create, remove, and ApplyLocked (an action applied to copies
// of the touched records, checked, validated, then committed to the store and
// sent to the subscribers, or dropped whole with the first failure).
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "protocols/rooms/codec.h"
#include "protocols/rooms/runtime.h"
#include "protocols/topics/host_impl.h"

namespace msock {

namespace tp = internal::topics;
using tp::pb::Action;
using tp::pb::Applied;
using tp::pb::Update;

TopicHost::Impl::Impl(Hub* h, const TopicHostOptions& options)
    : hub(h), opts(options), store(std::make_unique<tp::MemoryTopicStore>()) {
  tp::TopicRecord list;
  list.type = TopicType::kDict;
  list.value = tp::DefaultValue(TopicType::kDict);
  store->Insert(tp::kListTopic, std::move(list)).IgnoreError();
}

TopicHost::TopicHost(Hub& hub, const TopicHostOptions& options)
    : impl_(std::make_shared<Impl>(&hub, options)) {
  impl_->self = impl_;
  std::shared_ptr<Impl> impl = impl_;
  internal::HubAccess::SetSystemHandler(
      hub, "_topics/",
      [impl](internal::SystemCall call) { impl->Handle(std::move(call)); });
}

TopicHost::~TopicHost() {
  internal::HubAccess::SetSystemHandler(*impl_->hub, "_topics/", nullptr);
}

absl::Status TopicHost::Create(std::string_view name, TopicType type,
                               std::string_view initial_json,
                               const TopicOptions& options) {
  google::protobuf::Value initial = tp::DefaultValue(type);
  if (!initial_json.empty()) {
    MSOCK_ASSIGN_OR_RETURN(initial, tp::ParseJson(initial_json));
  }
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->CreateLocked(name, type, std::move(initial), options);
}

absl::Status TopicHost::Remove(std::string_view name) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->RemoveLocked(name);
}

absl::StatusOr<std::vector<uint64_t>> TopicHost::Apply(
    const std::vector<Change>& changes) {
  Action action;
  for (const Change& c : changes) {
    MSOCK_ASSIGN_OR_RETURN(tp::pb::Change parsed, tp::ParseChange(c.json));
    parsed.set_topic(c.topic);
    *action.add_changes() = std::move(parsed);
  }
  std::lock_guard<std::mutex> lock(impl_->mu);
  action.set_id(absl::StrCat("0_", impl_->next_action++));
  MSOCK_ASSIGN_OR_RETURN(Applied applied, impl_->ApplyLocked("", action));
  std::vector<uint64_t> versions;
  for (const auto& c : action.changes()) {
    versions.push_back(applied.versions().at(c.topic()));
  }
  return versions;
}

absl::StatusOr<std::string> TopicHost::Value(std::string_view name) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  MSOCK_ASSIGN_OR_RETURN(tp::TopicRecord r, impl_->store->Get(name));
  return tp::ToJson(r.value);
}

absl::StatusOr<uint64_t> TopicHost::Version(std::string_view name) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  MSOCK_ASSIGN_OR_RETURN(tp::TopicRecord r, impl_->store->Get(name));
  return r.version;
}

std::vector<TopicInfo> TopicHost::List() const {
  std::vector<std::pair<std::string, tp::TopicRecord>> records;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    records = impl_->store->List();
  }
  std::vector<TopicInfo> out;
  for (auto& [name, r] : records) {
    const size_t subs = impl_->hub->Members(name, tp::kNamespace).size();
    out.push_back(TopicInfo{name, r.type, r.version, subs});
  }
  return out;
}

absl::Status TopicHost::Validate(std::string_view name,
                                 TopicValidator validator) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (!impl_->store->Contains(name)) {
    return absl::NotFoundError(
        absl::StrCat("no topic \"", std::string(name), "\""));
  }
  impl_->validators[std::string(name)].push_back(std::move(validator));
  return absl::OkStatus();
}

void TopicHost::OnAccess(TopicAccessHook hook) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->access_hook = std::move(hook);
}

TopicStats TopicHost::stats() const {
  TopicStats s;
  s.actions = impl_->actions.load();
  s.refused = impl_->refused.load();
  s.updates = impl_->updates.load();
  s.subscribes = impl_->subscribes.load();
  s.bad_requests = impl_->bad_requests.load();
  return s;
}

// ---- the engine ----

absl::Status TopicHost::Impl::CreateLocked(std::string_view name,
                                           TopicType type,
                                           google::protobuf::Value initial,
                                           const TopicOptions& options) {
  MSOCK_RETURN_IF_ERROR(
      internal::rooms::CheckName("topic", name, opts.max_name_size));
  if (store->size() > opts.max_topics) {
    return absl::ResourceExhaustedError(
        absl::StrCat("topics: at most ", opts.max_topics, " topics"));
  }
  MSOCK_RETURN_IF_ERROR(tp::CheckValue(type, initial));
  if (tp::JsonSize(initial) > opts.max_value_size) {
    return absl::ResourceExhaustedError("topics: initial value too large");
  }
  tp::TopicRecord record;
  record.type = type;
  record.value = std::move(initial);
  MSOCK_RETURN_IF_ERROR(store->Insert(name, std::move(record)));
  const std::string key(name);
  if (type == TopicType::kString) histories.try_emplace(key);
  if (options.coalesce > absl::ZeroDuration()) {
    coalescers[key].interval = options.coalesce;
  }
  tp::pb::Change add;
  add.set_topic(std::string(tp::kListTopic));
  add.set_type("add");
  add.set_key(std::string(name));
  (*add.mutable_value()->mutable_struct_value()->mutable_fields())["type"]
      .set_string_value(std::string(tp::TypeName(type)));
  ListChanged(std::move(add));
  return absl::OkStatus();
}

absl::Status TopicHost::Impl::RemoveLocked(std::string_view name) {
  if (absl::StartsWith(internal::rooms::AsAbsl(name),
                       internal::rooms::AsAbsl(tp::kReserved))) {
    return absl::PermissionDeniedError("topics: \"_sys/\" topics stay");
  }
  FlushLocked(std::string(name));
  MSOCK_RETURN_IF_ERROR(store->Erase(name));
  validators.erase(internal::rooms::AsAbsl(name));
  histories.erase(internal::rooms::AsAbsl(name));
  coalescers.erase(internal::rooms::AsAbsl(name));
  Update gone;
  gone.set_topic(std::string(name));
  gone.set_removed(true);
  SendUpdate(gone);
  for (const std::string& member : hub->Members(name, tp::kNamespace)) {
    hub->LeaveRoom(member, name, tp::kNamespace).IgnoreError();
  }
  tp::pb::Change pop;
  pop.set_topic(std::string(tp::kListTopic));
  pop.set_type("pop");
  pop.set_key(std::string(name));
  ListChanged(std::move(pop));
  return absl::OkStatus();
}

void TopicHost::Impl::ListChanged(tp::pb::Change change) {
  Action action;
  action.set_id(absl::StrCat("0_", next_action++));
  *action.add_changes() = std::move(change);
  ApplyLocked("", action).IgnoreError();
}

void TopicHost::Impl::SendUpdate(const Update& update) {
  std::vector<uint32_t> full;
  absl::StatusOr<size_t> copies = internal::HubAccess::ToRoomEach(
      *hub, update.topic(), tp::kUpdateEvent, tp::kNamespace,
      [&update](bool json) { return tp::EncodeFor(update, json); }, &full);
  if (copies.ok()) updates += *copies;
  if (full.empty() || update.removed()) return;
  // Those subscribers missed this version. A later update would show them
  // the gap, but there may be none: tell them the version once they have
  // room again, and they resync.
  for (uint32_t pipe : full) lagging[pipe].insert(update.topic());
  ArmLagTimer();
}

void TopicHost::Impl::ArmLagTimer() {
  if (lag_armed) return;
  lag_armed = true;
  std::weak_ptr<Impl> weak = self;
  internal::HubAccess::After(*hub, absl::Now() + lag_delay, [weak] {
    if (std::shared_ptr<Impl> impl = weak.lock()) {
      std::lock_guard<std::mutex> lock(impl->mu);
      impl->NotifyLagging();
    }
  });
}

void TopicHost::Impl::NotifyLagging() {
  lag_armed = false;
  for (auto it = lagging.begin(); it != lagging.end();) {
    auto& topics = it->second;
    while (!topics.empty()) {
      const std::string topic = *topics.begin();
      absl::StatusOr<tp::TopicRecord> rec = store->Get(topic);
      if (!rec.ok()) {
        topics.erase(topics.begin());
        continue;
      }
      Update notice;  // no changes: "the topic is at this version"
      notice.set_topic(topic);
      notice.set_version(rec->version);
      absl::Status st = internal::HubAccess::SendToPipe(
          *hub, it->first, tp::kUpdateEvent,
          [&notice](bool json) { return tp::EncodeFor(notice, json); });
      if (absl::IsDeadlineExceeded(st)) break;  // still full: next time
      topics.erase(topics.begin());             // sent, or the client is gone
    }
    if (topics.empty()) {
      lagging.erase(it++);
    } else {
      ++it;
    }
  }
  if (lagging.empty()) {
    lag_delay = kFirstLagDelay;
    return;
  }
  lag_delay = std::min(lag_delay * 2, absl::Seconds(1));
  ArmLagTimer();
}

absl::Status TopicHost::Impl::Allowed(const std::string& client,
                                      const std::string& topic,
                                      TopicAccess what) {
  if (client.empty()) return absl::OkStatus();
  const bool reserved =
      absl::StartsWith(topic, internal::rooms::AsAbsl(tp::kReserved));
  if (what != TopicAccess::kSubscribe && reserved) {
    return absl::PermissionDeniedError(
        absl::StrCat("topics: \"", topic, "\" is read-only for clients"));
  }
  if (access_hook) {
    return internal::rooms::Guarded(
        "topic access hook", [&] { return access_hook(client, topic, what); });
  }
  if ((what == TopicAccess::kCreate || what == TopicAccess::kRemove) &&
      !opts.allow_client_topics) {
    return absl::PermissionDeniedError(
        "topics: clients may not create or remove topics on this hub");
  }
  return absl::OkStatus();
}

absl::StatusOr<Applied> TopicHost::Impl::ApplyLocked(const std::string& client,
                                                     Action& action) {
  if (static_cast<size_t>(action.changes_size()) >
      opts.max_changes_per_action) {
    refused++;
    return absl::ResourceExhaustedError(
        absl::StrCat("topics: at most ", opts.max_changes_per_action,
                     " changes per action"));
  }
  // Working copies of the touched records, in first-touch order.
  std::vector<std::pair<std::string, tp::TopicRecord>> work;
  auto fail = [&](int i, const tp::pb::Change& c, const absl::Status& why) {
    refused++;
    return absl::Status(why.code(),
                        absl::StrCat("change ", i, " (", c.type(), " on \"",
                                     c.topic(), "\"): ", why.message()));
  };
  for (int i = 0; i < action.changes_size(); ++i) {
    tp::pb::Change& c = *action.mutable_changes(i);
    auto it = std::find_if(work.begin(), work.end(),
                           [&](const auto& w) { return w.first == c.topic(); });
    if (it == work.end()) {
      if (absl::Status ok = Allowed(client, c.topic(), TopicAccess::kChange);
          !ok.ok()) {
        return fail(i, c, ok);
      }
      absl::StatusOr<tp::TopicRecord> r = store->Get(c.topic());
      if (!r.ok()) return fail(i, c, r.status());
      work.emplace_back(c.topic(), std::move(*r));
      it = work.end() - 1;
    }
    tp::TopicRecord& rec = it->second;
    if (c.has_base()) {
      auto h = histories.find(c.topic());
      if (h != histories.end()) {
        if (absl::Status st = h->second.Rebase(c, client, rec.version);
            !st.ok()) {
          return fail(i, c, st);
        }
      }
      c.clear_base();
    }
    if (absl::Status st = tp::Apply(rec.type, rec.value, c); !st.ok()) {
      return fail(i, c, st);
    }
    // The protobuf size: cheap, and within a few bytes of the JSON size.
    if (const size_t size = rec.value.ByteSizeLong();
        size > opts.max_value_size) {
      return fail(
          i, c,
          absl::ResourceExhaustedError(absl::StrCat(
              "value would be ", size, " bytes, over ", opts.max_value_size)));
    }
    auto v = validators.find(c.topic());
    if (v == validators.end()) continue;
    TopicProposal p{client, c.topic(), tp::ChangeJson(c),
                    tp::ToJson(rec.value)};
    for (const TopicValidator& check : v->second) {
      absl::Status ok =
          internal::rooms::Guarded("topic validator", [&] { return check(p); });
      if (!ok.ok()) return fail(i, c, ok);
    }
  }
  Applied applied;
  for (auto& [name, rec] : work) {
    ++rec.version;
    (*applied.mutable_versions())[name] = rec.version;
  }
  std::vector<std::pair<std::string, uint64_t>> touched;  // name, version
  for (const auto& [name, rec] : work) touched.emplace_back(name, rec.version);
  if (absl::Status st = store->Commit(std::move(work)); !st.ok()) {
    refused++;
    return st;
  }
  actions++;
  for (const auto& [name, version] : touched) {
    Update u;
    u.set_topic(name);
    u.set_version(version);
    u.set_action(action.id());
    u.set_origin(client);
    for (const auto& c : action.changes()) {
      if (c.topic() == name) *u.add_changes() = c;
    }
    auto h = histories.find(name);
    if (h != histories.end()) {
      h->second.Record(version, client,
                       {u.changes().begin(), u.changes().end()});
    }
    Publish(std::move(u));
  }
  return applied;
}

void TopicHost::Impl::Publish(Update u) {
  auto it = coalescers.find(u.topic());
  if (it == coalescers.end()) {
    SendUpdate(u);
    return;
  }
  Coalescer& co = it->second;
  if (co.buffered.empty()) co.base = u.version() - 1;
  for (auto& c : *u.mutable_changes()) co.buffered.push_back(std::move(c));
  if (co.buffered.size() >= kMaxCoalesced) {  // bounded: send what we have
    FlushLocked(u.topic());  // a timer already set then finds nothing
    return;
  }
  if (co.armed) return;
  co.armed = true;
  std::weak_ptr<Impl> weak = self;
  const std::string topic = u.topic();
  internal::HubAccess::After(*hub, absl::Now() + co.interval, [weak, topic] {
    if (std::shared_ptr<Impl> impl = weak.lock()) {
      std::lock_guard<std::mutex> lock(impl->mu);
      impl->FlushLocked(topic);
    }
  });
}

void TopicHost::Impl::FlushLocked(const std::string& topic) {
  auto it = coalescers.find(topic);
  if (it == coalescers.end()) return;
  Coalescer& co = it->second;
  co.armed = false;
  if (co.buffered.empty()) return;
  absl::StatusOr<tp::TopicRecord> rec = store->Get(topic);
  Update u;
  u.set_topic(topic);
  u.set_version(rec.ok() ? rec->version : co.base + 1);
  u.set_base(co.base);
  u.set_action("clock");
  // A set makes what came before it moot; runs of adds are summed.
  size_t from = 0;
  for (size_t i = 0; i < co.buffered.size(); ++i) {
    if (co.buffered[i].type() == "set") from = i;
  }
  for (size_t i = from; i < co.buffered.size(); ++i) {
    tp::pb::Change& c = co.buffered[i];
    const int n = u.changes_size();
    if (c.type() == "add" && n > 0 && u.changes(n - 1).type() == "add" &&
        rec.ok() && rec->type != TopicType::kDict) {
      auto* last = u.mutable_changes(n - 1)->mutable_value();
      last->set_number_value(last->number_value() + c.value().number_value());
      continue;
    }
    *u.add_changes() = std::move(c);
  }
  co.buffered.clear();
  SendUpdate(u);
}

}  // namespace msock
