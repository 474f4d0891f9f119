// HubServices: the hub's side of services. Keeps the provider table (per
// name: the hub's own handler and the client providers in registration
// order), answers "_svc/provide" and "_svc/withdraw", and routes each
// "_call/<name>" to the hub's handler or the next provider in turn
// ("_serve/<name>" emitted for the caller), mapping every outcome to the one
// answer the caller gets. Locking: mu guards the table; no call out (emit,
// handler, reply) happens under it.
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "msock/protocols/services.h"
#include "protocols/rooms/codec.h"
#include "protocols/rooms/hub_access.h"
#include "protocols/rooms/runtime.h"

namespace msock {

using internal::HubAccess;
using internal::SystemCall;

constexpr std::string_view kCallPrefix = "_call/";
constexpr std::string_view kServicePrefix = "_svc/";
constexpr std::string_view kServePrefix = "_serve/";

absl::Status CheckServiceName(std::string_view name, size_t max_size) {
  if (name.empty()) return absl::InvalidArgumentError("empty service name");
  if (name.size() > max_size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "service name of ", name.size(), " bytes (limit ", max_size, ")"));
  }
  if (!internal::rooms::IsUtf8(name)) {
    return absl::InvalidArgumentError("service name is not UTF-8");
  }
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      return absl::InvalidArgumentError("service name has a control character");
    }
  }
  return absl::OkStatus();
}

struct HubServices::State : std::enable_shared_from_this<State> {
  struct Provider {
    std::string client;
    uint32_t pipe;  // the connection it provided on
  };
  struct Service {
    ServiceHandler hub_handler;
    std::vector<Provider> providers;  // registration order
    size_t next = 0;                  // whose turn it is
  };
  // Who answers one call: the hub's handler, or a provider.
  struct Route {
    ServiceHandler hub_handler;
    Provider provider;
  };

  State(Hub& h, const HubServicesOptions& o) : hub(h), opts(o) {}

  void OnCall(SystemCall call);
  void OnServiceRequest(SystemCall call);
  absl::Status AddProvider(const std::string& name, const std::string& client,
                           uint32_t pipe);
  void RemoveProvider(const std::string& name, const std::string& client);
  void RemoveProviderLocked(const std::string& name, const std::string& client);
  void ClientGone(const std::string& client);
  // The call's route, or kNotFound.
  absl::StatusOr<Route> Pick(const std::string& name);
  void Forward(SystemCall call, const std::string& name, const Provider& p,
               absl::Time deadline);
  // Counts and passes on a hub handler's or provider's answer.
  void Answer(const internal::Responder& reply,
              absl::StatusOr<std::string> result);

  Hub& hub;
  const HubServicesOptions opts;
  uint64_t listener = 0;

  mutable std::mutex mu;
  std::map<std::string, Service> services;   // guarded by mu
  std::map<std::string, size_t> per_client;  // guarded by mu: names provided

  std::atomic<uint64_t> calls{0}, answered{0}, not_found{0}, provider_gone{0},
      timed_out{0}, handler_errors{0};
};

HubServices::HubServices(Hub& hub, const HubServicesOptions& options)
    : state_(std::make_shared<State>(hub, options)) {
  std::weak_ptr<State> weak = state_;
  HubAccess::SetSystemHandler(hub, std::string(kCallPrefix),
                              [weak](SystemCall call) {
                                if (auto s = weak.lock()) {
                                  s->OnCall(std::move(call));
                                }
                              });
  HubAccess::SetSystemHandler(hub, std::string(kServicePrefix),
                              [weak](SystemCall call) {
                                if (auto s = weak.lock()) {
                                  s->OnServiceRequest(std::move(call));
                                }
                              });
  state_->listener =
      HubAccess::AddDisconnectListener(hub, [weak](const std::string& client) {
        if (auto s = weak.lock()) s->ClientGone(client);
      });
}

HubServices::~HubServices() {
  HubAccess::SetSystemHandler(state_->hub, std::string(kCallPrefix), nullptr);
  HubAccess::SetSystemHandler(state_->hub, std::string(kServicePrefix),
                              nullptr);
  HubAccess::RemoveDisconnectListener(state_->hub, state_->listener);
}

