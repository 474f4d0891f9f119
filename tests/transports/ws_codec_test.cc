// Unit tests of the frame half of the WebSocket codec
// (transports/ws/ws_codec.h, ws_codec.cc): frame encoding, AppendMessage and
// the resumable FrameDecoder, including frames captured from NNG
// (shared/spec/vectors/ws-*).
#include "transports/ws/ws_codec.h"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "msock/message.h"

namespace msock::internal::ws {
namespace {

std::string Hex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(
        std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

std::string Bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s.push_back(static_cast<char>(c));
  return s;
}

// ws-nngcat-req-rep.txt: the frames after the handshake. The dialer's request
// "e7c59267 ping", masked with key f23a58e9, and the listener's unmasked reply
// "e7c59267 pong".
const std::string kNngRequestFrame = Hex("8288f23a58e915ffca8e8253368e");
const std::string kNngReplyFrame = Hex("8208e7c59267706f6e67");

struct Collected {
  std::vector<std::string> messages;
  std::vector<bool> text;
  std::vector<std::string> pings, pongs;
  std::vector<std::pair<uint16_t, std::string>> closes;
  FrameDecoder::Events events() {
    FrameDecoder::Events e;
    e.message = [this](Message m, bool t) {
      messages.emplace_back(m.body());
      text.push_back(t);
    };
    e.ping = [this](std::string_view p) { pings.emplace_back(p); };
    e.pong = [this](std::string_view p) { pongs.emplace_back(p); };
    e.close = [this](uint16_t c, std::string_view r) {
      closes.emplace_back(c, std::string(r));
    };
    return e;
  }
};

FrameDecoder::Options Listener(size_t max = 0, bool text = false) {
  return FrameDecoder::Options{true, max, text};
}
FrameDecoder::Options Dialer(size_t max = 0, bool text = false) {
  return FrameDecoder::Options{false, max, text};
}

std::string Frame(Opcode op, bool fin, bool masked, std::string_view payload,
                  uint32_t mask = 0x11223344) {
  std::string out;
  AppendFrame(&out, op, fin, masked, mask, {payload});
  return out;
}

TEST(AppendFrameTest, LengthForms) {
  EXPECT_EQ(Frame(kBinary, true, false, ""), Bytes({0x82, 0x00}));
  EXPECT_EQ(Frame(kBinary, true, false, std::string(125, 'x')).substr(0, 2),
            Bytes({0x82, 125}));
  EXPECT_EQ(Frame(kBinary, false, false, std::string(126, 'x')).substr(0, 4),
            Bytes({0x02, 126, 0x00, 126}));
  EXPECT_EQ(Frame(kBinary, true, false, std::string(65535, 'x')).substr(0, 4),
            Bytes({0x82, 126, 0xff, 0xff}));
  EXPECT_EQ(
      Frame(kContinuation, true, false, std::string(65536, 'x')).substr(0, 10),
      Bytes({0x80, 127, 0, 0, 0, 0, 0, 1, 0, 0}));
  EXPECT_EQ(Frame(kPing, true, true, "", 0xa1b2c3d4),
            Bytes({0x89, 0x80, 0xa1, 0xb2, 0xc3, 0xd4}));
}

TEST(AppendFrameTest, MatchesCapturedNngMaskedFrame) {
  // ws-nngcat-req-rep c2s frame 1: key f2 3a 58 e9.
  std::string out;
  AppendFrame(&out, kBinary, true, true, 0xf23a58e9, {Hex("e7c59267"), "ping"});
  EXPECT_EQ(out, kNngRequestFrame);
}

TEST(AppendMessageTest, HeaderWordsFirstThenBody) {
  Message m("ping");
  m.header().push_back(0xe7c59267);
  std::string out;
  AppendMessage(&out, m, false, 0, false, nullptr);
  EXPECT_EQ(out, kNngReplyFrame.substr(0, 2) + Hex("e7c59267") + "ping");
}

TEST(AppendMessageTest, EmptyMessageIsOneEmptyFrame) {
  std::string out;
  AppendMessage(&out, Message(), false, 100, false, nullptr);
  EXPECT_EQ(out, Bytes({0x82, 0x00}));
}

TEST(AppendMessageTest, SplitsAtMaxFrame) {
  Message m(std::string(10, 'b'));
  m.header().push_back(0x80000001);
  std::string out;
  uint32_t next = 1;
  AppendMessage(&out, m, true, 5, true, [&] { return next++; });
  // 14 bytes in frames of 5, 5, 4: text, cont, cont+FIN, each masked.
  ASSERT_EQ(out.size(), 3 * 6 + 14u);
  EXPECT_EQ(out.substr(0, 6), Bytes({0x01, 0x85, 0, 0, 0, 1}));
  EXPECT_EQ(out.substr(11, 6), Bytes({0x00, 0x85, 0, 0, 0, 2}));
  EXPECT_EQ(out.substr(22, 6), Bytes({0x80, 0x84, 0, 0, 0, 3}));
}

TEST(ClosePayloadTest, CodeThenReason) {
  EXPECT_EQ(ClosePayload(1000, ""), Bytes({0x03, 0xe8}));
  EXPECT_EQ(ClosePayload(1009, "big"), Bytes({0x03, 0xf1, 'b', 'i', 'g'}));
}

TEST(ClosePayloadTest, LongReasonCutOnCharacterBoundary) {
  std::string reason(122, 'a');
  reason += "\xc3\xa9\xc3\xa9";  // two 2-byte characters
  const std::string p = ClosePayload(1000, reason);
  EXPECT_EQ(p.size(), 2 + 122u);  // the first é would end at byte 124 > 123
  const std::string fits =
      ClosePayload(1000, std::string(121, 'a') + "\xc3\xa9");
  EXPECT_EQ(fits.size(), 125u);
}

enum class Split { kWhole, kBytes, kRandom };

// Feeds `bytes` in the given way, returning the first error.
absl::Status FeedAll(FrameDecoder& d, std::string_view bytes, Split how,
                     Collected& c, uint32_t seed = 1) {
  FrameDecoder::Events e = c.events();
  if (how == Split::kWhole) return d.Feed(bytes, e);
  std::mt19937 rng(seed);
  while (!bytes.empty()) {
    size_t n = 1;
    if (how == Split::kRandom) {
      n = std::uniform_int_distribution<size_t>(0, 3000)(rng);
      n = std::min(n, bytes.size());
    }
    absl::Status s = d.Feed(bytes.substr(0, n), e);
    if (!s.ok()) return s;
    bytes.remove_prefix(n);
  }
  return absl::OkStatus();
}

TEST(FrameDecoderTest, RoundTripsSizesMasksSplits) {
  std::mt19937 rng(42);
  for (size_t size : {0, 1, 125, 126, 65535, 65536, (1 << 20) + 3}) {
    std::string body(size, '\0');
    for (char& ch : body) ch = static_cast<char>(rng());
    for (bool masked : {false, true}) {
      for (size_t max_frame : {size_t{0}, size_t{1000}, size_t{65536}}) {
        Message m(body);
        m.header().push_back(0x80000007);
        std::string wire;
        uint32_t k = 0x9e3779b9;
        AppendMessage(&wire, m, false, max_frame, masked,
                      [&] { return k += 0x9e3779b9; });
        wire += Frame(kPing, true, masked, "p");  // something after it
        for (Split how : {Split::kWhole, Split::kBytes, Split::kRandom}) {
          SCOPED_TRACE(testing::Message()
                       << "size " << size << " masked " << masked
                       << " max_frame " << max_frame << " split "
                       << static_cast<int>(how));
          FrameDecoder d(masked ? Listener() : Dialer());
          Collected c;
          ASSERT_TRUE(FeedAll(d, wire, how, c).ok());
          ASSERT_EQ(c.messages.size(), 1u);
          EXPECT_EQ(c.messages[0].size(), size + 4);
          EXPECT_EQ(c.messages[0].substr(0, 4), Hex("80000007"));
          EXPECT_TRUE(c.messages[0].substr(4) == body);
          EXPECT_FALSE(c.text[0]);
          EXPECT_EQ(c.pings, std::vector<std::string>{"p"});
        }
      }
    }
  }
}

TEST(FrameDecoderTest, CapturedNngFrames) {
  FrameDecoder listener(Listener());
  Collected c;
  ASSERT_TRUE(FeedAll(listener, kNngRequestFrame, Split::kBytes, c).ok());
  ASSERT_EQ(c.messages.size(), 1u);
  EXPECT_EQ(c.messages[0], Hex("e7c59267") + "ping");

  FrameDecoder dialer(Dialer());
  Collected r;
  ASSERT_TRUE(FeedAll(dialer, kNngReplyFrame, Split::kWhole, r).ok());
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0], Hex("e7c59267") + "pong");
}

