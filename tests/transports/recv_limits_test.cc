// What a peer's unfinished messages may cost a receiving socket, over tcp, ipc
// and ws: kMaxUnfinishedBytes (the bytes held for partly received messages,
// summed over the socket's pipes) and kRecvProgressTimeout (a started message
// that stops coming). The bad peers are raw clients that stop in the middle of
// a message; a healthy push -> pull runs beside them.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "msock/msock.h"
#include "tests/support/raw_client.h"
#include "tests/support/test_support.h"
#include "transports/ws/ws_codec.h"

namespace msock {
namespace {

using test::Deadline;
using test::EventLog;
using test::ListenUrlFor;
using test::RawClient;
using test::RecvString;
using test::SendString;
using test::WaitUntil;
namespace ws = internal::ws;

constexpr size_t kMiB = size_t{1} << 20;

// The SP header of a push peer (0x50), then the length prefix of a message of
// `len` bytes (ipc: with its type byte).
std::string PushHelloAndPrefix(bool ipc, uint64_t len) {
  std::string s{0x00, 0x53, 0x50, 0x00, 0x00, 0x50, 0x00, 0x00};
  if (ipc) s.push_back(0x01);
  for (int i = 7; i >= 0; --i) s.push_back(static_cast<char>(len >> (8 * i)));
  return s;
}

std::string Numbered(int i) {
  return absl::StrCat("message ", i, std::string(1000, '.'));
}

// Pipe-removed events whose reason mentions `what`.
int RemovedFor(const EventLog& log, const std::string& what) {
  int n = 0;
  for (const PipeEvent& e : log.Events()) {
    if (e.type == PipeEventType::kRemoved &&
        e.reason.message().find(what) != std::string::npos) {
      ++n;
    }
  }
  return n;
}

class StreamRecvLimitsTest : public ::testing::TestWithParam<const char*> {
 protected:
  bool ipc() const { return std::string(GetParam()) == "ipc"; }
};

TEST_P(StreamRecvLimitsTest,
       OverTheUnfinishedLimitOnePipeClosesOthersLoseNothing) {
  EventLog log;
  Socket pull(protocols::kPull);
  pull.OnPipeEvent(log.Fn());
  ASSERT_TRUE(pull.Set(opt::kMaxRecvSize, 4 * kMiB).ok());
  ASSERT_TRUE(pull.Set(opt::kMaxUnfinishedBytes, 5 * kMiB / 2).ok());
  absl::StatusOr<std::string> url = pull.Listen(ListenUrlFor(GetParam()));
  ASSERT_TRUE(url.ok()) << url.status();
  Socket push(protocols::kPush);
  ASSERT_TRUE(push.Dial(*url).ok());
  ASSERT_TRUE(push.WaitForPeers(1, Deadline(10)).ok());

  // Three peers that each send all but the last byte of a 1 MiB message: each
  // needs a 1 MiB buffer, and only two fit under 2.5 MiB.
  std::vector<std::unique_ptr<RawClient>> peers;
  for (int i = 0; i < 3; ++i) {
    peers.push_back(std::make_unique<RawClient>(*url));
    ASSERT_TRUE(peers.back()->connected());
    // The peer that is refused may see its write cut off: not checked.
    peers.back()->Write(PushHelloAndPrefix(ipc(), kMiB) +
                        std::string(kMiB - 1, 'x'));
  }
  // The healthy pusher sends meanwhile.
  constexpr int kCount = 2000;
  for (int i = 0; i < kCount; ++i) {
    ASSERT_TRUE(SendString(push, Numbered(i), Deadline(10)).ok()) << i;
  }
  for (int i = 0; i < kCount; ++i) {
    absl::StatusOr<std::string> got = RecvString(pull, Deadline(10));
    ASSERT_TRUE(got.ok()) << i << ": " << got.status();
    ASSERT_EQ(*got, Numbered(i));
  }
  EXPECT_TRUE(
      WaitUntil([&] { return RemovedFor(log, "max-unfinished-bytes") == 1; },
                Deadline(10)));
  EXPECT_EQ(pull.stats().rejected_unfinished_limit, 1u);
  EXPECT_EQ(pull.pipe_count(), 3);  // the pusher and two of the three peers
}

TEST_P(StreamRecvLimitsTest, StalledMessageClosesThePipeAfterTheTimeout) {
  EventLog log;
  Socket pull(protocols::kPull);
  pull.OnPipeEvent(log.Fn());
  ASSERT_TRUE(
      pull.Set(opt::kRecvProgressTimeout, absl::Milliseconds(300)).ok());
  absl::StatusOr<std::string> url = pull.Listen(ListenUrlFor(GetParam()));
  ASSERT_TRUE(url.ok()) << url.status();
  RawClient c(*url);
  ASSERT_TRUE(c.connected());
  const absl::Time start = absl::Now();
  ASSERT_TRUE(c.Write(PushHelloAndPrefix(ipc(), 100) + "ten bytes."));
  ASSERT_TRUE(WaitUntil([&] { return log.Count(PipeEventType::kRemoved) == 1; },
                        Deadline(10)));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(250));
  EXPECT_EQ(pull.stats().rejected_stalled, 1u);
  EXPECT_EQ(RemovedFor(log, "recv-progress-timeout"), 1);
  std::string got;
  EXPECT_TRUE(c.ReadUntilClosed(Deadline(10), &got));
}

TEST_P(StreamRecvLimitsTest, SlowButSteadyMessageIsNotStalled) {
  // A byte every 100 ms for longer than the timeout: every byte is progress.
  Socket pull(protocols::kPull);
  ASSERT_TRUE(pull.Set(opt::kRecvProgressTimeout, absl::Seconds(1)).ok());
  absl::StatusOr<std::string> url = pull.Listen(ListenUrlFor(GetParam()));
  ASSERT_TRUE(url.ok()) << url.status();
  RawClient c(*url);
  ASSERT_TRUE(c.connected());
  const std::string body = "slow but steady";
  ASSERT_TRUE(c.Write(PushHelloAndPrefix(ipc(), body.size())));
  for (char ch : body) {
    absl::SleepFor(absl::Milliseconds(100));  // pacing, not synchronisation
    ASSERT_TRUE(c.Write(std::string(1, ch)));
  }
  absl::StatusOr<std::string> got = RecvString(pull, Deadline(10));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, body);
  EXPECT_EQ(pull.stats().rejected_stalled, 0u);
  EXPECT_EQ(pull.pipe_count(), 1);
}

