// QueueServer: opens the store, runs the hub, and answers the "_q/..."
// requests (register, login, post, ack, aliases, lists, dead letters,
// pending). Answers to writes are sent from the store's `done`, that is once
// the write is durable. Delivery to the sessions is in delivery.cc.
#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "protocols/queue/server_impl.h"
#include "protocols/rooms/runtime.h"
#include "protocols/topics/change.h"

namespace msock {

using internal::SystemCall;
using internal::queue::Reply;
namespace tp = internal::topics;

constexpr std::string_view kPrefix = "_q/";

namespace internal::queue {

int64_t NowMs() { return absl::ToUnixMillis(absl::Now()); }

qpb::Deliver ToDeliver(const StoredMessage& m, uint32_t attempt) {
  qpb::Deliver d;
  d.set_id(m.id);
  d.set_from_user(m.from_user);
  d.set_from_node(m.from_node);
  d.set_body(m.body);
  d.set_meta(m.meta);
  for (const std::string& to : m.to) d.add_to(to);
  d.set_attempt(attempt);
  d.set_single_node(m.single_node);
  d.set_posted_ms(m.posted_ms);
  d.set_expires_ms(m.expires_ms);
  d.set_kind(m.kind);
  return d;
}

}  // namespace internal::queue

absl::StatusOr<std::unique_ptr<QueueServer>> QueueServer::Open(
    const QueueServerOptions& options, Context& ctx) {
  absl::StatusOr<std::unique_ptr<q::QueueStore>> store =
      q::OpenSqliteStore(options);
  if (!store.ok()) return store.status();
  auto impl = std::make_shared<Impl>(options, ctx);
  impl->store = std::move(*store);
  impl->Start();
  return std::unique_ptr<QueueServer>(new QueueServer(std::move(impl)));
}

QueueServer::QueueServer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
QueueServer::~QueueServer() { Close(); }

absl::StatusOr<std::string> QueueServer::Listen(std::string_view url) {
  return impl_->hub.Listen(url);
}

void QueueServer::OnRegister(QueueRegisterHook hook) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->register_hook = std::move(hook);
}

Hub& QueueServer::hub() { return impl_->hub; }

QueueStats QueueServer::stats() const {
  const Impl& s = *impl_;
  QueueStats out;
  out.posts = s.posts.load();
  out.duplicates = s.duplicates.load();
  out.deliveries = s.deliveries.load();
  out.redeliveries = s.redeliveries.load();
  out.acks = s.acks.load();
  out.dead = s.dead.load();
  out.expired = s.expired.load();
  out.refused_logins = s.refused_logins.load();
  out.refused_posts = s.refused_posts.load();
  out.full_queues = s.full_queues.load();
  out.malformed = s.malformed.load();
  const q::StoreStats st = s.store->stats();
  out.commits = st.commits;
  out.committed_ops = st.ops;
  return out;
}

void QueueServer::Close() {
  if (impl_->closed.exchange(true)) return;
  internal::HubAccess::SetSystemHandler(impl_->hub, std::string(kPrefix),
                                        nullptr);
  internal::HubAccess::RemoveDisconnectListener(impl_->hub, impl_->listener);
  impl_->hub.Close();
  impl_->store->Close();  // runs (and answers) what was submitted
}

void QueueServer::Impl::Start() {
  std::weak_ptr<Impl> weak = weak_from_this();
  internal::HubAccess::SetSystemHandler(hub, std::string(kPrefix),
                                        [weak](SystemCall call) {
                                          if (auto s = weak.lock()) {
                                            s->OnRequest(std::move(call));
                                          }
                                        });
  listener = internal::HubAccess::AddDisconnectListener(
      hub, [weak](const std::string& client) {
        if (auto s = weak.lock()) s->ClientGone(client);
      });
  Tick();
  CleanupTick();
}

absl::Status QueueServer::Impl::CheckName(std::string_view what_view,
                                          std::string_view name) const {
  const std::string what(what_view);
  if (name.empty())
    return absl::InvalidArgumentError(absl::StrCat("queue: empty ", what));
  if (name.size() > opts.max_name) {
    return absl::InvalidArgumentError(
        absl::StrCat("queue: ", what, " of ", name.size(), " bytes (limit ",
                     opts.max_name, ")"));
  }
  if (!internal::rooms::IsUtf8(name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("queue: ", what, " is not UTF-8"));
  }
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == ',') {
      return absl::InvalidArgumentError(
          absl::StrCat("queue: ", what, " has a control character or a comma"));
    }
  }
  return absl::OkStatus();
}

bool QueueServer::Impl::Decode(const SystemCall& call,
                               google::protobuf::Message* m) {
  absl::Status st = tp::DecodePayload(call.ev.payload, m);
  if (st.ok()) return true;
  malformed++;
  call.reply(st);
  return false;
}

