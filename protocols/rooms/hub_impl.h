// Hub::Impl: the state behind a Hub. Connections and membership sit under mu;
// the set of live pipes under live_mu (the receive filter runs under the
// socket's lock and takes only that one); handlers, acks and threads have
// their own locks. Lock order: mu -> the socket's lock -> live_mu (the
// Welcome is queued with a non-blocking SendTo under mu, so that no event
// overtakes it). No user callback runs and no call blocks while mu is held.
#ifndef MSOCK_PROTOCOLS_ROOMS_HUB_IMPL_H_
#define MSOCK_PROTOCOLS_ROOMS_HUB_IMPL_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "msock/protocols/rooms.h"
#include "protocols/rooms/codec.h"
#include "protocols/rooms/handlers.h"
#include "protocols/rooms/hub_access.h"
#include "protocols/rooms/room_table.h"
#include "protocols/rooms/runtime.h"

namespace msock {

struct Hub::Impl {
  // One connection (pipe) that has spoken.
  struct Conn {
    enum class State { kGreeting, kWelcomed, kRefused, kReplaced };
    State state = State::kGreeting;
    internal::rooms::Encoding enc = internal::rooms::Encoding::kBinary;
    std::string id;      // kWelcomed
    bool ready = false;  // its Welcome is queued: events may follow
  };
  using Target = std::pair<uint32_t, internal::rooms::Encoding>;

  Impl(const HubOptions& options, Socket* socket);

  void Close();

  // ---- dispatch (hub_dispatch.cc) ----
  // The receive filter (I/O thread, under the socket's lock): notes the pipe
  // as alive and matches acks at once, so that no handler, however slow,
  // stands between an ack and the Emit waiting for it.
  internal::RecvVerdict Filter(Message& m);
  void OnAck(uint32_t pipe, msock::rooms::Ack* ack);
  // Completes the hub's Emit `id` to `pipe` (no-op for 0 or unknown ids).
  void CompleteAck(uint32_t pipe, uint32_t id,
                   absl::StatusOr<std::string> result);
  // A message nested too deep to parse (json_depth.h): answered where it has
  // an id, counted; only an unreadable Hello closes the connection.
  void TooDeepInput(uint32_t pipe, const internal::rooms::TooDeep& deep,
                    const absl::Status& why);
  void DispatchLoop();
  void Handle(uint32_t pipe, internal::rooms::Encoding enc,
              msock::rooms::Envelope& env);
  void HandleHello(uint32_t pipe, internal::rooms::Encoding enc,
                   const msock::rooms::Hello& hello);
  // The steps of HandleHello, in order. AdmitHello: records a new connection
  // and returns true; false to ignore the Hello (closed, pipe gone, refused
  // or replaced), after hanging up on a second Hello of a welcomed client.
  bool AdmitHello(uint32_t pipe, internal::rooms::Encoding enc);
  // The id the user's connect hook chose (checked), its error, or "" when
  // there is no hook (a hook's id is never empty: CheckName refuses it).
  absl::StatusOr<std::string> RunConnectHook(const ConnectRequest& req);
  // Marks the connection refused, answers Refused, hangs up after a linger.
  void RefuseHello(uint32_t pipe, internal::rooms::Encoding enc,
                   const absl::Status& why);
  // Under mu: registers the client (`hook_id`, or a default id when empty),
  // replacing an older connection of the same id, queues its Welcome and
  // marks it ready. Returns the replaced pipe, or 0.
  uint32_t WelcomeClient(uint32_t pipe, internal::rooms::Encoding enc,
                         const ConnectRequest& req, const std::string& hook_id);
  // Fails the acks owed by a replaced connection and hangs up on it (not
  // under mu).
  void DropReplaced(uint32_t replaced);
  void HandleRoom(uint32_t pipe, uint32_t req, const std::string& room,
                  const std::string& ns, bool leave);
  void HandleEvent(uint32_t pipe, msock::rooms::Event& event);
  void PipeAdded(uint32_t pipe);
  void PipeRemoved(uint32_t pipe);
  // A peer broke the protocol: count it and hang up on it.
  void Malformed(uint32_t pipe);
  // The welcomed client on `pipe`, or "" (and a pipe that has not said Hello
  // yet is hung up on: it broke the protocol).
  std::string ClientOn(uint32_t pipe, internal::rooms::Encoding* enc);
  // A free id for the default connect hook (mu held).
  std::string DefaultId(const ConnectRequest& req);

