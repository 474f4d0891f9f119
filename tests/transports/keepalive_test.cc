// TCP keepalive (opt::kTcpKeepalive) and the dial's connect timeout
// (opt::kConnectTimeout) over tcp and ws. Keepalive: the settings are read back
// with getsockopt from the sockets msock itself opened (found in /proc/self/fd),
// on the dialed and the accepted end. Connect timeout: a dial into a listening
// socket whose accept queue is full (Linux drops the SYN, so connect() hangs as
// it does toward a silently unreachable host) fails with the timeout's error.
// What a dead peer does to a connection is in tests/reliability/partition_test.
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "msock/msock.h"
#include "tests/support/test_support.h"
#include "transports/tcp/tcp_keepalive.h"

namespace msock {
namespace {

using test::Deadline;
using test::EventLog;
using test::WaitUntil;

struct Keepalive {
  int on = -1, idle = -1, interval = -1, count = -1, user_timeout_ms = -1;
};

int GetInt(int fd, int level, int name) {
  int v = -1;
  socklen_t len = sizeof(v);
  return getsockopt(fd, level, name, &v, &len) == 0 ? v : -1;
}

Keepalive Read(int fd) {
  return {GetInt(fd, SOL_SOCKET, SO_KEEPALIVE),
          GetInt(fd, IPPROTO_TCP, TCP_KEEPIDLE),
          GetInt(fd, IPPROTO_TCP, TCP_KEEPINTVL),
          GetInt(fd, IPPROTO_TCP, TCP_KEEPCNT),
          GetInt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT)};
}

int PortOf(const sockaddr_storage& ss) {
  if (ss.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in&>(ss).sin_port);
  }
  if (ss.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6&>(ss).sin6_port);
  }
  return -1;
}

// The connected TCP sockets of this process with `port` at one end (not the
// listening one): the dialed and the accepted end of a loopback connection.
std::vector<int> ConnectedSocketsOnPort(int port) {
  std::vector<int> fds;
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return fds;
  while (dirent* e = readdir(dir)) {
    const int fd = atoi(e->d_name);
    if (e->d_name[0] == '.' || fd == dirfd(dir)) continue;
    sockaddr_storage local{}, remote{};
    socklen_t llen = sizeof(local), rlen = sizeof(remote);
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &llen) != 0 ||
        getpeername(fd, reinterpret_cast<sockaddr*>(&remote), &rlen) != 0) {
      continue;  // not a socket, or not connected (the listener)
    }
    if (GetInt(fd, SOL_SOCKET, SO_TYPE) != SOCK_STREAM) continue;
    if (PortOf(local) == port || PortOf(remote) == port) fds.push_back(fd);
  }
  closedir(dir);
  return fds;
}

int UrlPort(const std::string& url) {
  const size_t colon = url.rfind(':');
  return atoi(url.c_str() + colon + 1);
}

TEST(TcpKeepaliveTest, BoundIsIdlePlusThreeIntervals) {
  using internal::KeepaliveBound;
  using internal::KeepaliveIntervalSeconds;
  EXPECT_EQ(KeepaliveIntervalSeconds(absl::Seconds(60)), 20);
  EXPECT_EQ(KeepaliveBound(absl::Seconds(60)), absl::Seconds(120));
  // Under 3 s the interval stays at its 1 s floor; parts of a second round up.
  EXPECT_EQ(KeepaliveIntervalSeconds(absl::Seconds(1)), 1);
  EXPECT_EQ(KeepaliveBound(absl::Seconds(1)), absl::Seconds(4));
  EXPECT_EQ(KeepaliveBound(absl::Milliseconds(1500)), absl::Seconds(5));
  EXPECT_EQ(KeepaliveBound(absl::ZeroDuration()), absl::ZeroDuration());
}

class KeepaliveOnPipesTest : public ::testing::TestWithParam<const char*> {};

TEST_P(KeepaliveOnPipesTest, DialedAndAcceptedEndsFollowTheOption) {
  const std::string scheme = GetParam();
  Context ctx;
  Pull pull(ctx);
  ASSERT_TRUE(pull.Set(opt::kTcpKeepalive, absl::Seconds(7)).ok());
  absl::StatusOr<std::string> url = pull.Listen(
      absl::StrCat(scheme, "://127.0.0.1:0", scheme == "ws" ? "/k" : ""));
  ASSERT_TRUE(url.ok()) << url.status();
  Push push(ctx);
  ASSERT_TRUE(push.Set(opt::kTcpKeepalive, absl::Seconds(7)).ok());
  ASSERT_TRUE(push.Dial(*url).ok());
  ASSERT_TRUE(push.WaitForPeers(1, Deadline(10)).ok());
  ASSERT_TRUE(pull.WaitForPeers(1, Deadline(10)).ok());

  std::vector<int> fds = ConnectedSocketsOnPort(UrlPort(*url));
  ASSERT_EQ(fds.size(), 2u) << "the dialed and the accepted socket";
  for (int fd : fds) {
    Keepalive k = Read(fd);
    EXPECT_EQ(k.on, 1) << "fd " << fd;
    EXPECT_EQ(k.idle, 7) << "fd " << fd;
    EXPECT_EQ(k.interval, 2) << "fd " << fd;
    EXPECT_EQ(k.count, 3) << "fd " << fd;
    EXPECT_EQ(k.user_timeout_ms, 13000) << "fd " << fd;
  }
}

