// msock/protocols/services.h: services on a Hub: named functions that a
// client (or the hub itself) provides and any client calls, with exactly one
// answer per call.
//
// A HubServices on a Hub keeps the table of providers and routes each call.
// A ServicesClient on a RoomsClient provides services and calls them. Calls
// travel as rooms events ("_call/<name>", "_svc/provide", "_serve/<name>";
// protocols/rooms/WIRE.md), so they work over every transport the hub
// listens on and from JSON (browser) clients.
//
// Every call gets one answer: the provider's value, the provider's error (same
// code and message), kNotFound (no provider), kUnavailable (the provider went
// away mid-call; at once, not at the deadline), kDeadlineExceeded (a later
// answer is dropped), kResourceExhausted (limits), kInvalidArgument (bad
// name), or the rooms client's own errors (kUnavailable when the connection
// to the hub is lost, kCancelled at Close).
//
// Example:
//   msock::Hub hub;
//   msock::HubServices services(hub);
//   std::string url = hub.Listen("tcp://127.0.0.1:0").value();
//   absl::Time deadline = absl::Now() + absl::Seconds(5);
//
//   msock::RoomsClient provider_conn;
//   provider_conn.Connect(url, deadline).IgnoreError();
//   msock::ServicesClient provider(provider_conn);
//   provider.Provide("wrap", [](const msock::ServiceCall& call)
//                        -> absl::StatusOr<std::string> {
//     return "<" + call.args + ">";  // the caller's answer
//   }, deadline).IgnoreError();
//
//   msock::RoomsClient caller_conn;
//   caller_conn.Connect(url, deadline).IgnoreError();
//   msock::ServicesClient caller(caller_conn);
//   absl::StatusOr<std::string> got = caller.Call("wrap", "hi", deadline);
//   // got == "<hi>"
//
// Threading: every member is thread-safe. A client-provided handler runs on
// its RoomsClient's handler thread (RoomsClientOptions::threads); a
// hub-provided one on the hub handler thread of the calling client.
#ifndef MSOCK_PROTOCOLS_SERVICES_H_
#define MSOCK_PROTOCOLS_SERVICES_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "msock/export.h"
#include "msock/protocols/rooms.h"

namespace msock {

// One call as its provider sees it.
struct ServiceCall {
  std::string caller;   // the calling client's id
  std::string service;  // the service name
  std::string args;     // the argument bytes
  // How long the caller still waits (the hub caps it at max_call_timeout).
  absl::Duration timeout = absl::InfiniteDuration();
};

// Returns the caller's answer, or an error that reaches the caller with its
// code and message. A handler that throws answers kInternal.
using ServiceHandler =
    std::function<absl::StatusOr<std::string>(const ServiceCall& call)>;

// A handler taking a parsed Proto argument: fn(const ServiceCall&, const
// Proto&) returns absl::StatusOr<std::string> (use ProtoPayload for a typed
// answer). Arguments that do not parse answer kInvalidArgument.
template <typename Proto, typename Fn>
ServiceHandler ProtoService(Fn fn) {
  return [fn = std::move(fn)](
             const ServiceCall& call) -> absl::StatusOr<std::string> {
    absl::StatusOr<Proto> message = ParseProtoPayload<Proto>(call.args);
    if (!message.ok()) return message.status();
    return fn(call, *message);
  };
}

// kOk if `name` can name a service: 1 to `max_size` bytes of UTF-8 without
// control characters; else kInvalidArgument saying why.
MSOCK_EXPORT absl::Status CheckServiceName(std::string_view name,
                                           size_t max_size = 256);

struct HubServicesOptions {
  // A call that gives no timeout, or a longer one, waits at most this long.
  absl::Duration max_call_timeout = absl::Seconds(30);
  size_t max_services_per_client = 64;
  size_t max_providers_per_service = 64;
  // Names must also fit the hub's event names: with the hub's default limit
  // (256) that leaves 249 bytes ("_serve/" + name); a longer one is refused
  // (kInvalidArgument) by the rooms layer.
  size_t max_name_size = 256;
};

struct ServicesStats {
  uint64_t calls = 0;           // calls received (valid names)
  uint64_t answered = 0;        // answered with a value
  uint64_t not_found = 0;       // no provider
  uint64_t provider_gone = 0;   // the provider left mid-call
  uint64_t timed_out = 0;       // no answer before the deadline
  uint64_t handler_errors = 0;  // the provider answered an error
};

// One service and who provides it.
struct ServiceInfo {
  std::string name;
  bool hub = false;  // the hub provides it (HubServices::Provide)
  std::vector<std::string> providers;  // client ids, in registration order
};

// The hub's side: the provider table and the routing. Construct it on a Hub
// that outlives it. It installs the "_call/" and "_svc/" system events and a
// disconnect listener; the destructor removes them (calls already forwarded
// still get their answer, or the hub's kCancelled at Close). One per Hub: a
// second one would take the system events over. Thread-safe.
//
// Routing of a call to `name`: if the hub provides `name` itself, its handler
// answers, always; else the client providers of `name` take turns (round
// robin, in registration order; a provider that withdraws or leaves drops out
// of the turn).
class MSOCK_EXPORT HubServices {
 public:
  explicit HubServices(
      Hub& hub, const HubServicesOptions& options = HubServicesOptions());
  ~HubServices();
  HubServices(const HubServices&) = delete;
  HubServices& operator=(const HubServices&) = delete;

