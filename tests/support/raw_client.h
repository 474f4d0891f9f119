// RawClient: a blocking POSIX TCP (or, for ipc:// URLs, unix socket) client
// for tests that speak to an msock listener byte by byte (bad headers, silent
// peers, hand-made frames).
#ifndef MSOCK_TESTS_SUPPORT_RAW_CLIENT_H_
#define MSOCK_TESTS_SUPPORT_RAW_CLIENT_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "absl/time/clock.h"
#include "msock/url.h"

namespace msock::test {

// A blocking TCP or unix client socket, closed on destruction.
class RawClient {
 public:
  explicit RawClient(const std::string& url) {
    absl::StatusOr<Url> u = ParseUrl(url);
    if (!u.ok()) return;
    if (u->scheme == "ipc") {
      sockaddr_un addr{};
      addr.sun_family = AF_UNIX;
      if (u->path.size() >= sizeof(addr.sun_path)) return;
      std::memcpy(addr.sun_path, u->path.data(), u->path.size());
      fd_ = socket(AF_UNIX, SOCK_STREAM, 0);
      if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
        close(fd_);
        fd_ = -1;
      }
      return;
    }
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(u->port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      close(fd_);
      fd_ = -1;
    }
  }
  ~RawClient() { Close(); }

  bool connected() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

  bool Write(const std::string& bytes) {
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n =
          send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return true;
  }

  // Reads until the peer closes (EOF or reset) or the deadline passes. Returns
  // true if it closed; everything read is appended to *got.
  bool ReadUntilClosed(absl::Time deadline, std::string* got) {
    char buf[4096];
    for (;;) {
      absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) return false;
      pollfd p{fd_, POLLIN, 0};
      int r =
          poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) continue;  // timeout: the loop re-checks the deadline
      ssize_t n = recv(fd_, buf, sizeof(buf), 0);
      if (n == 0) return true;
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        return true;  // ECONNRESET and the like: closed
      }
      got->append(buf, static_cast<size_t>(n));
    }
  }

  // Reads exactly n bytes (or fails at the deadline / on close).
  bool ReadExactly(size_t n, absl::Time deadline, std::string* got) {
    char buf[4096];
    while (got->size() < n) {
      absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) return false;
      pollfd p{fd_, POLLIN, 0};
      int r =
          poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
      if (r <= 0) continue;
      ssize_t k = recv(fd_, buf, std::min(sizeof(buf), n - got->size()), 0);
      if (k <= 0) return false;
      got->append(buf, static_cast<size_t>(k));
    }
    return true;
  }

 private:
  int fd_ = -1;
};

}  // namespace msock::test

#endif  // MSOCK_TESTS_SUPPORT_RAW_CLIENT_H_
