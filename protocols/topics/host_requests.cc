// TopicHost requests: the "_topics/..." system events clients send (subscribe,
// unsubscribe, action, fetch, create, remove), each parsed from JSON, run
// under the topics' lock and answered before the lock is released (so an
// answer never trails an update it should precede on the wire).
#include <utility>

#include "absl/strings/str_cat.h"
#include "protocols/rooms/codec.h"
#include "protocols/topics/host_impl.h"

namespace msock {

namespace tp = internal::topics;

namespace {

absl::Status BadRequest(std::string_view what, const absl::Status& why) {
  return absl::InvalidArgumentError(
      absl::StrCat("topics: bad ", std::string(what), ": ", why.message()));
}

}  // namespace

absl::StatusOr<tp::pb::Snapshot> TopicHost::Impl::SnapshotLocked(
    std::string_view name) {
  FlushLocked(std::string(name));  // what subscribers have seen = the value
  MSOCK_ASSIGN_OR_RETURN(tp::TopicRecord r, store->Get(name));
  tp::pb::Snapshot s;
  s.set_topic(std::string(name));
  s.set_type(std::string(tp::TypeName(r.type)));
  *s.mutable_value() = std::move(r.value);
  s.set_version(r.version);
  return s;
}

tp::pb::Subscribed TopicHost::Impl::Subscribe(const std::string& client,
                                              const tp::pb::Subscribe& req) {
  tp::pb::Subscribed out;
  for (const std::string& name : req.topics()) {
    absl::Status st = Allowed(client, name, TopicAccess::kSubscribe);
    absl::StatusOr<tp::pb::Snapshot> snap =
        st.ok() ? SnapshotLocked(name) : absl::StatusOr<tp::pb::Snapshot>(st);
    if (snap.ok()) {
      // Joined under mu: every update after this snapshot reaches the
      // client, none before it.
      st = hub->JoinRoom(client, name, tp::kNamespace);
      if (!st.ok()) snap = st;
    }
    if (!snap.ok()) {
      tp::pb::Refusal* r = out.add_refused();
      r->set_topic(name);
      r->set_code(static_cast<int32_t>(snap.status().code()));
      r->set_reason(std::string(snap.status().message()));
      continue;
    }
    subscribes++;
    *out.add_snapshots() = std::move(*snap);
  }
  return out;
}

absl::Status TopicHost::Impl::Unsubscribe(const std::string& client,
                                          const std::string& name) {
  return hub->LeaveRoom(client, name, tp::kNamespace);
}

void TopicHost::Impl::Handle(internal::SystemCall call) {
  const std::string op = call.ev.name.substr(call.ev.name.find('/') + 1);
  const std::string& client = call.ev.client;
  const std::string& body = call.ev.payload;
  std::lock_guard<std::mutex> lock(mu);
  absl::StatusOr<std::string> answer = std::string();
  if (op == "subscribe" || op == "fetch") {
    tp::pb::Subscribe req;
    absl::Status st = tp::DecodePayload(body, &req);
    if (!st.ok()) {
      answer = BadRequest("subscribe", st);
    } else if (op == "subscribe") {
      answer = tp::EncodeFor(Subscribe(client, req), call.json);
    } else {
      tp::pb::Subscribed out;
      for (const std::string& name : req.topics()) {
        absl::Status ok = Allowed(client, name, TopicAccess::kSubscribe);
        absl::StatusOr<tp::pb::Snapshot> s = SnapshotLocked(name);
        if (!ok.ok()) s = ok;
        if (!s.ok()) {
          answer = s.status();
          break;
        }
        *out.add_snapshots() = std::move(*s);
      }
      if (answer.ok()) answer = tp::EncodeFor(out, call.json);
    }
  } else if (op == "unsubscribe") {
    tp::pb::Subscribe req;
    absl::Status st = tp::DecodePayload(body, &req);
    for (const std::string& name : req.topics()) {
      if (st.ok()) st = Unsubscribe(client, name);
    }
    if (!st.ok()) answer = st;
  } else if (op == "action") {
    tp::pb::Action action;
    absl::Status st = tp::DecodePayload(body, &action);
    if (!st.ok()) {
      answer = BadRequest("action", st);
    } else {
      absl::StatusOr<tp::pb::Applied> applied = ApplyLocked(client, action);
      answer =
          applied.ok()
              ? absl::StatusOr<std::string>(tp::EncodeFor(*applied, call.json))
              : applied.status();
    }
  } else if (op == "create" || op == "remove") {
    tp::pb::Create req;
    absl::Status st = tp::DecodePayload(body, &req);
    if (st.ok()) {
      st =
          Allowed(client, req.topic(),
                  op == "create" ? TopicAccess::kCreate : TopicAccess::kRemove);
    }
    if (st.ok() && op == "remove") st = RemoveLocked(req.topic());
    if (st.ok() && op == "create") {
      absl::StatusOr<TopicType> type = tp::ParseType(req.type());
      google::protobuf::Value initial =
          type.ok() ? tp::DefaultValue(*type) : google::protobuf::Value();
      if (req.has_value()) initial = req.value();
      st = type.ok() ? CreateLocked(req.topic(), *type, std::move(initial))
                     : type.status();
    }
    if (!st.ok()) answer = st;
  } else {
    answer = absl::UnimplementedError(
        absl::StrCat("topics: no request \"", op, "\""));
  }
  if (!answer.ok() && absl::IsInvalidArgument(answer.status())) bad_requests++;
  call.reply(std::move(answer));
}

}  // namespace msock
