// msock/protocols/rooms.h: rooms and events (msock's own protocol, not SP).
//
// A Hub serves RoomsClients. Each client has an id (given by the hub, or
// chosen by its connect hook) and is always in the room named after its id.
// Clients ask to join or leave rooms and the hub decides; rooms live in
// namespaces ("/" by default) and vanish with their last member. The hub sends
// named events to one client, to a room (optionally but one client) or to
// everyone; clients cannot address each other, the hub's handlers relay.
// Either side may ask for an acknowledgement: the peer's handler's return value
// (or error) comes back to the caller. The hub runs middleware around its
// handlers. Clients re-dial a lost connection and are told when they are back.
//
// Example:
//   msock::Hub hub;
//   hub.On("say", [&hub](const msock::RoomEvent& ev)
//                     -> absl::StatusOr<std::string> {
//     hub.ToRoom("lobby", "said", ev.payload, ev.ns, ev.client).IgnoreError();
//     return std::string("ok");  // the sender's ack
//   });
//   std::string url = hub.Listen("tcp://127.0.0.1:0").value();
//   msock::RoomsClient alice;
//   alice.On("said", [](const msock::RoomEvent& ev)
//                        -> absl::StatusOr<std::string> { return ""; });
//   absl::Time deadline = absl::Now() + absl::Seconds(5);
//   std::string id = alice.Connect(url, deadline).value();
//   alice.Join("lobby", deadline).IgnoreError();
//   absl::StatusOr<std::string> ack = alice.Emit("say", "hi", deadline);
//
// Wire: one protobuf Envelope (protocols/proto/rooms.proto) per SP message;
// binary on inproc, ipc, tcp and ws binary frames; protobuf's JSON mapping for
// clients whose Hello was JSON (browsers, over ws text frames: set
// opt::kWsText = true on the hub). protocols/rooms/WIRE.md describes it.
//
// Threading: every member is thread-safe. Each Hub and RoomsClient has a
// dispatcher thread that receives and runs the event handlers (and the hub's
// connect and join hooks and middleware) in arrival order, and a callback
// thread for EmitAsync callbacks, OnDisconnect / OnDisconnected /
// OnReconnected and timers. With `threads` = N > 1 the handlers run on N
// threads instead (one client's messages always on the same one, in order;
// the callbacks on them too). No user callback runs on the I/O thread or
// under an internal lock. Acks, welcomes and refusals are matched on the I/O
// thread, so a handler may block in Emit or Join. A handler that blocks holds
// up the other clients of its thread (and once `queue_limit` tasks wait, the
// receiving): give slow work more threads or hand it off. Close() wakes every
// waiting call with kCancelled and waits for running callbacks; calling it
// from a callback is allowed (the destructor then does the waiting).
#ifndef MSOCK_PROTOCOLS_ROOMS_H_
#define MSOCK_PROTOCOLS_ROOMS_H_

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
#include "msock/protocols/role.h"
#include "msock/status.h"