  // The hub provides `name`: `handler` runs on the hub handler thread of the
  // calling client (so it holds up that client's later events: hand slow work
  // off) with ServiceCall::caller set. Replaces an earlier hub handler of the
  // name. Errors: kInvalidArgument (bad name or null handler).
  [[nodiscard]] absl::Status Provide(std::string_view name,
                                     ServiceHandler handler);
  // Removes the hub's own handler of `name` (no-op if none).
  void Withdraw(std::string_view name);

  // Every service with at least one provider, sorted by name.
  std::vector<ServiceInfo> List() const;
  ServicesStats stats() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

// A client's side, on a connected (or connecting) RoomsClient that outlives
// it. Thread-safe; many calls may be in flight from many threads.
class MSOCK_EXPORT ServicesClient {
 public:
  explicit ServicesClient(RoomsClient& client);
  // Stops providing (handlers are removed; the hub forgets them when told, or
  // when the connection drops).
  ~ServicesClient();
  ServicesClient(const ServicesClient&) = delete;
  ServicesClient& operator=(const ServicesClient&) = delete;

  // Provides `name` through this client: installs the handler (as the rooms
  // event "_serve/<name>") and tells the hub, waiting for its answer. Kept
  // across reconnects: after each one the client provides its services
  // again. Providing a name again replaces the handler. Errors: the hub's
  // kResourceExhausted (limits) or kInvalidArgument (bad name), and Emit's.
  // On error the handler is not kept.
  [[nodiscard]] absl::Status Provide(std::string_view name,
                                     ServiceHandler handler,
                                     absl::Time deadline);
  // Stops providing `name` and tells the hub. Only this client's own
  // registration is withdrawn. Errors: Emit's.
  [[nodiscard]] absl::Status Withdraw(std::string_view name,
                                      absl::Time deadline);

  // Calls `name` with `args` and waits for the one answer (see the file
  // comment for the errors). The deadline travels with the call.
  [[nodiscard]] absl::StatusOr<std::string> Call(std::string_view name,
                                                 std::string_view args,
                                                 absl::Time deadline);
  // The same without waiting: `done` runs once, on the rooms client's
  // callback thread. On an error returned here `done` never runs.
  [[nodiscard]] absl::Status CallAsync(std::string_view name,
                                       std::string_view args,
                                       absl::Time deadline, AckCallback done);

  // The names this client provides, sorted.
  std::vector<std::string> Provided() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace msock

#endif  // MSOCK_PROTOCOLS_SERVICES_H_
