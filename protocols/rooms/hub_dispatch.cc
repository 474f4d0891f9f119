// Hub dispatch: the receive filter (acks matched on the I/O thread), the
// receive loop (decode; handle on the dispatcher thread or hand to the handler
// thread of the sending pipe), Hello / Join / Leave / Event handling, and the
// pipe hooks (a lost connection leaves all its rooms and fails the acks it
// owed at once).
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "protocols/rooms/hub_impl.h"

namespace msock {

namespace pb = ::msock::rooms;
using internal::rooms::Encoding;

Hub::Impl::Impl(const HubOptions& options, Socket* s)
    : opts(options),
      inline_handlers(options.threads <= 1),
      socket(s),
      rt(options.max_pending_acks) {}

internal::RecvVerdict Hub::Impl::Filter(Message& m) {
  const uint32_t pipe = m.source().back();
  {
    // So that a Hello still queued when its pipe dies is ignored: the removal
    // hook of a pipe always runs after its last filter call.
    std::lock_guard<std::mutex> lock(live_mu);
    live.insert(pipe);
  }
  if (internal::rooms::PeekKind(m.body()) != pb::Envelope::kAck) {
    return internal::RecvVerdict::kKeep;
  }
  pb::Envelope env;
  Encoding enc;
  internal::rooms::TooDeep deep;
  if (absl::Status st = internal::rooms::Decode(m.body(), &env, &enc, &deep);
      !st.ok()) {
    if (absl::IsInvalidArgument(st) && deep.kind == pb::Envelope::kAck) {
      // Too deep to read: the Emit it answers fails now, with the reason.
      too_deep++;
      CompleteAck(pipe, deep.id, st);
      return internal::RecvVerdict::kConsumed;
    }
    malformed++;
    return internal::RecvVerdict::kClosePipe;
  }
  if (!env.has_ack()) return internal::RecvVerdict::kKeep;
  OnAck(pipe, env.mutable_ack());
  return internal::RecvVerdict::kConsumed;
}

void Hub::Impl::OnAck(uint32_t pipe, pb::Ack* ack) {
  CompleteAck(pipe, ack->id(), internal::rooms::AckResult(ack));
}

void Hub::Impl::CompleteAck(uint32_t pipe, uint32_t id,
                            absl::StatusOr<std::string> result) {
  // Takes only the ack table's and the executor's locks: safe under the
  // socket's lock.
  if (id == 0) return;
  auto done = rt.acks.Complete(pipe, id, std::move(result));
  if (done) rt.Deliver(std::move(*done));
}

void Hub::Impl::TooDeepInput(uint32_t pipe,
                             const internal::rooms::TooDeep& deep,
                             const absl::Status& why) {
  too_deep++;
  switch (deep.kind) {
    case pb::Envelope::kAck:
      CompleteAck(pipe, deep.id, why);
      return;
    case pb::Envelope::kEvent:
    case pb::Envelope::kJoin:
    case pb::Envelope::kLeave: {
      // Answered as its handling would have been (a welcomed client only),
      // and the connection goes on.
      Encoding enc;
      if (ClientOn(pipe, &enc).empty() || deep.id == 0) return;
      Reply(pipe, enc, internal::rooms::MakeAck(deep.id, why)).IgnoreError();
      return;
    }
    default:
      Malformed(pipe);  // a Hello (or no kind) that cannot be read
  }
}

void Hub::Impl::DispatchLoop() {
  internal::rooms::ReceiveLoop(
      socket,
      [this](uint32_t pipe, Encoding enc, pb::Envelope& env) {
        if (env.has_ack()) {  // one the filter's quick look missed
          OnAck(pipe, env.mutable_ack());
          return true;
        }
        if (!env.has_hello() && !env.has_join() && !env.has_leave() &&
            !env.has_event()) {
          Malformed(pipe);  // Welcome / Refused travel the other way
          return true;
        }
        if (inline_handlers) {
          Handle(pipe, enc, env);
          return true;
        }
        auto shared = std::make_shared<pb::Envelope>(std::move(env));
        // False when stopping: the loop ends.
        return rt.exec->Post(
            pipe, [this, pipe, enc, shared] { Handle(pipe, enc, *shared); });
      },
      [this](uint32_t pipe) { Malformed(pipe); },
      [this](uint32_t pipe, const internal::rooms::TooDeep& deep,
             const absl::Status& why) {
        if (inline_handlers) {
          TooDeepInput(pipe, deep, why);
          return;
        }
        // In order with the connection's other messages.
        rt.exec->Post(
            pipe, [this, pipe, deep, why] { TooDeepInput(pipe, deep, why); });
      });
}

void Hub::Impl::Handle(uint32_t pipe, Encoding enc, pb::Envelope& env) {
  switch (env.kind_case()) {
    case pb::Envelope::kHello:
      HandleHello(pipe, enc, env.hello());
      break;
    case pb::Envelope::kJoin:
      HandleRoom(pipe, env.join().id(), env.join().room(), env.join().ns(),
                 false);
      break;
    case pb::Envelope::kLeave:
      HandleRoom(pipe, env.leave().id(), env.leave().room(), env.leave().ns(),
                 true);
      break;
    case pb::Envelope::kEvent:
      HandleEvent(pipe, *env.mutable_event());
      break;
    default:
      break;
  }
}

std::string Hub::Impl::DefaultId(const ConnectRequest& req) {
  auto usable = [&](const std::string& id) {
    return !id.empty() && !by_id.contains(id) &&
           internal::rooms::CheckName("id", id, opts.max_name_size).ok();
  };
  if (usable(req.previous_id)) return req.previous_id;
  if (usable(req.want_id)) return req.want_id;
  std::string id;
  do {
    id = absl::StrCat("c", next_client++);
  } while (by_id.contains(id));
  return id;
}

void Hub::Impl::HandleHello(uint32_t pipe, Encoding enc,
                            const pb::Hello& hello) {
  if (!AdmitHello(pipe, enc)) return;
  ConnectRequest req;
  req.pipe = pipe;
  req.want_id = hello.want_id();
  req.token = hello.token();
  req.previous_id = hello.previous_id();
  req.json = enc == Encoding::kJson;
  absl::StatusOr<PeerInfo> peer = socket->PeerOf(pipe);
  if (!peer.ok()) return;  // gone meanwhile
  req.peer = *std::move(peer);
  absl::StatusOr<std::string> id = RunConnectHook(req);
  if (!id.ok()) {
    RefuseHello(pipe, enc, id.status());
    return;
  }
  const uint32_t replaced = WelcomeClient(pipe, enc, req, *id);
  if (replaced != 0) DropReplaced(replaced);
}

bool Hub::Impl::AdmitHello(uint32_t pipe, Encoding enc) {
  bool again = false;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (closed) return false;
    {
      std::lock_guard<std::mutex> live_lock(live_mu);
      if (!live.contains(pipe)) return false;  // already gone
    }
    auto [it, fresh] = conns.try_emplace(pipe);
    if (fresh) {
      it->second.enc = enc;
      return true;
    }
    again = it->second.state == Conn::State::kWelcomed;
    if (!again) return false;  // refused or replaced: ignore it
  }
  // A second Hello on one connection. (Never ClosePipe under mu: an inproc
  // pipe reports its removal on the closing thread, into PipeRemoved.)
  Malformed(pipe);
  return false;
}

