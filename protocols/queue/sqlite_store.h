// SqliteStore: the QueueStore on one SQLite file in WAL mode. One writer
// thread owns the connection; it takes every operation submitted while the
// previous commit ran and runs them in one transaction, then commits once
// (group commit). Should an operation fail, the transaction rolls back and
// the batch runs again with each operation inside its own savepoint, so the
// failed one rolls back alone. A completer thread then makes the `done`
// calls in order while the writer runs the next batch; when no operation
// waits for the writer, the writer makes them itself. The operations' SQL
// lives in sqlite_messages.cc (posts, acks, loads), sqlite_upkeep.cc (dead
// letters, cleanup, notices) and sqlite_registry.cc (users, nodes, aliases,
// lists).
#ifndef MSOCK_PROTOCOLS_QUEUE_SQLITE_STORE_H_
#define MSOCK_PROTOCOLS_QUEUE_SQLITE_STORE_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "protocols/queue/attempt_buffer.h"
#include "protocols/queue/sqlite_db.h"
#include "protocols/queue/store.h"
#include "protocols/queue/store_lock.h"

namespace msock::internal::queue {

// The lengths_ key of a node ("user" NUL "node": NUL is in no name).
std::string NodeKeyString(const NodeKey& n);
// The columns ReadMessage expects, from `messages m`.
inline constexpr const char* kMessageColumns =
    "m.id, m.from_uid, m.from_node, m.body, m.meta, m.dest, m.single, "
    "m.posted_ms, m.expires_ms, m.kind";
StoredMessage ReadMessage(const Stmt& s, int col);
// `v` as a JSON string, quotes included (notices' meta).
std::string JsonString(std::string_view v);

// Details of the QueueStore contract as this store keeps them:
// - Post: a duplicate (client_id seen) answers the original id, with no
//   fan-out (msg null); a post that reaches nobody while self-sync is on (an
//   empty `to` from a user with one node, or only unknown recipients) is OK
//   with id 0 and no fan-out. kInvalidArgument: a bad address, or no
//   recipient with no_self; kResourceExhausted: max_recipients, or every
//   recipient's queue full. expires_ms is capped at now + max_ttl (0: that).
// - Dead: kNotFound when the node does not hold the entry. The notice's msg
//   is never null; with no other nodes it is not stored (id 0).
// - EditList: the notice's msg is never null; "get" and an add that changes
//   nothing give one with no nodes. kPermissionDenied: the editor is not a
//   member; kNotFound: no such list / user / member; kResourceExhausted:
//   max_list_members.
// - Pending and DeadLetters: limit 0 means no limit. DeadLetters with purge
//   removes only what it returns.
// - Cleanup: a user left with no node is removed with its aliases, list
//   places, dead letters and dedupe records.
class SqliteStore final : public QueueStore {
 public:
  // `lock` keeps the file to this store (see store_lock.h).
  SqliteStore(const QueueServerOptions& opts, std::unique_ptr<Db> db,
              std::unique_ptr<StoreLock> lock);
  ~SqliteStore() override;
  absl::Status Init();  // schema; before the thread starts

  void Register(RegisterRequest req, Done<RegisterResult> done) override;
  void Login(NodeKey node, std::string secret, int64_t now_ms,
             Done<uint64_t> done) override;
  void Post(PostRequest req, Done<PostOutcome> done) override;
  void Ack(NodeKey node, std::vector<uint64_t> ids,
           Done<AckOutcome> done) override;
  void Attempt(NodeKey node, uint64_t id, uint32_t attempts) override;
  void Dead(NodeKey node, uint64_t id, std::string reason, int64_t now_ms,
            Done<Fanout> done) override;
  void Load(NodeKey node, uint64_t after, size_t limit, int64_t now_ms,
            Done<LoadResult> done) override;
  void SetAliases(std::string user, std::vector<std::string> aliases,
                  Done<std::vector<std::string>> done) override;
  void EditList(std::string user, std::string list, std::string op,
                std::string member, int64_t now_ms,
                Done<ListOutcome> done) override;
  void DeadLetters(std::string user, bool purge, size_t limit,
                   Done<std::vector<DeadLetter>> done) override;
  void Pending(NodeKey node, size_t limit,
               Done<std::vector<uint64_t>> done) override;
  void Cleanup(int64_t now_ms, int64_t dedupe_before_ms, int64_t idle_before_ms,
               std::vector<NodeKey> active, Done<CleanupOutcome> done) override;
  StoreStats stats() const override;
  void Close() override;
  // Tests: the rows of `table`, counted on the writer thread (no other
  // connection can read the file while the store has it: Db::Open).
  void RowsForTest(std::string table, Done<int64_t> done);

