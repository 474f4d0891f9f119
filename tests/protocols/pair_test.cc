// Pair0 / Pair1 specifics over every transport: one peer at a time, pair0's
// bare bodies, and pair1's hop count (sent as 1; over kTtl dropped; short
// payload or count > 255 closes the pipe), checked with a raw Socket speaking
// the pair wire format.
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "msock/msock.h"
#include "tests/support/marry.h"
#include "tests/support/test_support.h"

namespace msock {
namespace {

using test::Deadline;
using test::EventLog;
using test::ListenUrlFor;
using test::WaitUntil;
using test::WireBytes;

class PairTest : public ::testing::TestWithParam<std::string> {
 protected:
  const std::string& transport() const { return GetParam(); }

  template <typename R>
  std::string ListenOn(R& r) {
    absl::StatusOr<std::string> url = r.Listen(ListenUrlFor(transport()));
    EXPECT_TRUE(url.ok()) << url.status();
    return url.value_or("inproc://listen-failed");
  }

  // A raw pair1 socket (no hop-count handling) dialed to `url` and connected.
  std::unique_ptr<Socket> RawPair1(const std::string& url,
                                   EventLog* log = nullptr) {
    auto raw = std::make_unique<Socket>(protocols::kPair1);
    if (log != nullptr) raw->OnPipeEvent(log->Fn());
    EXPECT_TRUE(raw->Set(opt::kReconnectMin, absl::Milliseconds(10)).ok());
    EXPECT_TRUE(raw->Dial(url).ok());
    EXPECT_TRUE(raw->WaitForPeers(1, Deadline(10)).ok());
    return raw;
  }

  static absl::Status SendHop(Socket& raw, uint32_t hops,
                              std::string_view body) {
    Message m(body);
    m.header().push_back(hops);
    return raw.Send(m, Deadline(5));
  }
};

template <typename P>
void OnlyOnePeer(const std::string& transport) {
  P listener, first, second;
  absl::StatusOr<std::string> url =
      test::Marry(listener, first, transport, Deadline(10));
  ASSERT_TRUE(url.ok()) << url.status();
  ASSERT_TRUE(second.Set(opt::kReconnectMin, absl::Milliseconds(20)).ok());
  ASSERT_TRUE(second.Dial(*url).ok());
  ASSERT_TRUE(WaitUntil(
      [&] { return listener.stats().rejected_pipe_limit >= 1; }, Deadline(10)))
      << "second peer was not refused";
  EXPECT_EQ(listener.socket().pipe_count(), 1);
  EXPECT_EQ(listener.stats().pipes_opened, 1u);
  // The first peer still works, both ways.
  ASSERT_TRUE(first.Send("ping", Deadline(5)).ok());
  absl::StatusOr<Message> got = listener.Recv(Deadline(5));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->body(), "ping");
  ASSERT_TRUE(listener.Send("pong", Deadline(5)).ok());
  absl::StatusOr<Message> back = first.Recv(Deadline(5));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->body(), "pong");
  EXPECT_EQ(second.TryRecv().status().code(), absl::StatusCode::kUnavailable);
}

TEST_P(PairTest, Pair0AcceptsOnlyOnePeer) { OnlyOnePeer<Pair0>(transport()); }
TEST_P(PairTest, Pair1AcceptsOnlyOnePeer) { OnlyOnePeer<Pair1>(transport()); }

TEST_P(PairTest, Pair0SendsBareBody) {
  Pair0 p;
  std::string url = ListenOn(p);
  Socket raw(protocols::kPair0);
  ASSERT_TRUE(raw.Dial(url).ok());
  ASSERT_TRUE(raw.WaitForPeers(1, Deadline(10)).ok());
  ASSERT_TRUE(p.WaitForPeers(1, Deadline(10)).ok());
  ASSERT_TRUE(p.Send("bare", Deadline(5)).ok());
  absl::StatusOr<Message> got = raw.Recv(Deadline(5));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(WireBytes(*got), "bare");
}

TEST_P(PairTest, Pair1SendsHopCountOne) {
  Pair1 p;
  std::string url = ListenOn(p);
  std::unique_ptr<Socket> raw = RawPair1(url);
  ASSERT_TRUE(p.WaitForPeers(1, Deadline(10)).ok());
  ASSERT_TRUE(p.Send("hi", Deadline(5)).ok());
  absl::StatusOr<Message> got = raw->Recv(Deadline(5));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(WireBytes(*got), std::string("\x00\x00\x00\x01hi", 6));
}