absl::StatusOr<std::string> Hub::Impl::RunConnectHook(
    const ConnectRequest& req) {
  ConnectHook hook;
  {
    std::lock_guard<std::mutex> lock(hooks_mu);
    hook = connect_hook;
  }
  if (!hook) return std::string();
  absl::StatusOr<std::string> id =
      internal::rooms::Guarded("connect hook", [&] { return hook(req); });
  if (id.ok()) {
    absl::Status name_ok =
        internal::rooms::CheckName("client id", *id, opts.max_name_size);
    if (!name_ok.ok()) id = name_ok;
  }
  return id;
}

void Hub::Impl::RefuseHello(uint32_t pipe, Encoding enc,
                            const absl::Status& why) {
  refused++;
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = conns.find(pipe);
    if (it == conns.end()) return;
    it->second.state = Conn::State::kRefused;
  }
  pb::Envelope env;
  env.mutable_refused()->set_code(static_cast<int32_t>(why.code()));
  env.mutable_refused()->set_reason(
      internal::rooms::Utf8Lossy(internal::rooms::AsStd(why.message())));
  Reply(pipe, enc, env).IgnoreError();
  // Closing now could drop the unwritten Refused: give the client time to
  // read it and hang up itself.
  rt.exec->After(absl::Now() + opts.refuse_linger,
                 [this, pipe] { socket->ClosePipe(pipe); });
}