absl::Status HubServices::Provide(std::string_view name,
                                  ServiceHandler handler) {
  MSOCK_RETURN_IF_ERROR(CheckServiceName(name, state_->opts.max_name_size));
  if (!handler) return absl::InvalidArgumentError("services: null handler");
  std::lock_guard<std::mutex> lock(state_->mu);
  state_->services[std::string(name)].hub_handler = std::move(handler);
  return absl::OkStatus();
}

void HubServices::Withdraw(std::string_view name) {
  ServiceHandler old;  // destroyed after unlocking
  std::lock_guard<std::mutex> lock(state_->mu);
  auto it = state_->services.find(std::string(name));
  if (it == state_->services.end()) return;
  old = std::move(it->second.hub_handler);
  it->second.hub_handler = nullptr;
  if (it->second.providers.empty()) state_->services.erase(it);
}

std::vector<ServiceInfo> HubServices::List() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  std::vector<ServiceInfo> out;
  for (const auto& [name, svc] : state_->services) {
    ServiceInfo info;
    info.name = name;
    info.hub = static_cast<bool>(svc.hub_handler);
    for (const auto& p : svc.providers) info.providers.push_back(p.client);
    out.push_back(std::move(info));
  }
  return out;
}

ServicesStats HubServices::stats() const {
  const State& s = *state_;
  ServicesStats out;
  out.calls = s.calls.load();
  out.answered = s.answered.load();
  out.not_found = s.not_found.load();
  out.provider_gone = s.provider_gone.load();
  out.timed_out = s.timed_out.load();
  out.handler_errors = s.handler_errors.load();
  return out;
}

void HubServices::State::OnCall(SystemCall call) {
  const std::string name = call.ev.name.substr(kCallPrefix.size());
  absl::Status valid = CheckServiceName(name, opts.max_name_size);
  if (!valid.ok()) {
    call.reply(valid);
    return;
  }
  calls++;
  const absl::Duration wait = std::min(call.ev.timeout, opts.max_call_timeout);
  const absl::Time deadline = absl::Now() + wait;
  absl::StatusOr<Route> route = Pick(name);
  if (!route.ok()) {
    not_found++;
    call.reply(route.status());
    return;
  }
  if (!route->hub_handler) {
    Forward(std::move(call), name, route->provider, deadline);
    return;
  }
  // The hub's own handler runs here, on the caller's handler thread.
  const ServiceCall sc{call.ev.client, name, std::move(call.ev.payload), wait};
  absl::StatusOr<std::string> result = internal::rooms::Guarded(
      "service handler", [&] { return route->hub_handler(sc); });
  if (absl::Now() > deadline) {
    timed_out++;  // the caller has stopped waiting: nobody reads it
    call.reply(absl::DeadlineExceededError(
        absl::StrCat("service \"", name, "\" did not answer in time")));
    return;
  }
  Answer(call.reply, std::move(result));
}

absl::StatusOr<HubServices::State::Route> HubServices::State::Pick(
    const std::string& name) {
  std::lock_guard<std::mutex> lock(mu);
  auto it = services.find(name);
  if (it != services.end()) {
    Service& svc = it->second;
    if (svc.hub_handler) return Route{svc.hub_handler, {}};
    if (!svc.providers.empty()) {
      const size_t i = svc.next % svc.providers.size();
      svc.next = i + 1;
      return Route{nullptr, svc.providers[i]};
    }
  }
  return absl::NotFoundError(
      absl::StrCat("no provider of service \"", name, "\""));
}

void HubServices::State::Forward(SystemCall call, const std::string& name,
                                 const Provider& p, absl::Time deadline) {
  auto gone = [name] {
    return absl::UnavailableError(
        absl::StrCat("provider of \"", name, "\" went away"));
  };
  absl::StatusOr<uint32_t> pipe = hub.PipeOf(p.client);
  if (!pipe.ok()) {
    provider_gone++;
    call.reply(gone());
    return;
  }
  std::shared_ptr<State> self = shared_from_this();
  internal::Responder reply = call.reply;
  const std::string provider = p.client;
  absl::Status sent = HubAccess::EmitFor(
      hub, call.ev.client, provider, std::string(kServePrefix) + name,
      call.ev.payload, deadline,
      [self, reply, name, provider, pipe = *pipe, deadline,
       gone](absl::StatusOr<std::string> ack) {
        if (absl::IsDeadlineExceeded(ack.status()) && absl::Now() >= deadline) {
          self->timed_out++;  // the hub's ack table drops a later answer
          reply(absl::DeadlineExceededError(
              absl::StrCat("service \"", name, "\" did not answer in time")));
          return;
        }
        if (absl::IsUnavailable(ack.status())) {
          absl::StatusOr<uint32_t> now = self->hub.PipeOf(provider);
          if (!now.ok() || *now != pipe) {
            self->provider_gone++;
            reply(gone());
            return;
          }
        }
        // The hub closing (or the provider's own kCancelled): as is.
        if (absl::IsCancelled(ack.status())) {
          reply(ack.status());
          return;
        }
        self->Answer(reply, std::move(ack));
      });
  if (!sent.ok()) {
    if (absl::IsNotFound(sent) || absl::IsUnavailable(sent)) {
      provider_gone++;
      call.reply(gone());
    } else {
      call.reply(sent);  // kResourceExhausted, kInvalidArgument (long name)
    }
  }
}

