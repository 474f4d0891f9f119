// The transport verifiers for load, large messages, back-pressure and the
// receive size limit (tests/support/transport_verifiers.h).
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "msock/options.h"
#include "msock/protocols/recipes.h"
#include "tests/support/marry.h"
#include "tests/support/test_support.h"
#include "tests/support/transport_verifiers.h"

namespace msock::test {

void VerifyOrderUnderLoad(std::string_view scheme) {
  constexpr int kCount = 10000;
  Socket pull(protocols::kPull);
  Socket push(protocols::kPush);
  ASSERT_TRUE(Wire(pull, push, scheme));
  std::atomic<int> send_errors{0};
  std::thread sender([&] {
    for (int i = 0; i < kCount; ++i) {
      Message m(absl::StrCat(i, " payload"));
      if (!push.Send(m, Deadline(30)).ok()) send_errors++;
    }
  });
  int next = 0;
  for (; next < kCount; ++next) {
    absl::StatusOr<Message> m = pull.Recv(Deadline(30));
    ASSERT_TRUE(m.ok()) << m.status() << " at " << next;
    ASSERT_EQ(BodyIndex(*m), next);
  }
  sender.join();
  EXPECT_EQ(send_errors.load(), 0);
  EXPECT_EQ(pull.TryRecv().status().code(), absl::StatusCode::kUnavailable);
}

void VerifyLargeMessage(std::string_view scheme) {
  constexpr size_t kSize = 512 * 1024;
  Socket pull(protocols::kPull);
  ASSERT_TRUE(pull.Set(opt::kMaxRecvSize, size_t{2} << 20).ok());
  Socket push(protocols::kPush);
  ASSERT_TRUE(Wire(pull, push, scheme));
  const std::string body = PatternBody(kSize, 7);
  Message m(body);
  ASSERT_TRUE(push.Send(m, Deadline(10)).ok());
  absl::StatusOr<Message> got = pull.Recv(Deadline(10));
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), kSize);
  EXPECT_TRUE(got->body() == body) << "large message corrupted";
  EXPECT_EQ(pull.stats().rejected_oversize, 0u);
}

// Stream pipes write to an idle pipe from the sending thread and hand what
// the kernel does not take at once to the loop, which also batches streams.
// A ping-pong leaves the pipe idle before every send; the 3 MiB messages
// overflow the socket buffer mid-write; the bursts after each reply are
// streams. Everything must arrive whole and in order.
void VerifyIdleLargeAndBurstWrites(std::string_view scheme) {
  constexpr int kRounds = 30;
  constexpr int kBurst = 50;
  const std::string sizes[] = {PatternBody(1, 1), PatternBody(100 * 1024, 2),
                               PatternBody(3 << 20, 3)};
  Socket a(protocols::kPair0);
  Socket b(protocols::kPair0);
  ASSERT_TRUE(a.Set(opt::kMaxRecvSize, size_t{4} << 20).ok());
  ASSERT_TRUE(b.Set(opt::kMaxRecvSize, size_t{4} << 20).ok());
  ASSERT_TRUE(Wire(a, b, scheme));
  std::thread echo([&] {
    for (int i = 0; i < kRounds; ++i) {
      absl::StatusOr<Message> m = b.Recv(Deadline(30));
      if (!m.ok()) return;
      Message back = std::move(*m);
      if (!b.Send(back, Deadline(30)).ok()) return;
      for (int j = 0; j < kBurst; ++j) {
        if (!SendString(b, absl::StrCat(j, " burst"), Deadline(30)).ok())
          return;
      }
    }
  });
  for (int i = 0; i < kRounds; ++i) {
    const std::string& body = sizes[i % 3];
    Message m(body);
    ASSERT_TRUE(a.Send(m, Deadline(30)).ok()) << "round " << i;
    absl::StatusOr<Message> got = a.Recv(Deadline(30));
    ASSERT_TRUE(got.ok()) << got.status() << " round " << i;
    ASSERT_EQ(got->size(), body.size()) << "round " << i;
    ASSERT_TRUE(got->body() == body) << "round " << i << ": corrupted";
    for (int j = 0; j < kBurst; ++j) {
      absl::StatusOr<std::string> s = RecvString(a, Deadline(30));
      ASSERT_TRUE(s.ok()) << s.status() << " round " << i;
      ASSERT_EQ(*s, absl::StrCat(j, " burst")) << "round " << i;
    }
  }
  echo.join();
  EXPECT_EQ(a.stats().rejected_bad_frame + b.stats().rejected_bad_frame, 0u);
}

