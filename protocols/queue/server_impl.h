// QueueServer::Impl: the queue server's state. Requests ("_q/..." system
// events of the hub it runs) go to the store; what the store answers after
// its commit is delivered to the sessions (one per logged-in node): a window
// of entries in flight, redelivered with back-off until acknowledged.
// server.cc has the requests, delivery.cc the sessions.
//
// Threads: request handlers run on the hub's handler threads, store answers
// on the store's writer thread, ticks on the hub's callback thread. `mu`
// guards the sessions; nothing waits under it (sends to pipes never block,
// store calls only queue work).
#ifndef MSOCK_PROTOCOLS_QUEUE_SERVER_IMPL_H_
#define MSOCK_PROTOCOLS_QUEUE_SERVER_IMPL_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "msock/protocols/queue.h"
#include "protocols/proto/queue.pb.h"
#include "protocols/queue/store.h"
#include "protocols/rooms/hub_access.h"
#include "protocols/topics/change.h"

namespace msock {

namespace q = internal::queue;
namespace qpb = ::msock::queue;

struct QueueServer::Impl : std::enable_shared_from_this<QueueServer::Impl> {
  // One entry sent and not yet acknowledged.
  struct InFlight {
    q::QueuedEntry entry;
    absl::Time due;  // redelivered (or dead) then
  };
  // One logged-in node.
  struct Session {
    q::NodeKey node;
    std::string client;
    uint32_t pipe = 0;
    bool json = false;
    uint32_t window = 1;
    uint64_t serial = 0;               // which login this is
    std::deque<q::QueuedEntry> ready;  // loaded, not sent yet (id order)
    std::map<uint64_t, InFlight> in_flight;
    // Acked by the node, the ack not durable yet: out of the window (the
    // next entries go out meanwhile), neither redelivered nor loaded again;
    // back in flight should the ack fail. An id the session does not hold
    // is kept here (without an entry) only while a load is on its way, which
    // may have read it before the ack commits.
    absl::flat_hash_map<uint64_t, std::optional<InFlight>> acking;
    uint64_t loaded_to = 0;  // highest id loaded or handed over
    bool loading = false;    // a Load is on its way
    bool more = true;        // the store may hold entries above loaded_to
  };

  Impl(const QueueServerOptions& o, Context& ctx) : opts(o), hub(o.hub, ctx) {}

  // server.cc
  void Start();
  void OnRequest(internal::SystemCall call);
  void OnRegister(internal::SystemCall call);
  void OnLogin(internal::SystemCall call);
  void OnPost(internal::SystemCall call, const q::NodeKey& from);
  void OnAck(internal::SystemCall call, const q::NodeKey& node);
  // server_queries.cc
  void OnAliases(internal::SystemCall call, const q::NodeKey& node);
  void OnList(internal::SystemCall call, const q::NodeKey& node);
  void OnQuery(internal::SystemCall call, const q::NodeKey& node);
  // Decodes the request's payload; false: answered (malformed, counted).
  bool Decode(const internal::SystemCall& call, google::protobuf::Message* m);
  // The node this client is logged in as.
  bool LoggedIn(const std::string& client, q::NodeKey* node);
  absl::Status CheckName(std::string_view what, std::string_view name) const;

  // delivery.cc
  void BeginSession(const internal::SystemCall& call, q::NodeKey node,
                    uint32_t window);
  void ClientGone(const std::string& client);
  // New entries (a post, a list notice, a dead notice), once durable.
  void Distribute(const q::Fanout& fanout);
  // Entries acknowledged (or dead) at `node`; `taken` are single-node
  // entries the user's other nodes drop.
  void Forget(const q::NodeKey& node, const std::vector<uint64_t>& ids,
              const std::vector<uint64_t>& taken);
  // An ack of `ids` at `node` was received (Acking) / failed (Unacked).
  void Acking(const q::NodeKey& node, const std::vector<uint64_t>& ids);
  void Unacked(const q::NodeKey& node, const std::vector<uint64_t>& ids);
  void Nack(const q::NodeKey& node, const std::vector<uint64_t>& ids,
            absl::Duration delay);
  void PumpLocked(Session& s);
  void LoadLocked(Session& s);
  void Tick();
  void CleanupTick();
  absl::Duration Backoff(uint32_t attempts) const;
  Session* SessionLocked(const q::NodeKey& node);

  const QueueServerOptions opts;
  Hub hub;
  std::unique_ptr<q::QueueStore> store;
  QueueRegisterHook register_hook;  // guarded by mu
  uint64_t listener = 0;
  std::atomic<bool> closed{false};

  mutable std::mutex mu;
  std::map<q::NodeKey, Session> sessions;                    // guarded by mu
  absl::flat_hash_map<std::string, q::NodeKey> client_node;  // guarded by mu
  uint64_t logins = 0;                                       // guarded by mu

  std::atomic<uint64_t> posts{0}, duplicates{0}, deliveries{0}, redeliveries{0},
      acks{0}, dead{0}, expired{0}, refused_logins{0}, refused_posts{0},
      full_queues{0}, malformed{0};
};

namespace internal::queue {
int64_t NowMs();
// A queue entry as the wire carries it.
qpb::Deliver ToDeliver(const StoredMessage& m, uint32_t attempt);

// Answers `call` with `m`, encoded as the caller speaks (JSON or binary).
template <typename Msg>
void Reply(const SystemCall& call, const Msg& m) {
  call.reply(internal::topics::EncodeFor(m, call.json));
}
}  // namespace internal::queue

}  // namespace msock

#endif  // MSOCK_PROTOCOLS_QUEUE_SERVER_IMPL_H_
