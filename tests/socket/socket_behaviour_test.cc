// msock::Socket behaviour (msock/socket.h): concurrent senders and receivers,
// WaitForPeers, pipe events, statistics, kToOne round robin, re-routing of
// messages stranded on a dead pipe, and Close bounded by the linger option.
#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "msock/options.h"
#include "msock/protocols/recipes.h"
#include "msock/socket.h"
#include "tests/support/test_support.h"

namespace msock {
namespace {

using test::Deadline;
using test::EventLog;
using test::RecvString;
using test::SendString;
using test::WaitUntil;

void FastRedial(Socket& s) {
  ASSERT_TRUE(s.Set(opt::kReconnectMin, absl::Milliseconds(10)).ok());
  ASSERT_TRUE(s.Set(opt::kReconnectMax, absl::Milliseconds(200)).ok());
}

int LeadingNumber(std::string_view body) {
  int v = -1;
  if (!absl::SimpleAtoi(std::string(body.substr(0, body.find(' '))), &v))
    return -1;
  return v;
}

TEST(SocketTest, RecvSpinDeliversAndKeepsDeadlines) {
  Socket pull(protocols::kPull);
  ASSERT_TRUE(pull.Set(opt::kRecvSpin, absl::Milliseconds(50)).ok());
  EXPECT_EQ(pull.Get(opt::kRecvSpin), absl::Milliseconds(50));
  absl::StatusOr<std::string> url = pull.Listen(test::UniqueInprocUrl());
  ASSERT_TRUE(url.ok()) << url.status();
  Socket push(protocols::kPush);
  ASSERT_TRUE(push.Dial(*url).ok());
  ASSERT_TRUE(push.WaitForPeers(1, Deadline(10)).ok());
  // A deadline shorter than the spin still ends the call on time.
  absl::Time start = absl::Now();
  EXPECT_EQ(pull.Recv(absl::Now() + absl::Milliseconds(5)).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  // A message sent while the receiver polls (or sleeps after polling) arrives.
  std::thread sender([&] {
    for (int i = 0; i < 100; ++i) {
      ASSERT_TRUE(SendString(push, absl::StrCat(i), Deadline(5)).ok());
    }
  });
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(RecvString(pull, Deadline(5)).value_or("?"), absl::StrCat(i));
  }
  sender.join();
}

TEST(SocketTest, BlockedReceiversEachGetAMessageOfOneBatch) {
  // Receivers take the queue in batches; a batch taken by one receiver must
  // still serve the others, even though the first one does not call Recv again.
  for (int round = 0; round < 20; ++round) {
    Socket pull(protocols::kPull);
    absl::StatusOr<std::string> url = pull.Listen(test::UniqueInprocUrl());
    ASSERT_TRUE(url.ok()) << url.status();
    Socket push(protocols::kPush);
    ASSERT_TRUE(push.Dial(*url).ok());
    ASSERT_TRUE(push.WaitForPeers(1, Deadline(10)).ok());
    std::atomic<int> got{0};
    std::vector<std::thread> receivers;
    for (int i = 0; i < 3; ++i) {
      receivers.emplace_back([&] {
        if (pull.Recv(Deadline(5)).ok()) ++got;
      });
    }
    for (int i = 0; i < 3; ++i)
      ASSERT_TRUE(SendString(push, "x", Deadline(5)).ok());
    for (auto& t : receivers) t.join();
    ASSERT_EQ(got.load(), 3) << "round " << round;
  }
}

TEST(SocketTest, SpecIsTheRecipe) {
  Socket push(protocols::kPush);
  EXPECT_STREQ(push.spec().name, "push");
  EXPECT_EQ(push.spec().self_id, 0x50);
  EXPECT_EQ(push.spec().peer_id, 0x51);
}

TEST(SocketTest, MovedSocketKeepsWorking) {
  Socket pull(protocols::kPull);
  absl::StatusOr<std::string> url = pull.Listen(test::UniqueInprocUrl());
  ASSERT_TRUE(url.ok()) << url.status();
  Socket original(protocols::kPush);
  ASSERT_TRUE(original.Dial(*url).ok());
  Socket moved(std::move(original));
  ASSERT_TRUE(moved.WaitForPeers(1, Deadline(10)).ok());
  ASSERT_TRUE(SendString(moved, "after move", Deadline(5)).ok());
  EXPECT_EQ(RecvString(pull, Deadline(5)).value_or("?"), "after move");
}

TEST(SocketTest, ConcurrentSendersAndReceiversDeliverExactlyOnce) {
  constexpr int kSenders = 4;
  constexpr int kEach = 10000;
  constexpr int kTotal = kSenders * kEach;
  Socket pull(protocols::kPull);
  absl::StatusOr<std::string> url = pull.Listen("tcp://127.0.0.1:0");
  ASSERT_TRUE(url.ok()) << url.status();
  Socket push(protocols::kPush);
  ASSERT_TRUE(push.Dial(*url).ok());
  ASSERT_TRUE(push.WaitForPeers(1, Deadline(10)).ok());

  std::atomic<int> send_errors{0};
  std::atomic<int> received{0};
  std::atomic<int> recv_errors{0};
  const absl::Time give_up = Deadline(90);
  // got[r] = (sender, seq) pairs in the order receiver r got them.
  std::vector<std::vector<std::pair<int, int>>> got(2);
  std::vector<std::thread> threads;
  for (int s = 0; s < kSenders; ++s) {
    threads.emplace_back([&, s] {
      for (int i = 0; i < kEach; ++i) {
        Message m(absl::StrCat(s, " ", i));
        if (!push.Send(m, give_up).ok()) send_errors++;
      }
    });
  }
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&, r] {
      while (received.load() < kTotal && absl::Now() < give_up) {
        absl::StatusOr<Message> m =
            pull.Recv(absl::Now() + absl::Milliseconds(200));
        if (!m.ok()) {
          if (m.status().code() != absl::StatusCode::kDeadlineExceeded)
            recv_errors++;
          continue;
        }
        std::vector<std::string> parts =
            absl::StrSplit(std::string(m->body()), ' ');
        int sender = -1, seq = -1;
        if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &sender) ||
            !absl::SimpleAtoi(parts[1], &seq)) {
          recv_errors++;
          continue;
        }
        got[r].emplace_back(sender, seq);
        received++;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(send_errors.load(), 0);
  EXPECT_EQ(recv_errors.load(), 0);
  ASSERT_EQ(received.load(), kTotal);