TEST(FrameDecoderTest, CapturedNngListenerFragmentation) {
  // ws-nngcat-large-reply s2c: a 100004-byte reply as 65536 + 34468 (captured
  // headers; payload = the 4-byte backtrace then 100000 'a').
  std::string payload = Hex("af4d0fd7") + std::string(100000, 'a');
  std::string wire = Hex("027f0000000000010000") + payload.substr(0, 65536) +
                     Hex("807e86a4") + payload.substr(65536);
  for (Split how : {Split::kWhole, Split::kRandom}) {
    FrameDecoder d(Dialer());
    Collected c;
    ASSERT_TRUE(FeedAll(d, wire, how, c).ok());
    ASSERT_EQ(c.messages.size(), 1u);
    EXPECT_TRUE(c.messages[0] == payload);
  }
}

TEST(FrameDecoderTest, CapturedNngDialer64BitLength) {
  // ws-nngcat-large-msg c2s: one masked frame with the 64-bit length form.
  std::string payload = Hex("81426493") + std::string(100000, 'a');
  std::string wire = Hex("82ff00000000000186a457ed43df") + payload;
  const uint8_t key[4] = {0x57, 0xed, 0x43, 0xdf};
  for (size_t i = 0; i < payload.size(); ++i) wire[14 + i] ^= key[i % 4];
  FrameDecoder d(Listener(100004));
  Collected c;
  ASSERT_TRUE(FeedAll(d, wire, Split::kRandom, c).ok());
  ASSERT_EQ(c.messages.size(), 1u);
  EXPECT_TRUE(c.messages[0] == payload);
}