 private:
  struct Task {
    std::function<bool(Db&)> run;             // false: roll it back
    std::function<void(absl::Status)> after;  // the commit's status
  };
  // Runs `fn` on the writer thread; `done` gets its result once committed.
  template <typename T>
  void Do(std::function<absl::StatusOr<T>(Db&)> fn, Done<T> done);
  void Submit(Task task);
  void Loop();
  // Attempt records wait for the next batch instead of starting one (worth
  // no fsync of their own), and run in it as one operation.
  static Task AttemptsTask(std::vector<AttemptBuffer::Record> records);
  void RunBatch(std::vector<Task>& batch);
  // One transaction over `batch`, a savepoint around each operation or none
  // (then *op_failed, and nothing written, when one failed). Returns the
  // status of BEGIN ... COMMIT.
  absl::Status Transaction(std::vector<Task>& batch, bool savepoints,
                           std::vector<absl::Status>& not_run, bool* op_failed);

  // Writer-thread helpers (sqlite_messages.cc, sqlite_registry.cc).
  absl::StatusOr<PostOutcome> DoPost(Db& db, const PostRequest& req);
  absl::StatusOr<std::vector<NodeKey>> NodesOf(Db& db, const std::string& user);
  absl::StatusOr<bool> UserExists(Db& db, const std::string& user);
  absl::StatusOr<uint64_t> QueueLength(Db& db, const NodeKey& node);
  // Inserts a message and its entries for `nodes`; returns the fan-out.
  absl::StatusOr<Fanout> Insert(Db& db, StoredMessage msg,
                                std::vector<NodeKey> nodes);
  absl::Status DropIfUnused(Db& db, uint64_t id);
  // Drops the nodes whose queue is full (max_queue), counting them in *full.
  absl::StatusOr<std::vector<NodeKey>> Reachable(Db& db,
                                                 std::vector<NodeKey> nodes,
                                                 uint32_t* full);
  // A server notice (from "", `kind`) queued to `nodes`; with no nodes it is
  // not stored (id 0) and the fan-out has no nodes.
  absl::StatusOr<Fanout> Notice(Db& db, std::string kind, std::string meta,
                                std::vector<std::string> to,
                                std::vector<NodeKey> nodes, int64_t now_ms);
  // The expiry of a message stored at `now_ms` that asks for `asked_ms`
  // (0: none): at most now + max_ttl.
  int64_t ExpiryFor(int64_t now_ms, int64_t asked_ms) const;
  absl::StatusOr<AckOutcome> DoAck(Db& db, const NodeKey& node,
                                   const std::vector<uint64_t>& ids);
  absl::StatusOr<LoadResult> DoLoad(Db& db, const NodeKey& node, uint64_t after,
                                    size_t limit, int64_t now_ms);
  absl::StatusOr<Fanout> DoDead(Db& db, const NodeKey& node, uint64_t id,
                                const std::string& reason, int64_t now_ms);
  absl::StatusOr<std::vector<DeadLetter>> DoDeadLetters(Db& db,
                                                        const std::string& user,
                                                        bool purge,
                                                        size_t limit);
  absl::StatusOr<CleanupOutcome> DoCleanup(Db& db, int64_t now_ms,
                                           int64_t dedupe_before_ms,
                                           int64_t idle_before_ms,
                                           const std::vector<NodeKey>& active);
  absl::StatusOr<RegisterResult> DoRegister(Db& db, const RegisterRequest& r);
  absl::StatusOr<uint64_t> DoLogin(Db& db, const NodeKey& node,
                                   const std::string& secret, int64_t now_ms);
  absl::StatusOr<std::vector<std::string>> DoSetAliases(
      Db& db, const std::string& user, const std::vector<std::string>& aliases);
  absl::StatusOr<ListOutcome> DoEditList(Db& db, const std::string& user,
                                         const std::string& list,
                                         const std::string& op,
                                         const std::string& member,
                                         int64_t now_ms);