  std::vector<std::vector<int>> count(kSenders, std::vector<int>(kEach, 0));
  for (int r = 0; r < 2; ++r) {
    std::vector<int> last(kSenders, -1);
    for (auto [sender, seq] : got[r]) {
      ASSERT_GE(sender, 0);
      ASSERT_LT(sender, kSenders);
      ASSERT_GE(seq, 0);
      ASSERT_LT(seq, kEach);
      count[sender][seq]++;
      // One receive queue, FIFO: each receiver sees a sender's messages in
      // order.
      EXPECT_GT(seq, last[sender]) << "receiver " << r << " sender " << sender;
      last[sender] = seq;
    }
  }
  for (int s = 0; s < kSenders; ++s) {
    for (int i = 0; i < kEach; ++i) {
      ASSERT_EQ(count[s][i], 1) << "message " << s << "/" << i;
    }
  }
}

TEST(SocketTest, WaitForPeersCountsPipes) {
  Socket pull(protocols::kPull);
  absl::StatusOr<std::string> url = pull.Listen(test::UniqueIpcUrl());
  ASSERT_TRUE(url.ok()) << url.status();
  Socket a(protocols::kPush);
  Socket b(protocols::kPush);
  ASSERT_TRUE(a.Dial(*url).ok());
  ASSERT_TRUE(pull.WaitForPeers(1, Deadline(10)).ok());
  EXPECT_EQ(pull.WaitForPeers(2, absl::Now() + absl::Milliseconds(50)).code(),
            absl::StatusCode::kDeadlineExceeded);
  ASSERT_TRUE(b.Dial(*url).ok());
  ASSERT_TRUE(pull.WaitForPeers(2, Deadline(10)).ok());
  EXPECT_EQ(pull.pipe_count(), 2);
  // Already satisfied: returns at once even with a past deadline.
  EXPECT_TRUE(pull.WaitForPeers(2, absl::InfinitePast()).ok());
  EXPECT_TRUE(pull.WaitForPeers(0, absl::InfinitePast()).ok());
}

TEST(SocketTest, PipeEventsAddedAndRemoved) {
  EventLog log;
  Socket pull(protocols::kPull);
  absl::StatusOr<std::string> url = pull.Listen("tcp://127.0.0.1:0");
  ASSERT_TRUE(url.ok()) << url.status();
  Socket push(protocols::kPush);
  push.OnPipeEvent(log.Fn());
  FastRedial(push);
  ASSERT_TRUE(push.Dial(*url).ok());
  ASSERT_TRUE(WaitUntil([&] { return log.Count(PipeEventType::kAdded) == 1; },
                        Deadline(10)));
  PipeEvent added = log.Events()[0];
  EXPECT_EQ(added.type, PipeEventType::kAdded);
  EXPECT_NE(added.pipe_id, 0u);
  EXPECT_EQ(added.remote_address, *url)
      << "a dialer's peer is the URL it dialed";

  // Closing the pipe ourselves: kRemoved with the same id and an OK reason.
  push.ClosePipe(added.pipe_id);
  ASSERT_TRUE(WaitUntil([&] { return log.Count(PipeEventType::kRemoved) == 1; },
                        Deadline(10)));
  std::vector<PipeEvent> events = log.Events();
  auto removed = std::find_if(
      events.begin(), events.end(),
      [](const PipeEvent& e) { return e.type == PipeEventType::kRemoved; });
  ASSERT_NE(removed, events.end());
  EXPECT_EQ(removed->pipe_id, added.pipe_id);
  EXPECT_TRUE(removed->reason.ok()) << removed->reason;

  // The dialer re-dials: a new pipe with a new id.
  ASSERT_TRUE(WaitUntil([&] { return log.Count(PipeEventType::kAdded) == 2; },
                        Deadline(10)));
  events = log.Events();
  uint32_t second_id = 0;
  for (const PipeEvent& e : events) {
    if (e.type == PipeEventType::kAdded && e.pipe_id != added.pipe_id)
      second_id = e.pipe_id;
  }
  EXPECT_NE(second_id, 0u) << "re-dialed pipe reused the old id";

  // Removing the observer stops the events.
  push.OnPipeEvent(nullptr);
  pull.Close();
  ASSERT_TRUE(WaitUntil([&] { return push.pipe_count() == 0; }, Deadline(10)));
  EXPECT_EQ(log.Count(PipeEventType::kRemoved), 1);
}

TEST(SocketTest, PeerLossReportsNonOkReason) {
  EventLog log;
  Socket pull(protocols::kPull);
  pull.OnPipeEvent(log.Fn());
  absl::StatusOr<std::string> url = pull.Listen("tcp://127.0.0.1:0");
  ASSERT_TRUE(url.ok()) << url.status();
  auto push = std::make_unique<Socket>(protocols::kPush);
  ASSERT_TRUE(push->Dial(*url).ok());
  ASSERT_TRUE(pull.WaitForPeers(1, Deadline(10)).ok());
  push.reset();  // destructor closes
  ASSERT_TRUE(WaitUntil([&] { return log.Count(PipeEventType::kRemoved) == 1; },
                        Deadline(10)));
  for (const PipeEvent& e : log.Events()) {
    if (e.type == PipeEventType::kRemoved) {
      EXPECT_FALSE(e.reason.ok());
    }
  }
  pull.OnPipeEvent(nullptr);
}

TEST(SocketTest, StatsCountMessagesAndBytes) {
  Socket pull(protocols::kPull);
  absl::StatusOr<std::string> url = pull.Listen("tcp://127.0.0.1:0");
  ASSERT_TRUE(url.ok()) << url.status();
  Socket push(protocols::kPush);
  ASSERT_TRUE(push.Dial(*url).ok());
  ASSERT_TRUE(push.WaitForPeers(1, Deadline(10)).ok());
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(SendString(push, std::string(100, 'a' + i), Deadline(5)).ok());
  }
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(pull.Recv(Deadline(5)).ok());
  SocketStats out = push.stats();
  SocketStats in = pull.stats();
  EXPECT_EQ(out.messages_out, 10u);
  EXPECT_EQ(out.bytes_out, 1000u);
  EXPECT_EQ(out.messages_in, 0u);
  EXPECT_EQ(in.messages_in, 10u);
  EXPECT_EQ(in.bytes_in, 1000u);
  EXPECT_EQ(in.messages_out, 0u);
  EXPECT_EQ(out.pipes_opened, 1u);
  EXPECT_EQ(in.pipes_opened, 1u);
  EXPECT_EQ(in.rejected_protocol + in.rejected_bad_frame +
                in.rejected_oversize + in.rejected_handshake_timeout +
                in.rejected_pipe_limit + in.dropped,
            0u);
}

