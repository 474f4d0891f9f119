// Unit tests of the SP stream mapping shared by tcp and ipc
// (transports/stream_framing.h): connection header encoding and checking, frame
// encoding, and the resumable StreamDecoder.
#include "transports/stream_framing.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "msock/message.h"

namespace msock::internal {
namespace {

std::string Bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s.push_back(static_cast<char>(c));
  return s;
}

std::string U64(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 7; i >= 0; --i) {
    s[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return s;
}

std::string TcpFrame(std::string_view payload) {
  return U64(payload.size()) + std::string(payload);
}
std::string IpcFrame(std::string_view payload) {
  return "\x01" + TcpFrame(payload);
}

TEST(EncodeHelloTest, PushHeaderBytes) {
  uint8_t out[kHelloSize];
  EncodeHello(0x50, out);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(out), kHelloSize),
            Bytes({0x00, 0x53, 0x50, 0x00, 0x00, 0x50, 0x00, 0x00}));
}

TEST(EncodeHelloTest, ProtocolIdIsBigEndian) {
  uint8_t out[kHelloSize];
  EncodeHello(0x1234, out);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(out), kHelloSize),
            Bytes({0x00, 0x53, 0x50, 0x00, 0x12, 0x34, 0x00, 0x00}));
}

TEST(CheckHelloTest, AcceptsExpectedPeer) {
  uint8_t h[kHelloSize];
  EncodeHello(0x51, h);
  EXPECT_TRUE(CheckHello(h, 0x51).ok());
}

TEST(CheckHelloTest, RoundTripsEveryId) {
  for (uint16_t id :
       {0x10, 0x11, 0x20, 0x21, 0x30, 0x31, 0x50, 0x51, 0x62, 0x63, 0x70}) {
    uint8_t h[kHelloSize];
    EncodeHello(id, h);
    EXPECT_TRUE(CheckHello(h, id).ok()) << id;
  }
}

TEST(CheckHelloTest, BadMagicIsDataLoss) {
  for (int i = 0; i < 3; ++i) {
    uint8_t h[kHelloSize];
    EncodeHello(0x50, h);
    h[i] ^= 0x20;
    EXPECT_EQ(CheckHello(h, 0x50).code(), absl::StatusCode::kDataLoss)
        << "byte " << i;
  }
  const uint8_t text[kHelloSize] = {'G', 'E', 'T', ' ', '/', ' ', 'H', 'T'};
  EXPECT_EQ(CheckHello(text, 0x50).code(), absl::StatusCode::kDataLoss);
}

TEST(CheckHelloTest, WrongVersionIsDataLoss) {
  uint8_t h[kHelloSize];
  EncodeHello(0x50, h);
  h[3] = 1;
  EXPECT_EQ(CheckHello(h, 0x50).code(), absl::StatusCode::kDataLoss);
}

TEST(CheckHelloTest, BadReservedBytesAreDataLoss) {
  for (int i = 6; i < 8; ++i) {
    uint8_t h[kHelloSize];
    EncodeHello(0x50, h);
    h[i] = 1;
    EXPECT_EQ(CheckHello(h, 0x50).code(), absl::StatusCode::kDataLoss)
        << "byte " << i;
  }
}

TEST(CheckHelloTest, WrongProtocolIsFailedPrecondition) {
  uint8_t h[kHelloSize];
  EncodeHello(0x10, h);                  // pair0
  absl::Status s = CheckHello(h, 0x11);  // expecting pair1
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(s.message().empty());
}

TEST(AppendFrameTest, TcpFrameBytes) {
  Message m("abc");
  m.header().push_back(0x80000001u);
  std::string out = "x";  // appends, keeps what was there
  AppendFrame(m, /*ipc=*/false, &out);
  EXPECT_EQ(
      out, "x" + Bytes({0, 0, 0, 0, 0, 0, 0, 7, 0x80, 0, 0, 1, 'a', 'b', 'c'}));
}

