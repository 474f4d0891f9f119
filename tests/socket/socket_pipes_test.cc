// msock::Socket and its pipes (msock/socket.h): ClosePipe writes what is
// queued for the pipe before closing it (bounded by kLinger), the kAdded event
// of a pipe comes before any message from it, and what a kToOne socket does
// with the unsent messages of a pipe that dies
// (SocketSpec::requeue_on_pipe_close).
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

// A pipe's kAdded event runs before any message from it can be received, even
// when its peer sends the moment it can (the inproc listener side is attached
// first and sends at once) and the observer takes its time.
TEST(PipeEventOrderTest, PipeAddedComesBeforeItsMessages) {
  constexpr int kPeers = 12;
  constexpr int kEach = 50;
  for (int round = 0; round < 5; ++round) {
    std::mutex mu;
    absl::flat_hash_set<uint32_t> announced;  // guarded by mu
    std::atomic<int> unannounced{0};
    Socket pull(protocols::kPull);
    pull.OnPipeEvent([&](const PipeEvent& ev) {
      if (ev.type != PipeEventType::kAdded) return;
      // A slow observer: without the ordering, messages overtake it.
      const absl::Time until = absl::Now() + absl::Milliseconds(2);
      while (absl::Now() < until) std::this_thread::yield();
      std::lock_guard<std::mutex> lock(mu);
      announced.insert(ev.pipe_id);
    });
    std::vector<std::unique_ptr<Socket>> pushes;
    std::vector<std::string> urls;
    for (int i = 0; i < kPeers; ++i) {
      pushes.push_back(std::make_unique<Socket>(protocols::kPush));
      absl::StatusOr<std::string> url = pushes.back()->Listen(
          i % 3 == 0 ? "tcp://127.0.0.1:0" : test::UniqueInprocUrl());
      ASSERT_TRUE(url.ok()) << url.status();
      urls.push_back(*url);
    }
    std::vector<std::thread> senders;
    for (int i = 0; i < kPeers; ++i) {
      senders.emplace_back([&, i] {
        for (int j = 0; j < kEach; ++j) {
          Message m(absl::StrCat(i, " ", j));
          ASSERT_TRUE(pushes[i]->Send(m, Deadline(20)).ok());
        }
      });
    }
    for (const std::string& url : urls) ASSERT_TRUE(pull.Dial(url).ok());
    for (int n = 0; n < kPeers * kEach; ++n) {
      absl::StatusOr<Message> m = pull.Recv(Deadline(20));
      ASSERT_TRUE(m.ok()) << m.status();
      std::lock_guard<std::mutex> lock(mu);
      if (!announced.contains(m->source().back())) ++unannounced;
    }
    for (auto& t : senders) t.join();
    ASSERT_EQ(unannounced.load(), 0) << "round " << round;
  }
}

// A socket of `spec` (kToOne) strands messages on a pipe whose peer reads
// nothing, loses that peer, and gets a new one: returns how many messages were
// stranded, and what the new peer receives up to the marker sent after it
// came.
struct Stranded {
  size_t queued = 0;                // on the dead pipe when it died
  std::vector<std::string> before;  // what the new peer got before "marker"
  uint64_t dropped = 0;             // the sender's stats().dropped
};

Stranded StrandAndReconnect(const SocketSpec& spec, const SocketSpec& peer) {
  Stranded out;
  Socket s(spec);
  EXPECT_TRUE(s.Set(opt::kReconnectMin, absl::Milliseconds(10)).ok());
  EXPECT_TRUE(s.Set(opt::kReconnectMax, absl::Milliseconds(100)).ok());
  auto first = std::make_unique<Socket>(peer);
  EXPECT_TRUE(first->Set(opt::kRecvQueueMessages, size_t{4}).ok());
  absl::StatusOr<std::string> url1 = first->Listen(test::UniqueInprocUrl());
  EXPECT_TRUE(url1.ok()) << url1.status();
  EXPECT_TRUE(s.Dial(url1.value_or("")).ok());
  EXPECT_TRUE(s.WaitForPeers(1, Deadline(10)).ok());
  for (int i = 0; i < 100; ++i) {
    EXPECT_TRUE(test::SendString(s, absl::StrCat(i), Deadline(10)).ok());
  }
  std::vector<PipeStats> pipes = s.pipe_stats();
  if (!pipes.empty()) out.queued = pipes[0].queued_messages;
  first->Close();  // the peer goes away with the messages unsent
  EXPECT_TRUE(WaitUntil([&] { return s.pipe_count() == 0; }, Deadline(10)));
  Socket second(peer);
  absl::StatusOr<std::string> url2 = second.Listen(test::UniqueInprocUrl());
  EXPECT_TRUE(url2.ok()) << url2.status();
  EXPECT_TRUE(s.Dial(url2.value_or("")).ok());
  EXPECT_TRUE(test::SendString(s, "marker", Deadline(10)).ok());
  for (;;) {
    absl::StatusOr<std::string> got = RecvString(second, Deadline(10));
    EXPECT_TRUE(got.ok()) << got.status();
    if (!got.ok() || *got == "marker") break;
    out.before.push_back(*got);
  }
  out.dropped = s.stats().dropped;
  return out;
}

TEST(RequeueTest, RequeueOnPipeCloseMovesUnsentMessages) {
  for (const SocketSpec* spec : {&protocols::kPush, &protocols::kPair0}) {
    const SocketSpec& peer =
        spec == &protocols::kPush ? protocols::kPull : protocols::kPair0;
    ASSERT_TRUE(spec->requeue_on_pipe_close) << spec->name;
    Stranded r = StrandAndReconnect(*spec, peer);
    ASSERT_GT(r.queued, 0u) << spec->name;
    // The new peer gets the stranded messages, in order, before the marker.
    EXPECT_GE(r.before.size(), r.queued) << spec->name;
    for (size_t i = 1; i < r.before.size(); ++i) {
      EXPECT_LT(LeadingNumber(r.before[i - 1]), LeadingNumber(r.before[i]));
    }
    EXPECT_EQ(r.dropped, 0u) << spec->name;
  }
}

TEST(RequeueTest, NoRequeueOnPipeCloseDropsUnsentMessages) {
  SocketSpec push = protocols::kPush;
  push.requeue_on_pipe_close = false;
  // req resends a request itself when its pipe dies: the socket must not.
  EXPECT_FALSE(protocols::kReq.requeue_on_pipe_close);
  for (const auto& [spec, peer] :
       {std::pair<SocketSpec, SocketSpec>{push, protocols::kPull},
        {protocols::kReq, protocols::kRep}}) {
    Stranded r = StrandAndReconnect(spec, peer);
    ASSERT_GT(r.queued, 0u) << spec.name;
    EXPECT_TRUE(r.before.empty()) << spec.name << ": " << r.before.size();
    EXPECT_GE(r.dropped, r.queued) << spec.name;
  }
}

}  // namespace
}  // namespace msock