void HubServices::State::Answer(const internal::Responder& reply,
                                absl::StatusOr<std::string> result) {
  if (result.ok()) {
    answered++;
  } else {
    handler_errors++;
  }
  reply(std::move(result));
}

void HubServices::State::OnServiceRequest(SystemCall call) {
  const std::string& what = call.ev.name;
  const std::string& name = call.ev.payload;
  absl::Status valid = CheckServiceName(name, opts.max_name_size);
  if (!valid.ok()) {
    call.reply(valid);
    return;
  }
  if (what == "_svc/provide") {
    absl::Status added = AddProvider(name, call.ev.client, call.pipe);
    if (added.ok()) {
      call.reply(std::string());
    } else {
      call.reply(added);
    }
  } else if (what == "_svc/withdraw") {
    RemoveProvider(name, call.ev.client);
    call.reply(std::string());
  } else {
    call.reply(absl::InvalidArgumentError(
        absl::StrCat("unknown services request \"", what, "\"")));
  }
}

absl::Status HubServices::State::AddProvider(const std::string& name,
                                             const std::string& client,
                                             uint32_t pipe) {
  std::lock_guard<std::mutex> lock(mu);
  auto it = services.find(name);
  if (it != services.end()) {
    for (Provider& p : it->second.providers) {
      if (p.client == client) {  // again (say after a reconnect): keep turn
        p.pipe = pipe;
        return absl::OkStatus();
      }
    }
    if (it->second.providers.size() >= opts.max_providers_per_service) {
      return absl::ResourceExhaustedError(
          absl::StrCat("service \"", name, "\" has ",
                       opts.max_providers_per_service, " providers already"));
    }
  }
  size_t& count = per_client[client];
  if (count >= opts.max_services_per_client) {
    if (count == 0) per_client.erase(client);
    return absl::ResourceExhaustedError(absl::StrCat(
        "client provides ", opts.max_services_per_client, " services already"));
  }
  ++count;
  services[name].providers.push_back(Provider{client, pipe});
  return absl::OkStatus();
}

void HubServices::State::RemoveProvider(const std::string& name,
                                        const std::string& client) {
  std::lock_guard<std::mutex> lock(mu);
  RemoveProviderLocked(name, client);
}

void HubServices::State::RemoveProviderLocked(const std::string& name,
                                              const std::string& client) {
  auto it = services.find(name);
  if (it == services.end()) return;
  Service& svc = it->second;
  for (size_t i = 0; i < svc.providers.size(); ++i) {
    if (svc.providers[i].client != client) continue;
    svc.providers.erase(svc.providers.begin() + static_cast<ptrdiff_t>(i));
    if (i < svc.next) --svc.next;  // the turn stays with the same provider
    auto c = per_client.find(client);
    if (c != per_client.end() && --c->second == 0) per_client.erase(c);
    break;
  }
  if (svc.providers.empty() && !svc.hub_handler) services.erase(it);
}

void HubServices::State::ClientGone(const std::string& client) {
  // The client may be back already, on a new connection, and may have
  // provided again from there: keep what that connection provided.
  absl::StatusOr<uint32_t> now = hub.PipeOf(client);
  std::lock_guard<std::mutex> lock(mu);
  std::vector<std::string> stale;
  for (const auto& [name, svc] : services) {
    for (const Provider& p : svc.providers) {
      if (p.client == client && (!now.ok() || p.pipe != *now)) {
        stale.push_back(name);
      }
    }
  }
  for (const std::string& name : stale) RemoveProviderLocked(name, client);
}

}  // namespace msock