TEST(FrameDecoderTest, ControlFramesInsideFragmentedMessage) {
  std::string wire =
      Frame(kBinary, false, true, "ab") + Frame(kPing, true, true, "x") +
      Frame(kContinuation, false, true, "") + Frame(kPong, true, true, "y") +
      Frame(kContinuation, true, true, "cd");
  FrameDecoder d(Listener());
  Collected c;
  ASSERT_TRUE(FeedAll(d, wire, Split::kBytes, c).ok());
  EXPECT_EQ(c.messages, std::vector<std::string>{"abcd"});
  EXPECT_EQ(c.pings, std::vector<std::string>{"x"});
  EXPECT_EQ(c.pongs, std::vector<std::string>{"y"});
}

TEST(FrameDecoderTest, NullCallbacksAreIgnored) {
  FrameDecoder d(Dialer());
  const std::string wire = Frame(kPing, true, false, "x") +
                           Frame(kBinary, true, false, "m") +
                           Frame(kClose, true, false, ClosePayload(1000, ""));
  EXPECT_TRUE(d.Feed(wire, FrameDecoder::Events()).ok());
}

TEST(FrameDecoderTest, CloseReportsCodeAndReasonThenIgnoresInput) {
  FrameDecoder d(Dialer());
  Collected c;
  std::string wire = Frame(kClose, true, false, ClosePayload(1001, "bye")) +
                     Frame(kBinary, true, false, "late");
  ASSERT_TRUE(FeedAll(d, wire, Split::kBytes, c).ok());
  ASSERT_EQ(c.closes.size(), 1u);
  EXPECT_EQ(c.closes[0].first, 1001);
  EXPECT_EQ(c.closes[0].second, "bye");
  EXPECT_TRUE(d.Feed("\xff\xff garbage", c.events()).ok());
  EXPECT_TRUE(c.messages.empty());
  EXPECT_EQ(d.close_code(), 0);
}