TEST_P(KeepaliveOnPipesTest, ZeroLeavesKeepaliveOff) {
  const std::string scheme = GetParam();
  Context ctx;
  Pull pull(ctx);
  ASSERT_TRUE(pull.Set(opt::kTcpKeepalive, absl::ZeroDuration()).ok());
  absl::StatusOr<std::string> url = pull.Listen(
      absl::StrCat(scheme, "://127.0.0.1:0", scheme == "ws" ? "/k" : ""));
  ASSERT_TRUE(url.ok()) << url.status();
  Push push(ctx);
  ASSERT_TRUE(push.Set(opt::kTcpKeepalive, absl::ZeroDuration()).ok());
  ASSERT_TRUE(push.Dial(*url).ok());
  ASSERT_TRUE(push.WaitForPeers(1, Deadline(10)).ok());
  ASSERT_TRUE(pull.WaitForPeers(1, Deadline(10)).ok());
  std::vector<int> fds = ConnectedSocketsOnPort(UrlPort(*url));
  ASSERT_EQ(fds.size(), 2u);
  for (int fd : fds) {
    EXPECT_EQ(Read(fd).on, 0) << "fd " << fd;
    EXPECT_EQ(Read(fd).user_timeout_ms, 0) << "fd " << fd;
  }
}

INSTANTIATE_TEST_SUITE_P(Transports, KeepaliveOnPipesTest,
                         ::testing::Values("tcp", "ws"));

TEST(TcpKeepaliveTest, NegativeIsRefused) {
  Context ctx;
  Push push(ctx);
  absl::Status s = push.Set(opt::kTcpKeepalive, absl::Seconds(-1));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("tcp-keepalive"), std::string::npos) << s;
  EXPECT_EQ(push.Set(opt::kConnectTimeout, absl::Seconds(-1)).code(),
            absl::StatusCode::kInvalidArgument);
}

// A listening socket that never accepts, its queue already full: Linux drops
// further SYNs, so a connect to it hangs until the client gives up.
class FullBacklog {
 public:
  FullBacklog() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&a), len) != 0 ||
        listen(fd_, 0) != 0 ||
        getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      return;
    }
    port_ = ntohs(a.sin_port);
    // A backlog of 0 holds one connection; two more make sure it is full.
    for (int i = 0; i < 3; ++i) {
      int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      connect(c, reinterpret_cast<sockaddr*>(&a), sizeof(a));
      fillers_.push_back(c);
    }
  }
  ~FullBacklog() {
    for (int c : fillers_) close(c);
    if (fd_ >= 0) close(fd_);
  }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::vector<int> fillers_;
};

class ConnectTimeoutTest : public ::testing::TestWithParam<const char*> {};

TEST_P(ConnectTimeoutTest, ADialThatHearsNothingFailsAndIsRetried) {
  const std::string scheme = GetParam();
  FullBacklog silent;
  ASSERT_NE(silent.port(), 0);
  Context ctx;
  Push push(ctx);
  EventLog log;
  push.socket().OnPipeEvent(log.Fn());
  ASSERT_TRUE(push.Set(opt::kConnectTimeout, absl::Milliseconds(300)).ok());
  ASSERT_TRUE(push.Set(opt::kReconnectMin, absl::Milliseconds(50)).ok());
  ASSERT_TRUE(push.Set(opt::kReconnectMax, absl::Milliseconds(50)).ok());
  const absl::Time start = absl::Now();
  ASSERT_TRUE(push.Dial(absl::StrCat(scheme, "://127.0.0.1:", silent.port(),
                                     scheme == "ws" ? "/x" : ""))
                  .ok());
  // Each attempt gives up after 300 ms and the dialer tries again.
  ASSERT_TRUE(WaitUntil(
      [&] { return log.Count(PipeEventType::kDialFailed) >= 2; }, Deadline(10)))
      << "dial failures: " << log.Count(PipeEventType::kDialFailed);
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(550));
  const std::string reason = log.FirstReason(PipeEventType::kDialFailed);
  EXPECT_NE(reason.find("connect-timeout"), std::string::npos) << reason;
  EXPECT_NE(reason.find(std::to_string(silent.port())), std::string::npos)
      << reason;
  EXPECT_EQ(push.socket().pipe_count(), 0);
}

INSTANTIATE_TEST_SUITE_P(Transports, ConnectTimeoutTest,
                         ::testing::Values("tcp", "ws"));

}  // namespace
}  // namespace msock