void VerifyBothWaysAtOnce(std::string_view scheme) {
  constexpr int kCount = 20000;
  Socket a(protocols::kPair0);
  Socket b(protocols::kPair0);
  ASSERT_TRUE(Wire(a, b, scheme));
  std::atomic<int> errors{0};
  auto send_all = [&](Socket* s, const char* tag) {
    for (int i = 0; i < kCount; ++i) {
      Message m(absl::StrCat(i, " ", tag));
      if (!s->Send(m, Deadline(30)).ok()) {
        errors++;
        return;
      }
    }
  };
  auto recv_all = [&](Socket* s, const char* tag) {
    for (int i = 0; i < kCount; ++i) {
      absl::StatusOr<Message> m = s->Recv(Deadline(30));
      if (!m.ok() || BodyIndex(*m) != i ||
          m->body() != absl::StrCat(i, " ", tag)) {
        errors++;
        return;
      }
    }
  };
  std::thread t1(send_all, &a, "a->b");
  std::thread t2(send_all, &b, "b->a");
  std::thread t3(recv_all, &b, "a->b");
  std::thread t4(recv_all, &a, "b->a");
  t1.join();
  t2.join();
  t3.join();
  t4.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(a.stats().messages_out, static_cast<uint64_t>(kCount));
  EXPECT_EQ(a.stats().messages_in, static_cast<uint64_t>(kCount));
  EXPECT_EQ(b.stats().messages_out, static_cast<uint64_t>(kCount));
  EXPECT_EQ(b.stats().messages_in, static_cast<uint64_t>(kCount));
}

void VerifyBackPressure(std::string_view scheme) {
  constexpr size_t kMsgSize = 16 * 1024;
  constexpr int kCap =
      4096;  // 64 MiB: far beyond every queue and socket buffer involved
  Socket pull(protocols::kPull);
  ASSERT_TRUE(pull.Set(opt::kRecvQueueMessages, size_t{4}).ok());
  ASSERT_TRUE(pull.Set(opt::kRecvQueueBytes, size_t{64} << 10).ok());
  Socket push(protocols::kPush);
  ASSERT_TRUE(push.Set(opt::kSendQueueMessages, size_t{4}).ok());
  ASSERT_TRUE(push.Set(opt::kSendQueueBytes, size_t{64} << 10).ok());
  ASSERT_TRUE(Wire(pull, push, scheme));

  int sent = 0;
  bool saw_unavailable = false;
  for (int i = 0; i < kCap && !saw_unavailable; ++i) {
    Message m(absl::StrCat(sent, " ", std::string(kMsgSize, 'b')));
    absl::Status s = push.TrySend(m);
    if (s.ok()) {
      ++sent;
    } else {
      ASSERT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
      EXPECT_FALSE(m.empty())
          << "failed TrySend must leave the message with the caller";
      saw_unavailable = true;
    }
  }
  ASSERT_TRUE(saw_unavailable) << "TrySend never reported a full queue";
  // Keep pushing with a short deadline: the queues must stop accepting at some
  // point, so that a send waits 200 ms in vain and a TrySend right after fails
  // too. A slow pipeline (sanitizers, TLS) may free a slot just after the
  // 200 ms: that message counts as sent and the loop goes on.
  bool stuck = false;
  while (sent < kCap && !stuck) {
    Message m(absl::StrCat(sent, " ", std::string(kMsgSize, 'b')));
    absl::Status s = push.Send(m, absl::Now() + absl::Milliseconds(200));
    if (!s.ok()) {
      ASSERT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded) << s;
      s = push.TrySend(m);
      if (!s.ok()) {
        ASSERT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
        stuck = true;
        continue;
      }
    }
    ++sent;
  }
  ASSERT_TRUE(stuck) << "queues grew without bound: " << sent
                     << " messages accepted";
  ::testing::Test::RecordProperty("accepted_before_blocking", sent);
  Message extra(absl::StrCat(sent, " ", std::string(kMsgSize, 'b')));

  // Drain: everything accepted arrives, in order.
  for (int i = 0; i < sent; ++i) {
    absl::StatusOr<Message> m = pull.Recv(Deadline(10));
    ASSERT_TRUE(m.ok()) << m.status() << " after " << i << " of " << sent;
    ASSERT_EQ(BodyIndex(*m), i);
  }
  // And sending works again.
  ASSERT_TRUE(push.Send(extra, Deadline(10)).ok());
  absl::StatusOr<Message> last = pull.Recv(Deadline(10));
  ASSERT_TRUE(last.ok()) << last.status();
  EXPECT_EQ(BodyIndex(*last), sent);
}

