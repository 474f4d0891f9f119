// QueueStore: where the durable queue keeps users, nodes, aliases, lists,
// messages and per-node queues. An interface so that a later store
// (PostgreSQL, shared by several servers) can replace SQLite.
//
// Contract: every operation is asynchronous. Operations run in the order they
// were submitted; several share one transaction (group commit), and `done`
// runs only after that transaction is durable (committed, and fsync'd when
// the store syncs), on the store's thread, in submission order. An operation
// whose commit failed gets the commit's error. `done` must not block: it may
// lock the server's state and send without waiting, nothing more. Store calls
// may be made from any thread, including from `done`.
#ifndef MSOCK_PROTOCOLS_QUEUE_STORE_H_
#define MSOCK_PROTOCOLS_QUEUE_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "msock/protocols/queue.h"

namespace msock::internal::queue {

struct StoredMessage {
  uint64_t id = 0;
  std::string from_user, from_node;
  std::string body, meta;
  std::vector<std::string> to;
  bool single_node = false;
  int64_t posted_ms = 0;
  int64_t expires_ms = 0;  // 0: never
  std::string kind;        // "", "list", "dead"
};
using MessagePtr = std::shared_ptr<const StoredMessage>;

using NodeKey = std::pair<std::string, std::string>;  // user, node

struct QueuedEntry {
  MessagePtr msg;
  uint32_t attempts = 0;  // deliveries so far
};

// New queue entries, to deliver once durable: one message, these nodes.
struct Fanout {
  MessagePtr msg;
  std::vector<NodeKey> nodes;
};

struct RegisterRequest {
  std::string user, node;
  std::vector<std::string> aliases;
  std::string proof_node, proof_secret;
  std::string logged_user, logged_node;  // this connection's login, if any
  int64_t now_ms = 0;
};
struct RegisterResult {
  std::string secret;
  std::vector<std::string> aliases;
  uint32_t copied = 0;
  bool new_user = false;
};

struct PostRequest {
  std::string from_user, from_node;
  std::vector<std::string> to;
  std::string body, meta, client_id;
  bool single_node = false, no_self = false;
  int64_t now_ms = 0, expires_ms = 0;
};
struct PostOutcome {
  uint64_t id = 0;
  bool duplicate = false;
  std::vector<std::string> errors;
  uint32_t full = 0;  // recipients skipped because their queue was full
  Fanout fanout;
};

struct AckOutcome {
  std::vector<uint64_t> removed;
  // Single-node entries taken by this node: the user's other nodes drop them.
  std::vector<uint64_t> taken;
};

struct LoadResult {
  std::vector<QueuedEntry> entries;  // oldest first
  bool more = false;                 // the queue holds more after these
  uint64_t expired = 0;              // entries dropped past their TTL
};

struct ListOutcome {
  std::vector<std::string> members;
  Fanout notice;  // the "list" entry to members and the editor
};

struct DeadLetter {
  StoredMessage msg;
  std::string node, reason;
};

struct CleanupOutcome {
  uint64_t expired = 0;
  uint64_t nodes_removed = 0;
};

struct StoreStats {
  uint64_t commits = 0;
  uint64_t ops = 0;  // operations in committed transactions
};

template <typename T>
using Done = std::function<void(absl::StatusOr<T>)>;

class QueueStore {
 public:
  virtual ~QueueStore() = default;

  virtual void Register(RegisterRequest req, Done<RegisterResult> done) = 0;
  // kPermissionDenied for an unknown user or node or a wrong secret (one
  // message for all three). The answer is the node's queue length.
  virtual void Login(NodeKey node, std::string secret, int64_t now_ms,
                     Done<uint64_t> done) = 0;
  virtual void Post(PostRequest req, Done<PostOutcome> done) = 0;
  // Removes entries of `node` (ids it does not hold are ignored).
  virtual void Ack(NodeKey node, std::vector<uint64_t> ids,
                   Done<AckOutcome> done) = 0;
  // Records a delivery attempt (no answer). Rides the next batch rather than
  // starting one: a crash may lose it (the count then restarts lower).
  virtual void Attempt(NodeKey node, uint64_t id, uint32_t attempts) = 0;
  // Moves an entry to the user's dead letters; the answer is the notice to
  // the user's other nodes (may have no nodes).
  virtual void Dead(NodeKey node, uint64_t id, std::string reason,
                    int64_t now_ms, Done<Fanout> done) = 0;
  // Entries of `node` with ids above `after`, at most `limit`.
  virtual void Load(NodeKey node, uint64_t after, size_t limit, int64_t now_ms,
                    Done<LoadResult> done) = 0;
  virtual void SetAliases(std::string user, std::vector<std::string> aliases,
                          Done<std::vector<std::string>> done) = 0;
  // op: "add", "remove", "get".
  virtual void EditList(std::string user, std::string list, std::string op,
                        std::string member, int64_t now_ms,
                        Done<ListOutcome> done) = 0;
  virtual void DeadLetters(std::string user, bool purge, size_t limit,
                           Done<std::vector<DeadLetter>> done) = 0;
  virtual void Pending(NodeKey node, size_t limit,
                       Done<std::vector<uint64_t>> done) = 0;
  // Drops expired entries, dedupe records older than `dedupe_before_ms`,
  // nodes not seen since `idle_before_ms` (after marking `active` seen now),
  // and messages nothing refers to.
  virtual void Cleanup(int64_t now_ms, int64_t dedupe_before_ms,
                       int64_t idle_before_ms, std::vector<NodeKey> active,
                       Done<CleanupOutcome> done) = 0;

  virtual StoreStats stats() const = 0;
  // Runs what was submitted, then stops; later calls fail with kCancelled.
  virtual void Close() = 0;
};

// The SQLite store (sqlite_store.cc). Errors: kUnavailable (cannot open or
// create the file, with SQLite's message), kFailedPrecondition (another
// store, of this process or another, has the file open: store_lock.h).
absl::StatusOr<std::unique_ptr<QueueStore>> OpenSqliteStore(
    const QueueServerOptions& options);

}  // namespace msock::internal::queue

#endif  // MSOCK_PROTOCOLS_QUEUE_STORE_H_