TEST(FrameDecoderTest, EmptyCloseIs1005) {
  FrameDecoder d(Listener());
  Collected c;
  ASSERT_TRUE(d.Feed(Frame(kClose, true, true, ""), c.events()).ok());
  ASSERT_EQ(c.closes.size(), 1u);
  EXPECT_EQ(c.closes[0].first, 1005);
}

TEST(FrameDecoderTest, TextWhenAllowedAndValid) {
  FrameDecoder d(Dialer(0, true));
  Collected c;
  // "é" split across two fragments is fine: UTF-8 is checked on the message.
  std::string wire = Frame(kText, false, false, "h\xc3") +
                     Frame(kContinuation, true, false, "\xa9");
  ASSERT_TRUE(FeedAll(d, wire, Split::kBytes, c).ok());
  EXPECT_EQ(c.messages, std::vector<std::string>{"h\xc3\xa9"});
  EXPECT_TRUE(c.text[0]);
}

TEST(FrameDecoderTest, MaxMessageExactlyIsAccepted) {
  FrameDecoder d(Dialer(4));
  Collected c;
  std::string wire = Frame(kBinary, false, false, "ab") +
                     Frame(kContinuation, true, false, "cd");
  ASSERT_TRUE(FeedAll(d, wire, Split::kWhole, c).ok());
  EXPECT_EQ(c.messages.size(), 1u);
}

TEST(FrameDecoderTest, NonMinimalLengthIsAccepted) {
  FrameDecoder d(Dialer());
  Collected c;
  ASSERT_TRUE(d.Feed(Bytes({0x82, 126, 0, 2, 'h', 'i'}), c.events()).ok());
  EXPECT_EQ(c.messages, std::vector<std::string>{"hi"});
}

// Each violation: bytes that break a rule, the decoder's options, the close
// code expected.
struct Violation {
  const char* name;
  std::string bytes;
  FrameDecoder::Options options;
  uint16_t code;
  size_t good_messages = 0;  // delivered before the violation
};