TEST(AppendFrameTest, IpcFrameBytes) {
  Message m("abc");
  m.header().push_back(0x80000001u);
  std::string out;
  AppendFrame(m, /*ipc=*/true, &out);
  EXPECT_EQ(out,
            Bytes({1, 0, 0, 0, 0, 0, 0, 0, 7, 0x80, 0, 0, 1, 'a', 'b', 'c'}));
}

TEST(AppendFrameTest, EmptyMessage) {
  Message m;
  std::string tcp, ipc;
  AppendFrame(m, false, &tcp);
  AppendFrame(m, true, &ipc);
  EXPECT_EQ(tcp, U64(0));
  EXPECT_EQ(ipc, "\x01" + U64(0));
}

TEST(AppendFrameTest, PrefixIsFramePrefix) {
  for (bool ipc : {false, true}) {
    Message m("body bytes");
    m.header().push_back(5);
    m.header().push_back(0x80000002u);
    std::string full, prefix;
    AppendFrame(m, ipc, &full);
    AppendFramePrefix(m, ipc, &prefix);
    EXPECT_EQ(prefix.size(), FramePrefixSize(m, ipc));
    EXPECT_EQ(prefix + std::string(m.body()), full);
  }
}

TEST(StreamDecoderTest, ByteByByte) {
  for (bool ipc : {false, true}) {
    std::string stream =
        ipc ? IpcFrame("hello") + IpcFrame("") + IpcFrame("world!")
            : TcpFrame("hello") + TcpFrame("") + TcpFrame("world!");
    StreamDecoder d(ipc, 1024);
    std::vector<Message> out;
    for (size_t i = 0; i < stream.size(); ++i) {
      ASSERT_TRUE(d.Feed(&stream[i], 1, &out).ok()) << i;
    }
    EXPECT_FALSE(d.mid_message());
    ASSERT_EQ(out.size(), 3u) << "ipc=" << ipc;
    EXPECT_EQ(out[0].body(), "hello");
    EXPECT_EQ(out[1].body(), "");
    EXPECT_EQ(out[2].body(), "world!");
    for (const Message& m : out) {
      EXPECT_TRUE(m.header().empty());
      EXPECT_TRUE(m.source().empty());
    }
  }
}

TEST(StreamDecoderTest, MidMessageTracksPartialFrames) {
  std::string f = TcpFrame("abcdef");
  StreamDecoder d(false, 0);
  std::vector<Message> out;
  EXPECT_FALSE(d.mid_message());
  ASSERT_TRUE(d.Feed(f.data(), 3, &out).ok());  // part of the length
  EXPECT_TRUE(d.mid_message());
  ASSERT_TRUE(
      d.Feed(f.data() + 3, 7, &out).ok());  // rest of length + 2 body bytes
  EXPECT_TRUE(d.mid_message());
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(d.Feed(f.data() + 10, f.size() - 10, &out).ok());
  EXPECT_FALSE(d.mid_message());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].body(), "abcdef");
}

TEST(StreamDecoderTest, ManyFramesInOneFeed) {
  for (bool ipc : {false, true}) {
    std::string stream;
    for (int i = 0; i < 1000; ++i) {
      std::string body = "msg-" + std::to_string(i);
      stream += ipc ? IpcFrame(body) : TcpFrame(body);
    }
    StreamDecoder d(ipc, 64);
    std::vector<Message> out;
    ASSERT_TRUE(d.Feed(stream.data(), stream.size(), &out).ok());
    ASSERT_EQ(out.size(), 1000u);
    for (int i = 0; i < 1000; ++i)
      EXPECT_EQ(out[i].body(), "msg-" + std::to_string(i));
  }
}

TEST(StreamDecoderTest, HeaderWordsStayInBody) {
  Message m("xy");
  m.header().push_back(0x00000001u);
  std::string wire;
  AppendFrame(m, false, &wire);
  StreamDecoder d(false, 0);
  std::vector<Message> out;
  ASSERT_TRUE(d.Feed(wire.data(), wire.size(), &out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].body(), Bytes({0, 0, 0, 1, 'x', 'y'}));
}

