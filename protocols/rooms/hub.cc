// Hub (rooms protocol, 0x7f0): the public calls. Membership changes and
// queries under the hub's lock; sends outside it. Fan-out builds one body per
// encoding in use and queues Clone()s of it (shared bytes) on each member's
// pipe without waiting.
#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "protocols/rooms/hub_impl.h"

namespace msock {

namespace pb = ::msock::rooms;
using internal::rooms::CheckName;
using internal::rooms::Encoding;

Hub::Hub(Context& ctx) : Hub(HubOptions(), ctx) {}

Hub::Hub(const HubOptions& options, Context& ctx)
    : Role(protocols::kHub, ctx),
      impl_(std::make_shared<Impl>(options, &socket_)) {
  impl_->self = impl_;
  internal::rooms::WireSocket(&socket_, impl_);
  // Answers go out from handler threads and services (the queue's store
  // writer), so the dispatcher has rarely "just sent": it reads requests
  // itself all the same, from up to 64 tcp/ipc clients (beyond, the loop
  // reads them in batches). One wake-up per request instead of two. Queue
  // bench, no fsync: 8 and 32 clients gain; with 65 pipes, one thread
  // polling and reading them all was slower (-8%) than the loop reading.
  internal::SocketAccess::SetPollAlways(socket_, true, /*max_pipes=*/64);
  Impl* impl = impl_.get();  // the dispatcher is joined before impl goes
  impl->rt.Start(options.threads, options.queue_limit,
                 [impl] { impl->DispatchLoop(); });
}

Hub::~Hub() { Close(); }

void Hub::Close() { impl_->Close(); }

void Hub::Impl::Close() {
  bool first;
  {
    std::lock_guard<std::mutex> lock(mu);
    first = !closed;
    closed = true;
  }
  rt.Shutdown(socket, first);
}

size_t Hub::Impl::max_message() const { return socket->Get(opt::kMaxRecvSize); }

absl::Status Hub::Impl::SendEnvelope(uint32_t pipe, Encoding enc,
                                     const pb::Envelope& env,
                                     absl::Time deadline) {
  absl::StatusOr<Message> m = internal::rooms::Encode(env, enc, max_message());
  if (!m.ok()) return m.status();
  return socket->SendTo(Path{pipe}, *m, deadline);
}

absl::Status Hub::Impl::Reply(uint32_t pipe, Encoding enc,
                              const pb::Envelope& env) {
  absl::StatusOr<Message> m = internal::rooms::Encode(env, enc, max_message());
  if (!m.ok()) return m.status();
  // Answers (acks, Welcome, Refused) may pass a queue that a room's flood
  // filled, by a small margin that fan-outs never use.
  absl::Status s = internal::SocketAccess::SendReply(*socket, Path{pipe}, *m,
                                                     kReplyReserveBytes);
  if (absl::IsUnavailable(s)) dropped++;
  return s;
}

absl::StatusOr<size_t> Hub::Impl::FanOut(const std::vector<Target>& targets,
                                         const pb::Envelope& env) {
  return FanOut(targets, [&env](Encoding) { return env; });
}

absl::StatusOr<size_t> Hub::Impl::FanOut(
    const std::vector<Target>& targets,
    const std::function<pb::Envelope(Encoding)>& env_for,
    std::vector<uint32_t>* full) {
  // One body per encoding, each copied to its pipes in one lock round of
  // the socket (SendToEach): a room of 1,000 costs two rounds, not 1,000.
  std::vector<uint32_t> pipes[2];
  for (const auto& [pipe, enc] : targets) {
    pipes[static_cast<int>(enc)].push_back(pipe);
  }
  size_t queued = 0;
  for (int e = 0; e < 2; ++e) {
    if (pipes[e].empty()) continue;
    const auto enc = static_cast<Encoding>(e);
    absl::StatusOr<Message> body =
        internal::rooms::Encode(env_for(enc), enc, max_message());
    if (!body.ok()) return body.status();
    bodies_encoded++;
    const size_t n =
        internal::SocketAccess::SendToEach(*socket, pipes[e], *body, full);
    dropped += pipes[e].size() - n;
    queued += n;
  }
  events_out += queued;
  return queued;
}

absl::StatusOr<Hub::Impl::Target> Hub::Impl::Lookup(
    std::string_view client) const {
  std::lock_guard<std::mutex> lock(mu);
  if (closed) return absl::FailedPreconditionError("hub: closed");
  auto b = by_id.find(internal::rooms::AsAbsl(client));
  if (b == by_id.end()) {
    return absl::NotFoundError(
        absl::StrCat("hub: no client \"", std::string(client), "\""));
  }
  auto c = conns.find(b->second);
  if (c == conns.end() || !c->second.ready) {
    return absl::UnavailableError("hub: client is (re)connecting");
  }
  return Target(b->second, c->second.enc);
}

absl::Status Hub::Impl::Membership(std::string_view client,
                                   std::string_view room, std::string_view ns,
                                   bool leave, uint32_t only_pipe) {
  std::lock_guard<std::mutex> lock(mu);
  if (closed) return absl::FailedPreconditionError("hub: closed");
  auto b = by_id.find(internal::rooms::AsAbsl(client));
  if (b == by_id.end() || (only_pipe != 0 && b->second != only_pipe)) {
    return absl::NotFoundError(
        absl::StrCat("hub: no client \"", std::string(client), "\""));
  }
  const std::string ns_s = internal::rooms::NamespaceOrDefault(ns);
  if (leave) {
    rooms.Leave(std::string(client), ns_s, std::string(room));
    return absl::OkStatus();
  }
  return rooms.Join(std::string(client), ns_s, std::string(room),
                    opts.max_rooms_per_client);
}

void Hub::OnConnect(ConnectHook hook) {
  std::lock_guard<std::mutex> lock(impl_->hooks_mu);
  impl_->connect_hook = std::move(hook);
}

void Hub::OnJoin(JoinHook hook) {
  std::lock_guard<std::mutex> lock(impl_->hooks_mu);
  impl_->join_hook = std::move(hook);
}

void Hub::OnDisconnect(std::function<void(const std::string& client)> fn) {
  std::lock_guard<std::mutex> lock(impl_->hooks_mu);
  impl_->disconnect_hook = std::move(fn);
}

void Hub::On(std::string_view event, EventHandler handler) {
  impl_->handlers.On(event, std::move(handler));
}

void Hub::Otherwise(EventHandler handler) {
  impl_->handlers.Otherwise(std::move(handler));
}

void Hub::Use(Middleware middleware) {
  impl_->handlers.Use(std::move(middleware));
}

namespace {

absl::Status CheckRoom(std::string_view room, std::string_view ns, size_t max) {
  MSOCK_RETURN_IF_ERROR(CheckName("room", room, max));
  return CheckName("namespace", ns, max, /*allow_empty=*/true);
}

}  // namespace

absl::Status Hub::JoinRoom(std::string_view client, std::string_view room,
                           std::string_view ns) {
  MSOCK_RETURN_IF_ERROR(CheckRoom(room, ns, impl_->opts.max_name_size));
  return impl_->Membership(client, room, ns, false, 0);
}

absl::Status Hub::LeaveRoom(std::string_view client, std::string_view room,
                            std::string_view ns) {
  MSOCK_RETURN_IF_ERROR(CheckRoom(room, ns, impl_->opts.max_name_size));
  return impl_->Membership(client, room, ns, true, 0);
}

std::vector<std::string> Hub::Members(std::string_view room,
                                      std::string_view ns) const {
  std::vector<std::string> out;
  std::lock_guard<std::mutex> lock(impl_->mu);
  const auto* members = impl_->rooms.Find(
      internal::rooms::NamespaceOrDefault(ns), std::string(room));
  if (members != nullptr) out.assign(members->begin(), members->end());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> Hub::Rooms(std::string_view ns) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->rooms.Rooms(internal::rooms::NamespaceOrDefault(ns));
}

std::vector<std::pair<std::string, std::string>> Hub::RoomsOf(
    std::string_view client) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->rooms.RoomsOf(client);
}

