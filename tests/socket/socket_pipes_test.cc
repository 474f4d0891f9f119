// msock::Socket and its pipes (msock/socket.h): ClosePipe writes what is
// queued for the pipe before closing it (bounded by kLinger), the kAdded event
// of a pipe comes before any message from it, and what a kToOne socket does
// with the unsent messages of a pipe that dies (SocketSpec::requeue_on_close).
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "msock/options.h"
#include "msock/protocols/recipes.h"
#include "msock/protocols/reqrep.h"
#include "msock/socket.h"
#include "tests/support/test_support.h"

namespace msock {
namespace {

using test::Deadline;
using test::EventLog;
using test::RecvString;
using test::WaitUntil;

int LeadingNumber(std::string_view body) {
  int v = -1;
  if (!absl::SimpleAtoi(std::string(body.substr(0, body.find(' '))), &v))
    return -1;
  return v;
}

// A rep socket (kToDest: SendTo one pipe) and a plain req socket dialing it,
// whose receive queue is small so that rep's queue for the pipe fills up.
struct QueuedPipe {
  explicit QueuedPipe(std::string_view scheme)
      : rep(protocols::kRep), peer(protocols::kReq) {
    EXPECT_TRUE(rep.Set(opt::kSendQueueMessages, size_t{4096}).ok());
    EXPECT_TRUE(rep.Set(opt::kSendQueueBytes, size_t{256} << 20).ok());
    EXPECT_TRUE(peer.Set(opt::kRecvQueueMessages, size_t{16}).ok());
    rep.OnPipeEvent(rep_log.Fn());
    peer.OnPipeEvent(peer_log.Fn());
    absl::StatusOr<std::string> url = rep.Listen(test::ListenUrlFor(scheme));
    EXPECT_TRUE(url.ok()) << url.status();
    EXPECT_TRUE(peer.Dial(url.value_or("")).ok());
    EXPECT_TRUE(rep.WaitForPeers(1, Deadline(10)).ok());
    std::vector<PipeStats> pipes = rep.pipe_stats();
    if (!pipes.empty()) pipe = pipes[0].pipe_id;
  }

  // Queues `n` messages of `size` bytes ("<i> xxx...") for the pipe.
  void Queue(int n, size_t size) {
    for (int i = 0; i < n; ++i) {
      std::string body = absl::StrCat(i, " ");
      body.resize(size, 'x');
      Message m(body);
      ASSERT_TRUE(rep.SendTo(Path{pipe}, m, Deadline(10)).ok()) << i;
    }
  }

  size_t Queued() {
    std::vector<PipeStats> pipes = rep.pipe_stats();
    return pipes.empty() ? 0 : pipes[0].queued_messages;
  }

  EventLog rep_log, peer_log;  // outlive the sockets
  Socket rep, peer;
  uint32_t pipe = 0;
};

class ClosePipeTest : public testing::TestWithParam<std::string> {};

TEST_P(ClosePipeTest, ClosePipeWritesQueuedMessagesThenCloses) {
  constexpr int kCount = 1000;
  QueuedPipe q(GetParam());
  ASSERT_TRUE(q.rep.Set(opt::kLinger, absl::Seconds(60)).ok());
  q.Queue(kCount, 16 << 10);
  // The peer reads nothing yet: most of the 16 MiB wait in rep's queue.
  ASSERT_GT(q.Queued(), 0u);
  q.rep.ClosePipe(q.pipe);
  // A lingering pipe takes no new message.
  Message late("late");
  EXPECT_EQ(q.rep.SendTo(Path{q.pipe}, late, absl::InfinitePast()).code(),
            absl::StatusCode::kUnavailable);
  for (int i = 0; i < kCount; ++i) {
    absl::StatusOr<std::string> got = RecvString(q.peer, Deadline(20));
    ASSERT_TRUE(got.ok()) << i << ": " << got.status();
    ASSERT_EQ(LeadingNumber(*got), i);
  }
  // Then the peer sees the close, and nothing else came.
  EXPECT_TRUE(
      WaitUntil([&] { return q.peer_log.Count(PipeEventType::kRemoved) == 1; },
                Deadline(20)));
  EXPECT_TRUE(
      WaitUntil([&] { return q.rep_log.Count(PipeEventType::kRemoved) == 1; },
                Deadline(20)));
  EXPECT_EQ(q.peer.TryRecv().status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(q.rep.stats().dropped, 1u) << "only the late message";
}

TEST_P(ClosePipeTest, ClosePipeWithZeroLingerClosesAtOnce) {
  QueuedPipe q(GetParam());
  ASSERT_TRUE(q.rep.Set(opt::kLinger, absl::ZeroDuration()).ok());
  q.Queue(1000, 16 << 10);
  ASSERT_GT(q.Queued(), 0u);
  q.rep.ClosePipe(q.pipe);
  // Closed although the peer has read nothing: the queued messages are lost.
  EXPECT_TRUE(
      WaitUntil([&] { return q.rep_log.Count(PipeEventType::kRemoved) == 1; },
                Deadline(10)));
  EXPECT_GT(q.rep.stats().dropped, 0u);
}

TEST_P(ClosePipeTest, ClosePipeLingerBoundsTheWait) {
  QueuedPipe q(GetParam());
  ASSERT_TRUE(q.rep.Set(opt::kLinger, absl::Milliseconds(300)).ok());
  q.Queue(1000, 16 << 10);
  ASSERT_GT(q.Queued(), 0u);
  const absl::Time start = absl::Now();
  q.rep.ClosePipe(q.pipe);
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(250)) << "never blocks";
  // The peer never reads: the pipe closes when the linger runs out.
  ASSERT_TRUE(
      WaitUntil([&] { return q.rep_log.Count(PipeEventType::kRemoved) == 1; },
                Deadline(20)));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(290));
  EXPECT_GT(q.rep.stats().dropped, 0u);
}

INSTANTIATE_TEST_SUITE_P(Transports, ClosePipeTest,
                         testing::Values("inproc", "tcp"),
                         [](const testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace msock
