// Receiving on the caller's thread (kRecvOnCaller, tcp and ipc): a receiver
// waiting in Recv reads its pipes' bytes itself. These tests check that it
// does (stats().reads_on_caller), that what it reads arrives whole and in
// order even into a receive queue too small for one read, that a stream's
// receiver leaves the reading to the loop, that a peer that
// leaves does not keep a waiting receiver busy, that a pipe closed while a
// receiver waits is let go, that large messages are left to the loop, that
// req reads its replies (and rep its requests) on their own threads, and that
// the option turns it off, and that a pipe lent to a receiver goes back to
// the loop when the receiver sleeps instead of polling.
#include <time.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "msock/msock.h"
#include "msock/protocols/reqrep.h"
#include "tests/support/raw_client.h"
#include "tests/support/test_support.h"
#include "transports/stream_pipe.h"

namespace msock {
namespace {

using test::Deadline;
using test::EventLog;
using test::ListenUrlFor;
using test::RawClient;
using test::RecvString;
using test::SendString;
using test::WaitUntil;

class RecvOnCallerTest : public ::testing::TestWithParam<const char*> {
 protected:
  // What a raw peer of a pair0 socket sends: the SP header, then frames.
  static std::string Hello() {
    return {0x00, 0x53, 0x50, 0x00, 0x00, 0x10, 0x00, 0x00};
  }
  std::string Frame(const std::string& body) const {
    std::string f;
    if (std::string(GetParam()) == "ipc") f.push_back(0x01);
    for (int i = 7; i >= 0; --i)
      f.push_back(static_cast<char>(uint64_t{body.size()} >> (8 * i)));
    return f + body;
  }
};

// Only a socket that sent since its last message reads on its own thread
// (it waits for an answer): the raw-peer tests send before each Recv.
void Ask(Socket& s) {
  absl::Status st = SendString(s, "ask", Deadline(10));
  ASSERT_TRUE(st.ok()) << st;
}

// A pair socket answering every request with "re:" + the request, on its own
// thread, until its socket closes.
class Echo {
 public:
  explicit Echo(Socket& rep) : rep_(rep), thread_([this] { Run(); }) {}
  ~Echo() {
    rep_.Close();
    thread_.join();
  }

 private:
  void Run() {
    for (;;) {
      absl::StatusOr<std::string> req = RecvString(rep_, Deadline(30));
      if (!req.ok()) return;
      if (!SendString(rep_, "re:" + *req, Deadline(10)).ok()) return;
    }
  }
  Socket& rep_;
  std::thread thread_;
};

// Round trips until `req` has read on its own thread (its count passes
// `baseline`), or `max` of them.
int RoundTripsUntilReadOnCaller(Socket& req, int max, uint64_t baseline = 0) {
  for (int i = 0; i < max; ++i) {
    const std::string body = absl::StrCat("ping ", i);
    EXPECT_TRUE(SendString(req, body, Deadline(10)).ok());
    absl::StatusOr<std::string> got = RecvString(req, Deadline(10));
    EXPECT_TRUE(got.ok()) << got.status();
    if (!got.ok()) return i;
    EXPECT_EQ(*got, "re:" + body);
    if (req.stats().reads_on_caller > baseline) return i + 1;
  }
  return max;
}

TEST_P(RecvOnCallerTest, RoundTripsAreReadOnTheReceivingThread) {
  Socket rep(protocols::kPair0);
  absl::StatusOr<std::string> url = rep.Listen(ListenUrlFor(GetParam()));
  ASSERT_TRUE(url.ok()) << url.status();
  Socket req(protocols::kPair0);
  ASSERT_TRUE(req.Dial(*url).ok());
  Echo echo(rep);
  // Usually the first answer; the loop, which watches the same descriptor,
  // may win a few races.
  const int trips = RoundTripsUntilReadOnCaller(req, 5000);
  EXPECT_GT(req.stats().reads_on_caller, 0u) << "after " << trips;
  // More round trips: still whole and in order, whoever reads.
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(SendString(req, absl::StrCat("more ", i), Deadline(10)).ok());
    absl::StatusOr<std::string> got = RecvString(req, Deadline(10));
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, absl::StrCat("re:more ", i));
  }
}

