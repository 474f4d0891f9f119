// store_lock.h: the flock(2) that keeps a store file to one queue server.
#include "protocols/queue/store_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace msock::internal::queue {

absl::StatusOr<std::unique_ptr<StoreLock>> StoreLock::Take(
    const std::string& db_path) {
  if (db_path.empty() || db_path == ":memory:") {
    return std::unique_ptr<StoreLock>(new StoreLock(-1));
  }
  const std::string path = absl::StrCat(db_path, "-lock");
  int fd;
  do {
    fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    return absl::UnavailableError(
        absl::StrCat("queue store: cannot open the lock file \"", path,
                     "\": ", std::strerror(errno)));
  }
  int rc;
  do {
    rc = flock(fd, LOCK_EX | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    const int err = errno;
    close(fd);
    if (err == EWOULDBLOCK) {
      return absl::FailedPreconditionError(absl::StrCat(
          "queue store: \"", db_path,
          "\" is in use by another queue server (it holds \"", path, "\")"));
    }
    return absl::UnavailableError(absl::StrCat(
        "queue store: cannot lock \"", path, "\": ", std::strerror(err)));
  }
  return std::unique_ptr<StoreLock>(new StoreLock(fd));
}

StoreLock::~StoreLock() {
  if (fd_ >= 0) close(fd_);  // closing the descriptor releases the flock
}

}  // namespace msock::internal::queue
