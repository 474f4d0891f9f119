// A listener whose process runs out of file descriptors (EMFILE) waits
// quietly and accepts again once descriptors are freed, on tcp, ipc and ws:
// its connections keep working meanwhile and the loop does not spin on the
// readable listening socket. The listener runs in a child process (this
// binary again, running only ListenerEmfileTest.DISABLED_Child) so that the
// descriptor limit does not touch the tests; the parent drives it with
// messages over its first connection.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "msock/msock.h"
#include "tests/support/test_support.h"

extern char** environ;

namespace msock {
namespace {

using test::Deadline;
using test::RecvString;
using test::SendString;

constexpr char kChildEnv[] = "MSOCK_EMFILE_CHILD";

int64_t CpuMicros() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1'000'000 +
         u.ru_utime.tv_usec + u.ru_stime.tv_usec;
}

// The child: a bus listening on $MSOCK_EMFILE_CHILD's scheme; prints its URL,
// then answers the messages it receives: "exhaust" (opens descriptors until
// EMFILE), "measure" (its CPU time over one second, in ms), "free" (closes
// them), "quit"; anything else is echoed.
TEST(ListenerEmfileTest, DISABLED_Child) {
  const char* scheme = std::getenv(kChildEnv);
  if (scheme == nullptr) GTEST_SKIP() << "run by the ListenerEmfileTest tests";
  alarm(60);  // never outlive a parent that lost track of us
  rlimit lim{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &lim), 0);
  if (lim.rlim_cur > 256) lim.rlim_cur = 256;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &lim), 0);
  Socket bus(protocols::kBus);
  absl::StatusOr<std::string> url = bus.Listen(test::ListenUrlFor(scheme));
  ASSERT_TRUE(url.ok()) << url.status();
  std::printf("url %s\n", url->c_str());
  std::fflush(stdout);
  std::vector<int> spare;
  for (;;) {
    absl::StatusOr<std::string> cmd = RecvString(bus, Deadline(30));
    if (!cmd.ok() || *cmd == "quit") break;
    std::string reply = *cmd;
    if (*cmd == "exhaust") {
      for (int fd; (fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0;) {
        spare.push_back(fd);
      }
      reply = errno == EMFILE ? "exhausted" : "open failed otherwise";
    } else if (*cmd == "measure") {
      const int64_t before = CpuMicros();
      absl::SleepFor(absl::Seconds(1));  // the window measured
      reply = "cpu_ms " + std::to_string((CpuMicros() - before) / 1000);
    } else if (*cmd == "free") {
      for (int fd : spare) close(fd);
      spare.clear();
      reply = "freed";
    }
    ASSERT_TRUE(SendString(bus, reply, Deadline(10)).ok());
  }
}

// This binary, running DISABLED_Child for `scheme`, stdout to a pipe.
class Child {
 public:
  explicit Child(const std::string& scheme) {
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    std::vector<std::string> args = {
        "/proc/self/exe", "--gtest_filter=ListenerEmfileTest.DISABLED_Child",
        "--gtest_also_run_disabled_tests"};
    std::vector<std::string> env = {std::string(kChildEnv) + "=" + scheme};
    for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
    std::vector<char*> argv, envp;
    for (std::string& a : args) argv.push_back(a.data());
    for (std::string& e : env) envp.push_back(e.data());
    argv.push_back(nullptr);
    envp.push_back(nullptr);
    if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(),
                    envp.data()) != 0) {
      pid_ = -1;
    }
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    out_ = out[0];
  }
  ~Child() {
    if (out_ >= 0) close(out_);
    if (pid_ <= 0) return;
    // It quits when told; give it a few seconds, then kill it.
    const absl::Time deadline = Deadline(5);
    while (waitpid(pid_, nullptr, WNOHANG) == 0) {
      if (absl::Now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
        break;
      }
      absl::SleepFor(absl::Milliseconds(10));  // polling the exit
    }
  }

  // The URL line the child prints, or "" by the deadline.
  std::string Url(absl::Time deadline) {
    std::string got;
    char c;
    while (absl::Now() < deadline) {
      pollfd p{out_, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      if (read(out_, &c, 1) != 1) return "";
      if (c != '\n') {
        got += c;
        continue;
      }
      if (got.rfind("url ", 0) == 0) return got.substr(4);
      got.clear();  // gtest's own lines
    }
    return "";
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
};

// Sends `text` on `s` and returns the child's answer to it (skipping the
// answers to others that a bus gives every peer).
std::string Ask(Socket& s, const std::string& text, const std::string& prefix) {
  if (!SendString(s, text, Deadline(10)).ok()) return "send failed";
  const absl::Time deadline = Deadline(10);
  while (absl::Now() < deadline) {
    absl::StatusOr<std::string> got = RecvString(s, deadline);
    if (got.ok() && got->rfind(prefix, 0) == 0) return *got;
  }
  return "no answer";
}

void WaitsOutEmfile(const std::string& scheme) {
  Child child(scheme);
  const std::string url = child.Url(Deadline(20));
  ASSERT_FALSE(url.empty());
  Socket first(protocols::kBus);
  ASSERT_TRUE(first.Dial(url).ok());
  ASSERT_TRUE(first.WaitForPeers(1, Deadline(10)).ok());
  EXPECT_EQ(Ask(first, "before", "before"), "before");

  ASSERT_EQ(Ask(first, "exhaust", "exhausted"), "exhausted");
  Socket second(protocols::kBus);
  ASSERT_TRUE(second.Set(opt::kReconnectMin, absl::Milliseconds(20)).ok());
  ASSERT_TRUE(second.Set(opt::kReconnectMax, absl::Milliseconds(200)).ok());
  ASSERT_TRUE(second.Set(opt::kHandshakeTimeout, absl::Seconds(1)).ok());
  ASSERT_TRUE(second.Dial(url).ok());
  // Out of descriptors: the connection it has works, the new one waits, and
  // the listener idles (a spinning one would use about a CPU).
  EXPECT_EQ(Ask(first, "during", "during"), "during");
  const std::string cpu = Ask(first, "measure", "cpu_ms ");
  ASSERT_EQ(cpu.rfind("cpu_ms ", 0), 0u) << cpu;
  EXPECT_LT(std::stoi(cpu.substr(7)), 150) << "of 1000 ms (idle: ~1)";
  EXPECT_EQ(second.pipe_count(), 0);

  ASSERT_EQ(Ask(first, "free", "freed"), "freed");
  ASSERT_TRUE(second.WaitForPeers(1, Deadline(10)).ok());
  EXPECT_EQ(Ask(second, "after", "after"), "after");
  EXPECT_TRUE(SendString(first, "quit", Deadline(10)).ok());
}

TEST(ListenerEmfileTest, TcpListenerWaitsOutEmfile) { WaitsOutEmfile("tcp"); }
TEST(ListenerEmfileTest, IpcListenerWaitsOutEmfile) { WaitsOutEmfile("ipc"); }
TEST(ListenerEmfileTest, WsListenerWaitsOutEmfile) { WaitsOutEmfile("ws"); }

}  // namespace
}  // namespace msock