uint32_t Hub::Impl::WelcomeClient(uint32_t pipe, Encoding enc,
                                  const ConnectRequest& req,
                                  const std::string& hook_id) {
  uint32_t replaced = 0;
  std::lock_guard<std::mutex> lock(mu);
  auto it = conns.find(pipe);
  if (closed || it == conns.end()) return 0;  // gone meanwhile
  const std::string client = hook_id.empty() ? DefaultId(req) : hook_id;
  auto old = by_id.find(client);
  if (old != by_id.end()) {
    // The newest connection wins (a client whose old connection is
    // half-open reconnects under its id).
    replaced = old->second;
    auto o = conns.find(replaced);
    if (o != conns.end()) {
      o->second.state = Conn::State::kReplaced;
      o->second.id.clear();
    }
    rooms.LeaveAll(client);
  }
  by_id[client] = pipe;
  it->second.state = Conn::State::kWelcomed;
  it->second.id = client;
  rooms
      .Join(client, std::string(kDefaultNamespace), client,
            opts.max_rooms_per_client)
      .IgnoreError();
  // Queued and marked ready under one lock: no event to this client is
  // queued before its Welcome, and none is skipped once the client has it
  // (it may have it before Reply returns).
  pb::Envelope env;
  env.mutable_welcome()->set_id(client);
  env.mutable_welcome()->set_reconnected(!req.previous_id.empty() &&
                                         req.previous_id == client);
  Reply(pipe, enc, env).IgnoreError();
  it->second.ready = true;
  return replaced;
}

void Hub::Impl::DropReplaced(uint32_t replaced) {
  for (auto& d : rt.acks.FailPeer(
           replaced, absl::UnavailableError("rooms: client reconnected"))) {
    rt.Deliver(std::move(d));
  }
  socket->ClosePipe(replaced);
}

std::string Hub::Impl::ClientOn(uint32_t pipe, Encoding* enc) {
  bool violation = false;
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = conns.find(pipe);
    if (it == conns.end()) {
      // Never said Hello (a live pipe), or gone (then nobody cares).
      std::lock_guard<std::mutex> live_lock(live_mu);
      violation = live.contains(pipe);
    } else if (it->second.state == Conn::State::kWelcomed) {
      *enc = it->second.enc;
      return it->second.id;
    } else {
      violation = it->second.state == Conn::State::kGreeting;
    }
  }
  if (violation) Malformed(pipe);  // not under mu: see HandleHello
  return "";
}

void Hub::Impl::HandleRoom(uint32_t pipe, uint32_t req, const std::string& room,
                           const std::string& ns_in, bool leave) {
  Encoding enc;
  const std::string client = ClientOn(pipe, &enc);
  if (client.empty()) return;
  const std::string ns = internal::rooms::NamespaceOrDefault(ns_in);
  absl::Status st =
      internal::rooms::CheckName("room", room, opts.max_name_size);
  if (st.ok())
    st = internal::rooms::CheckName("namespace", ns, opts.max_name_size);
  if (st.ok() && !leave) {
    JoinHook hook;
    {
      std::lock_guard<std::mutex> lock(hooks_mu);
      hook = join_hook;
    }
    if (hook) {
      st = internal::rooms::Guarded("join hook", [&] {
        return hook(JoinRequest{client, ns, room});
      });
    }
  }
  if (st.ok()) st = Membership(client, room, ns, leave, pipe);
  if (req == 0) return;  // nobody waits
  absl::StatusOr<std::string> result = std::string();
  if (!st.ok()) result = st;
  Reply(pipe, enc, internal::rooms::MakeAck(req, result)).IgnoreError();
}

