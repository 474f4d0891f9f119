// msock/protocols/queue.h: the durable queue: store-and-forward messages
// between users and their devices (nodes) that survive disconnects, restarts
// and kill -9, kept in SQLite.
//
// A QueueServer runs a Hub (so it listens on every msock transport and
// serves browsers in JSON) and a store (SQLite in WAL mode, one file). A post
// is answered only once it is committed and fsync'd; then every node of every
// recipient gets it, in order, until that node acknowledges it. Several posts
// and acks share one commit (group commit).
//
// Users and nodes: a user registers with its first node and gets that node's
// secret; more nodes are added with the secret of an existing one. A node
// logs in with user, node and secret; one connection per node (a new login
// takes over). A node only ever reads its own queue.
//
// Addresses in Post: "alice" (every node of user alice), "@al" (the user
// who owns alias "al"), "#team" (every node of every member of list "team").
// The sender's other nodes get a copy too (self-sync) unless no_self.
//
// Example:
//   msock::QueueServerOptions options;
//   options.db_path = "/tmp/q.db";
//   auto server = msock::QueueServer::Open(options).value();
//   std::string url = server->Listen("tcp://127.0.0.1:0").value();
//   absl::Time deadline = absl::Now() + absl::Seconds(5);
//
//   msock::QueueClient phone;
//   phone.Connect(url, deadline).IgnoreError();
//   std::string secret = phone.Register("bob", "phone", deadline).value();
//   phone.Login("bob", "phone", secret, deadline).IgnoreError();
//
//   msock::QueueClient laptop;  // alice, registered the same way
//   // ... laptop.Login("alice", "laptop", ...)
//   absl::StatusOr<msock::PostResult> r =
//       laptop.Post({"bob"}, "hello", deadline);   // durable once r.ok()
//
//   absl::StatusOr<msock::QueueMessage> m = phone.Receive(deadline);
//   // m->body == "hello"; until acked it comes again after ack_timeout
//   phone.Ack(m->id, deadline).IgnoreError();     // durable once ok
//
// Delivery is at least once: a node may see an entry again (attempt > 1)
// after a timeout, a reconnect or a server restart, never after its Ack
// returned OK. Deduplicate by QueueMessage::id.
//
// Threading: every member is thread-safe. Receive may be called from several
// threads (each message goes to one of them).
#ifndef MSOCK_PROTOCOLS_QUEUE_H_
#define MSOCK_PROTOCOLS_QUEUE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "msock/export.h"
#include "msock/protocols/rooms.h"

namespace msock {

// What a registration asks for, as the server's register hook sees it.
struct QueueRegistration {
  std::string client;  // the hub client id of the connection asking
  std::string user;
  std::string node;
  bool new_user = false;  // false: a node added to an existing user
};
// OK lets the registration go on; an error refuses it (the caller gets it).
using QueueRegisterHook =
    std::function<absl::Status(const QueueRegistration& reg)>;

struct QueueServerOptions {
  std::string db_path = "msock-queue.db";  // created if missing
  HubOptions hub;                          // the hub the server runs
  // Delivery.
  uint32_t max_window = 64;  // largest window a node may ask for
  absl::Duration ack_timeout = absl::Seconds(10);  // first redelivery
  absl::Duration max_backoff = absl::Minutes(5);   // doubling stops here
  uint32_t max_attempts = 10;  // then the entry goes to the dead letters
  // Bounds.
  size_t max_body = 1 << 20;
  size_t max_meta = 16 << 10;
  size_t max_recipients = 256;  // addresses per post
  size_t max_queue = 100000;    // entries per node: a post to a full one
                                // skips that node, reported in the answer
  size_t max_list_members = 1000;
  size_t max_nodes = 100;   // per user
  size_t max_aliases = 16;  // per user
  size_t max_name = 128;    // user, node, alias and list names (bytes)
  // Time.
  absl::Duration max_ttl = absl::Hours(24 * 30);      // and the default TTL
  absl::Duration dedupe_window = absl::Hours(24);     // Post::client_id memory
  absl::Duration node_expiry = absl::Hours(24 * 90);  // idle nodes removed
  absl::Duration cleanup_interval = absl::Minutes(1);
  // Group commit: a batch waits at most this long for more work before its
  // commit (0: commit as soon as the previous one is done).
  absl::Duration commit_delay = absl::ZeroDuration();
  // false: skip fsync (tests and benchmarks of the logic only; NOT durable).
  bool fsync = true;
};

// Counters of a QueueServer.
struct QueueStats {
  uint64_t posts = 0;           // posts stored (duplicates not counted)
  uint64_t duplicates = 0;      // posts answered from the dedupe memory
  uint64_t deliveries = 0;      // deliver events sent (redeliveries included)
  uint64_t redeliveries = 0;    // of which after a timeout or nack
  uint64_t acks = 0;            // entries removed by acks
  uint64_t dead = 0;            // entries moved to the dead letters
  uint64_t expired = 0;         // entries removed past their TTL
  uint64_t refused_logins = 0;  // wrong secret or unknown node
  uint64_t refused_posts = 0;   // refused whole (bounds, no recipients, ...)
  uint64_t full_queues = 0;     // recipients skipped: their queue was full
  uint64_t malformed = 0;       // requests that did not decode
  uint64_t commits = 0;         // store transactions committed
  uint64_t committed_ops = 0;   // posts and acks in them (ops / commits =
                                // the group commit's batch size)
};

class MSOCK_EXPORT QueueServer {
 public:
  // Opens (or creates) the store and recovers its state. Errors: the store's
  // (kUnavailable / kDataLoss with SQLite's message and the path), and
  // kFailedPrecondition when another QueueServer (of this process or
  // another) has `db_path` open: one server per file, enforced with a lock
  // file "<db_path>-lock" that a Close (or the process's end) releases.
  static absl::StatusOr<std::unique_ptr<QueueServer>> Open(
      const QueueServerOptions& options = {},
      Context& ctx = Context::Default());
  ~QueueServer();  // Close()

