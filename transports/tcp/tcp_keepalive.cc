// TCP keepalive and user timeout of one connected socket: see tcp_keepalive.h.
#include "transports/tcp/tcp_keepalive.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace msock::internal {
namespace {

constexpr int kProbes = 3;

int IdleSeconds(absl::Duration idle) {
  return static_cast<int>(std::max<int64_t>(
      1, absl::ToInt64Seconds(absl::Ceil(idle, absl::Seconds(1)))));
}

absl::Status SetInt(int fd, int level, int name, int value, const char* what) {
  if (setsockopt(fd, level, name, &value, sizeof(value)) == 0) {
    return absl::OkStatus();
  }
  return absl::InternalError(
      absl::StrCat("tcp keepalive: setsockopt(", what, "): ", strerror(errno)));
}

}  // namespace

int KeepaliveIntervalSeconds(absl::Duration idle) {
  return std::max(1, IdleSeconds(idle) / 3);
}

absl::Duration KeepaliveBound(absl::Duration idle) {
  if (idle <= absl::ZeroDuration()) return absl::ZeroDuration();
  return absl::Seconds(IdleSeconds(idle) +
                       kProbes * KeepaliveIntervalSeconds(idle));
}

absl::Status ApplyTcpKeepalive(int fd, absl::Duration idle) {
  if (idle <= absl::ZeroDuration()) return absl::OkStatus();
  const int interval = KeepaliveIntervalSeconds(idle);
  absl::Status s = SetInt(fd, SOL_SOCKET, SO_KEEPALIVE, 1, "SO_KEEPALIVE");
  if (s.ok())
    s = SetInt(fd, IPPROTO_TCP, TCP_KEEPIDLE, IdleSeconds(idle),
               "TCP_KEEPIDLE");
  if (s.ok())
    s = SetInt(fd, IPPROTO_TCP, TCP_KEEPINTVL, interval, "TCP_KEEPINTVL");
  if (s.ok()) s = SetInt(fd, IPPROTO_TCP, TCP_KEEPCNT, kProbes, "TCP_KEEPCNT");
  // Keepalive probes only go out on an idle connection: while sent bytes wait
  // for their acknowledgement the kernel retransmits instead, for about 15
  // minutes. The user timeout gives that case the same bound.
  if (s.ok()) {
    s = SetInt(
        fd, IPPROTO_TCP, TCP_USER_TIMEOUT,
        static_cast<int>(absl::ToInt64Milliseconds(KeepaliveBound(idle))),
        "TCP_USER_TIMEOUT");
  }
  return s;
}

}  // namespace msock::internal