  // ---- sending (hub.cc) ----
  absl::Status SendEnvelope(uint32_t pipe, internal::rooms::Encoding enc,
                            const msock::rooms::Envelope& env,
                            absl::Time deadline);
  // The hub's own answers (Welcome, Refused, acks) never wait. They may pass
  // the client's send queue limits by kReplyReserveBytes (and
  // internal::kReplyReserveMessages), which fan-outs never use: a queue that
  // a room's flood filled still takes them. A client that does not read at
  // all fills that margin too, and then misses them (counted in dropped)
  // rather than holding up the dispatcher and so every other client.
  static constexpr size_t kReplyReserveBytes = 64 * 1024;
  absl::Status Reply(uint32_t pipe, internal::rooms::Encoding enc,
                     const msock::rooms::Envelope& env);
  absl::StatusOr<size_t> FanOut(const std::vector<Target>& targets,
                                const msock::rooms::Envelope& env);
  // The same with an envelope per encoding, made on first use.
  absl::StatusOr<size_t> FanOut(
      const std::vector<Target>& targets,
      const std::function<msock::rooms::Envelope(internal::rooms::Encoding)>&
          env_for,
      std::vector<uint32_t>* full = nullptr);  // pipes whose queue was full
  // The ready connections of the members of `room` in `ns` but `except`.
  absl::StatusOr<std::vector<Target>> RoomTargets(const std::string& ns,
                                                  std::string_view room,
                                                  std::string_view except);
  // Sends an event asking for an ack (`done` null: the caller will Wait).
  // Returns the ack id.
  absl::StatusOr<uint32_t> StartEmit(std::string_view client,
                                     std::string_view event,
                                     std::string_view payload,
                                     absl::Time deadline, AckCallback done,
                                     std::string_view from = "");
  // The system handler for `name` (see hub_access.h), or null.
  internal::SystemHandler SystemFor(std::string_view name);
  // The Responder answering ack `ack` (0: nobody) on `pipe`.
  internal::Responder MakeResponder(uint32_t pipe,
                                    internal::rooms::Encoding enc,
                                    uint32_t ack);
  // The ready connection of `client`. kNotFound / kUnavailable /
  // kFailedPrecondition.
  absl::StatusOr<Target> Lookup(std::string_view client) const;
  absl::Status Membership(std::string_view client, std::string_view room,
                          std::string_view ns, bool leave, uint32_t only_pipe);
  size_t max_message() const;

  const HubOptions opts;
  // threads <= 1: handlers run on the dispatcher thread itself (no hand-off);
  // the executor's one thread then runs timers and callbacks only.
  const bool inline_handlers;
  Socket* const socket;
  internal::rooms::Handlers handlers;
  internal::rooms::Runtime rt;  // acks, dispatcher, executor

  std::mutex hooks_mu;  // guards the three hooks
  ConnectHook connect_hook;
  JoinHook join_hook;
  std::function<void(const std::string&)> disconnect_hook;
  absl::flat_hash_map<std::string, internal::SystemHandler> system;
  absl::flat_hash_map<uint64_t, std::function<void(const std::string&)>>
      disconnect_listeners;
  uint64_t next_listener = 1;
  std::weak_ptr<Impl> self;  // for answers sent after the handler returned

  mutable std::mutex mu;
  bool closed = false;
  absl::flat_hash_map<uint32_t, Conn> conns;
  absl::flat_hash_map<std::string, uint32_t> by_id;  // welcomed clients
  internal::rooms::RoomTable rooms;
  uint64_t next_client = 1;

  std::mutex live_mu;
  absl::flat_hash_set<uint32_t> live;  // attached pipes that have sent

  std::atomic<uint64_t> events_in{0}, events_out{0}, bodies_encoded{0},
      dropped{0}, handler_errors{0}, malformed{0}, refused{0}, too_deep{0};
};

}  // namespace msock

#endif  // MSOCK_PROTOCOLS_ROOMS_HUB_IMPL_H_
