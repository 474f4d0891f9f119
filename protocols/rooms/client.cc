// RoomsClient (rooms protocol, 0x7f1): the public calls. Every request waits
// for the hub's welcome first, then goes out on the current connection with
// SendTo (never moved to a later connection) and waits for its Ack by id.
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/sync.h"
#include "protocols/rooms/client_impl.h"
#include "socket/socket_access.h"

namespace msock {

namespace pb = ::msock::rooms;
using internal::rooms::CheckName;

// Names are checked here against the hub's default limit (HubOptions), which
// a hub may lower: it then answers kInvalidArgument itself.
constexpr size_t kNameLimit = HubOptions().max_name_size;

RoomsClient::RoomsClient(Context& ctx)
    : RoomsClient(RoomsClientOptions(), ctx) {}

RoomsClient::RoomsClient(const RoomsClientOptions& options, Context& ctx)
    : Role(protocols::kHubClient, ctx),
      impl_(std::make_shared<Impl>(options, &socket_)) {
  internal::rooms::WireSocket(&socket_, impl_);
  Impl* impl = impl_.get();  // the dispatcher is joined before impl goes
  impl->rt.Start(options.threads, options.queue_limit,
                 [impl] { impl->DispatchLoop(); });
}

RoomsClient::~RoomsClient() { Close(); }

void RoomsClient::Close() { impl_->Close(); }

void RoomsClient::Impl::Close() {
  bool first;
  {
    std::lock_guard<std::mutex> lock(mu);
    first = !closed;
    closed = true;
    cv.notify_all();
  }
  rt.Shutdown(socket, first);
}

absl::StatusOr<uint32_t> RoomsClient::Impl::WaitWelcomed(absl::Time deadline) {
  internal::Lock lock(mu);
  if (!refusal.ok()) return refusal;
  if (closed) return absl::FailedPreconditionError("rooms client: closed");
  for (;;) {
    if (!refusal.ok()) return refusal;
    if (closed) {
      return absl::CancelledError("rooms client: closed while connecting");
    }
    if (welcomed) return pipe;
    if (internal::WaitUntil(cv, lock, deadline) && !welcomed && refusal.ok() &&
        !closed) {
      return absl::DeadlineExceededError(
          "rooms client: not connected to a hub before the deadline");
    }
  }
}

absl::Status RoomsClient::Impl::SendEnvelope(uint32_t p,
                                             const pb::Envelope& env,
                                             absl::Time deadline) {
  absl::StatusOr<Message> m =
      internal::rooms::Encode(env, enc, socket->Get(opt::kMaxRecvSize));
  if (!m.ok()) return m.status();
  return socket->SendTo(Path{p}, *m, deadline);
}

absl::StatusOr<uint32_t> RoomsClient::Impl::StartRequest(
    absl::Time deadline, bool event, AckCallback done,
    const std::function<pb::Envelope(uint32_t)>& make) {
  MSOCK_ASSIGN_OR_RETURN(uint32_t p, WaitWelcomed(deadline));
  MSOCK_ASSIGN_OR_RETURN(uint32_t id, rt.acks.Add(p, std::move(done)));
  absl::Status sent = SendEnvelope(p, make(id), deadline);
  if (!sent.ok()) {
    rt.acks.Abandon(id);
    return sent;
  }
  if (event) events_out++;
  return id;
}

absl::StatusOr<std::string> RoomsClient::Impl::Request(
    absl::Time deadline, bool event,
    const std::function<pb::Envelope(uint32_t)>& make) {
  // The answer is taken by the receive filter (Filter); this thread reads
  // it itself when it can (one wake-up; the dispatcher, asleep in Recv
  // meanwhile, is not woken for it).
  internal::SocketAccess::AwaitScope awaiting(*socket);
  MSOCK_ASSIGN_OR_RETURN(uint32_t id,
                         StartRequest(deadline, event, nullptr, make));
  internal::SocketAccess::AwaitOnCaller(*socket, deadline,
                                        [&] { return rt.acks.Settled(id); });
  return rt.acks.Wait(id, deadline);
}

absl::Status RoomsClient::Impl::RoomRequest(bool leave, std::string_view room,
                                            absl::Time deadline,
                                            std::string_view ns) {
  MSOCK_RETURN_IF_ERROR(CheckName("room", room, kNameLimit));
  MSOCK_RETURN_IF_ERROR(
      CheckName("namespace", ns, kNameLimit, /*allow_empty=*/true));
  return Request(deadline, /*event=*/false,
                 [&](uint32_t id) {
                   pb::Envelope env;
                   auto fill = [&](auto* req) {  // Join and Leave: same fields
                     req->set_id(id);
                     req->set_room(std::string(room));
                     if (ns != kDefaultNamespace) req->set_ns(std::string(ns));
                   };
                   if (leave) {
                     fill(env.mutable_leave());
                   } else {
                     fill(env.mutable_join());
                   }
                   return env;
                 })
      .status();
}

absl::StatusOr<std::string> RoomsClient::Connect(std::string_view url,
                                                 absl::Time deadline) {
  MSOCK_RETURN_IF_ERROR(CheckName("wanted id", impl_->opts.want_id, kNameLimit,
                                  /*allow_empty=*/true));
  if (!internal::rooms::IsUtf8(impl_->opts.token)) {
    return absl::InvalidArgumentError("rooms client: token is not UTF-8");
  }
  MSOCK_RETURN_IF_ERROR(socket_.Dial(url));
  MSOCK_RETURN_IF_ERROR(WaitConnected(deadline));
  return id();
}

absl::Status RoomsClient::WaitConnected(absl::Time deadline) {
  return impl_->WaitWelcomed(deadline).status();
}

bool RoomsClient::connected() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->welcomed;
}