bool QueueServer::Impl::LoggedIn(const std::string& client, q::NodeKey* node) {
  std::lock_guard<std::mutex> lock(mu);
  auto it = client_node.find(client);
  if (it == client_node.end()) return false;
  *node = it->second;
  return true;
}

void QueueServer::Impl::OnRequest(SystemCall call) {
  const std::string op = call.ev.name.substr(kPrefix.size());
  if (op == "register") return OnRegister(std::move(call));
  if (op == "login") return OnLogin(std::move(call));
  q::NodeKey node;
  const bool known = op == "post" || op == "ack" || op == "aliases" ||
                     op == "list" || op == "dead" || op == "pending";
  if (!known) {
    malformed++;
    call.reply(absl::InvalidArgumentError(
        absl::StrCat("queue: unknown request \"", call.ev.name, "\"")));
    return;
  }
  if (!LoggedIn(call.ev.client, &node)) {
    call.reply(absl::FailedPreconditionError(
        absl::StrCat("queue: ", op, " before login")));
    return;
  }
  if (op == "post") return OnPost(std::move(call), node);
  if (op == "ack") return OnAck(std::move(call), node);
  if (op == "list") return OnList(std::move(call), node);
  if (op == "dead" || op == "pending") return OnQuery(std::move(call), node);
  OnAliases(std::move(call), node);
}

void QueueServer::Impl::OnRegister(SystemCall call) {
  qpb::Register req;
  if (!Decode(call, &req)) return;
  absl::Status st = CheckName("user", req.user());
  if (st.ok()) st = CheckName("node", req.node());
  if (st.ok() && static_cast<size_t>(req.aliases_size()) > opts.max_aliases) {
    st = absl::ResourceExhaustedError(
        absl::StrCat("queue: ", req.aliases_size(), " aliases (limit ",
                     opts.max_aliases, ")"));
  }
  for (const std::string& a : req.aliases()) {
    if (st.ok()) st = CheckName("alias", a);
  }
  q::RegisterRequest r;
  q::NodeKey me;
  if (LoggedIn(call.ev.client, &me)) {
    r.logged_user = me.first;
    r.logged_node = me.second;
  }
  QueueRegisterHook hook;
  {
    std::lock_guard<std::mutex> lock(mu);
    hook = register_hook;
  }
  if (st.ok() && hook) {
    QueueRegistration reg{
        call.ev.client, req.user(), req.node(),
        req.proof_node().empty() && r.logged_user != req.user()};
    st = internal::rooms::Guarded("register hook", [&] { return hook(reg); });
    if (!st.ok() && !absl::IsPermissionDenied(st)) {
      st = absl::PermissionDeniedError(st.message());
    }
  }
  if (!st.ok()) {
    call.reply(st);
    return;
  }
  r.user = req.user();
  r.node = req.node();
  r.aliases.assign(req.aliases().begin(), req.aliases().end());
  r.proof_node = req.proof_node();
  r.proof_secret = req.proof_secret();
  r.now_ms = q::NowMs();
  store->Register(std::move(r), [call](absl::StatusOr<q::RegisterResult> res) {
    if (!res.ok()) return call.reply(res.status());
    qpb::Registered out;
    out.set_secret(res->secret);
    for (const std::string& a : res->aliases) out.add_aliases(a);
    out.set_copied(res->copied);
    Reply(call, out);
  });
}

void QueueServer::Impl::OnLogin(SystemCall call) {
  qpb::Login req;
  if (!Decode(call, &req)) return;
  absl::Status st = CheckName("user", req.user());
  if (st.ok()) st = CheckName("node", req.node());
  if (!st.ok()) {
    call.reply(st);
    return;
  }
  const uint32_t window = std::clamp<uint32_t>(
      req.window(), 1, std::max<uint32_t>(opts.max_window, 1));
  q::NodeKey node{req.user(), req.node()};
  std::shared_ptr<Impl> self = shared_from_this();
  store->Login(node, req.secret(), q::NowMs(),
               [self, call, node, window](absl::StatusOr<uint64_t> pending) {
                 if (!pending.ok()) {
                   if (absl::IsPermissionDenied(pending.status())) {
                     self->refused_logins++;
                   }
                   return call.reply(pending.status());
                 }
                 // The session first: a post right after the answer finds
                 // this connection logged in.
                 self->BeginSession(call, node, window);
                 qpb::LoggedIn out;
                 out.set_pending(*pending);
                 Reply(call, out);
               });
}