void Hub::Impl::HandleEvent(uint32_t pipe, pb::Event& event) {
  Encoding enc;
  const std::string client = ClientOn(pipe, &enc);
  if (client.empty()) return;
  events_in++;
  RoomEvent ev = internal::rooms::ToRoomEvent(&event, client);
  ev.room.clear();  // clients do not address rooms
  // The same limits as names going out: no handler (or Otherwise) sees an
  // event name or namespace the hub would refuse to send.
  absl::Status valid =
      internal::rooms::CheckName("event", ev.name, opts.max_name_size);
  if (valid.ok()) {
    valid = internal::rooms::CheckName("namespace", ev.ns, opts.max_name_size,
                                       /*allow_empty=*/true);
  }
  if (valid.ok()) {
    if (internal::SystemHandler sys = SystemFor(ev.name)) {
      internal::rooms::Quietly([&] {
        sys(internal::SystemCall{std::move(ev), pipe, enc == Encoding::kJson,
                                 MakeResponder(pipe, enc, event.ack())});
      });
      return;
    }
  }
  absl::StatusOr<std::string> result =
      valid.ok() ? handlers.Dispatch(ev) : absl::StatusOr<std::string>(valid);
  if (!result.ok() && valid.ok()) handler_errors++;
  if (event.ack() == 0) return;
  internal::rooms::SendAck(event.ack(), result, [&](const pb::Envelope& env) {
    return Reply(pipe, enc, env);
  });
}

void Hub::Impl::PipeAdded(uint32_t pipe) {
  // A connection that never says Hello would hold a pipe for ever.
  if (opts.hello_timeout == absl::InfiniteDuration()) return;
  rt.exec->After(absl::Now() + opts.hello_timeout, [this, pipe] {
    bool idle;
    {
      std::lock_guard<std::mutex> lock(mu);
      auto it = conns.find(pipe);
      idle = it == conns.end() || it->second.state == Conn::State::kGreeting;
    }
    if (idle) socket->ClosePipe(pipe);  // no-op if it is gone
  });
}

void Hub::Impl::PipeRemoved(uint32_t pipe) {
  std::string client;
  {
    std::lock_guard<std::mutex> lock(mu);
    {
      std::lock_guard<std::mutex> live_lock(live_mu);
      live.erase(pipe);
    }
    auto it = conns.find(pipe);
    if (it != conns.end()) {
      if (it->second.state == Conn::State::kWelcomed) {
        client = it->second.id;
        auto b = by_id.find(client);
        if (b != by_id.end() && b->second == pipe) by_id.erase(b);
        rooms.LeaveAll(client);
      }
      conns.erase(it);
    }
  }
  // Emits waiting for this client fail now, not at their deadline.
  for (auto& d : rt.acks.FailPeer(
           pipe, absl::UnavailableError("rooms: client disconnected"))) {
    rt.Deliver(std::move(d));
  }
  if (client.empty()) return;
  std::vector<std::function<void(const std::string&)>> hooks;
  {
    std::lock_guard<std::mutex> lock(hooks_mu);
    if (disconnect_hook) hooks.push_back(disconnect_hook);
    for (const auto& [key, fn] : disconnect_listeners) hooks.push_back(fn);
  }
  if (!hooks.empty()) {
    rt.exec->Post(
        pipe,
        [hooks = std::move(hooks), client] {
          for (const auto& hook : hooks) {
            internal::rooms::Quietly([&] { hook(client); });
          }
        },
        /*essential=*/true);
  }
}

void Hub::Impl::Malformed(uint32_t pipe) {
  malformed++;
  socket->ClosePipe(pipe);
}

}  // namespace msock
