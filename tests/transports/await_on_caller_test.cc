// SocketAccess::AwaitScope and AwaitOnCaller beside a receiver in Recv (tcp
// and ipc): the shape of a rooms client, whose dispatcher thread takes events
// with Recv while the thread that sent a request waits for its answer, which
// the receive filter takes. These tests check that the waiting thread reads
// the answer itself although the dispatcher is asleep in Recv, and that what
// it reads for Recv while the dispatcher is busy does not keep the dispatcher
// from being woken later, and that a second thread awaiting its answer while
// the first polls gets it once the first is done.
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "msock/msock.h"
#include "socket/socket_access.h"
#include "tests/support/raw_client.h"
#include "tests/support/test_support.h"
#include "transports/stream_pipe.h"

namespace msock {
namespace {

using internal::SocketAccess;
using test::Deadline;
using test::EventLog;
using test::ListenUrlFor;
using test::RawClient;
using test::RecvString;
using test::SendString;
using test::WaitUntil;

class AwaitOnCallerTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    // Answers ("answer ...") are the filter's; everything else is Recv's.
    SocketAccess::SetRecvFilter(a_, [this](Message& m, int) {
      if (!m.body().starts_with("answer")) {
        return internal::RecvVerdict::kKeep;
      }
      if (std::this_thread::get_id() == caller_) on_caller_++;
      if (m.body() == "answer b") answered_b_++;
      answered_++;
      return internal::RecvVerdict::kConsumed;
    });
    a_.OnPipeEvent(log_.Fn());
    absl::StatusOr<std::string> url = a_.Listen(ListenUrlFor(GetParam()));
    ASSERT_TRUE(url.ok()) << url.status();
    peer_ = std::make_unique<RawClient>(*url);
    ASSERT_TRUE(peer_->connected());
    const std::string hello = {0x00, 0x53, 0x50, 0x00, 0x00, 0x10, 0x00, 0x00};
    ASSERT_TRUE(peer_->Write(hello));
    ASSERT_TRUE(WaitUntil(
        [&] { return log_.Count(PipeEventType::kAdded) == 1; }, Deadline(10)));
    std::string got;
    ASSERT_TRUE(peer_->ReadExactly(hello.size(), Deadline(10), &got));
    caller_ = std::this_thread::get_id();
    // The dispatcher: takes what Recv gives; holds on "hold" until let go.
    dispatcher_ = std::thread([this] {
      for (;;) {
        absl::StatusOr<std::string> m = RecvString(a_, Deadline(60));
        if (!m.ok()) return;
        std::unique_lock<std::mutex> lock(mu_);
        got_.push_back(*m);
        cv_.notify_all();
        if (*m == "hold") cv_.wait(lock, [&] { return let_go_; });
      }
    });
  }
  void TearDown() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      let_go_ = true;
      cv_.notify_all();
    }
    a_.Close();
    if (dispatcher_.joinable()) dispatcher_.join();
  }

  std::string Frame(const std::string& body) const {
    std::string f;
    if (std::string(GetParam()) == "ipc") f.push_back(0x01);
    for (int i = 7; i >= 0; --i)
      f.push_back(static_cast<char>(uint64_t{body.size()} >> (8 * i)));
    return f + body;
  }
  // The peer answers once it has read the request (so the asker is
  // usually polling by then): `before` first, then the answer, in one write.
  void AnswerWhenAsked(const std::string& before) {
    std::string got;
    ASSERT_TRUE(peer_->ReadExactly(Frame("ask").size(), Deadline(10), &got));
    ASSERT_TRUE(peer_->Write(before + Frame("answer")));
  }
  // One request and its answer, awaited as a rooms client's Emit does.
  void Ask(const std::string& before = "") {
    const int want = answered_.load() + 1;
    SocketAccess::AwaitScope awaiting(a_);
    std::thread peer([&] { AnswerWhenAsked(before); });
    ASSERT_TRUE(SendString(a_, "ask", Deadline(10)).ok());
    SocketAccess::AwaitOnCaller(a_, Deadline(10),
                                [&] { return answered_.load() >= want; });
    // It could not read here (another thread polls): the answer still comes.
    EXPECT_TRUE(
        WaitUntil([&] { return answered_.load() >= want; }, Deadline(10)));
    peer.join();
  }
  bool Got(const std::string& body) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_until(lock, absl::ToChronoTime(Deadline(10)), [&] {
      for (const std::string& g : got_)
        if (g == body) return true;
      return false;
    });
  }

  EventLog log_;  // outlives the socket
  Socket a_{protocols::kPair0};
  std::unique_ptr<RawClient> peer_;
  std::thread::id caller_;
  std::atomic<int> answered_{0};
  std::atomic<int> on_caller_{0};
  std::atomic<int> answered_b_{0};
  std::thread dispatcher_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> got_;
  bool let_go_ = false;
};

