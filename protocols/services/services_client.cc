// ServicesClient: a client's side of services. Calls are "_call/<name>"
// emits (the deadline travels in the event); a provided service is a
// "_serve/<name>" handler on the RoomsClient plus a "_svc/provide" to the
// hub, sent again after every reconnect (the hub forgets a client's services
// when its connection drops).
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "msock/protocols/services.h"
#include "protocols/rooms/client_access.h"

namespace msock {

using internal::ClientAccess;

namespace {

constexpr std::string_view kServePrefix = "_serve/";
constexpr size_t kNameLimit = HubServicesOptions().max_name_size;

// (absl::StrCat takes Debian Abseil's own string_view, not std's.)
std::string Prefixed(std::string_view prefix, std::string_view name) {
  return std::string(prefix).append(name);
}

EventHandler ServeHandler(std::string name, ServiceHandler handler) {
  return [name = std::move(name), handler = std::move(handler)](
             const RoomEvent& ev) -> absl::StatusOr<std::string> {
    return handler(ServiceCall{ev.client, name, ev.payload, ev.timeout});
  };
}

}  // namespace

struct ServicesClient::State {
  explicit State(RoomsClient& c) : client(c) {}

  // After a reconnect: provides everything again, not waiting for answers.
  void ProvideAgain();

  RoomsClient& client;
  uint64_t listener = 0;
  std::mutex mu;
  std::map<std::string, ServiceHandler> provided;  // guarded by mu
};

ServicesClient::ServicesClient(RoomsClient& client)
    : state_(std::make_shared<State>(client)) {
  std::weak_ptr<State> weak = state_;
  state_->listener = ClientAccess::AddReconnectListener(
      client, [weak](const std::string&, bool) {
        if (auto s = weak.lock()) s->ProvideAgain();
      });
}

ServicesClient::~ServicesClient() {
  ClientAccess::RemoveReconnectListener(state_->client, state_->listener);
  std::map<std::string, ServiceHandler> provided;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    provided.swap(state_->provided);
  }
  const bool tell = state_->client.connected();
  for (const auto& [name, handler] : provided) {
    state_->client.On(Prefixed(kServePrefix, name), nullptr);
    // Best effort, no answer asked: a hub that misses it forgets the
    // service when the connection drops, and a call meanwhile answers
    // kUnimplemented.
    if (tell) {
      state_->client
          .Send("_svc/withdraw", name, absl::Now() + absl::Milliseconds(200))
          .IgnoreError();
    }
  }
}

void ServicesClient::State::ProvideAgain() {
  std::vector<std::string> names;
  {
    std::lock_guard<std::mutex> lock(mu);
    for (const auto& [name, handler] : provided) names.push_back(name);
  }
  for (const std::string& name : names) {
    client
        .EmitAsync("_svc/provide", name, absl::Now() + absl::Seconds(10),
                   [](absl::StatusOr<std::string>) {})
        .IgnoreError();
  }
}

absl::Status ServicesClient::Provide(std::string_view name,
                                     ServiceHandler handler,
                                     absl::Time deadline) {
  MSOCK_RETURN_IF_ERROR(CheckServiceName(name, kNameLimit));
  if (!handler) return absl::InvalidArgumentError("services: null handler");
  const std::string key(name);
  const std::string event = Prefixed(kServePrefix, name);
  ServiceHandler before;
  {
    // Recorded first: a reconnect from now on provides it again.
    std::lock_guard<std::mutex> lock(state_->mu);
    ServiceHandler& slot = state_->provided[key];
    before = std::exchange(slot, handler);
  }
  state_->client.On(event, ServeHandler(key, handler));
  absl::StatusOr<std::string> told =
      state_->client.Emit("_svc/provide", name, deadline);
  if (told.ok()) return absl::OkStatus();
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    if (before) {
      state_->provided[key] = before;
    } else {
      state_->provided.erase(key);
    }
  }
  state_->client.On(event, before ? ServeHandler(key, before) : nullptr);
  return told.status();
}

absl::Status ServicesClient::Withdraw(std::string_view name,
                                      absl::Time deadline) {
  MSOCK_RETURN_IF_ERROR(CheckServiceName(name, kNameLimit));
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->provided.erase(std::string(name));
  }
  state_->client.On(Prefixed(kServePrefix, name), nullptr);
  return state_->client.Emit("_svc/withdraw", name, deadline).status();
}

absl::StatusOr<std::string> ServicesClient::Call(std::string_view name,
                                                 std::string_view args,
                                                 absl::Time deadline) {
  MSOCK_RETURN_IF_ERROR(CheckServiceName(name, kNameLimit));
  return state_->client.Emit(Prefixed("_call/", name), args, deadline);
}

absl::Status ServicesClient::CallAsync(std::string_view name,
                                       std::string_view args,
                                       absl::Time deadline, AckCallback done) {
  MSOCK_RETURN_IF_ERROR(CheckServiceName(name, kNameLimit));
  return state_->client.EmitAsync(Prefixed("_call/", name), args, deadline,
                                  std::move(done));
}

std::vector<std::string> ServicesClient::Provided() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  std::vector<std::string> out;
  for (const auto& [name, handler] : state_->provided) out.push_back(name);
  return out;
}

}  // namespace msock