TEST(SocketTest, ToOneRoundRobinsOverTwoPulls) {
  constexpr int kCount = 100;
  Socket push(protocols::kPush);
  absl::StatusOr<std::string> url = push.Listen("tcp://127.0.0.1:0");
  ASSERT_TRUE(url.ok()) << url.status();
  Socket a(protocols::kPull);
  Socket b(protocols::kPull);
  ASSERT_TRUE(a.Dial(*url).ok());
  ASSERT_TRUE(b.Dial(*url).ok());
  ASSERT_TRUE(push.WaitForPeers(2, Deadline(10)).ok());
  ASSERT_TRUE(a.WaitForPeers(1, Deadline(10)).ok());
  ASSERT_TRUE(b.WaitForPeers(1, Deadline(10)).ok());
  for (int i = 0; i < kCount; ++i)
    ASSERT_TRUE(SendString(push, "rr", Deadline(5)).ok());
  int got_a = 0, got_b = 0;
  ASSERT_TRUE(WaitUntil(
      [&] {
        while (a.TryRecv().ok()) ++got_a;
        while (b.TryRecv().ok()) ++got_b;
        return got_a + got_b == kCount;
      },
      Deadline(10)))
      << "a=" << got_a << " b=" << got_b;
  EXPECT_GE(got_a, 40);
  EXPECT_GE(got_b, 40);
}