TEST_P(RecvOnCallerTest, OptionOffLeavesEveryReadToTheLoop) {
  Socket rep(protocols::kPair0);
  ASSERT_TRUE(rep.Set(opt::kRecvOnCaller, false).ok());
  absl::StatusOr<std::string> url = rep.Listen(ListenUrlFor(GetParam()));
  ASSERT_TRUE(url.ok()) << url.status();
  Socket req(protocols::kPair0);
  ASSERT_TRUE(req.Set(opt::kRecvOnCaller, false).ok());
  EXPECT_FALSE(req.Get(opt::kRecvOnCaller));
  ASSERT_TRUE(req.Dial(*url).ok());
  {
    Echo echo(rep);
    EXPECT_EQ(RoundTripsUntilReadOnCaller(req, 300), 300);
  }
  EXPECT_EQ(req.stats().reads_on_caller, 0u);
  EXPECT_EQ(rep.stats().reads_on_caller, 0u);
}

TEST_P(RecvOnCallerTest, ReqAndRepReadOnTheirOwnThreads) {
  // Req waits for its reply in its pending table, not in Recv: it polls
  // through SocketAccess::AwaitOnCaller. Rep polls in Recv once it has
  // answered (it waits for the next request).
  Rep rep;
  absl::StatusOr<std::string> url = rep.Listen(ListenUrlFor(GetParam()));
  ASSERT_TRUE(url.ok()) << url.status();
  Req req;
  ASSERT_TRUE(req.Dial(*url).ok());
  std::thread server([&] {
    for (;;) {
      absl::StatusOr<Message> q = rep.Recv(Deadline(30));
      if (!q.ok()) return;
      Message answer("re:" + std::string(q->body()));
      if (!rep.Reply(*q, answer, Deadline(10)).ok()) return;
    }
  });
  int i = 0;
  for (; i < 5000; ++i) {
    Message ping(absl::StrCat("ping ", i));
    absl::StatusOr<Message> r = req.Request(ping, Deadline(10));
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->body(), absl::StrCat("re:ping ", i));
    if (req.stats().reads_on_caller > 0 && rep.stats().reads_on_caller > 0)
      break;
  }
  EXPECT_GT(req.stats().reads_on_caller, 0u) << "after " << i;
  EXPECT_GT(rep.stats().reads_on_caller, 0u) << "after " << i;
  // A request nobody answers still times out.
  rep.Close();
  server.join();
  Message late("late");
  EXPECT_FALSE(req.Request(late, absl::Now() + absl::Milliseconds(200)).ok());
}

// One round trip of `body`, answered by Echo.
void RoundTrip(Socket& req, const std::string& body) {
  ASSERT_TRUE(SendString(req, body, Deadline(10)).ok());
  absl::StatusOr<std::string> got = RecvString(req, Deadline(10));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(*got == "re:" + body) << got->size() << " bytes";
}

TEST_P(RecvOnCallerTest, LargeMessagesAreLeftToTheLoop) {
  // A receiver copying a large message would keep the loop from reading the
  // next one meanwhile: once a pipe's message is 16 KiB or more, receivers
  // stop reading it until a small one comes again.
  Socket rep(protocols::kPair0);
  absl::StatusOr<std::string> url = rep.Listen(ListenUrlFor(GetParam()));
  ASSERT_TRUE(url.ok()) << url.status();
  Socket req(protocols::kPair0);
  ASSERT_TRUE(req.Dial(*url).ok());
  Echo echo(rep);
  const std::string large(64 * 1024, 'x');
  RoundTrip(req, large);
  const uint64_t after_first = req.stats().reads_on_caller;
  for (int i = 0; i < 20; ++i) RoundTrip(req, large);
  EXPECT_EQ(req.stats().reads_on_caller, after_first);
  // Small messages again: read on the receiving thread again.
  const int trips = RoundTripsUntilReadOnCaller(req, 5000, after_first);
  EXPECT_GT(req.stats().reads_on_caller, after_first) << "after " << trips;
}