INSTANTIATE_TEST_SUITE_P(Streams, StreamRecvLimitsTest,
                         ::testing::Values("tcp", "ipc"));

TEST(RecvLimitsTest, BigMessagesUnderTheUnfinishedLimitPass) {
  for (const char* scheme : {"tcp", "ipc", "ws"}) {
    SCOPED_TRACE(scheme);
    Socket pull(protocols::kPull);
    ASSERT_TRUE(pull.Set(opt::kMaxRecvSize, 8 * kMiB).ok());
    ASSERT_TRUE(pull.Set(opt::kMaxUnfinishedBytes, 3 * kMiB).ok());
    absl::StatusOr<std::string> url = pull.Listen(ListenUrlFor(scheme));
    ASSERT_TRUE(url.ok()) << url.status();
    Socket push(protocols::kPush);
    ASSERT_TRUE(push.Set(opt::kSendQueueBytes, 8 * kMiB).ok());
    ASSERT_TRUE(push.Dial(*url).ok());
    for (int i = 0; i < 6; ++i) {
      std::string big(2 * kMiB + i, static_cast<char>('a' + i));
      ASSERT_TRUE(SendString(push, big, Deadline(10)).ok());
      absl::StatusOr<std::string> got = RecvString(pull, Deadline(20));
      ASSERT_TRUE(got.ok()) << got.status();
      ASSERT_TRUE(*got == big) << "message " << i << " differs";
    }
    EXPECT_EQ(pull.stats().rejected_unfinished_limit, 0u);
  }
}

// ---- ws: a raw client that upgrades, then sends frames by hand ----

class WsRecvLimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pull_.OnPipeEvent(log_.Fn());
    ASSERT_TRUE(
        pull_.Set(opt::kRecvProgressTimeout, absl::Milliseconds(300)).ok());
  }
  // Listens, connects the raw client and completes its upgrade.
  void Connect() {
    absl::StatusOr<std::string> url = pull_.Listen("ws://127.0.0.1:0/pull");
    ASSERT_TRUE(url.ok()) << url.status();
    client_ = std::make_unique<RawClient>(*url);
    ASSERT_TRUE(client_->connected());
    ASSERT_TRUE(client_->Write(
        "GET /pull HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Protocol: pull.sp.nanomsg.org\r\n\r\n"));
    std::string head;
    while (head.find("\r\n\r\n") == std::string::npos) {
      ASSERT_TRUE(client_->ReadExactly(head.size() + 1, Deadline(10), &head));
    }
    ASSERT_EQ(head.rfind("HTTP/1.1 101", 0), 0u) << head;
    ASSERT_TRUE(pull_.WaitForPeers(1, Deadline(10)).ok());
  }
  static std::string Frame(ws::Opcode op, bool fin, const std::string& body) {
    std::string f;
    ws::AppendFrame(&f, op, fin, /*masked=*/true, 0x0badf00du, {body});
    return f;
  }
  // Waits for the pipe to go; returns the close code the client got.
  int ClosedWith() {
    std::string got;
    EXPECT_TRUE(client_->ReadUntilClosed(Deadline(10), &got));
    // Skip pongs; the close frame (0x88) carries the code in its payload.
    for (size_t at = 0; at + 4 <= got.size();) {
      const auto op = static_cast<uint8_t>(got[at]);
      const size_t len = static_cast<uint8_t>(got[at + 1]) & 0x7f;
      if (op == 0x88) {
        return (static_cast<uint8_t>(got[at + 2]) << 8) |
               static_cast<uint8_t>(got[at + 3]);
      }
      at += 2 + len;
    }
    return 0;
  }

  EventLog log_;
  Socket pull_{protocols::kPull};
  std::unique_ptr<RawClient> client_;
};

TEST_F(WsRecvLimitsTest, PartialFrameStallsAndIsClosed) {
  Connect();
  const std::string frame = Frame(ws::kBinary, true, std::string(1000, 'w'));
  const absl::Time start = absl::Now();
  ASSERT_TRUE(client_->Write(frame.substr(0, 30)));
  ASSERT_TRUE(WaitUntil(
      [&] { return log_.Count(PipeEventType::kRemoved) == 1; }, Deadline(10)));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(250));
  EXPECT_EQ(pull_.stats().rejected_stalled, 1u);
  EXPECT_EQ(ClosedWith(), ws::kClosePolicyViolation);
}

TEST_F(WsRecvLimitsTest, UnfinishedFragmentedMessageStallsDespitePings) {
  Connect();
  // A whole first fragment, then only a ping: control frames are not progress.
  ASSERT_TRUE(client_->Write(Frame(ws::kBinary, false, "first part") +
                             Frame(ws::kPing, true, "still here")));
  ASSERT_TRUE(WaitUntil(
      [&] { return log_.Count(PipeEventType::kRemoved) == 1; }, Deadline(10)));
  EXPECT_EQ(pull_.stats().rejected_stalled, 1u);
  EXPECT_EQ(ClosedWith(), ws::kClosePolicyViolation);
}

TEST_F(WsRecvLimitsTest, FragmentsOverTheUnfinishedLimitAreClosedAndCounted) {
  ASSERT_TRUE(pull_.Set(opt::kMaxRecvSize, 4 * kMiB).ok());
  ASSERT_TRUE(pull_.Set(opt::kMaxUnfinishedBytes, 256 * 1024).ok());
  Connect();
  std::string wire = Frame(ws::kBinary, false, std::string(65536, 'f'));
  for (int i = 0; i < 3; ++i) {
    wire += Frame(ws::kContinuation, false, std::string(65536, 'f'));
  }
  // 256 KiB held; the first byte of the last fragment would pass the limit
  // (small, so that no unread bytes turn the close into a reset).
  wire += Frame(ws::kContinuation, true, "tail");
  client_->Write(wire);
  EXPECT_EQ(ClosedWith(), ws::kCloseTryAgainLater);
  EXPECT_TRUE(
      WaitUntil([&] { return pull_.stats().rejected_unfinished_limit == 1; },
                Deadline(10)));
}

}  // namespace
}  // namespace msock
