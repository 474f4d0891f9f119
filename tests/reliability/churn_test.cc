// Churn: many connect/close cycles against one listener (tcp, ipc, ws). Each
// cycle makes a Push, dials the Pull, waits for the pipe, sends one message,
// and closes. After a warm-up, open fds and RSS are measured before and after;
// the fds must come back exactly, RSS within a small bound (not checked under
// sanitizers, whose allocators keep freed memory), and the listener must have
// no pipe left (pipe_count 0, pipes_opened == pipes_closed).
// MSOCK_CHURN_CYCLES sets the count (ctest: 1000; tools/churn.sh: 10000).
#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "msock/msock.h"
#include "tests/support/test_support.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define MSOCK_CHURN_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define MSOCK_CHURN_SANITIZED 1
#endif
#endif

namespace msock {
namespace {

using test::Deadline;
using test::WaitUntil;

constexpr int kWarmup = 200;
constexpr int kDefaultCycles = 1000;
// RSS may grow this much over the cycles (allocator caches, lazily touched
// pages): a leak of even 1 KiB per cycle over 10,000 cycles is far above it.
[[maybe_unused]] constexpr long kRssSlackKiB = 4096;

int Cycles() {
  const char* env = std::getenv("MSOCK_CHURN_CYCLES");
  int n = 0;
  if (env != nullptr && absl::SimpleAtoi(env, &n) && n > 0) return n;
  return kDefaultCycles;
}

int OpenFds() {
  DIR* d = opendir("/proc/self/fd");
  if (d == nullptr) return -1;
  int n = 0;
  while (readdir(d) != nullptr) ++n;
  closedir(d);
  return n - 3;  // ".", ".." and the DIR's own fd
}

long RssKiB() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return -1;
  long size = 0, resident = 0;
  int got = std::fscanf(f, "%ld %ld", &size, &resident);
  std::fclose(f);
  return got == 2 ? resident * (sysconf(_SC_PAGESIZE) / 1024) : -1;
}

class ChurnTest : public ::testing::TestWithParam<std::string> {};

// One cycle: a fresh Push dials, is seen, delivers one message, closes.
// Adds the dial attempts that failed (and were retried) to *failed_dials.
void Cycle(Pull& pull, const std::string& url, int i, int* failed_dials) {
  test::EventLog log;
  Push push;
  push.socket().OnPipeEvent(log.Fn());
  ASSERT_TRUE(push.Dial(url).ok());
  ASSERT_TRUE(push.WaitForPeers(1, Deadline(20)).ok()) << "cycle " << i;
  std::string body = absl::StrCat("c", i);
  ASSERT_TRUE(push.Send(body, Deadline(20)).ok()) << "cycle " << i;
  absl::StatusOr<Message> m = pull.Recv(Deadline(20));
  ASSERT_TRUE(m.ok()) << "cycle " << i << ": " << m.status();
  ASSERT_EQ(std::string(m->data(), m->size()), body);
  push.Close();
  *failed_dials += log.Count(PipeEventType::kDialFailed);
}

TEST_P(ChurnTest, ConnectCloseCyclesLeaveNothingBehind) {
  const int cycles = Cycles();
  Pull pull;
  absl::StatusOr<std::string> url = pull.Listen(test::ListenUrlFor(GetParam()));
  ASSERT_TRUE(url.ok()) << url.status();
  auto settled = [&](uint64_t total) {
    return WaitUntil(
        [&] {
          SocketStats s = pull.stats();
          return pull.socket().pipe_count() == 0 && s.pipes_opened == total &&
                 s.pipes_closed == total;
        },
        Deadline(30));
  };
  int failed_dials = 0;
  for (int i = 0; i < kWarmup; ++i) {
    Cycle(pull, *url, i, &failed_dials);
    if (HasFatalFailure()) return;
  }
  ASSERT_TRUE(settled(kWarmup));
  failed_dials = 0;
  const int fds_before = OpenFds();
  const long rss_before = RssKiB();

  const absl::Time start = absl::Now();
  absl::Duration slowest;
  int slow = 0;  // cycles over 100 ms
  for (int i = 0; i < cycles; ++i) {
    const absl::Time t = absl::Now();
    Cycle(pull, *url, kWarmup + i, &failed_dials);
    if (HasFatalFailure()) return;
    const absl::Duration d = absl::Now() - t;
    slowest = std::max(slowest, d);
    if (d > absl::Milliseconds(100)) ++slow;
  }
  const absl::Duration took = absl::Now() - start;
  EXPECT_TRUE(settled(kWarmup + cycles))
      << "pipes " << pull.socket().pipe_count() << ", opened "
      << pull.stats().pipes_opened << ", closed " << pull.stats().pipes_closed;
  // Closing handles finishes on the loop thread: give it a moment.
  EXPECT_TRUE(WaitUntil([&] { return OpenFds() == fds_before; }, Deadline(10)));
  const int fds_after = OpenFds();
  const long rss_after = RssKiB();
  std::printf(
      "[ churn ] %s: %d cycles in %.2f s (%.0f/s); fds %d -> %d; "
      "RSS %ld -> %ld KiB (%+ld); slowest cycle %.3f s, %d over 100 ms; %d "
      "failed dials (retried)\n",
      GetParam().c_str(), cycles, absl::ToDoubleSeconds(took),
      cycles / absl::ToDoubleSeconds(took), fds_before, fds_after, rss_before,
      rss_after, rss_after - rss_before, absl::ToDoubleSeconds(slowest), slow,
      failed_dials);
  EXPECT_EQ(fds_after, fds_before);
#ifndef MSOCK_CHURN_SANITIZED
  EXPECT_LE(rss_after - rss_before, kRssSlackKiB);
#endif
}

INSTANTIATE_TEST_SUITE_P(Transports, ChurnTest,
                         ::testing::Values("tcp", "ipc", "ws"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace msock