std::vector<std::string> Hub::Clients() const {
  std::vector<std::string> out;
  std::lock_guard<std::mutex> lock(impl_->mu);
  for (const auto& [id, pipe] : impl_->by_id) out.push_back(id);
  std::sort(out.begin(), out.end());
  return out;
}

absl::StatusOr<uint32_t> Hub::PipeOf(std::string_view client) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto b = impl_->by_id.find(internal::rooms::AsAbsl(client));
  if (b == impl_->by_id.end()) {
    return absl::NotFoundError(
        absl::StrCat("hub: no client \"", std::string(client), "\""));
  }
  return b->second;
}

absl::Status Hub::Send(std::string_view client, std::string_view event,
                       std::string_view payload, absl::Time deadline) {
  MSOCK_RETURN_IF_ERROR(CheckName("event", event, impl_->opts.max_name_size));
  MSOCK_ASSIGN_OR_RETURN(Impl::Target t, impl_->Lookup(client));
  MSOCK_RETURN_IF_ERROR(impl_->SendEnvelope(
      t.first, t.second, internal::rooms::MakeEvent(event, payload, "", "", 0),
      deadline));
  impl_->events_out++;
  return absl::OkStatus();
}

absl::Status Hub::Send(std::string_view client, std::string_view event,
                       std::string_view payload) {
  return Send(client, event, payload, absl::Now() + impl_->opts.send_timeout);
}