void VerifyOversizeClosesOnlyThatPipe(std::string_view scheme) {
  if (scheme == "inproc")
    GTEST_SKIP() << "size limit is checked by the stream decoder (tcp/ipc)";
  EventLog pull_log, big_log, small_log;
  Socket pull(protocols::kPull);
  PrepareFor(pull, scheme);
  ASSERT_TRUE(pull.Set(opt::kMaxRecvSize, size_t{1024}).ok());
  pull.OnPipeEvent(pull_log.Fn());
  std::string url = ListenOn(scheme, pull);
  Socket big(protocols::kPush);
  PrepareFor(big, scheme);
  Socket small(protocols::kPush);
  PrepareFor(small, scheme);
  big.OnPipeEvent(big_log.Fn());
  small.OnPipeEvent(small_log.Fn());
  ASSERT_TRUE(FastRedial(big).ok());
  ASSERT_TRUE(FastRedial(small).ok());
  ASSERT_TRUE(small.Dial(url).ok());
  ASSERT_TRUE(small.WaitForPeers(1, Deadline(10)).ok());
  ASSERT_TRUE(big.Dial(url).ok());
  ASSERT_TRUE(big.WaitForPeers(1, Deadline(10)).ok());
  ASSERT_TRUE(pull.WaitForPeers(2, Deadline(10)).ok());

  ASSERT_TRUE(SendString(small, "before", Deadline(5)).ok());
  EXPECT_EQ(RecvString(pull, Deadline(5)).value_or("?"), "before");

  Message huge(std::string(1025, 'H'));
  ASSERT_TRUE(big.Send(huge, Deadline(5)).ok());
  ASSERT_TRUE(WaitUntil([&] { return pull.stats().rejected_oversize >= 1; },
                        Deadline(10)))
      << "oversize message not rejected";
  EXPECT_EQ(pull.stats().rejected_oversize, 1u);
  ASSERT_TRUE(
      WaitUntil([&] { return big_log.Count(PipeEventType::kRemoved) >= 1; },
                Deadline(10)))
      << "the sender of the oversize message kept its pipe";

  ASSERT_TRUE(SendString(small, "after", Deadline(5)).ok());
  absl::StatusOr<Message> got = pull.Recv(Deadline(5));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->body(), "after");
  EXPECT_EQ(small_log.Count(PipeEventType::kRemoved), 0)
      << "the other pipe was closed too";
  EXPECT_EQ(small.pipe_count(), 1);
  EXPECT_EQ(pull_log.Count(PipeEventType::kRemoved), 1);

  // Exactly the limit is fine once the big sender has re-dialed.
  ASSERT_TRUE(big.WaitForPeers(1, Deadline(10)).ok());
  ASSERT_TRUE(WaitUntil([&] { return pull.pipe_count() == 2; }, Deadline(10)));
  Message at_limit(std::string(1024, 'L'));
  ASSERT_TRUE(big.Send(at_limit, Deadline(5)).ok());
  absl::StatusOr<Message> limit_msg = pull.Recv(Deadline(5));
  ASSERT_TRUE(limit_msg.ok()) << limit_msg.status();
  EXPECT_EQ(limit_msg->size(), 1024u);
  EXPECT_EQ(pull.stats().rejected_oversize, 1u);
  pull.OnPipeEvent(nullptr);
  big.OnPipeEvent(nullptr);
  small.OnPipeEvent(nullptr);
}

}  // namespace msock::test