std::string RoomsClient::id() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->id;
}

absl::Status RoomsClient::Join(std::string_view room, absl::Time deadline,
                               std::string_view ns) {
  return impl_->RoomRequest(/*leave=*/false, room, deadline, ns);
}

absl::Status RoomsClient::Leave(std::string_view room, absl::Time deadline,
                                std::string_view ns) {
  return impl_->RoomRequest(/*leave=*/true, room, deadline, ns);
}

absl::Status RoomsClient::Send(std::string_view event, std::string_view payload,
                               absl::Time deadline, std::string_view ns) {
  MSOCK_RETURN_IF_ERROR(CheckName("event", event, kNameLimit));
  MSOCK_RETURN_IF_ERROR(CheckName("namespace", ns, kNameLimit, true));
  MSOCK_ASSIGN_OR_RETURN(uint32_t p, impl_->WaitWelcomed(deadline));
  MSOCK_RETURN_IF_ERROR(impl_->SendEnvelope(
      p, internal::rooms::MakeEvent(event, payload, ns, "", 0), deadline));
  impl_->events_out++;
  return absl::OkStatus();
}

absl::StatusOr<std::string> RoomsClient::Emit(std::string_view event,
                                              std::string_view payload,
                                              absl::Time deadline,
                                              std::string_view ns) {
  MSOCK_RETURN_IF_ERROR(CheckName("event", event, kNameLimit));
  MSOCK_RETURN_IF_ERROR(CheckName("namespace", ns, kNameLimit, true));
  return impl_->Request(deadline, /*event=*/true, [&](uint32_t id) {
    return internal::rooms::WithTimeout(
        internal::rooms::MakeEvent(event, payload, ns, "", id), deadline);
  });
}

absl::Status RoomsClient::EmitAsync(std::string_view event,
                                    std::string_view payload,
                                    absl::Time deadline, AckCallback done,
                                    std::string_view ns) {
  if (!done) return absl::InvalidArgumentError("rooms: EmitAsync without done");
  MSOCK_RETURN_IF_ERROR(CheckName("event", event, kNameLimit));
  MSOCK_RETURN_IF_ERROR(CheckName("namespace", ns, kNameLimit, true));
  MSOCK_ASSIGN_OR_RETURN(
      uint32_t id,
      impl_->StartRequest(
          deadline, /*event=*/true, std::move(done), [&](uint32_t id) {
            return internal::rooms::WithTimeout(
                internal::rooms::MakeEvent(event, payload, ns, "", id),
                deadline);
          }));
  impl_->rt.ArmTimer(id, deadline);
  return absl::OkStatus();
}

void RoomsClient::On(std::string_view event, EventHandler handler) {
  impl_->handlers.On(event, std::move(handler));
}

void RoomsClient::Otherwise(EventHandler handler) {
  impl_->handlers.Otherwise(std::move(handler));
}

void RoomsClient::OnReconnected(
    std::function<void(const std::string& id, bool same_id)> fn) {
  std::lock_guard<std::mutex> lock(impl_->hooks_mu);
  impl_->reconnected_hook = std::move(fn);
}

void RoomsClient::OnDisconnected(std::function<void()> fn) {
  std::lock_guard<std::mutex> lock(impl_->hooks_mu);
  impl_->disconnected_hook = std::move(fn);
}

RoomsStats RoomsClient::rooms_stats() const {
  RoomsStats s;
  s.events_in = impl_->events_in.load();
  s.events_out = impl_->events_out.load();
  s.acks_timed_out = impl_->rt.acks.timed_out();
  s.acks_late = impl_->rt.acks.late();
  s.handler_errors = impl_->handler_errors.load();
  s.malformed = impl_->malformed.load();
  s.reconnects = impl_->reconnects.load();
  return s;
}

}  // namespace msock