absl::StatusOr<size_t> Hub::ToRoom(std::string_view room,
                                   std::string_view event,
                                   std::string_view payload,
                                   std::string_view ns,
                                   std::string_view except) {
  MSOCK_RETURN_IF_ERROR(CheckName("event", event, impl_->opts.max_name_size));
  MSOCK_RETURN_IF_ERROR(CheckRoom(room, ns, impl_->opts.max_name_size));
  const std::string ns_s = internal::rooms::NamespaceOrDefault(ns);
  MSOCK_ASSIGN_OR_RETURN(std::vector<Impl::Target> targets,
                         impl_->RoomTargets(ns_s, room, except));
  return impl_->FanOut(
      targets, internal::rooms::MakeEvent(event, payload, ns_s, room, 0));
}

absl::StatusOr<std::vector<Hub::Impl::Target>> Hub::Impl::RoomTargets(
    const std::string& ns, std::string_view room, std::string_view except) {
  std::vector<Target> targets;
  std::lock_guard<std::mutex> lock(mu);
  if (closed) return absl::FailedPreconditionError("hub: closed");
  const auto* members = rooms.Find(ns, room);
  if (members == nullptr) return targets;
  targets.reserve(members->size());
  for (const std::string& id : *members) {
    if (id == except) continue;
    auto b = by_id.find(id);
    if (b == by_id.end()) continue;
    auto c = conns.find(b->second);
    if (c == conns.end() || !c->second.ready) continue;
    targets.emplace_back(b->second, c->second.enc);
  }
  return targets;
}

absl::StatusOr<size_t> Hub::Broadcast(std::string_view event,
                                      std::string_view payload) {
  MSOCK_RETURN_IF_ERROR(CheckName("event", event, impl_->opts.max_name_size));
  std::vector<Impl::Target> targets;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (impl_->closed) return absl::FailedPreconditionError("hub: closed");
    targets.reserve(impl_->by_id.size());
    for (const auto& [id, pipe] : impl_->by_id) {
      auto c = impl_->conns.find(pipe);
      if (c != impl_->conns.end() && c->second.ready) {
        targets.emplace_back(pipe, c->second.enc);
      }
    }
  }
  return impl_->FanOut(targets,
                       internal::rooms::MakeEvent(event, payload, "", "", 0));
}

absl::StatusOr<uint32_t> Hub::Impl::StartEmit(
    std::string_view client, std::string_view event, std::string_view payload,
    absl::Time deadline, AckCallback done, std::string_view from) {
  MSOCK_RETURN_IF_ERROR(CheckName("event", event, opts.max_name_size));
  MSOCK_ASSIGN_OR_RETURN(Target t, Lookup(client));
  MSOCK_ASSIGN_OR_RETURN(uint32_t id, rt.acks.Add(t.first, std::move(done)));
  pb::Envelope env = internal::rooms::MakeEvent(event, payload, "", "", id);
  if (!from.empty()) {  // a relayed call: the provider learns who and how long
    env = internal::rooms::WithTimeout(std::move(env), deadline);
    env.mutable_event()->set_from(std::string(from));
  }
  absl::Status sent = SendEnvelope(t.first, t.second, env, deadline);
  if (!sent.ok()) {
    rt.acks.Abandon(id);
    return sent;
  }
  events_out++;
  return id;
}

absl::StatusOr<std::string> Hub::Emit(std::string_view client,
                                      std::string_view event,
                                      std::string_view payload,
                                      absl::Time deadline) {
  MSOCK_ASSIGN_OR_RETURN(
      uint32_t id, impl_->StartEmit(client, event, payload, deadline, nullptr));
  return impl_->rt.acks.Wait(id, deadline);
}

absl::Status Hub::EmitAsync(std::string_view client, std::string_view event,
                            std::string_view payload, absl::Time deadline,
                            AckCallback done) {
  if (!done) return absl::InvalidArgumentError("hub: EmitAsync without done");
  MSOCK_ASSIGN_OR_RETURN(
      uint32_t id,
      impl_->StartEmit(client, event, payload, deadline, std::move(done)));
  impl_->rt.ArmTimer(id, deadline);
  return absl::OkStatus();
}

RoomsStats Hub::rooms_stats() const {
  RoomsStats s;
  s.events_in = impl_->events_in.load();
  s.events_out = impl_->events_out.load();
  s.bodies_encoded = impl_->bodies_encoded.load();
  s.dropped = impl_->dropped.load();
  s.acks_timed_out = impl_->rt.acks.timed_out();
  s.acks_late = impl_->rt.acks.late();
  s.handler_errors = impl_->handler_errors.load();
  s.malformed = impl_->malformed.load();
  s.refused = impl_->refused.load();
  s.too_deep = impl_->too_deep.load();
  return s;
}

}  // namespace msock
