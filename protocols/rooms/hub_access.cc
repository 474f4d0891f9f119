// HubAccess: system events (deferred answers), disconnect listeners and
// emits on behalf of a client, for the hub's built-in services.
#include "protocols/rooms/hub_access.h"

#include <atomic>
#include <memory>
#include <utility>
#include <vector>

#include "protocols/rooms/hub_impl.h"

namespace msock {

using internal::rooms::Encoding;

internal::SystemHandler Hub::Impl::SystemFor(std::string_view name) {
  if (name.empty() || name.front() != '_') return nullptr;
  const size_t slash = name.find('/');
  if (slash == std::string_view::npos) return nullptr;
  std::lock_guard<std::mutex> lock(hooks_mu);
  auto it = system.find(internal::rooms::AsAbsl(name.substr(0, slash + 1)));
  return it == system.end() ? nullptr : it->second;
}

internal::Responder Hub::Impl::MakeResponder(uint32_t pipe, Encoding enc,
                                             uint32_t ack) {
  auto once = std::make_shared<std::atomic<bool>>(false);
  std::weak_ptr<Impl> weak = self;
  return [weak, pipe, enc, ack, once](absl::StatusOr<std::string> answer) {
    if (once->exchange(true)) return;
    std::shared_ptr<Impl> impl = weak.lock();
    if (!impl) return;
    if (!answer.ok()) impl->handler_errors++;
    if (ack == 0) return;
    internal::rooms::SendAck(ack, answer,
                             [&](const ::msock::rooms::Envelope& e) {
                               return impl->Reply(pipe, enc, e);
                             });
  };
}

namespace internal {

void HubAccess::SetSystemHandler(Hub& hub, std::string prefix,
                                 SystemHandler handler) {
  std::lock_guard<std::mutex> lock(hub.impl_->hooks_mu);
  if (handler) {
    hub.impl_->system[prefix] = std::move(handler);
  } else {
    hub.impl_->system.erase(prefix);
  }
}

uint64_t HubAccess::AddDisconnectListener(
    Hub& hub, std::function<void(const std::string& client)> fn) {
  std::lock_guard<std::mutex> lock(hub.impl_->hooks_mu);
  const uint64_t key = hub.impl_->next_listener++;
  hub.impl_->disconnect_listeners[key] = std::move(fn);
  return key;
}

void HubAccess::RemoveDisconnectListener(Hub& hub, uint64_t key) {
  std::lock_guard<std::mutex> lock(hub.impl_->hooks_mu);
  hub.impl_->disconnect_listeners.erase(key);
}

void HubAccess::After(Hub& hub, absl::Time when, std::function<void()> fn) {
  hub.impl_->rt.exec->After(when, std::move(fn));
}

absl::StatusOr<size_t> HubAccess::ToRoomEach(
    Hub& hub, std::string_view room, std::string_view event,
    std::string_view ns,
    const std::function<std::string(bool json)>& payload_for,
    std::vector<uint32_t>* full) {
  Hub::Impl* impl = hub.impl_.get();
  const std::string ns_s = rooms::NamespaceOrDefault(ns);
  absl::StatusOr<std::vector<Hub::Impl::Target>> targets =
      impl->RoomTargets(ns_s, room, "");
  if (!targets.ok()) return targets.status();
  return impl->FanOut(
      *targets,
      [&](rooms::Encoding enc) {
        return rooms::MakeEvent(
            event, payload_for(enc == rooms::Encoding::kJson), ns_s, room, 0);
      },
      full);
}

absl::StatusOr<size_t> HubAccess::SendManyToPipe(
    Hub& hub, uint32_t pipe, std::string_view event, size_t n,
    absl::FunctionRef<std::string(size_t i, bool json)> payload_for) {
  Hub::Impl* impl = hub.impl_.get();
  rooms::Encoding enc;
  {
    std::lock_guard<std::mutex> lock(impl->mu);
    auto it = impl->conns.find(pipe);
    if (impl->closed || it == impl->conns.end() || !it->second.ready) {
      return absl::UnavailableError("hub: connection gone");
    }
    enc = it->second.enc;
  }
  std::vector<Message> msgs;
  msgs.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    absl::StatusOr<Message> m = rooms::Encode(
        rooms::MakeEvent(event, payload_for(i, enc == rooms::Encoding::kJson),
                         "", "", 0),
        enc, impl->max_message());
    if (!m.ok()) {
      if (i == 0) return m.status();
      break;  // the ones before it go; it fails on its own next time
    }
    msgs.push_back(*std::move(m));
  }
  bool gone = false;
  const size_t queued = SocketAccess::SendManyTo(*impl->socket, pipe,
                                                 absl::MakeSpan(msgs), &gone);
  if (gone) return absl::UnavailableError("hub: connection gone");
  return queued;
}

absl::Status HubAccess::SendToPipe(
    Hub& hub, uint32_t pipe, std::string_view event,
    const std::function<std::string(bool json)>& payload_for) {
  absl::StatusOr<size_t> sent =
      SendManyToPipe(hub, pipe, event, 1,
                     [&](size_t, bool json) { return payload_for(json); });
  if (!sent.ok()) return sent.status();
  if (*sent == 0) {
    return absl::DeadlineExceededError("hub: the connection's queue is full");
  }
  return absl::OkStatus();
}

absl::Status HubAccess::EmitFor(Hub& hub, std::string_view from,
                                std::string_view client, std::string_view event,
                                std::string_view payload, absl::Time deadline,
                                AckCallback done) {
  if (!done) return absl::InvalidArgumentError("hub: EmitFor without done");
  Hub::Impl* impl = hub.impl_.get();
  absl::StatusOr<uint32_t> id =
      impl->StartEmit(client, event, payload, deadline, std::move(done), from);
  if (!id.ok()) return id.status();
  impl->rt.ArmTimer(*id, deadline);
  return absl::OkStatus();
}

}  // namespace internal
}  // namespace msock