namespace msock {

namespace internal {
class HubAccess;     // protocols/rooms/hub_access.h: topics and services
class ClientAccess;  // protocols/rooms/client_access.h: services
}  // namespace internal

namespace protocols {

// Ids in msock's own range (protocol number 0x7f), not used by SP.
inline constexpr SocketSpec kHub{
    "hub", 0x7f0, 0x7f1, "hub-client", 0, SendMode::kToDest, RecvMode::kAll};
// A client sends with SendTo on its one pipe (kToDest, not kToOne) on purpose:
// kToOne would move messages queued on a lost connection to the next one,
// ahead of that connection's Hello, which the protocol forbids.
inline constexpr SocketSpec kHubClient{
    "hub-client", 0x7f1, 0x7f0, "hub", 1, SendMode::kToDest, RecvMode::kAll};

}  // namespace protocols

inline constexpr std::string_view kDefaultNamespace = "/";

// One event as a handler sees it. Middleware may change it (payload, name).
struct RoomEvent {
  // hub: the sender's id; client: "" (the hub), or the client the hub acts
  // for (the caller of a service this client provides).
  std::string client;
  std::string ns;       // namespace, "/" unless the sender chose one
  std::string name;     // the event name
  std::string room;     // client: the room a ToRoom went to, else ""
  std::string payload;  // raw bytes
  bool wants_ack = false;
  // With wants_ack: how long the sender waits for the ack, if it said so
  // (absl::InfiniteDuration() otherwise).
  absl::Duration timeout = absl::InfiniteDuration();
};

// A handler's value is the acknowledgement (ignored when none was asked for);
// an error status reaches the caller with its code and message. A handler that
// throws answers kInternal "handler threw: <what()>".
using EventHandler =
    std::function<absl::StatusOr<std::string>(const RoomEvent& ev)>;
// Calls the rest of the chain (later middleware, then the handler) and returns
// its result.
using Next = std::function<absl::StatusOr<std::string>()>;
// Runs around the handlers, in the order added: may inspect or rewrite `ev`,
// refuse (return an error without calling next), and see or change the result
// next() returns (the upstream phase).
using Middleware =
    std::function<absl::StatusOr<std::string>(RoomEvent& ev, const Next& next)>;
// Receives the ack of an EmitAsync: the peer's value, its error, or
// kDeadlineExceeded / kUnavailable (peer gone) / kCancelled (Close).
using AckCallback = std::function<void(absl::StatusOr<std::string> ack)>;

// What a client said in its Hello, and what its connection showed.
struct ConnectRequest {
  uint32_t pipe = 0;        // its connection (Socket pipe id)
  std::string want_id;      // "" = no preference
  std::string token;        // opaque credentials
  std::string previous_id;  // "" unless it is reconnecting
  bool json = false;        // it speaks JSON
  // The connection's peer as the admission hook saw it (msock/peer.h): its
  // address, ws Origin and request headers (say "authorization"), ipc
  // credentials, TLS certificate subject.
  PeerInfo peer;
};
// Returns the client's id, or an error to refuse it (the client's Connect
// returns that error; the hub then hangs up). To refuse a connection before
// it may say Hello (a ws client gets a 403), use the hub's SetAdmission
// (msock/peer.h) instead. Example (refuse ws clients without a token):
//   hub.OnConnect([](const msock::ConnectRequest& req)
//                     -> absl::StatusOr<std::string> {
//     const std::string* auth = req.peer.Header("authorization");
//     if (req.peer.transport.starts_with("ws") &&
//         (auth == nullptr || *auth != "Bearer s3cret"))
//       return absl::PermissionDeniedError("no token");
//     return "user" + std::to_string(req.pipe);
//   });
using ConnectHook =
    std::function<absl::StatusOr<std::string>(const ConnectRequest& req)>;

struct JoinRequest {
  std::string client;
  std::string ns;
  std::string room;
};
// OK lets the client in (the hub then calls JoinRoom); an error (say
// absl::PermissionDeniedError("members only")) is what the client's Join
// returns.
using JoinHook = std::function<absl::Status(const JoinRequest& req)>;

// Counters of a Hub or RoomsClient (the socket's own are in stats()).
struct RoomsStats {
  uint64_t events_in = 0;       // events received
  uint64_t events_out = 0;      // events queued (each fan-out copy counts)
  uint64_t bodies_encoded = 0;  // ToRoom / Broadcast bodies built (<= 2 each)
  uint64_t dropped = 0;  // hub: fan-out copies and acks a full pipe missed
  uint64_t acks_timed_out = 0;  // Emits that reached their deadline
  uint64_t acks_late = 0;       // acks nobody waited for any more (dropped)
  uint64_t handler_errors = 0;  // handlers that failed or threw
  uint64_t malformed = 0;       // bad messages from a peer (pipe closed)
  uint64_t refused = 0;         // hub: connections the connect hook refused
  // hub: JSON messages nested deeper than 64 levels, not parsed: an event,
  // join or leave asking for an ack is answered kInvalidArgument, an ack
  // fails the Emit it answers with that; the connection goes on.
  uint64_t too_deep = 0;
  uint64_t reconnects = 0;  // client: welcomes after the first
};

struct HubOptions {
  // 1: handlers run on the dispatcher thread; N > 1: on N handler threads.
  int threads = 1;
  size_t queue_limit = 4096;           // tasks waiting per handler thread
  size_t max_pending_acks = 4096;      // hub -> one client Emits in flight
  size_t max_rooms_per_client = 1024;  // including its own room
  size_t max_name_size = 256;          // ids, room, namespace and event names
  // Deadline of Send without one. (The hub's own answers, acks and welcome,
  // never wait: a client that does not read misses them, counted in dropped.)
  absl::Duration send_timeout = absl::Seconds(1);
  // A connection that has not said Hello by then is closed.
  absl::Duration hello_timeout = absl::Seconds(10);
  // How long a refused client gets to read its Refused before the hub hangs
  // up (closing at once could discard the unwritten Refused).
  absl::Duration refuse_linger = absl::Seconds(1);
};

// The server. Thread-safe. Listen (and Dial: a hub may also dial clients that
// listen) come from the Role base; socket() is for options, stats and
// ClosePipe only (receiving on it would steal the hub's messages).
class MSOCK_EXPORT Hub : public internal::Role {
 public:
  explicit Hub(Context& ctx = Context::Default());
  explicit Hub(const HubOptions& options, Context& ctx = Context::Default());
  ~Hub();  // Close()

