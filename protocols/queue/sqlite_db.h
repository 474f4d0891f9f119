// A thin C++ face on SQLite: one connection, prepared statements cached by
// their text, binding and reading by position, errors as absl::Status naming
// the statement and SQLite's message. Not thread-safe: one thread owns a Db
// (the store's writer thread).
#ifndef MSOCK_PROTOCOLS_QUEUE_SQLITE_DB_H_
#define MSOCK_PROTOCOLS_QUEUE_SQLITE_DB_H_

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace msock::internal::queue {

// One prepared statement, reset and unbound by Db::Prepare before each use.
class Stmt {
 public:
  explicit Stmt(sqlite3_stmt* s) : s_(s) {}
  Stmt& Bind(int i, int64_t v);
  Stmt& Bind(int i, std::string_view v);  // as TEXT
  Stmt& Blob(int i, std::string_view v);  // as BLOB
  // Steps once: true with a row, false when done; kUnavailable on errors.
  absl::StatusOr<bool> Step();
  // Steps to the end (statements without rows).
  absl::Status Run();
  int64_t Int(int col) const;
  std::string Text(int col) const;  // TEXT or BLOB bytes
  bool IsNull(int col) const;

 private:
  sqlite3_stmt* s_;
};

class Db {
 public:
  ~Db();
  // Opens (creating) `path` in WAL mode; synchronous FULL when `fsync`, else
  // OFF. Errors: kUnavailable with the path and SQLite's message.
  static absl::StatusOr<std::unique_ptr<Db>> Open(const std::string& path,
                                                  bool fsync);
  // Runs one or more statements without parameters.
  absl::Status Exec(std::string_view sql);
  // Runs one statement without parameters, prepared once and cached (BEGIN,
  // SAVEPOINT, RELEASE, COMMIT: parsed once, not per transaction).
  absl::Status Run(std::string_view sql);
  // The cached statement for `sql`, reset and unbound. Valid until the next
  // Prepare of the same text.
  absl::StatusOr<Stmt> Prepare(std::string_view sql);
  // Resets every cached statement, so none holds a read open across a
  // COMMIT or ROLLBACK TO.
  void ResetAll();
  int64_t changes() const;  // rows the last statement changed
  absl::Status Error(std::string_view what) const;

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  absl::flat_hash_map<std::string, sqlite3_stmt*> cache_;
};

}  // namespace msock::internal::queue

// Declares `Stmt& var` prepared from `sql` on `db`, or returns the error
// from the enclosing function.
#define MSOCK_QUEUE_PREPARE(var, db, sql)       \
  auto var##_or = (db).Prepare(sql);            \
  if (!var##_or.ok()) return var##_or.status(); \
  ::msock::internal::queue::Stmt& var = *var##_or

#endif  // MSOCK_PROTOCOLS_QUEUE_SQLITE_DB_H_