TEST_P(PairTest, Pair1ReceivesHopCountWithinTtl) {
  Pair1 p;
  std::string url = ListenOn(p);
  std::unique_ptr<Socket> raw = RawPair1(url);
  ASSERT_TRUE(SendHop(*raw, 1, "one hop").ok());
  ASSERT_TRUE(SendHop(*raw, 8, "eight hops").ok());  // == default ttl: accepted
  absl::StatusOr<Message> a = p.Recv(Deadline(5));
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->body(), "one hop");
  absl::StatusOr<Message> b = p.Recv(Deadline(5));
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->body(), "eight hops");
  EXPECT_EQ(p.stats().dropped, 0u);
}

TEST_P(PairTest, Pair1DropsHopCountOverTtl) {
  Pair1 p;
  std::string url = ListenOn(p);
  EventLog log;
  std::unique_ptr<Socket> raw = RawPair1(url, &log);
  ASSERT_TRUE(SendHop(*raw, 200, "too far").ok());
  ASSERT_TRUE(SendHop(*raw, 9, "just too far").ok());
  ASSERT_TRUE(SendHop(*raw, 1, "fine").ok());
  absl::StatusOr<Message> got = p.Recv(Deadline(5));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->body(), "fine") << "a message over the ttl was delivered";
  EXPECT_EQ(p.stats().dropped, 2u);
  // Dropping is silent: the pipe stays.
  EXPECT_EQ(log.Count(PipeEventType::kRemoved), 0);
  EXPECT_EQ(p.stats().rejected_bad_frame, 0u);
  raw->OnPipeEvent(nullptr);
}

TEST_P(PairTest, Pair1TtlOptionApplies) {
  Pair1 p;
  ASSERT_TRUE(p.Set(opt::kTtl, 3).ok());
  std::string url = ListenOn(p);
  std::unique_ptr<Socket> raw = RawPair1(url);
  ASSERT_TRUE(SendHop(*raw, 4, "over").ok());
  ASSERT_TRUE(SendHop(*raw, 3, "at").ok());
  absl::StatusOr<Message> got = p.Recv(Deadline(5));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->body(), "at");
  EXPECT_EQ(p.stats().dropped, 1u);
}

TEST_P(PairTest, Pair1ShortPayloadClosesPipe) {
  Pair1 p;
  std::string url = ListenOn(p);
  EventLog log;
  std::unique_ptr<Socket> raw = RawPair1(url, &log);
  Message shortmsg("abc");  // 3 bytes: no room for a hop count
  ASSERT_TRUE(raw->Send(shortmsg, Deadline(5)).ok());
  ASSERT_TRUE(WaitUntil([&] { return log.Count(PipeEventType::kRemoved) >= 1; },
                        Deadline(10)))
      << "pair1 kept a pipe that sent a 3-byte payload";
  EXPECT_GE(p.stats().rejected_bad_frame, 1u);
  EXPECT_EQ(p.TryRecv().status().code(), absl::StatusCode::kUnavailable);
  // The raw peer re-dials and a proper message then goes through.
  ASSERT_TRUE(raw->WaitForPeers(1, Deadline(10)).ok());
  ASSERT_TRUE(
      WaitUntil([&] { return p.socket().pipe_count() == 1; }, Deadline(10)));
  ASSERT_TRUE(SendHop(*raw, 1, "recovered").ok());
  absl::StatusOr<Message> got = p.Recv(Deadline(5));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->body(), "recovered");
  raw->OnPipeEvent(nullptr);
}

TEST_P(PairTest, Pair1HopCountOver255ClosesPipe) {
  Pair1 p;
  ASSERT_TRUE(p.Set(opt::kTtl, 15).ok());
  std::string url = ListenOn(p);
  EventLog log;
  std::unique_ptr<Socket> raw = RawPair1(url, &log);
  ASSERT_TRUE(SendHop(*raw, 256, "x").ok());
  ASSERT_TRUE(WaitUntil([&] { return log.Count(PipeEventType::kRemoved) >= 1; },
                        Deadline(10)))
      << "pair1 kept a pipe that sent hop count 256";
  EXPECT_GE(p.stats().rejected_bad_frame, 1u);
  EXPECT_EQ(p.TryRecv().status().code(), absl::StatusCode::kUnavailable);
  raw->OnPipeEvent(nullptr);
}

TEST_P(PairTest, Pair0AndPair1DoNotConnect) {
  Pair1 p1;
  std::string url = ListenOn(p1);
  Pair0 p0;
  ASSERT_TRUE(p0.Dial(url).ok());
  ASSERT_TRUE(WaitUntil([&] { return p1.stats().rejected_protocol >= 1; },
                        Deadline(10)));
  EXPECT_EQ(p1.socket().pipe_count(), 0);
  EXPECT_EQ(p0.Send("lost", absl::Now() + absl::Milliseconds(20)).code(),
            absl::StatusCode::kDeadlineExceeded);
}

INSTANTIATE_TEST_SUITE_P(AllTransports, PairTest,
                         ::testing::Values("inproc", "ipc", "tcp"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace msock
