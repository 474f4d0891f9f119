// sqlite_store.h: the writer thread, group commit and the schema. Each batch
// is one BEGIN IMMEDIATE ... COMMIT; with synchronous=FULL in WAL mode the
// COMMIT returns once the log is fsync'd, and only then do the operations'
// `done` run.
#include "protocols/queue/sqlite_store.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/sync.h"

namespace msock::internal::queue {
namespace {

constexpr size_t kMaxBatch = 4096;     // operations per transaction
constexpr size_t kMaxWaiting = 65536;  // operations queued: beyond, refused

// Message ids never go down or repeat, even after the newest message is
// deleted and the server restarts: meta's "id_block" (see next_id_). Files
// made before it have messages.id AUTOINCREMENT (sqlite_sequence), which
// LoadNextId reads too.
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS users(
  uid TEXT PRIMARY KEY, created_ms INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS nodes(
  uid TEXT NOT NULL, node TEXT NOT NULL, secret TEXT NOT NULL,
  seen_ms INTEGER NOT NULL, PRIMARY KEY(uid, node)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS aliases(
  alias TEXT PRIMARY KEY, uid TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS aliases_by_uid ON aliases(uid);
CREATE TABLE IF NOT EXISTS lists(
  list TEXT NOT NULL, uid TEXT NOT NULL, PRIMARY KEY(list, uid)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS messages(
  id INTEGER PRIMARY KEY, from_uid TEXT NOT NULL,
  from_node TEXT NOT NULL, body BLOB, meta BLOB, dest TEXT,
  single INTEGER NOT NULL, posted_ms INTEGER NOT NULL,
  expires_ms INTEGER NOT NULL, kind TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS messages_by_expiry ON messages(expires_ms)
  WHERE expires_ms > 0;
CREATE TABLE IF NOT EXISTS queue(
  uid TEXT NOT NULL, node TEXT NOT NULL, id INTEGER NOT NULL,
  attempts INTEGER NOT NULL, PRIMARY KEY(uid, node, id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS queue_by_id ON queue(id);
CREATE TABLE IF NOT EXISTS posts(
  uid TEXT NOT NULL, cid TEXT NOT NULL, id INTEGER NOT NULL,
  at_ms INTEGER NOT NULL, PRIMARY KEY(uid, cid)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS posts_by_time ON posts(at_ms);
CREATE TABLE IF NOT EXISTS dead(
  uid TEXT NOT NULL, node TEXT NOT NULL, id INTEGER NOT NULL,
  reason TEXT NOT NULL, at_ms INTEGER NOT NULL,
  PRIMARY KEY(uid, node, id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS dead_by_id ON dead(id);
CREATE TABLE IF NOT EXISTS meta(
  key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
)sql";

}  // namespace

absl::StatusOr<std::unique_ptr<QueueStore>> OpenSqliteStore(
    const QueueServerOptions& options) {
  // Before SQLite touches the file: one server per store.
  absl::StatusOr<std::unique_ptr<StoreLock>> lock =
      StoreLock::Take(options.db_path);
  if (!lock.ok()) return lock.status();
  absl::StatusOr<std::unique_ptr<Db>> db =
      Db::Open(options.db_path, options.fsync);
  if (!db.ok()) return db.status();
  auto store =
      std::make_unique<SqliteStore>(options, std::move(*db), std::move(*lock));
  absl::Status st = store->Init();
  if (!st.ok()) {
    return absl::UnavailableError(
        absl::StrCat("queue store \"", options.db_path, "\": ", st.message()));
  }
  return store;
}

SqliteStore::SqliteStore(const QueueServerOptions& opts, std::unique_ptr<Db> db,
                         std::unique_ptr<StoreLock> lock)
    : opts_(opts), db_(std::move(db)), lock_(std::move(lock)) {}

SqliteStore::~SqliteStore() {
  Close();
  db_.reset();  // before lock_ (Init failed: no writer reset them)
}

absl::Status SqliteStore::Init() {
  absl::Status st = db_->Exec(kSchema);
  if (st.ok()) st = LoadNextId(*db_);
  if (!st.ok()) return st;
  writer_ = std::thread([this] {
    internal::NameThisThread("msock-qwrite");
    Loop();
    // Nothing more is written: another server may open the file now (even
    // before this one is destroyed). The connection first: it holds
    // SQLite's exclusive lock (Db::Open).
    db_.reset();
    lock_.reset();
    std::lock_guard<std::mutex> lock(done_mu_);
    writer_done_ = true;
    done_cv_.notify_all();
  });
  completer_ = std::thread([this] {
    internal::NameThisThread("msock-qdone");
    Complete();
  });
  return absl::OkStatus();
}

template <typename T>
void SqliteStore::Do(std::function<absl::StatusOr<T>(Db&)> fn, Done<T> done) {
  struct Result {
    bool ran = false;
    absl::StatusOr<T> value = absl::UnknownError("queue store: not run");
  };
  auto out = std::make_shared<Result>();
  Task task;
  task.run = [fn = std::move(fn), out](Db& db) {
    out->ran = true;
    out->value = fn(db);
    return out->value.ok();
  };
  // A failed operation keeps its own error (it was rolled back alone); one
  // that succeeded, or never ran (refused, no transaction), gets the
  // commit's.
  task.after = [done = std::move(done), out](absl::Status commit) {
    if (!done) return;
    if (!commit.ok() && (!out->ran || out->value.ok())) {
      done(std::move(commit));
    } else {
      done(std::move(out->value));
    }
  };
  Submit(std::move(task));
}

void SqliteStore::Submit(Task task) {
  absl::Status refused;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closing_) {
      refused = absl::CancelledError("queue store: closed");
    } else if (tasks_.size() >= kMaxWaiting) {
      refused = absl::UnavailableError(
          "queue store: overloaded (too many operations waiting for a commit)");
    } else {
      tasks_.push_back(std::move(task));
      // The writer waits for a first task, or (commit_delay) for a full batch.
      if (tasks_.size() == 1 || tasks_.size() == kMaxBatch) cv_.notify_one();
      return;
    }
  }
  task.after(refused);
}

void SqliteStore::Loop() {
  std::vector<Task> batch;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] {
        return closing_ || !tasks_.empty() || attempts_.due() >= kMaxBatch;
      });
      if (tasks_.empty() && attempts_.empty()) return;  // closing, all done
      if (opts_.commit_delay > absl::ZeroDuration() &&
          tasks_.size() < kMaxBatch && !closing_) {
        cv_.wait_for(lock, absl::ToChronoNanoseconds(opts_.commit_delay),
                     [&] { return closing_ || tasks_.size() >= kMaxBatch; });
      }
      // Closing: what is held is written now (the last batches).
      std::vector<AttemptBuffer::Record> due =
          attempts_.TakeDue(AttemptBuffer::Clock::now(), closing_);
      if (!due.empty()) batch.push_back(AttemptsTask(std::move(due)));
      if (batch.empty() && tasks_.empty()) continue;  // held, all acked
      const size_t n = std::min(tasks_.size(), kMaxBatch);
      for (size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(tasks_.front()));
        tasks_.pop_front();
      }
    }
    RunBatch(batch);
    batch.clear();
  }
}

absl::Status SqliteStore::Transaction(std::vector<Task>& batch, bool savepoints,
                                      std::vector<absl::Status>& not_run,
                                      bool* op_failed) {
  Db& db = *db_;
  absl::Status st = db.Run("BEGIN IMMEDIATE");
  for (size_t i = 0; st.ok() && i < batch.size(); ++i) {
    if (savepoints) {
      absl::Status sp = db.Run("SAVEPOINT op");
      if (!sp.ok()) {
        not_run[i] = sp;
        continue;
      }
    }
    if (!batch[i].run(db)) {
      db.ResetAll();
      ForgetUncommitted();  // lengths counted again from the table
      if (!savepoints) {
        *op_failed = true;  // rolled back below with everything
        break;
      }
      // Not undone, the failed operation's writes would be committed with
      // the others: then the whole batch fails instead.
      st = db.Exec("ROLLBACK TO op");
    }
    if (savepoints && st.ok()) st = db.Run("RELEASE op");
  }
  if (st.ok() && !*op_failed) {
    db.ResetAll();  // no statement keeps a read open past the commit
    st = db.Run("COMMIT");
  }
  if (!st.ok() || *op_failed) {
    db.ResetAll();
    (void)db.Exec("ROLLBACK");  // fails harmlessly if BEGIN did
    ForgetUncommitted();
  }
  return st;
}

void SqliteStore::RunBatch(std::vector<Task>& batch) {
  // An operation that could not even start gets its own error, not the
  // commit's.
  std::vector<absl::Status> not_run(batch.size());
  // Optimistic first: no savepoint around each operation (two statements
  // less per operation). Should one fail, nothing was written; alone, its
  // own error is its answer; else the batch runs again with a savepoint
  // around each operation, so the failed one is undone alone.
  bool op_failed = false;
  absl::Status st = Transaction(batch, false, not_run, &op_failed);
  if (op_failed && batch.size() > 1) {
    op_failed = false;
    st = Transaction(batch, true, not_run, &op_failed);
  }
  if (!st.ok() || op_failed) {
    // Rolled back: every operation gets the commit's error (or, alone and
    // failed, its own).
  } else {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.commits++;
    stats_.ops += batch.size();
  }
  Committed c;
  c.status.reserve(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    c.status.push_back(not_run[i].ok() ? st : not_run[i]);
  }
  // Nothing waits for the writer: it makes the `done` calls itself, which
  // saves waking the completer (a thread wake-up per commit). Else the
  // completer makes them while the writer runs the next batch. Either way in
  // commit order: inline only once the completer has nothing left (or ended).
  bool idle;
  {
    std::lock_guard<std::mutex> lock(mu_);
    idle = tasks_.empty() && attempts_.due() == 0;  // held ones wait anyway
  }
  {
    std::lock_guard<std::mutex> lock(done_mu_);
    const bool completer_free = committed_.empty() && !completing_;
    if (!completer_ended_ && !(idle && completer_free)) {
      c.batch = std::move(batch);
      batch.clear();
      committed_.push_back(std::move(c));
      done_cv_.notify_one();
      return;
    }
  }
  for (size_t i = 0; i < batch.size(); ++i) batch[i].after(c.status[i]);
  batch.clear();
}

void SqliteStore::Complete() {
  for (;;) {
    Committed c;
    {
      std::unique_lock<std::mutex> lock(done_mu_);
      done_cv_.wait(lock, [&] {
        return writer_done_ || closing_done_ || !committed_.empty();
      });
      if (committed_.empty()) {
        // All answered, and the writer stopped, or the store is closing: the
        // writer makes the calls of its last batches itself (so that a Close
        // made from a `done` on the writer's thread can join this thread).
        completer_ended_ = true;
        return;
      }
      c = std::move(committed_.front());
      committed_.pop_front();
      completing_ = true;
    }
    for (size_t i = 0; i < c.batch.size(); ++i) c.batch[i].after(c.status[i]);
    std::lock_guard<std::mutex> lock(done_mu_);
    completing_ = false;
  }
}

StoreStats SqliteStore::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void SqliteStore::Close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closing_ = true;
  }
  cv_.notify_all();
  {
    std::lock_guard<std::mutex> lock(done_mu_);
    closing_done_ = true;
  }
  done_cv_.notify_all();
  for (std::thread* t : {&writer_, &completer_}) {
    if (!t->joinable()) continue;
    if (t->get_id() != std::this_thread::get_id()) {
      t->join();
    } else {
      t->detach();  // Close from a `done`: this thread ends after it
    }
  }
}

void SqliteStore::Register(RegisterRequest req, Done<RegisterResult> done) {
  Do<RegisterResult>(
      [this, req = std::move(req)](Db& db) { return DoRegister(db, req); },
      std::move(done));
}

void SqliteStore::Post(PostRequest req, Done<PostOutcome> done) {
  Do<PostOutcome>(
      [this, req = std::move(req)](Db& db) { return DoPost(db, req); },
      std::move(done));
}

void SqliteStore::Ack(NodeKey node, std::vector<uint64_t> ids,
                      Done<AckOutcome> done) {
  Do<AckOutcome>([this, node = std::move(node), ids = std::move(ids)](
                     Db& db) { return DoAck(db, node, ids); },
                 std::move(done));
}

void SqliteStore::EditList(std::string user, std::string list, std::string op,
                           std::string member, int64_t now_ms,
                           Done<ListOutcome> done) {
  Do<ListOutcome>(
      [=, this](Db& db) {
        return DoEditList(db, user, list, op, member, now_ms);
      },
      std::move(done));
}

void SqliteStore::Login(NodeKey node, std::string secret, int64_t now_ms,
                        Done<uint64_t> done) {
  Do<uint64_t>([=, this](Db& db) { return DoLogin(db, node, secret, now_ms); },
               std::move(done));
}

void SqliteStore::Attempt(NodeKey node, uint64_t id, uint32_t attempts) {
  std::lock_guard<std::mutex> lock(mu_);
  if (closing_) return;
  if (!attempts_.Add(std::move(node), id, attempts,
                     AttemptBuffer::Clock::now())) {
    return;  // a writer that stopped keeping up: see AttemptBuffer::Add
  }
  if (attempts_.due() == kMaxBatch) cv_.notify_one();
}

SqliteStore::Task SqliteStore::AttemptsTask(
    std::vector<AttemptBuffer::Record> records) {
  Task task;
  task.run = [records = std::move(records)](Db& db) {
    for (const AttemptBuffer::Record& r : records) {
      absl::StatusOr<Stmt> s = db.Prepare(
          "UPDATE queue SET attempts=?4 WHERE uid=?1 AND node=?2 AND id=?3");
      if (!s.ok() || !s->Bind(1, r.node.first)
                          .Bind(2, r.node.second)
                          .Bind(3, static_cast<int64_t>(r.id))
                          .Bind(4, static_cast<int64_t>(r.attempts))
                          .Run()
                          .ok()) {
        return false;  // rolled back alone: the counts restart lower
      }
    }
    return true;
  };
  task.after = [](absl::Status) {};  // nobody waits for an answer
  return task;
}

void SqliteStore::Dead(NodeKey node, uint64_t id, std::string reason,
                       int64_t now_ms, Done<Fanout> done) {
  Do<Fanout>([=, this](Db& db) { return DoDead(db, node, id, reason, now_ms); },
             std::move(done));
}

void SqliteStore::Load(NodeKey node, uint64_t after, size_t limit,
                       int64_t now_ms, Done<LoadResult> done) {
  Do<LoadResult>(
      [=, this](Db& db) { return DoLoad(db, node, after, limit, now_ms); },
      std::move(done));
}

void SqliteStore::SetAliases(std::string user, std::vector<std::string> aliases,
                             Done<std::vector<std::string>> done) {
  Do<std::vector<std::string>>(
      [=, this](Db& db) { return DoSetAliases(db, user, aliases); },
      std::move(done));
}

void SqliteStore::DeadLetters(std::string user, bool purge, size_t limit,
                              Done<std::vector<DeadLetter>> done) {
  Do<std::vector<DeadLetter>>(
      [=, this](Db& db) { return DoDeadLetters(db, user, purge, limit); },
      std::move(done));
}

void SqliteStore::RowsForTest(std::string table, Done<int64_t> done) {
  Do<int64_t>(
      [table = std::move(table)](Db& db) -> absl::StatusOr<int64_t> {
        absl::StatusOr<Stmt> s = db.Prepare("SELECT COUNT(*) FROM " + table);
        if (!s.ok()) return s.status();
        absl::StatusOr<bool> row = s->Step();
        if (!row.ok()) return row.status();
        return s->Int(0);
      },
      std::move(done));
}

void SqliteStore::Pending(NodeKey node, size_t limit,
                          Done<std::vector<uint64_t>> done) {
  Do<std::vector<uint64_t>>(
      [=](Db& db) -> absl::StatusOr<std::vector<uint64_t>> {
        absl::StatusOr<Stmt> s = db.Prepare(
            "SELECT id FROM queue WHERE uid=?1 AND node=?2 ORDER BY id "
            "LIMIT ?3");
        if (!s.ok()) return s.status();
        s->Bind(1, node.first)
            .Bind(2, node.second)
            .Bind(3, limit == 0 ? int64_t{-1} : static_cast<int64_t>(limit));
        std::vector<uint64_t> ids;
        for (;;) {
          absl::StatusOr<bool> row = s->Step();
          if (!row.ok()) return row.status();
          if (!*row) return ids;
          ids.push_back(static_cast<uint64_t>(s->Int(0)));
        }
      },
      std::move(done));
}

void SqliteStore::Cleanup(int64_t now_ms, int64_t dedupe_before_ms,
                          int64_t idle_before_ms, std::vector<NodeKey> active,
                          Done<CleanupOutcome> done) {
  Do<CleanupOutcome>(
      [=, this](Db& db) {
        return DoCleanup(db, now_ms, dedupe_before_ms, idle_before_ms, active);
      },
      std::move(done));
}

}  // namespace msock::internal::queue