TEST_P(RecvOnCallerTest, BurstIntoASmallReceiveQueueArrivesWholeAndInOrder) {
  // One write of many frames: a read on the receiving thread takes more than
  // the queue holds, so the pipe pauses and the rest follows as room is made.
  Socket pair(protocols::kPair0);
  ASSERT_TRUE(pair.Set(opt::kRecvQueueMessages, size_t{2}).ok());
  absl::StatusOr<std::string> url = pair.Listen(ListenUrlFor(GetParam()));
  ASSERT_TRUE(url.ok()) << url.status();
  RawClient c(*url);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Write(Hello() + Frame("first")));
  Ask(pair);  // waits for the pipe
  absl::StatusOr<std::string> first = RecvString(pair, Deadline(10));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(*first, "first");
  constexpr int kBurst = 3000;
  std::thread writer([&] {
    std::string burst;
    for (int i = 0; i < kBurst; ++i) burst += Frame(absl::StrCat("m", i));
    EXPECT_TRUE(c.Write(burst));
  });
  for (int i = 0; i < kBurst; ++i) {
    // Now and then (the peer reads none of it: a unix socket holds a few
    // hundred small writes).
    if (i % 50 == 0) Ask(pair);
    absl::StatusOr<std::string> got = RecvString(pair, Deadline(10));
    ASSERT_TRUE(got.ok()) << i << ": " << got.status();
    ASSERT_EQ(*got, absl::StrCat("m", i));
  }
  writer.join();
  EXPECT_EQ(pair.stats().messages_in, uint64_t{kBurst} + 1);
  EXPECT_EQ(pair.stats().dropped, 0u);
  EXPECT_EQ(pair.pipe_count(), 1);
}

TEST_P(RecvOnCallerTest, StreamReceiverLeavesTheReadingToTheLoop) {
  // A receiver that never sends is a stream's: the loop reads the next
  // bytes while it consumes these.
  Socket pull(protocols::kPull);
  absl::StatusOr<std::string> url = pull.Listen(ListenUrlFor(GetParam()));
  ASSERT_TRUE(url.ok()) << url.status();
  Socket push(protocols::kPush);
  ASSERT_TRUE(push.Dial(*url).ok());
  std::thread sender([&] {
    for (int i = 0; i < 2000; ++i)
      ASSERT_TRUE(SendString(push, absl::StrCat("s", i), Deadline(10)).ok());
  });
  for (int i = 0; i < 2000; ++i) {
    absl::StatusOr<std::string> got = RecvString(pull, Deadline(10));
    ASSERT_TRUE(got.ok()) << i << ": " << got.status();
    ASSERT_EQ(*got, absl::StrCat("s", i));
  }
  sender.join();
  EXPECT_EQ(pull.stats().reads_on_caller, 0u);
}

double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

TEST_P(RecvOnCallerTest, PeerThatLeavesDoesNotKeepTheReceiverBusy) {
  // The peer's end of stream stays readable until the loop closes the pipe:
  // the waiting receiver must leave it to the loop, not poll it in a spin.
  EventLog log;  // outlives the socket
  Socket pair(protocols::kPair0);
  pair.OnPipeEvent(log.Fn());
  absl::StatusOr<std::string> url = pair.Listen(ListenUrlFor(GetParam()));
  ASSERT_TRUE(url.ok()) << url.status();
  auto c = std::make_unique<RawClient>(*url);
  ASSERT_TRUE(c->connected());
  ASSERT_TRUE(c->Write(Hello()));
  ASSERT_TRUE(WaitUntil([&] { return log.Count(PipeEventType::kAdded) == 1; },
                        Deadline(10)));
  Ask(pair);
  std::thread closer([&] { c->Close(); });
  const double cpu_before = ThreadCpuSeconds();
  absl::StatusOr<Message> m = pair.Recv(absl::Now() + absl::Seconds(1));
  const double cpu = ThreadCpuSeconds() - cpu_before;
  closer.join();
  EXPECT_TRUE(absl::IsDeadlineExceeded(m.status())) << m.status();
  // A spin would use about the whole second.
  EXPECT_LT(cpu, 0.4);
  EXPECT_TRUE(WaitUntil([&] { return log.Count(PipeEventType::kRemoved) == 1; },
                        Deadline(10)));
}