std::vector<Violation> Violations() {
  std::vector<Violation> v;
  auto data = [](uint8_t b0, std::string_view payload) {
    std::string f = Frame(kBinary, true, false, payload);
    f[0] = static_cast<char>(b0);
    return f;
  };
  v.push_back({"rsv1", data(0xc2, "x"), Dialer(), kCloseProtocolError});
  v.push_back({"rsv2", data(0xa2, "x"), Dialer(), kCloseProtocolError});
  v.push_back({"rsv3", data(0x92, "x"), Dialer(), kCloseProtocolError});
  v.push_back({"opcode 3", data(0x83, "x"), Dialer(), kCloseProtocolError});
  v.push_back({"opcode 7", data(0x87, "x"), Dialer(), kCloseProtocolError});
  v.push_back({"opcode b", data(0x8b, ""), Dialer(), kCloseProtocolError});
  v.push_back({"opcode f", data(0x8f, ""), Dialer(), kCloseProtocolError});
  v.push_back({"fragmented ping", Frame(kPing, false, false, "x"), Dialer(),
               kCloseProtocolError});
  v.push_back({"ping of 126", Frame(kPing, true, false, std::string(126, 'x')),
               Dialer(), kCloseProtocolError});
  v.push_back({"close of 126",
               Frame(kClose, true, false, std::string(126, 'x')), Dialer(),
               kCloseProtocolError});
  v.push_back({"unmasked to listener", Frame(kBinary, true, false, "x"),
               Listener(), kCloseProtocolError});
  v.push_back({"masked to dialer", Frame(kBinary, true, true, "x"), Dialer(),
               kCloseProtocolError});
  v.push_back({"continuation first", Frame(kContinuation, true, false, "x"),
               Dialer(), kCloseProtocolError});
  v.push_back({"continuation after whole message",
               Frame(kBinary, true, false, "x") +
                   Frame(kContinuation, true, false, "x"),
               Dialer(), kCloseProtocolError, 1});
  v.push_back(
      {"binary inside message",
       Frame(kBinary, false, false, "x") + Frame(kBinary, true, false, "x"),
       Dialer(), kCloseProtocolError});
  v.push_back(
      {"text inside message",
       Frame(kBinary, false, false, "x") + Frame(kText, true, false, "x"),
       Dialer(0, true), kCloseProtocolError});
  v.push_back({"64-bit length top bit",
               Bytes({0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 1}), Dialer(),
               kCloseProtocolError});
  // Only the header: the limit is checked before any payload arrives.
  v.push_back({"frame over max_message", Bytes({0x82, 126, 0x01, 0x00}),
               Dialer(255), kCloseTooBig});
  v.push_back({"64-bit frame over max_message",
               Bytes({0x82, 127, 0, 0, 0, 1, 0, 0, 0, 0}), Dialer(1 << 20),
               kCloseTooBig});
  v.push_back({"fragments over max_message",
               Frame(kBinary, false, false, "abc") +
                   Frame(kContinuation, false, false, "de").substr(0, 2),
               Dialer(4), kCloseTooBig});
  v.push_back({"text not allowed", Frame(kText, true, false, "hi").substr(0, 2),
               Dialer(), kCloseUnsupportedData});
  v.push_back({"text not allowed (listener)", Frame(kText, true, true, "hi"),
               Listener(), kCloseUnsupportedData});
  v.push_back({"text bad utf-8", Frame(kText, true, false, "\xc3\x28"),
               Dialer(0, true), kCloseInvalidPayload});
  v.push_back({"text surrogate", Frame(kText, true, false, "\xed\xa0\x80"),
               Dialer(0, true), kCloseInvalidPayload});
  v.push_back({"text overlong", Frame(kText, true, false, "\xc0\xaf"),
               Dialer(0, true), kCloseInvalidPayload});
  v.push_back({"text over U+10FFFF",
               Frame(kText, true, false, "\xf4\x90\x80\x80"), Dialer(0, true),
               kCloseInvalidPayload});
  v.push_back({"text truncated",
               Frame(kText, false, false, "\xe2\x82") +
                   Frame(kContinuation, true, false, ""),
               Dialer(0, true), kCloseInvalidPayload});
  v.push_back({"close 1-byte payload", Frame(kClose, true, false, "\x03"),
               Dialer(), kCloseProtocolError});
  for (uint16_t code :
       {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535}) {
    v.push_back({"close with invalid code",
                 Frame(kClose, true, false, ClosePayload(code, "")), Dialer(),
                 kCloseProtocolError});
  }
  v.push_back({"close reason bad utf-8",
               Frame(kClose, true, false, ClosePayload(1000, "\xff")), Dialer(),
               kCloseInvalidPayload});
  return v;
}