  const QueueServerOptions opts_;
  std::unique_ptr<Db> db_;  // writer thread only (and Init)
  // Held from before the database opened until the writer ends (its last
  // act), or until destruction when Init failed.
  std::unique_ptr<StoreLock> lock_;
  // Queue lengths by node, writer thread only; cleared when a transaction
  // rolls back (then counted again from the table).
  absl::flat_hash_map<std::string, uint64_t> lengths_;
  // Who exists and each user's nodes, writer thread only: read by every post
  // (two queries less each), forgotten (ForgetRegistry) when a transaction
  // or operation rolls back, when Register or Cleanup may change them, and
  // when they hold kMaxCachedUsers.
  absl::flat_hash_map<std::string, bool> user_exists_;
  absl::flat_hash_map<std::string, std::vector<NodeKey>> nodes_of_;
  static constexpr size_t kMaxCachedUsers = 65536;
  void ForgetRegistry() {
    user_exists_.clear();
    nodes_of_.clear();
  }
  // A transaction or operation rolled back: what memory knows beyond the
  // file is forgotten.
  void ForgetUncommitted() {
    lengths_.clear();
    ForgetRegistry();
    id_block_end_ = 0;
  }
  // Message ids, writer thread only: the next to give, and the end of the
  // block of ids reserved in the file (meta "id_block"; 0: reserve again
  // before the next id). Every committed id is below the committed end, so
  // ids never go down or repeat across restarts, even once the newest
  // messages are deleted, at one row written per kIdBlock posts (not one per
  // post, as AUTOINCREMENT's sqlite_sequence).
  uint64_t next_id_ = 1;
  uint64_t id_block_end_ = 0;
  static constexpr uint64_t kIdBlock = 1024;
  absl::Status LoadNextId(Db& db);  // Init
  absl::StatusOr<uint64_t> NextId(Db& db);

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Task> tasks_;  // guarded by mu_
  // Guarded by mu_: what is due runs first in the next batch, as one
  // operation; first attempts wait there a while (attempt_buffer.h).
  AttemptBuffer attempts_;
  bool closing_ = false;  // guarded by mu_
  StoreStats stats_;      // guarded by mu_
  std::thread writer_;

  // Committed batches wait here for their `done` calls, which the completer
  // thread makes in commit order while the writer runs the next batch (or
  // the writer itself, when nothing waits for it: see RunBatch).
  struct Committed {
    std::vector<Task> batch;
    std::vector<absl::Status> status;  // per task
  };
  void Complete();
  std::mutex done_mu_;
  std::condition_variable done_cv_;
  std::deque<Committed> committed_;  // guarded by done_mu_
  bool writer_done_ = false;         // guarded by done_mu_
  bool closing_done_ = false;        // guarded by done_mu_: Close was called
  bool completing_ = false;          // guarded by done_mu_: calls under way
  bool completer_ended_ = false;     // guarded by done_mu_
  std::thread completer_;
};

}  // namespace msock::internal::queue

#endif  // MSOCK_PROTOCOLS_QUEUE_SQLITE_STORE_H_