void QueueServer::Impl::OnPost(SystemCall call, const q::NodeKey& from) {
  qpb::Post req;
  if (!Decode(call, &req)) {
    refused_posts++;
    return;
  }
  absl::Status st;
  if (req.to_size() == 0) {
    st = absl::InvalidArgumentError("queue: a post without recipients");
  } else if (static_cast<size_t>(req.to_size()) > opts.max_recipients) {
    st = absl::ResourceExhaustedError(absl::StrCat("queue: ", req.to_size(),
                                                   " recipients (limit ",
                                                   opts.max_recipients, ")"));
  } else if (req.body().size() > opts.max_body) {
    st = absl::ResourceExhaustedError(
        absl::StrCat("queue: a body of ", req.body().size(), " bytes (limit ",
                     opts.max_body, ")"));
  } else if (req.meta().size() > opts.max_meta) {
    st = absl::ResourceExhaustedError(
        absl::StrCat("queue: meta of ", req.meta().size(), " bytes (limit ",
                     opts.max_meta, ")"));
  } else if (req.client_id().size() > opts.max_name) {
    st = absl::InvalidArgumentError("queue: client_id too long");
  }
  for (const std::string& to : req.to()) {
    if (!st.ok()) break;
    std::string_view name = to;
    if (!name.empty() && (name.front() == '@' || name.front() == '#')) {
      name.remove_prefix(1);
    }
    st = CheckName("recipient", name);
  }
  if (!st.ok()) {
    refused_posts++;
    call.reply(st);
    return;
  }
  call.ev.payload = std::string();  // the answer's lambdas copy `call`
  q::PostRequest r;
  r.from_user = from.first;
  r.from_node = from.second;
  r.to.assign(req.to().begin(), req.to().end());
  r.body = std::move(*req.mutable_body());
  r.meta = std::move(*req.mutable_meta());
  r.client_id = req.client_id();
  r.single_node = req.single_node();
  r.no_self = req.no_self();
  r.now_ms = q::NowMs();
  const int64_t max_ttl = absl::ToInt64Milliseconds(opts.max_ttl);
  const int64_t ttl =
      req.ttl_ms() == 0
          ? max_ttl
          : std::min<int64_t>(static_cast<int64_t>(std::min<uint64_t>(
                                  req.ttl_ms(), uint64_t{1} << 62)),
                              max_ttl);
  r.expires_ms = r.now_ms + ttl;
  std::shared_ptr<Impl> self = shared_from_this();
  store->Post(std::move(r), [self, call](absl::StatusOr<q::PostOutcome> out) {
    if (!out.ok()) {
      self->refused_posts++;
      return call.reply(out.status());
    }
    self->full_queues += out->full;
    if (out->duplicate) {
      self->duplicates++;
    } else if (out->id == 0) {
      self->refused_posts++;
      return call.reply(absl::InvalidArgumentError(absl::StrCat(
          "queue: no recipient: ", absl::StrJoin(out->errors, "; "))));
    } else {
      self->posts++;
    }
    qpb::Posted p;
    p.set_id(out->id);
    p.set_duplicate(out->duplicate);
    for (const std::string& e : out->errors) p.add_errors(e);
    p.set_nodes(static_cast<uint32_t>(out->fanout.nodes.size()));
    Reply(call, p);
    if (!out->duplicate) self->Distribute(out->fanout);
  });
}

void QueueServer::Impl::OnAck(SystemCall call, const q::NodeKey& node) {
  qpb::Ack req;
  if (!Decode(call, &req)) return;
  if (static_cast<size_t>(req.ids_size()) > 4096) {
    call.reply(absl::ResourceExhaustedError("queue: more than 4096 ids"));
    return;
  }
  std::vector<uint64_t> ids(req.ids().begin(), req.ids().end());
  const std::string& type = req.type();
  std::shared_ptr<Impl> self = shared_from_this();
  if (type == "nack") {
    Nack(node, ids,
         absl::Milliseconds(
             std::min<uint64_t>(req.delay_ms(), uint64_t{24} * 3600 * 1000)));
    Reply(call, qpb::Acked());
    return;
  }
  if (type == "term") {
    if (ids.size() != 1) {
      call.reply(absl::InvalidArgumentError("queue: term takes one id"));
      return;
    }
    store->Dead(node, ids[0], "terminated by the node", q::NowMs(),
                [self, call, node, id = ids[0]](absl::StatusOr<q::Fanout> f) {
                  if (!f.ok()) return call.reply(f.status());
                  self->dead++;
                  self->Forget(node, {id}, {});
                  Reply(call, qpb::Acked());
                  self->Distribute(*f);
                });
    return;
  }
  if (!type.empty() && type != "ok") {
    call.reply(absl::InvalidArgumentError(
        absl::StrCat("queue: unknown ack type \"", type, "\"")));
    return;
  }
  Acking(node, ids);
  store->Ack(node, ids,
             [self, call, node, ids](absl::StatusOr<q::AckOutcome> out) {
               if (!out.ok()) {
                 self->Unacked(node, ids);
                 return call.reply(out.status());
               }
               self->acks += out->removed.size();
               // Forget every id asked for: one the store no longer holds
               // (acked before) must not be sent again either.
               self->Forget(node, ids, out->taken);
               qpb::Acked a;
               a.set_removed(static_cast<uint32_t>(out->removed.size()));
               Reply(call, a);
             });
}

}  // namespace msock