TEST_P(AwaitOnCallerTest, TheWaitingThreadReadsItsAnswerWhileRecvSleeps) {
  // The loop lends the pipe as soon as the asker polls, for a minute (so
  // who reads does not depend on the gaps between asks).
  internal::LendOnPollForTest lend_on_poll(absl::Minutes(1));
  constexpr int kAsks = 200;
  for (int i = 0; i < kAsks; ++i) Ask();
  EXPECT_EQ(answered_.load(), kAsks);
  // The loop, which watches the same descriptor until the lend, may win the
  // first race; then the asker reads (without the scope, the sleeping
  // dispatcher would keep it from polling: every answer the loop's).
  EXPECT_GE(on_caller_.load(), kAsks - 5);
  EXPECT_GT(a_.stats().reads_on_caller, 0u);
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_TRUE(got_.empty()) << got_.front();  // answers never reach Recv
}

TEST_P(AwaitOnCallerTest, MessagesForRecvReadByTheAskerReachTheDispatcher) {
  for (int i = 0; i < 50; ++i) Ask(Frame(absl::StrCat("event ", i)));
  for (int i = 0; i < 50; ++i) EXPECT_TRUE(Got(absl::StrCat("event ", i)));
}

TEST_P(AwaitOnCallerTest, AMessageForRecvWhileTheDispatcherIsBusyStillWakesIt) {
  // The dispatcher holds "hold" (busy, not in Recv) while the asker reads an
  // event for it with its answer: nobody sleeps in Recv to be woken then.
  ASSERT_TRUE(peer_->Write(Frame("hold")));
  ASSERT_TRUE(Got("hold"));
  Ask(Frame("while busy"));
  {
    std::lock_guard<std::mutex> lock(mu_);
    let_go_ = true;
    cv_.notify_all();
  }
  EXPECT_TRUE(Got("while busy"));
  // Asleep in Recv again: the next message must wake it (a wake-up marked as
  // pending for a receiver that was never asleep would keep it asleep).
  ASSERT_TRUE(peer_->Write(Frame("later")));
  EXPECT_TRUE(Got("later"));
}

TEST_P(AwaitOnCallerTest, ASecondAskerGetsItsAnswerAfterTheFirstIsDone) {
  // The loop lends the pipe to the first poller and would keep it lent for
  // a minute: the second asker's answer must not wait for that.
  internal::LendOnPollForTest lend_on_poll(absl::Minutes(1));
  const int lent_before = internal::LentPipesForTest();
  std::atomic<bool> first_done{false};
  std::thread peer([&] {
    std::string got;
    ASSERT_TRUE(
        peer_->ReadExactly(2 * Frame("ask").size(), Deadline(10), &got));
    ASSERT_TRUE(peer_->Write(Frame("answer a")));
    ASSERT_TRUE(WaitUntil([&] { return first_done.load(); }, Deadline(10)));
    ASSERT_TRUE(peer_->Write(Frame("answer b")));
  });
  std::thread first([&] {
    SocketAccess::AwaitScope awaiting(a_);
    ASSERT_TRUE(SendString(a_, "ask", Deadline(10)).ok());
    SocketAccess::AwaitOnCaller(a_, Deadline(10),
                                [&] { return answered_.load() >= 1; });
    first_done = answered_.load() >= 1;
  });
  ASSERT_TRUE(
      WaitUntil([&] { return internal::LentPipesForTest() > lent_before; },
                Deadline(10)));
  {
    SocketAccess::AwaitScope awaiting(a_);
    ASSERT_TRUE(SendString(a_, "ask", Deadline(10)).ok());
    // The first polls: this thread cannot, and waits its own way.
    SocketAccess::AwaitOnCaller(a_, Deadline(10),
                                [&] { return answered_b_.load() == 1; });
    EXPECT_TRUE(
        WaitUntil([&] { return answered_b_.load() == 1; }, Deadline(10)));
  }
  first.join();
  peer.join();
  EXPECT_TRUE(first_done.load());
}

INSTANTIATE_TEST_SUITE_P(Streams, AwaitOnCallerTest,
                         ::testing::Values("tcp", "ipc"));

}  // namespace
}  // namespace msock