TEST(StreamDecoderTest, ExactlyMaxSizeAccepted) {
  for (bool ipc : {false, true}) {
    std::string body(100, 'z');
    std::string f = ipc ? IpcFrame(body) : TcpFrame(body);
    StreamDecoder d(ipc, 100);
    std::vector<Message> out;
    ASSERT_TRUE(d.Feed(f.data(), f.size(), &out).ok());
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].body(), body);
  }
}

TEST(StreamDecoderTest, OversizeIsResourceExhausted) {
  for (bool ipc : {false, true}) {
    std::string stream = ipc ? IpcFrame("ok") + IpcFrame(std::string(101, 'z'))
                             : TcpFrame("ok") + TcpFrame(std::string(101, 'z'));
    StreamDecoder d(ipc, 100);
    std::vector<Message> out;
    absl::Status s = d.Feed(stream.data(), stream.size(), &out);
    EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
    // The message before the bad frame is still delivered.
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].body(), "ok");
  }
}

TEST(StreamDecoderTest, OversizeDetectedFromLengthAlone) {
  // A huge declared length must fail as soon as the length is read, without the
  // body.
  std::string len = U64(uint64_t{1} << 62);
  StreamDecoder d(false, 1 << 20);
  std::vector<Message> out;
  EXPECT_EQ(d.Feed(len.data(), len.size(), &out).code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(out.empty());
}

TEST(StreamDecoderTest, ZeroMaxMeansNoLimit) {
  std::string body(3 << 20, 'q');
  std::string f = TcpFrame(body);
  StreamDecoder d(false, 0);
  std::vector<Message> out;
  ASSERT_TRUE(d.Feed(f.data(), f.size(), &out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].size(), body.size());
}

TEST(StreamDecoderTest, HugeLengthWithoutLimitDoesNotCrash) {
  // kMaxRecvSize 0 means "no limit", yet a peer declaring an absurd length must
  // not bring the process down (ARCHITECTURE.md: bad input from a peer closes
  // that pipe only). Either an error or a decoder still waiting for the body is
  // fine; an abort or bad_alloc is not.
  for (uint64_t declared : {uint64_t{1} << 62, ~uint64_t{0}}) {
    std::string len = U64(declared);
    StreamDecoder d(false, 0);
    std::vector<Message> out;
    absl::Status s = d.Feed(len.data(), len.size(), &out);
    EXPECT_TRUE(!s.ok() || d.mid_message()) << s << " declared " << declared;
    EXPECT_TRUE(out.empty());
  }
}

TEST(StreamDecoderTest, BadIpcTypeIsDataLoss) {
  std::string stream = IpcFrame("first");
  std::string bad = TcpFrame("second");
  stream +=
      '\0' +
      bad;  // type byte 0x00: what the draft RFC said, wrong for real peers
  StreamDecoder d(true, 1024);
  std::vector<Message> out;
  EXPECT_EQ(d.Feed(stream.data(), stream.size(), &out).code(),
            absl::StatusCode::kDataLoss);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].body(), "first");
}

TEST(StreamDecoderTest, FailedDecoderStaysFailed) {
  std::string bad = "\x02" + TcpFrame("x");
  StreamDecoder d(true, 1024);
  std::vector<Message> out;
  EXPECT_EQ(d.Feed(bad.data(), bad.size(), &out).code(),
            absl::StatusCode::kDataLoss);
  std::string good = IpcFrame("y");
  EXPECT_EQ(d.Feed(good.data(), good.size(), &out).code(),
            absl::StatusCode::kDataLoss);
  EXPECT_TRUE(out.empty());
}

TEST(StreamDecoderTest, TcpHasNoTypeByte) {
  // On tcp a leading 0x01 is simply the first byte of the length.
  std::string f = TcpFrame("abc");
  StreamDecoder d(false, 0);
  std::vector<Message> out;
  ASSERT_TRUE(d.Feed(f.data(), f.size(), &out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].body(), "abc");
}