TEST_P(RecvOnCallerTest, PipeClosedWhileAReceiverWaitsIsReleased) {
  // A receiver polling a pipe's descriptor holds its connection open (the
  // kernel frees a file once no poll uses it): closing the pipe must wake it.
  EventLog log;  // outlives the socket
  Socket pair(protocols::kPair0);
  pair.OnPipeEvent(log.Fn());
  absl::StatusOr<std::string> url = pair.Listen(ListenUrlFor(GetParam()));
  ASSERT_TRUE(url.ok()) << url.status();
  RawClient c(*url);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Write(Hello() + Frame("hi")));
  std::atomic<bool> got_first{false};
  std::thread receiver([&] {
    Ask(pair);
    EXPECT_EQ(RecvString(pair, Deadline(10)).value_or(""), "hi");
    Ask(pair);
    got_first = true;
    // Waits (polls) again until the socket closes.
    EXPECT_FALSE(pair.Recv(Deadline(20)).ok());
  });
  ASSERT_TRUE(WaitUntil([&] { return got_first.load(); }, Deadline(10)));
  ASSERT_EQ(log.Count(PipeEventType::kAdded), 1);
  pair.ClosePipe(log.Events().front().pipe_id);
  std::string got;
  EXPECT_TRUE(c.ReadUntilClosed(Deadline(5), &got));
  pair.Close();
  receiver.join();
}

TEST_P(RecvOnCallerTest, ALentPipeIsReadAgainWhenItsReceiverStopsPolling) {
  // The loop lends a pipe to the receiver that polls it (and here would take
  // it back only after a minute). A receiver that then waits without having
  // sent (so sleeps, not polls) must hand the pipe back, or a message sent to
  // it now would wait out the minute.
  internal::LendOnPollForTest lend_on_poll(absl::Minutes(1));
  EventLog log;  // outlives the socket
  Socket a(protocols::kPair0);
  a.OnPipeEvent(log.Fn());
  absl::StatusOr<std::string> url = a.Listen(ListenUrlFor(GetParam()));
  ASSERT_TRUE(url.ok()) << url.status();
  RawClient peer(*url);  // a's only pipe; the peer lends nothing
  ASSERT_TRUE(peer.connected());
  ASSERT_TRUE(peer.Write(Hello()));
  ASSERT_TRUE(WaitUntil([&] { return log.Count(PipeEventType::kAdded) == 1; },
                        Deadline(10)));
  std::string got;
  ASSERT_TRUE(peer.ReadExactly(Hello().size(), Deadline(10), &got));
  const int lent_before = internal::LentPipesForTest();
  Ask(a);
  std::thread asker([&] {
    // Polls (it sent): the loop lends it the pipe, and it reads the answer.
    EXPECT_EQ(RecvString(a, Deadline(10)).value_or("timed out"), "answer");
  });
  ASSERT_TRUE(
      WaitUntil([&] { return internal::LentPipesForTest() > lent_before; },
                Deadline(10)));
  ASSERT_TRUE(peer.Write(Frame("answer")));
  asker.join();
  EXPECT_GT(a.stats().reads_on_caller, 0u);
  internal::SetLendOnPollForTest(false);
  // `a` sent nothing since: its receiver sleeps instead of polling.
  ASSERT_TRUE(peer.Write(Frame("unasked")));
  EXPECT_EQ(RecvString(a, Deadline(5)).value_or("timed out"), "unasked");
}

INSTANTIATE_TEST_SUITE_P(Streams, RecvOnCallerTest,
                         ::testing::Values("tcp", "ipc"));

}  // namespace
}  // namespace msock
