// Pub / Sub over every transport: prefix filtering at the subscriber,
// subscribe / unsubscribe, fan-out to several subscribers, and the three
// overflow policies with their per-pipe drop counts.
#include "msock/protocols/pubsub.h"

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "msock/msock.h"
#include "tests/support/test_support.h"

namespace msock {
namespace {

using test::Deadline;
using test::ListenUrlFor;
using test::WaitUntil;

class PubSubTest : public ::testing::TestWithParam<std::string> {
 protected:
  const std::string& transport() const { return GetParam(); }

  std::string Listen(Pub& pub) {
    absl::StatusOr<std::string> url = pub.Listen(ListenUrlFor(transport()));
    EXPECT_TRUE(url.ok()) << url.status();
    return url.value_or("inproc://listen-failed");
  }
  void Connect(Pub& pub, Sub& sub, const std::string& url, int pub_peers = 1) {
    ASSERT_TRUE(sub.Dial(url).ok());
    ASSERT_TRUE(sub.WaitForPeers(1, Deadline(10)).ok());
    ASSERT_TRUE(pub.WaitForPeers(pub_peers, Deadline(10)).ok());
  }
  static void Publish(Pub& pub, std::string_view body) {
    Message m(body);
    ASSERT_TRUE(pub.Send(m, Deadline(5)).ok());
  }
  static std::string Next(Sub& sub) {
    absl::StatusOr<Message> m = sub.Recv(Deadline(10));
    EXPECT_TRUE(m.ok()) << m.status();
    return m.ok() ? std::string(m->body()) : "<" + m.status().ToString() + ">";
  }
};

TEST_P(PubSubTest, DeliversOnlyMatchingPrefixes) {
  Pub pub;
  Sub sub;
  sub.Subscribe("news:");
  sub.Subscribe("sport");
  Connect(pub, sub, Listen(pub));
  for (const char* body : {"weather: rain", "news: one", "sports: two", "new",
                           "sport", "news: three"}) {
    Publish(pub, body);
  }
  EXPECT_EQ(Next(sub), "news: one");
  EXPECT_EQ(Next(sub), "sports: two");
  EXPECT_EQ(Next(sub), "sport");
  EXPECT_EQ(Next(sub), "news: three");
  EXPECT_EQ(sub.filtered_out(), 2u);   // "weather: rain", "new"
  EXPECT_EQ(sub.stats().dropped, 0u);  // filtering is not a loss
  EXPECT_EQ(sub.stats().messages_in, 6u);
}

TEST_P(PubSubTest, EmptyPrefixMatchesEverything) {
  Pub pub;
  Sub sub;
  sub.Subscribe("");
  Connect(pub, sub, Listen(pub));
  Publish(pub, "");
  Publish(pub, "anything");
  EXPECT_EQ(Next(sub), "");
  EXPECT_EQ(Next(sub), "anything");
}

TEST_P(PubSubTest, NoSubscriptionReceivesNothing) {
  Pub pub;
  Sub sub;
  Connect(pub, sub, Listen(pub));
  Publish(pub, "ignored");
  ASSERT_TRUE(WaitUntil([&] { return sub.filtered_out() == 1; }, Deadline(10)));
  EXPECT_EQ(sub.TryRecv().status().code(), absl::StatusCode::kUnavailable);
}

TEST_P(PubSubTest, UnsubscribeStopsDelivery) {
  Pub pub;
  Sub sub;
  sub.Subscribe("a");
  sub.Subscribe("b");
  sub.Subscribe("b");  // twice: one Unsubscribe leaves one
  Connect(pub, sub, Listen(pub));
  ASSERT_TRUE(sub.Unsubscribe("a").ok());
  ASSERT_TRUE(sub.Unsubscribe("b").ok());
  EXPECT_EQ(sub.Unsubscribe("a").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(sub.subscriptions(), std::vector<std::string>{"b"});
  Publish(pub, "a1");
  Publish(pub, "b1");
  EXPECT_EQ(Next(sub), "b1");
  EXPECT_EQ(sub.filtered_out(), 1u);
}

TEST_P(PubSubTest, EverySubscriberGetsItsOwnCopy) {
  Pub pub;
  std::string url = Listen(pub);
  Sub s1, s2, s3;
  s1.Subscribe("");
  s2.Subscribe("x");
  s3.Subscribe("y");
  Connect(pub, s1, url, 1);
  Connect(pub, s2, url, 2);
  Connect(pub, s3, url, 3);
  Publish(pub, "x1");
  Publish(pub, "y1");
  EXPECT_EQ(Next(s1), "x1");
  EXPECT_EQ(Next(s1), "y1");
  EXPECT_EQ(Next(s2), "x1");
  EXPECT_EQ(Next(s3), "y1");
  EXPECT_EQ(pub.stats().messages_out, 2u);
  std::vector<PipeStats> ps = pub.pipe_stats();
  ASSERT_EQ(ps.size(), 3u);
  for (const PipeStats& p : ps) {
    EXPECT_EQ(p.messages_out, 2u);
    EXPECT_EQ(p.dropped, 0u);
  }
}

TEST_P(PubSubTest, SendWithoutSubscribersSucceeds) {
  Pub pub;
  Listen(pub);
  Message m("into the void");
  EXPECT_TRUE(pub.TrySend(m).ok());
  EXPECT_TRUE(m.empty());
}

TEST_P(PubSubTest, SubRejectsNonPublisher) {
  Socket push(protocols::kPush);
  absl::StatusOr<std::string> url = push.Listen(ListenUrlFor(transport()));
  ASSERT_TRUE(url.ok());
  Sub sub;
  ASSERT_TRUE(sub.Dial(*url).ok());
  EXPECT_TRUE(WaitUntil(
      [&] {
        return push.stats().rejected_protocol + sub.stats().rejected_protocol >=
               1;
      },
      Deadline(10)));
  EXPECT_EQ(sub.socket().pipe_count(), 0);
}

// ---- overflow: a subscriber that does not read while the publisher sends ----

class OverflowTest : public PubSubTest {
 protected:
  // Many large messages, so that a subscriber that does not read falls behind
  // whatever the kernel buffers (tcp/ipc) hold.
  static constexpr int kMessages = 400;
  static constexpr size_t kBody = 64 * 1024;

  void SetUpPair(Overflow policy) {
    ASSERT_TRUE(pub_.Set(opt::kOverflow, policy).ok());
    EXPECT_EQ(pub_.Get(opt::kOverflow), policy);
    ASSERT_TRUE(pub_.Set(opt::kSendQueueMessages, size_t{4}).ok());
    ASSERT_TRUE(sub_.Set(opt::kRecvQueueMessages, size_t{4}).ok());
    ASSERT_TRUE(sub_.Set(opt::kRecvQueueBytes, size_t{64} << 10).ok());
    sub_.Subscribe("");
    Connect(pub_, sub_, Listen(pub_));
  }
  static Message Numbered(int i) {
    Message m = Message::WithSize(kBody);
    std::string tag = absl::StrCat(i, ";");
    std::fill(m.mutable_data(), m.mutable_data() + kBody, 'x');
    std::copy(tag.begin(), tag.end(), m.mutable_data());
    return m;
  }
  static int NumberOf(const Message& m) {
    int n = -1;
    std::string_view b = m.body();
    EXPECT_TRUE(absl::SimpleAtoi(std::string(b.substr(0, b.find(';'))), &n));
    return n;
  }
  // Reads until `expected` messages came or none comes for a while; returns
  // the numbers in arrival order.
  std::vector<int> Drain(size_t expected) {
    std::vector<int> got;
    while (got.size() < expected) {
      absl::StatusOr<Message> m =
          sub_.Recv(absl::Now() + absl::Milliseconds(500));
      if (!m.ok()) break;
      got.push_back(NumberOf(*m));
    }
    return got;
  }

  Pub pub_;
  Sub sub_;
};

TEST_P(OverflowTest, DropNewestKeepsTheFirstAndCountsTheRest) {
  SetUpPair(Overflow::kDropNewest);
  for (int i = 0; i < kMessages; ++i) {
    Message m = Numbered(i);
    ASSERT_TRUE(pub_.TrySend(m).ok()) << "fan-out never blocks";
  }
  std::vector<PipeStats> ps = pub_.pipe_stats();
  ASSERT_EQ(ps.size(), 1u);
  const uint64_t dropped = ps[0].dropped;
  EXPECT_GT(dropped, 0u) << "the subscriber kept up with 25 MiB unread?";
  EXPECT_EQ(pub_.stats().dropped, dropped);
  std::vector<int> got = Drain(kMessages - dropped);
  ASSERT_EQ(got.size() + dropped, static_cast<size_t>(kMessages))
      << "a message was lost without being counted";
  EXPECT_EQ(got.front(), 0);
  EXPECT_TRUE(std::is_sorted(got.begin(), got.end()));
}

TEST_P(OverflowTest, DropOldestKeepsTheLatest) {
  SetUpPair(Overflow::kDropOldest);
  for (int i = 0; i < kMessages; ++i) {
    Message m = Numbered(i);
    ASSERT_TRUE(pub_.TrySend(m).ok());
  }
  const uint64_t dropped = pub_.pipe_stats().at(0).dropped;
  EXPECT_GT(dropped, 0u);
  std::vector<int> got = Drain(kMessages - dropped);
  ASSERT_EQ(got.size() + dropped, static_cast<size_t>(kMessages))
      << "a message was lost without being counted";
  EXPECT_EQ(got.back(), kMessages - 1) << "the newest message must survive";
  EXPECT_TRUE(std::is_sorted(got.begin(), got.end()));
}

TEST_P(OverflowTest, BlockWaitsForTheSlowSubscriberAndNeverDrops) {
  SetUpPair(Overflow::kBlock);
  int sent = 0;
  absl::Status s;
  for (; sent < kMessages; ++sent) {
    Message m = Numbered(sent);
    s = pub_.Send(m, absl::Now() + absl::Milliseconds(100));
    if (!s.ok()) {
      EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded) << s;
      EXPECT_EQ(m.size(), kBody) << "the caller keeps a message not sent";
      break;
    }
  }
  EXPECT_LT(sent, kMessages) << "never blocked";
  // A reader unblocks the publisher: everything sent from now on arrives too.
  std::thread reader([&] {
    std::vector<int> got = Drain(kMessages);
    ASSERT_EQ(got.size(), static_cast<size_t>(kMessages));
    for (int i = 0; i < kMessages; ++i) ASSERT_EQ(got[i], i);
  });
  for (; sent < kMessages; ++sent) {
    Message m = Numbered(sent);
    ASSERT_TRUE(pub_.Send(m, Deadline(10)).ok());
  }
  reader.join();
  EXPECT_EQ(pub_.stats().dropped, 0u);
  EXPECT_EQ(pub_.pipe_stats().at(0).dropped, 0u);
}

TEST_P(OverflowTest, BlockedPublisherGoesOnWhenTheSubscriberLeaves) {
  SetUpPair(Overflow::kBlock);
  absl::Status s;
  for (int i = 0; i < kMessages && s.ok(); ++i) {
    Message m = Numbered(i);
    s = pub_.Send(m, absl::Now() + absl::Milliseconds(100));
  }
  ASSERT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded) << s;
  absl::Status late;
  std::thread sender([&] {
    Message m = Numbered(kMessages);
    late = pub_.Send(m, Deadline(10));
  });
  sub_.Close();
  sender.join();
  EXPECT_TRUE(late.ok()) << late;
}

const auto kTransports = ::testing::Values("inproc", "ipc", "tcp");
const auto kName = [](const ::testing::TestParamInfo<std::string>& info) {
  return info.param;
};
INSTANTIATE_TEST_SUITE_P(Transports, PubSubTest, kTransports, kName);
INSTANTIATE_TEST_SUITE_P(Transports, OverflowTest, kTransports, kName);

}  // namespace
}  // namespace msock