  // Hooks and handlers may be set at any time; they apply to messages
  // dispatched afterwards. Each replaces the previous one of its kind.
  // Default connect hook: Hello's previous_id if free, else want_id if free,
  // else a new unique id. A hook returning an id in use takes it over: the
  // older connection is closed. Default join hook: allow.
  void OnConnect(ConnectHook hook);
  void OnJoin(JoinHook hook);
  // Runs (on the callback thread) after a client's connection is gone and it
  // has left every room.
  void OnDisconnect(std::function<void(const std::string& client)> fn);
  // Handler of the events called `event`; replaces an earlier one.
  void On(std::string_view event, EventHandler handler);
  // Handler of every event without its own. Without one such events answer
  // kUnimplemented.
  void Otherwise(EventHandler handler);
  // Appends to the middleware chain (runs in the order added).
  void Use(Middleware middleware);

  // Membership. Errors: kNotFound (no such client), kInvalidArgument (bad or
  // long name), kResourceExhausted (max_rooms_per_client), kFailedPrecondition
  // (closed). Joining twice or leaving a room one is not in is OK.
  [[nodiscard]] absl::Status JoinRoom(std::string_view client,
                                      std::string_view room,
                                      std::string_view ns = kDefaultNamespace);
  [[nodiscard]] absl::Status LeaveRoom(std::string_view client,
                                       std::string_view room,
                                       std::string_view ns = kDefaultNamespace);
  // Sorted snapshots; empty for unknown names.
  std::vector<std::string> Members(
      std::string_view room, std::string_view ns = kDefaultNamespace) const;
  std::vector<std::string> Rooms(std::string_view ns = kDefaultNamespace) const;
  // (namespace, room) pairs the client is in.
  std::vector<std::pair<std::string, std::string>> RoomsOf(
      std::string_view client) const;
  std::vector<std::string> Clients() const;
  // The connection (Socket pipe id) of a client: kNotFound if not connected.
  [[nodiscard]] absl::StatusOr<uint32_t> PipeOf(std::string_view client) const;

  // Sends an event to one client, waiting for room in its queue until the
  // deadline. Errors: kNotFound, kUnavailable (connection gone),
  // kDeadlineExceeded, kResourceExhausted (over the socket's kMaxRecvSize),
  // kInvalidArgument, kFailedPrecondition.
  [[nodiscard]] absl::Status Send(std::string_view client,
                                  std::string_view event,
                                  std::string_view payload,
                                  absl::Time deadline);
  [[nodiscard]] absl::Status Send(std::string_view client,
                                  std::string_view event,
                                  std::string_view payload);
  // Sends to every member of `room` in `ns` but `except` (a client id, "" =
  // none), never waiting: one body per encoding in use, shared by every copy; a
  // member whose queue is full misses it (counted in dropped, like a Pub
  // with kDropNewest). Returns the number of copies queued (0 for an unknown
  // room).
  [[nodiscard]] absl::StatusOr<size_t> ToRoom(
      std::string_view room, std::string_view event, std::string_view payload,
      std::string_view ns = kDefaultNamespace, std::string_view except = "");
  // Sends to every connected client, whatever its namespaces. As ToRoom.
  [[nodiscard]] absl::StatusOr<size_t> Broadcast(std::string_view event,
                                                 std::string_view payload);

  // Sends an event to a client and waits for its ack until the deadline.
  // Returns the client handler's value or error; kDeadlineExceeded (a later ack
  // is dropped and counted in acks_late), kUnavailable (the client left, at
  // once), kResourceExhausted (max_pending_acks in flight to it), kCancelled
  // (Close), and Send's errors.
  [[nodiscard]] absl::StatusOr<std::string> Emit(std::string_view client,
                                                 std::string_view event,
                                                 std::string_view payload,
                                                 absl::Time deadline);
  // The same without waiting: `done` runs once, on the callback thread, with
  // the outcome (at Close: kCancelled, on the thread calling Close). An error
  // returned here means `done` will not run.
  [[nodiscard]] absl::Status EmitAsync(std::string_view client,
                                       std::string_view event,
                                       std::string_view payload,
                                       absl::Time deadline, AckCallback done);

  RoomsStats rooms_stats() const;

  // Closes the socket, wakes every waiting call (kCancelled) and stops the
  // threads after their current callback. Idempotent.
  void Close();

  struct Impl;

 private:
  friend class internal::HubAccess;
  std::shared_ptr<Impl> impl_;
};

struct RoomsClientOptions {
  std::string want_id;  // asked for in Hello
  std::string token;    // given to the hub's connect hook
  bool json = false;    // speak protobuf's JSON mapping instead of binary
  int threads = 1;      // as HubOptions::threads
  size_t queue_limit = 4096;
  size_t max_pending_acks = 4096;  // Emits, Joins and Leaves in flight
  absl::Duration send_timeout = absl::Seconds(1);  // its acks to the hub
};

// A client of one Hub. Thread-safe. It keeps re-dialing (socket back-off
// options) after losing its connection and says Hello again with its previous
// id; OnReconnected then runs so that it can re-join its rooms (the hub forgot
// them when the connection dropped).
class MSOCK_EXPORT RoomsClient : public internal::Role {
 public:
  explicit RoomsClient(Context& ctx = Context::Default());
  explicit RoomsClient(const RoomsClientOptions& options,
                       Context& ctx = Context::Default());
  ~RoomsClient();  // Close()