TEST(FrameDecoderTest, ViolationsGiveErrorAndCloseCode) {
  for (const Violation& v : Violations()) {
    for (Split how : {Split::kWhole, Split::kBytes}) {
      SCOPED_TRACE(testing::Message()
                   << v.name << " split " << static_cast<int>(how));
      FrameDecoder d(v.options);
      Collected c;
      absl::Status s = FeedAll(d, v.bytes, how, c);
      ASSERT_FALSE(s.ok());
      EXPECT_EQ(d.close_code(), v.code);
      EXPECT_EQ(s.code(), v.code == kCloseTooBig
                              ? absl::StatusCode::kResourceExhausted
                              : absl::StatusCode::kDataLoss);
      EXPECT_EQ(c.messages.size(), v.good_messages);
      EXPECT_TRUE(c.closes.empty());
      // The decoder stays failed.
      EXPECT_EQ(d.Feed(Frame(kBinary, true, v.options.expect_masked, "ok"),
                       c.events()),
                s);
      EXPECT_EQ(c.messages.size(), v.good_messages);
    }
  }
}

TEST(FrameDecoderTest, ValidCloseCodesAreAccepted) {
  for (uint16_t code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011,
                        1012, 1013, 1014, 3000, 4999}) {
    FrameDecoder d(Dialer());
    Collected c;
    ASSERT_TRUE(
        d.Feed(Frame(kClose, true, false, ClosePayload(code, "r")), c.events())
            .ok())
        << code;
    ASSERT_EQ(c.closes.size(), 1u);
    EXPECT_EQ(c.closes[0].first, code);
  }
}

TEST(FrameDecoderTest, FrameHeaderAloneReservesLittle) {
  UnfinishedBudget budget;
  FrameDecoder::Options o = Listener();
  o.budget = &budget;
  FrameDecoder d(o);
  Collected c;
  std::string f = Frame(kBinary, true, true, std::string(1 << 20, 'h'));
  ASSERT_TRUE(d.Feed(std::string_view(f).substr(0, 20), c.events()).ok());
  EXPECT_TRUE(d.mid_message());
  EXPECT_LE(budget.held(), FrameDecoder::kFirstPartial + 64);
  ASSERT_TRUE(
      FeedAll(d, std::string_view(f).substr(20), Split::kRandom, c).ok());
  ASSERT_EQ(c.messages.size(), 1u);
  EXPECT_EQ(c.messages[0], std::string(1 << 20, 'h'));
  EXPECT_EQ(budget.held(), 0u);
  EXPECT_FALSE(d.mid_message());
}

TEST(FrameDecoderTest, FragmentsOverTheBudgetClose1013AndGiveBack) {
  UnfinishedBudget budget;
  budget.set_limit(256 * 1024);
  FrameDecoder::Options o = Listener();
  o.budget = &budget;
  FrameDecoder d(o);
  Collected c;
  std::string wire = Frame(kBinary, false, true, std::string(65536, 'f'));
  for (int i = 0; i < 4; ++i) {
    wire += Frame(kContinuation, false, true, std::string(65536, 'f'));
  }
  absl::Status s = FeedAll(d, wire, Split::kRandom, c);
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(d.over_budget());
  EXPECT_EQ(d.close_code(), kCloseTryAgainLater);
  EXPECT_EQ(budget.held(), 0u);
  EXPECT_TRUE(c.messages.empty());
}

TEST(FrameDecoderTest, ControlFramesAreNotDataProgress) {
  FrameDecoder d(Listener());
  Collected c;
  ASSERT_TRUE(d.Feed(Frame(kBinary, false, true, "part"), c.events()).ok());
  const uint64_t before = d.data_bytes();
  ASSERT_TRUE(d.Feed(Frame(kPing, true, true, "p"), c.events()).ok());
  EXPECT_EQ(d.data_bytes(), before);
  EXPECT_TRUE(d.mid_message());
  ASSERT_TRUE(d.Feed(Frame(kContinuation, true, true, "!"), c.events()).ok());
  EXPECT_GT(d.data_bytes(), before);
  EXPECT_FALSE(d.mid_message());
}

}  // namespace
}  // namespace msock::internal::ws
