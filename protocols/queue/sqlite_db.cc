// sqlite_db.h: statements cached per text; every SQLite error becomes an
// absl::Status carrying SQLite's own message.
#include "protocols/queue/sqlite_db.h"

#include <mutex>

#include "absl/strings/str_cat.h"

namespace msock::internal::queue {
namespace {

// SQLite's memory statistics take a process-wide mutex around every
// allocation (about 15% of the writer's time per post). They are turned off
// when this store is the process's first user of SQLite, before SQLite
// initializes; else (the application initialized it already) the call fails
// harmlessly and SQLite stays as the application set it. Without them
// sqlite3_memory_used() reads 0: an application that wants it calls
// sqlite3_initialize() before opening a queue store.
void QuietSqliteOnce() {
  static std::once_flag once;
  std::call_once(once,
                 [] { (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
}

}  // namespace

Stmt& Stmt::Bind(int i, int64_t v) {
  sqlite3_bind_int64(s_, i, v);
  return *this;
}

Stmt& Stmt::Bind(int i, std::string_view v) {
  sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()),
                    SQLITE_TRANSIENT);
  return *this;
}

Stmt& Stmt::Blob(int i, std::string_view v) {
  sqlite3_bind_blob(s_, i, v.data(), static_cast<int>(v.size()),
                    SQLITE_TRANSIENT);
  return *this;
}

absl::StatusOr<bool> Stmt::Step() {
  int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return absl::UnavailableError(
      absl::StrCat("queue store: ", sqlite3_errmsg(sqlite3_db_handle(s_)),
                   " in: ", sqlite3_sql(s_)));
}

absl::Status Stmt::Run() {
  for (;;) {
    absl::StatusOr<bool> row = Step();
    if (!row.ok()) return row.status();
    if (!*row) return absl::OkStatus();
  }
}

int64_t Stmt::Int(int col) const { return sqlite3_column_int64(s_, col); }

std::string Stmt::Text(int col) const {
  const void* p = sqlite3_column_blob(s_, col);
  int n = sqlite3_column_bytes(s_, col);
  return p ? std::string(static_cast<const char*>(p), n) : std::string();
}

bool Stmt::IsNull(int col) const {
  return sqlite3_column_type(s_, col) == SQLITE_NULL;
}

Db::~Db() {
  for (auto& [sql, s] : cache_) sqlite3_finalize(s);
  sqlite3_close_v2(db_);
}

absl::StatusOr<std::unique_ptr<Db>> Db::Open(const std::string& path,
                                             bool fsync) {
  QuietSqliteOnce();
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &raw,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
      nullptr);
  std::unique_ptr<Db> db(new Db(raw));
  if (rc != SQLITE_OK) {
    return absl::UnavailableError(
        absl::StrCat("queue store: cannot open \"", path,
                     "\": ", raw ? sqlite3_errmsg(raw) : "out of memory"));
  }
  sqlite3_busy_timeout(raw, 5000);
  // WAL: a commit appends to the log and (synchronous=FULL) fsyncs it once.
  // Exclusive: one server per file (StoreLock) and no other reader, so the
  // file locks are taken once, not around every transaction (six fcntl calls
  // per commit), and the WAL index lives in this process's heap (no -shm
  // file). Set before WAL is first used, as SQLite asks.
  absl::Status st = db->Exec(fsync ? "PRAGMA locking_mode=EXCLUSIVE;"
                                     "PRAGMA journal_mode=WAL;"
                                     "PRAGMA synchronous=FULL;"
                                   : "PRAGMA locking_mode=EXCLUSIVE;"
                                     "PRAGMA journal_mode=WAL;"
                                     "PRAGMA synchronous=OFF;");
  if (!st.ok()) {
    return absl::UnavailableError(
        absl::StrCat("queue store: \"", path, "\": ", st.message()));
  }
  return db;
}

absl::Status Db::Exec(std::string_view sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return absl::OkStatus();
  std::string msg = err ? err : sqlite3_errstr(rc);
  sqlite3_free(err);
  return absl::UnavailableError(absl::StrCat("queue store: ", msg));
}

absl::Status Db::Run(std::string_view sql) {
  absl::StatusOr<Stmt> s = Prepare(sql);
  if (!s.ok()) return s.status();
  return s->Run();
}

absl::StatusOr<Stmt> Db::Prepare(std::string_view sql) {
  auto it = cache_.find(absl::string_view(sql.data(), sql.size()));
  if (it != cache_.end()) {
    sqlite3_reset(it->second);
    sqlite3_clear_bindings(it->second);
    return Stmt(it->second);
  }
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &s, nullptr);
  if (rc != SQLITE_OK) return Error(sql);
  cache_.emplace(std::string(sql), s);
  return Stmt(s);
}

void Db::ResetAll() {
  for (auto& [sql, s] : cache_) sqlite3_reset(s);
}

int64_t Db::changes() const { return sqlite3_changes64(db_); }

absl::Status Db::Error(std::string_view what) const {
  return absl::UnavailableError(
      absl::StrCat("queue store: ", sqlite3_errmsg(db_),
                   " in: ", absl::string_view(what.data(), what.size())));
}

}  // namespace msock::internal::queue
