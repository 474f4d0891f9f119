// StoreLock: one queue server per store file. Two servers on one SQLite file
// would each keep their own sessions and caches and silently miss each
// other's posts, so the store takes an exclusive flock(2) on a file beside
// the database ("<db_path>-lock", as SQLite names its "-wal" and "-shm")
// before it opens the database, and holds it until its writer thread ends.
// The kernel drops the lock with the process, so a server killed with
// SIGKILL never leaves a stale one; the lock file itself stays (empty).
// A sidecar file and not the database: closing any other descriptor of the
// database would drop SQLite's own fcntl locks of this process.
//
// Example:
//   absl::StatusOr<std::unique_ptr<StoreLock>> lock = StoreLock::Take(path);
//   if (!lock.ok()) return lock.status();  // kFailedPrecondition: in use
//   ... open and use the database; destroying *lock releases it ...
#ifndef MSOCK_PROTOCOLS_QUEUE_STORE_LOCK_H_
#define MSOCK_PROTOCOLS_QUEUE_STORE_LOCK_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace msock::internal::queue {

class StoreLock {
 public:
  // Errors: kFailedPrecondition when another store (of this process or
  // another) holds the lock, kUnavailable when the lock file cannot be
  // opened. SQLite's in-memory names (":memory:", "") lock nothing.
  static absl::StatusOr<std::unique_ptr<StoreLock>> Take(
      const std::string& db_path);
  ~StoreLock();  // releases the lock
  StoreLock(const StoreLock&) = delete;
  StoreLock& operator=(const StoreLock&) = delete;

 private:
  explicit StoreLock(int fd) : fd_(fd) {}
  int fd_;  // -1: nothing locked
};

}  // namespace msock::internal::queue

#endif  // MSOCK_PROTOCOLS_QUEUE_STORE_LOCK_H_