  // Dials `url` and waits until the hub welcomes this client; returns its id.
  // Errors: the connect hook's refusal (default kPermissionDenied; the client
  // is then closed), kDeadlineExceeded, kInvalidArgument (URL), kCancelled,
  // kFailedPrecondition (closed).
  [[nodiscard]] absl::StatusOr<std::string> Connect(std::string_view url,
                                                    absl::Time deadline);
  // Waits until the client is welcomed (again). Same errors as Connect.
  [[nodiscard]] absl::Status WaitConnected(absl::Time deadline);
  bool connected() const;
  std::string id() const;  // "" before the first welcome

  // Asks the hub to join / leave a room and waits for its answer. Errors: the
  // join hook's refusal (e.g. kPermissionDenied with its reason),
  // kResourceExhausted, kDeadlineExceeded, kUnavailable (connection lost
  // meanwhile), kCancelled, kFailedPrecondition.
  [[nodiscard]] absl::Status Join(std::string_view room, absl::Time deadline,
                                  std::string_view ns = kDefaultNamespace);
  [[nodiscard]] absl::Status Leave(std::string_view room, absl::Time deadline,
                                   std::string_view ns = kDefaultNamespace);

  // Sends an event without asking for an ack. Waits (until the deadline) for a
  // connection and for room in its queue.
  [[nodiscard]] absl::Status Send(std::string_view event,
                                  std::string_view payload, absl::Time deadline,
                                  std::string_view ns = kDefaultNamespace);
  // Sends an event and waits for the hub handler's ack: its value, its error
  // (same code and message), kDeadlineExceeded (a later ack is dropped and
  // counted), kUnavailable (connection lost before the ack),
  // kResourceExhausted (max_pending_acks in flight), kCancelled.
  [[nodiscard]] absl::StatusOr<std::string> Emit(
      std::string_view event, std::string_view payload, absl::Time deadline,
      std::string_view ns = kDefaultNamespace);
  // The same without waiting for the ack; `done` runs once on the callback
  // thread (kCancelled at Close, on the closing thread). On error `done` never
  // runs.
  [[nodiscard]] absl::Status EmitAsync(std::string_view event,
                                       std::string_view payload,
                                       absl::Time deadline, AckCallback done,
                                       std::string_view ns = kDefaultNamespace);

  // Handlers of hub -> client events (same contract as Hub::On).
  void On(std::string_view event, EventHandler handler);
  void Otherwise(EventHandler handler);
  // Runs on the callback thread after each welcome but the first: `same_id` is
  // false when the hub gave a new id.
  void OnReconnected(
      std::function<void(const std::string& id, bool same_id)> fn);
  // Runs on the callback thread when the connection is lost.
  void OnDisconnected(std::function<void()> fn);

  RoomsStats rooms_stats() const;
  void Close();

  struct Impl;

 private:
  friend class internal::ClientAccess;
  std::shared_ptr<Impl> impl_;
};

// Typed payloads: any protobuf message type (anything with SerializeToString
// and ParseFromArray) as an event payload.
template <typename Proto>
std::string ProtoPayload(const Proto& message) {
  std::string out;
  message.SerializeToString(&out);
  return out;
}
// kInvalidArgument if `payload` does not parse as a Proto.
template <typename Proto>
[[nodiscard]] absl::StatusOr<Proto> ParseProtoPayload(
    std::string_view payload) {
  Proto message;
  if (!message.ParseFromArray(payload.data(),
                              static_cast<int>(payload.size()))) {
    return absl::InvalidArgumentError("payload is not a valid " +
                                      message.GetTypeName());
  }
  return message;
}
// A handler taking a parsed Proto: fn(const RoomEvent&, const Proto&) returns
// absl::StatusOr<std::string> (use ProtoPayload for a typed answer). A payload
// that does not parse answers kInvalidArgument.
template <typename Proto, typename Fn>
EventHandler ProtoHandler(Fn fn) {
  return
      [fn = std::move(fn)](const RoomEvent& ev) -> absl::StatusOr<std::string> {
        absl::StatusOr<Proto> message = ParseProtoPayload<Proto>(ev.payload);
        if (!message.ok()) return message.status();
        return fn(ev, *message);
      };
}

}  // namespace msock

#endif  // MSOCK_PROTOCOLS_ROOMS_H_