TEST(StreamDecoderTest, RoundTripWithAppendFrame) {
  for (bool ipc : {false, true}) {
    std::string wire;
    for (int i = 0; i < 50; ++i) {
      Message m(std::string(i * 7, static_cast<char>('a' + i % 26)));
      AppendFrame(m, ipc, &wire);
    }
    StreamDecoder d(ipc, 0);
    std::vector<Message> out;
    // Uneven chunk sizes.
    size_t pos = 0, chunk = 1;
    while (pos < wire.size()) {
      size_t n = std::min(chunk, wire.size() - pos);
      ASSERT_TRUE(d.Feed(wire.data() + pos, n, &out).ok());
      pos += n;
      chunk = chunk * 3 % 17 + 1;
    }
    ASSERT_EQ(out.size(), 50u);
    for (int i = 0; i < 50; ++i) {
      EXPECT_EQ(out[i].body(),
                std::string(i * 7, static_cast<char>('a' + i % 26)));
    }
  }
}

TEST(StreamDecoderTest, LengthPrefixAloneReservesLittle) {
  // A peer that sends only a length prefix (or a few body bytes) costs a
  // small first buffer, not the length it claims.
  for (bool ipc : {false, true}) {
    const std::string body(size_t{1} << 20, 'b');
    std::string wire;
    AppendFrame(Message(body), ipc, &wire);
    UnfinishedBudget budget;
    StreamDecoder d(ipc, 0, &budget);
    std::vector<Message> out;
    const size_t head = FramePrefixSize(Message(), ipc) + 10;
    ASSERT_TRUE(d.Feed(wire.data(), head, &out).ok());
    EXPECT_LE(d.held_bytes(), StreamDecoder::kFirstPartial);
    EXPECT_EQ(budget.held(), d.held_bytes());
    // The rest in reads of 1000 bytes: the buffer grows, the body is intact.
    for (size_t at = head; at < wire.size(); at += 1000) {
      ASSERT_TRUE(d.Feed(wire.data() + at,
                         std::min<size_t>(1000, wire.size() - at), &out)
                      .ok());
    }
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].body(), body);
    EXPECT_EQ(budget.held(), 0u);  // a finished message holds nothing
  }
}

TEST(StreamDecoderTest, DirectReadsFillTheGrowingBuffer) {
  const std::string body(300 * 1024, 'd');
  std::string wire;
  AppendFrame(Message(body), false, &wire);
  StreamDecoder d(false, 0);
  std::vector<Message> out;
  size_t at = 100;
  ASSERT_TRUE(d.Feed(wire.data(), at, &out).ok());
  while (out.empty()) {
    size_t room = 0;
    char* p = d.direct_buffer(&room);
    if (p == nullptr) {  // full: the next bytes go through Feed, which grows
      const size_t n = std::min<size_t>(4096, wire.size() - at);
      ASSERT_TRUE(d.Feed(wire.data() + at, n, &out).ok());
      at += n;
      continue;
    }
    ASSERT_LE(room, wire.size() - at);
    std::memcpy(p, wire.data() + at, room);
    at += room;
    d.CommitDirect(room, &out);
  }
  EXPECT_EQ(at, wire.size());
  EXPECT_EQ(out[0].body(), body);
}

TEST(StreamDecoderTest, BudgetRefusalFailsTheDecoderAndGivesBytesBack) {
  UnfinishedBudget budget;
  budget.set_limit(200 * 1024);
  const std::string body(size_t{1} << 20, 'x');
  std::string wire;
  AppendFrame(Message(body), false, &wire);
  StreamDecoder d(false, 0, &budget);
  std::vector<Message> out;
  absl::Status s;
  for (size_t at = 0; at < wire.size() && s.ok(); at += 4096) {
    s = d.Feed(wire.data() + at, std::min<size_t>(4096, wire.size() - at),
               &out);
  }
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  EXPECT_TRUE(d.over_budget());
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(budget.held(), 0u);
}

TEST(StreamDecoderTest, ReleaseGivesTheUnfinishedMessageBack) {
  UnfinishedBudget budget;
  StreamDecoder d(false, 0, &budget);
  std::string wire = U64(1 << 20) + std::string(5000, 'p');
  std::vector<Message> out;
  ASSERT_TRUE(d.Feed(wire.data(), wire.size(), &out).ok());
  EXPECT_GT(budget.held(), 0u);
  d.Release();
  EXPECT_EQ(budget.held(), 0u);
}

}  // namespace
}  // namespace msock::internal