TEST(SocketTest, MessagesStrandedOnDeadPipeGoToAnother) {
  // push -> pull A, which never receives. A's tiny receive queue and the small
  // AF_UNIX socket buffer hold only a few of the 200 messages; the rest stay
  // queued in the push. When A dies they must go to B once B connects: nothing
  // still queued in msock may be lost.
  constexpr int kCount = 200;
  constexpr size_t kSize = 64 * 1024;
  Socket push(protocols::kPush);
  ASSERT_TRUE(push.Set(opt::kSendQueueMessages, size_t{1024}).ok());
  ASSERT_TRUE(push.Set(opt::kSendQueueBytes, size_t{64} << 20).ok());
  absl::StatusOr<std::string> url = push.Listen(test::UniqueIpcUrl());
  ASSERT_TRUE(url.ok()) << url.status();

  auto a = std::make_unique<Socket>(protocols::kPull);
  ASSERT_TRUE(a->Set(opt::kRecvQueueMessages, size_t{1}).ok());
  ASSERT_TRUE(a->Set(opt::kRecvQueueBytes, kSize + 64).ok());
  ASSERT_TRUE(a->Dial(*url).ok());
  ASSERT_TRUE(push.WaitForPeers(1, Deadline(10)).ok());
  for (int i = 0; i < kCount; ++i) {
    Message m(absl::StrCat(i, " ", std::string(kSize - 8, 's')));
    ASSERT_TRUE(push.Send(m, Deadline(10)).ok()) << i;
  }
  a->Close();
  a.reset();
  ASSERT_TRUE(WaitUntil([&] { return push.pipe_count() == 0; }, Deadline(10)));

  Socket b(protocols::kPull);
  ASSERT_TRUE(b.Dial(*url).ok());
  std::vector<int> got;
  for (;;) {
    absl::StatusOr<Message> m = b.Recv(Deadline(2));
    if (!m.ok()) {
      EXPECT_EQ(m.status().code(), absl::StatusCode::kDeadlineExceeded)
          << m.status();
      break;
    }
    got.push_back(LeadingNumber(m->body()));
    if (got.back() == kCount - 1) break;
  }
  ASSERT_FALSE(got.empty()) << "no stranded message reached the second pull";
  RecordProperty("rerouted", static_cast<int>(got.size()));
  for (size_t i = 1; i < got.size(); ++i) {
    EXPECT_LT(got[i - 1], got[i]) << "duplicate or reordered message";
  }
  EXPECT_EQ(got.back(), kCount - 1) << "the last queued message was lost";
  EXPECT_GE(static_cast<int>(got.size()), kCount - 40)
      << "more messages lost than A's queue and socket buffer could hold";
}