  // Listens on an msock URL (as Hub::Listen); returns the bound URL.
  [[nodiscard]] absl::StatusOr<std::string> Listen(std::string_view url);
  void OnRegister(QueueRegisterHook hook);
  // The hub it runs: rooms, topics and services may share its connections.
  Hub& hub();
  QueueStats stats() const;
  // Stops accepting, waits for the commit in progress, closes the store.
  void Close();

  struct Impl;

 private:
  explicit QueueServer(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

// One queue entry as a node receives it.
struct QueueMessage {
  uint64_t id = 0;  // the server's message id (increasing per server)
  std::string from_user, from_node;  // "" for the server's own notices
  std::string body;
  std::string meta;
  std::vector<std::string> to;  // the addresses the sender wrote
  uint32_t attempt = 1;         // > 1: delivered before
  bool single_node = false;
  absl::Time posted;
  absl::Time expires = absl::InfiniteFuture();
  // "": a post; "list": a list change (meta: {"list","op","member","by"} as
  // JSON); "dead": a notice that an entry went to the dead letters.
  std::string kind;
};

struct PostOptions {
  std::string client_id;     // idempotency key: a retry is stored once
  std::string meta;          // opaque, passed to the recipients
  bool single_node = false;  // one node of each user recipient
  bool no_self = false;      // no copy to the sender's other nodes
  absl::Duration ttl = absl::ZeroDuration();  // 0: the server's maximum
};

struct PostResult {
  uint64_t id = 0;
  bool duplicate = false;           // the client_id was seen before
  std::vector<std::string> errors;  // recipients skipped, "name: reason"
  uint32_t nodes = 0;               // queue entries written
};

struct QueueClientOptions {
  RoomsClientOptions rooms;
  // Deliveries in flight: sent, their ack not yet received by the server
  // (the server caps it). An entry leaves the window as its ack arrives, so
  // the next ones come while the ack is made durable.
  uint32_t window = 1;
  size_t max_buffered = 1024;  // received, not yet taken by Receive
};

// A node's connection to a QueueServer. After a reconnect it logs in again by
// itself (with the last Login's arguments).
class MSOCK_EXPORT QueueClient {
 public:
  explicit QueueClient(const QueueClientOptions& options = {},
                       Context& ctx = Context::Default());
  ~QueueClient();  // Close()

  // Dials the server and waits for the hub's welcome. Errors as
  // RoomsClient::Connect.
  [[nodiscard]] absl::Status Connect(std::string_view url, absl::Time deadline);
  // Registers `user` with its first node, or adds `node` to an existing user
  // (then `proof_node` / `proof_secret` name one of its nodes, unless this
  // connection is logged in as that user). Returns the node's secret.
  // Errors: kAlreadyExists (user and node exist, or user exists and no
  // proof), kPermissionDenied (bad proof, the register hook),
  // kInvalidArgument (names), kResourceExhausted (max_nodes).
  [[nodiscard]] absl::StatusOr<std::string> Register(
      std::string_view user, std::string_view node, absl::Time deadline,
      std::vector<std::string> aliases = {}, std::string_view proof_node = "",
      std::string_view proof_secret = "");
  // Logs this connection in as `node` of `user`; deliveries start. Errors:
  // kPermissionDenied (unknown user or node, wrong secret).
  [[nodiscard]] absl::Status Login(std::string_view user, std::string_view node,
                                   std::string_view secret,
                                   absl::Time deadline);
  // Posts one message; returns once it is durable. Errors: kInvalidArgument
  // (no recipients at all, bad address), kResourceExhausted (bounds),
  // kFailedPrecondition (not logged in), kDeadlineExceeded (unknown: retry
  // with the same client_id), kUnavailable.
  [[nodiscard]] absl::StatusOr<PostResult> Post(
      const std::vector<std::string>& to, std::string_view body,
      absl::Time deadline, const PostOptions& options = {});
  // The next delivered entry (kDeadlineExceeded if none by the deadline).
  [[nodiscard]] absl::StatusOr<QueueMessage> Receive(absl::Time deadline);
  // Up to `max` delivered entries, oldest first: waits (until the deadline)
  // for the first, then takes what else is already here. With a window of N,
  // ReceiveMany(N) and one Ack of their ids make one request per batch.
  [[nodiscard]] absl::StatusOr<std::vector<QueueMessage>> ReceiveMany(
      size_t max, absl::Time deadline);
  // Runs `fn` (on the client's handler thread) for each delivery instead of
  // queueing it for Receive. Set before Login.
  void OnMessage(std::function<void(const QueueMessage& m)> fn);
  // Done with entry `id`: returns once the removal is durable; it is never
  // delivered to this node again. Acking an unknown id is OK (no-op).
  [[nodiscard]] absl::Status Ack(uint64_t id, absl::Time deadline);
  // Ack of several entries in one request (at most 4096 ids; more:
  // kInvalidArgument). Acks of other threads meanwhile share the request.
  [[nodiscard]] absl::Status Ack(const std::vector<uint64_t>& ids,
                                 absl::Time deadline);
  // Redeliver `id` after `delay` (counts as an attempt).
  [[nodiscard]] absl::Status Nack(uint64_t id, absl::Duration delay,
                                  absl::Time deadline);
  // Never deliver `id` again: it goes to the user's dead letters.
  [[nodiscard]] absl::Status Term(uint64_t id, absl::Time deadline);

  // Replaces the user's aliases; returns the ones accepted (others are taken).
  [[nodiscard]] absl::StatusOr<std::vector<std::string>> SetAliases(
      const std::vector<std::string>& aliases, absl::Time deadline);
  // Lists: "add" a member (the list is created if it does not exist; else the
  // editor must be a member), "remove" one (a list left empty is deleted).
  // Members get a "list" entry for each change.
  [[nodiscard]] absl::Status ListAdd(std::string_view list,
                                     std::string_view user,
                                     absl::Time deadline);
  [[nodiscard]] absl::Status ListRemove(std::string_view list,
                                        std::string_view user,
                                        absl::Time deadline);
  [[nodiscard]] absl::StatusOr<std::vector<std::string>> ListMembers(
      std::string_view list, absl::Time deadline);
  // The user's dead letters (with purge: and removes them).
  [[nodiscard]] absl::StatusOr<std::vector<QueueMessage>> DeadLetters(
      absl::Time deadline, bool purge = false);
  // The entries waiting in this node's queue, oldest first (not consumed).
  [[nodiscard]] absl::StatusOr<std::vector<uint64_t>> Pending(
      absl::Time deadline);

  // The rooms client underneath (ids, reconnect hooks, stats).
  RoomsClient& rooms();
  void Close();

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace msock

#endif  // MSOCK_PROTOCOLS_QUEUE_H_
