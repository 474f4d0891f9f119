// RoomsClient dispatch: Hello on every new connection (from the pipe hook);
// Welcome, Refused and Ack handled in the receive filter on the I/O thread (so
// a handler blocked in Emit or Join still gets its answer); events handled by
// the receive loop or handed to a handler thread; the loss of a connection
// (its pending acks fail at once with kUnavailable).
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "protocols/rooms/client_impl.h"

namespace msock {

namespace pb = ::msock::rooms;
using internal::rooms::Encoding;

RoomsClient::Impl::Impl(const RoomsClientOptions& options, Socket* s)
    : opts(options),
      enc(options.json ? Encoding::kJson : Encoding::kBinary),
      inline_handlers(options.threads <= 1),
      socket(s),
      rt(options.max_pending_acks) {}

void RoomsClient::Impl::PipeAdded(uint32_t p) {
  pb::Envelope env;
  pb::Hello* hello = env.mutable_hello();
  {
    std::lock_guard<std::mutex> lock(mu);
    if (closed || !refusal.ok()) return;
    pipe = p;
    welcomed = false;
    if (welcomes > 0) hello->set_previous_id(id);
  }
  hello->set_want_id(opts.want_id);
  hello->set_token(opts.token);
  // Never blocks (a new pipe has room); runs on the I/O thread or, for
  // inproc, the thread that made the pipe, and holds no lock of ours.
  SendEnvelope(p, env, absl::InfinitePast()).IgnoreError();
}

void RoomsClient::Impl::PipeRemoved(uint32_t p) {
  bool was_welcomed;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (pipe != p) return;
    pipe = 0;
    was_welcomed = welcomed;
    welcomed = false;
  }
  for (auto& d : rt.acks.FailPeer(
           p, absl::UnavailableError("rooms: connection to the hub lost"))) {
    rt.Deliver(std::move(d));
  }
  if (!was_welcomed) return;
  std::function<void()> hook;
  {
    std::lock_guard<std::mutex> lock(hooks_mu);
    hook = disconnected_hook;
  }
  if (hook) {
    rt.exec->Post(
        p, [hook] { internal::rooms::Quietly(hook); },
        /*essential=*/true);
  }
}

void RoomsClient::Impl::Malformed(uint32_t p) {
  malformed++;
  socket->ClosePipe(p);  // the connector dials again
}

internal::RecvVerdict RoomsClient::Impl::Filter(Message& m) {
  const pb::Envelope::KindCase kind = internal::rooms::PeekKind(m.body());
  if (kind != pb::Envelope::kAck && kind != pb::Envelope::kWelcome &&
      kind != pb::Envelope::kRefused) {
    return internal::RecvVerdict::kKeep;  // events go to the dispatcher
  }
  pb::Envelope env;
  Encoding got;
  if (!internal::rooms::Decode(m.body(), &env, &got).ok()) {
    malformed++;
    return internal::RecvVerdict::kClosePipe;
  }
  if (!HandleControl(m.source().back(), env))
    return internal::RecvVerdict::kKeep;
  return internal::RecvVerdict::kConsumed;
}

bool RoomsClient::Impl::HandleControl(uint32_t p, pb::Envelope& env) {
  switch (env.kind_case()) {
    case pb::Envelope::kWelcome: {
      bool again = false, same = false;
      std::string new_id;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (p != pipe || welcomed) return true;  // stale, or a repeat
        welcomed = true;
        again = welcomes++ > 0;
        same = id == env.welcome().id();
        id = env.welcome().id();
        new_id = id;
        cv.notify_all();
      }
      if (!again) return true;
      reconnects++;
      std::vector<std::function<void(const std::string&, bool)>> hooks;
      {
        std::lock_guard<std::mutex> lock(hooks_mu);
        if (reconnected_hook) hooks.push_back(reconnected_hook);
        for (const auto& [key, fn] : reconnect_listeners) hooks.push_back(fn);
      }
      if (!hooks.empty()) {
        rt.exec->Post(
            p,
            [hooks = std::move(hooks), new_id, same] {
              for (const auto& hook : hooks) {
                internal::rooms::Quietly([&] { hook(new_id, same); });
              }
            },
            /*essential=*/true);  // never waits: we may be on the I/O thread
      }
      return true;
    }
    case pb::Envelope::kRefused: {
      {
        std::lock_guard<std::mutex> lock(mu);
        if (p != pipe) return true;
        const int code = env.refused().code();
        refusal = absl::Status(code > 0 && code <= 16
                                   ? static_cast<absl::StatusCode>(code)
                                   : absl::StatusCode::kPermissionDenied,
                               env.refused().reason());
        cv.notify_all();
      }
      // The hub said no: stop re-dialing. Not from here (this may run under
      // the socket's lock): from the callback thread.
      rt.exec->Post(
          p, [this] { socket->Close(); }, /*essential=*/true);
      return true;
    }
    case pb::Envelope::kAck: {
      const uint32_t ack_id = env.ack().id();
      auto done = rt.acks.Complete(
          p, ack_id, internal::rooms::AckResult(env.mutable_ack()));
      if (done) rt.Deliver(std::move(*done));
      return true;
    }
    default:
      return false;
  }
}

void RoomsClient::Impl::DispatchLoop() {
  internal::rooms::ReceiveLoop(
      socket,
      [this](uint32_t p, Encoding, pb::Envelope& env) {
        if (HandleControl(p, env)) return true;  // one the filter missed
        if (!env.has_event()) {
          Malformed(p);  // Hello, Join and Leave travel the other way
          return true;
        }
        if (inline_handlers) {
          HandleEvent(p, *env.mutable_event());
          return true;
        }
        auto shared = std::make_shared<pb::Envelope>(std::move(env));
        // False when stopping: the loop ends.
        return rt.exec->Post(
            p, [this, p, shared] { HandleEvent(p, *shared->mutable_event()); });
      },
      [this](uint32_t p) { Malformed(p); });
}

void RoomsClient::Impl::HandleEvent(uint32_t p, pb::Event& event) {
  events_in++;
  RoomEvent ev = internal::rooms::ToRoomEvent(&event, "");
  absl::StatusOr<std::string> result = handlers.Dispatch(ev);
  if (!result.ok()) handler_errors++;
  if (event.ack() == 0) return;
  internal::rooms::SendAck(event.ack(), result, [&](const pb::Envelope& env) {
    return SendEnvelope(p, env, absl::Now() + opts.send_timeout);
  });
}

}  // namespace msock