TEST(SocketTest, CloseReturnsWithPendingMessagesWithinLinger) {
  Socket pull(protocols::kPull);
  ASSERT_TRUE(pull.Set(opt::kRecvQueueMessages, size_t{1}).ok());
  ASSERT_TRUE(pull.Set(opt::kRecvQueueBytes, size_t{1024}).ok());
  absl::StatusOr<std::string> url = pull.Listen("tcp://127.0.0.1:0");
  ASSERT_TRUE(url.ok()) << url.status();
  auto push = std::make_unique<Socket>(protocols::kPush);
  ASSERT_TRUE(push->Set(opt::kLinger, absl::Milliseconds(100)).ok());
  ASSERT_TRUE(push->Set(opt::kSendQueueMessages, size_t{16}).ok());
  ASSERT_TRUE(push->Dial(*url).ok());
  ASSERT_TRUE(push->WaitForPeers(1, Deadline(10)).ok());
  // Fill every queue between the two (the pull never receives).
  int sent = 0;
  for (; sent < 4096; ++sent) {
    Message m(std::string(64 * 1024, 'p'));
    if (!push->Send(m, absl::Now() + absl::Milliseconds(200)).ok()) break;
  }
  ASSERT_LT(sent, 4096) << "queues never filled";
  RecordProperty("accepted_before_blocking", sent);
  absl::Time start = absl::Now();
  push->Close();
  EXPECT_LT(absl::Now() - start, absl::Seconds(2))
      << "Close exceeded the linger bound";
  start = absl::Now();
  push.reset();
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
}

TEST(SocketTest, CloseReturnsWhileDialingUnreachablePeer) {
  Socket tmp(protocols::kPull);
  absl::StatusOr<std::string> url = tmp.Listen("tcp://127.0.0.1:0");
  ASSERT_TRUE(url.ok());
  tmp.Close();
  Socket push(protocols::kPush);
  ASSERT_TRUE(push.Set(opt::kLinger, absl::Milliseconds(100)).ok());
  ASSERT_TRUE(push.Dial(*url).ok());
  ASSERT_TRUE(push.Dial(test::UniqueIpcUrl()).ok());
  ASSERT_TRUE(push.Dial(test::UniqueInprocUrl()).ok());
  absl::Time start = absl::Now();
  push.Close();
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
}

TEST(SocketTest, CloseWhileLingeringDeliversQueuedMessages) {
  // Within the linger time queued messages still reach a live peer.
  Socket pull(protocols::kPull);
  absl::StatusOr<std::string> url = pull.Listen("tcp://127.0.0.1:0");
  ASSERT_TRUE(url.ok()) << url.status();
  auto push = std::make_unique<Socket>(protocols::kPush);
  ASSERT_TRUE(push->Set(opt::kLinger, absl::Seconds(5)).ok());
  ASSERT_TRUE(push->Dial(*url).ok());
  ASSERT_TRUE(push->WaitForPeers(1, Deadline(10)).ok());
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(
        SendString(*push, absl::StrCat(i, " linger"), Deadline(5)).ok());
  }
  push->Close();
  for (int i = 0; i < 100; ++i) {
    absl::StatusOr<Message> m = pull.Recv(Deadline(5));
    ASSERT_TRUE(m.ok()) << m.status() << " at " << i;
    EXPECT_EQ(LeadingNumber(m->body()), i);
  }
}

}  // namespace
}  // namespace msock
