// The ws:// transport beyond the conformance suite: several sockets sharing one
// port by path, the HTTP answers to bad upgrade requests (404 unknown path,
// 400 wrong subprotocol, all counted), the exact 101 reply NNG dialers need,
// the frame type a listener answers in, and what a connected peer's bad frames
// do (oversize, unmasked, silent handshake). The peer is a raw TCP client
// speaking HTTP and frames by hand.
#include <fstream>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "msock/msock.h"
#include "tests/support/raw_client.h"
#include "tests/support/test_support.h"
#include "transports/ws/ws_codec.h"

namespace msock {
namespace {

using test::Deadline;
using test::RawClient;
using test::RecvString;
using test::SendString;
using test::WaitUntil;
namespace ws = internal::ws;

std::string Request(const std::string& path, const std::string& protocol) {
  return "GET " + path +
         " HTTP/1.1\r\n"
         "Host: 127.0.0.1\r\n"
         "Upgrade: websocket\r\n"
         "Connection: Upgrade\r\n"
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
         "Sec-WebSocket-Version: 13\r\n"
         "Sec-WebSocket-Protocol: " +
         protocol + "\r\n\r\n";
}

// Reads an HTTP response head (up to the blank line).
std::string ReadHead(RawClient& c) {
  std::string got;
  while (got.find("\r\n\r\n") == std::string::npos) {
    if (!c.ReadExactly(got.size() + 1, Deadline(5), &got)) break;
  }
  return got;
}

std::string MaskedFrame(ws::Opcode op, const std::string& payload) {
  std::string f;
  ws::AppendFrame(&f, op, true, true, 0x12345678u, {payload});
  return f;
}

class WsTransportTest : public ::testing::Test {
 protected:
  // A pull listening on ws; returns its URL.
  std::string ListenPull(Socket& pull,
                         const std::string& url = "ws://127.0.0.1:0/pull") {
    absl::StatusOr<std::string> bound = pull.Listen(url);
    EXPECT_TRUE(bound.ok()) << bound.status();
    return bound.value_or("ws://127.0.0.1:1/failed");
  }
  // A raw client that completed the upgrade to `url` as a push peer.
  void Upgrade(RawClient& c, const std::string& url) {
    absl::StatusOr<Url> u = ParseUrl(url);
    ASSERT_TRUE(u.ok());
    ASSERT_TRUE(c.connected());
    ASSERT_TRUE(c.Write(Request(u->path, "pull.sp.nanomsg.org")));
    std::string head = ReadHead(c);
    ASSERT_EQ(head.rfind("HTTP/1.1 101", 0), 0u) << head;
  }
};

TEST_F(WsTransportTest, SocketsShareOnePortByPath) {
  Socket a(protocols::kPull), b(protocols::kPull);
  std::string url_a = ListenPull(a, "ws://127.0.0.1:0/a");
  absl::StatusOr<Url> ua = ParseUrl(url_a);
  ASSERT_TRUE(ua.ok());
  std::string url_b = "ws://127.0.0.1:" + std::to_string(ua->port) + "/b";
  absl::StatusOr<std::string> bound_b = b.Listen(url_b);
  ASSERT_TRUE(bound_b.ok()) << bound_b.status();
  EXPECT_EQ(*bound_b, url_b);
  Socket to_a(protocols::kPush), to_b(protocols::kPush);
  ASSERT_TRUE(to_a.Dial(url_a).ok());
  ASSERT_TRUE(to_b.Dial(url_b).ok());
  ASSERT_TRUE(SendString(to_a, "for a", Deadline(10)).ok());
  ASSERT_TRUE(SendString(to_b, "for b", Deadline(10)).ok());
  EXPECT_EQ(RecvString(a, Deadline(10)).value_or("?"), "for a");
  EXPECT_EQ(RecvString(b, Deadline(10)).value_or("?"), "for b");
  // A third socket on a path already served is refused.
  Socket c(protocols::kPull);
  EXPECT_EQ(c.Listen(url_b).status().code(), absl::StatusCode::kAlreadyExists);
  // When /a closes, /b keeps working on the same port.
  a.Close();
  ASSERT_TRUE(SendString(to_b, "still b", Deadline(10)).ok());
  EXPECT_EQ(RecvString(b, Deadline(10)).value_or("?"), "still b");
}

TEST_F(WsTransportTest, UpgradeReplyIsWhatNngExpects) {
  Socket pull(protocols::kPull);
  std::string url = ListenPull(pull);
  RawClient c(url);
  ASSERT_TRUE(c.Write(Request("/pull", "pull.sp.nanomsg.org")));
  std::string head = ReadHead(c);
  EXPECT_EQ(head.rfind("HTTP/1.1 101 Switching Protocols\r\n", 0), 0u) << head;
  // NNG compares the Upgrade value case-sensitively.
  EXPECT_NE(head.find("\r\nUpgrade: websocket\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
            std::string::npos)
      << head;
  EXPECT_NE(head.find("Sec-WebSocket-Protocol: pull.sp.nanomsg.org"),
            std::string::npos)
      << head;
  ASSERT_TRUE(pull.WaitForPeers(1, Deadline(10)).ok());
  // One masked binary frame = one message.
  ASSERT_TRUE(c.Write(MaskedFrame(ws::kBinary, "by hand")));
  EXPECT_EQ(RecvString(pull, Deadline(10)).value_or("?"), "by hand");
}

TEST_F(WsTransportTest, UnknownPathIs404) {
  Socket pull(protocols::kPull);
  std::string url = ListenPull(pull);
  RawClient c(url);
  ASSERT_TRUE(c.Write(Request("/nobody", "pull.sp.nanomsg.org")));
  std::string got;
  EXPECT_TRUE(c.ReadUntilClosed(Deadline(10), &got));
  EXPECT_EQ(got.rfind("HTTP/1.1 404", 0), 0u) << got;
  EXPECT_EQ(pull.pipe_count(), 0);
}

TEST_F(WsTransportTest, WrongSubprotocolIs400AndCounted) {
  Socket pull(protocols::kPull);
  std::string url = ListenPull(pull);
  RawClient c(url);
  ASSERT_TRUE(c.Write(Request("/pull", "pub.sp.nanomsg.org")));
  std::string got;
  EXPECT_TRUE(c.ReadUntilClosed(Deadline(10), &got));
  EXPECT_EQ(got.rfind("HTTP/1.1 400", 0), 0u) << got;
  EXPECT_EQ(pull.stats().rejected_protocol, 1u);
  EXPECT_EQ(pull.stats().pipes_opened, 0u);
}

TEST_F(WsTransportTest, ListenerAnswersEachPeerInItsFrameType) {
  Socket pair(protocols::kPair0);  // kWsText false: binary until told
  absl::StatusOr<std::string> url = pair.Listen("ws://127.0.0.1:0/p");
  ASSERT_TRUE(url.ok());
  RawClient c(*url);
  ASSERT_TRUE(c.Write(Request("/p", "pair.sp.nanomsg.org")));
  ASSERT_EQ(ReadHead(c).rfind("HTTP/1.1 101", 0), 0u);
  ASSERT_TRUE(pair.WaitForPeers(1, Deadline(10)).ok());
  // The first byte of the frame that carries `body` to the client.
  auto sent_as = [&](const std::string& body) {
    EXPECT_TRUE(SendString(pair, body, Deadline(10)).ok());
    std::string got;
    EXPECT_TRUE(c.ReadExactly(2 + body.size(), Deadline(10), &got));
    EXPECT_EQ(got.substr(2), body);
    return got.empty() ? 0 : static_cast<uint8_t>(got[0]);
  };
  EXPECT_EQ(sent_as("before"), 0x82);  // FIN + binary
  ASSERT_TRUE(c.Write(MaskedFrame(ws::kText, "{\"json\":1}")));
  EXPECT_EQ(RecvString(pair, Deadline(10)).value_or("?"), "{\"json\":1}");
  EXPECT_EQ(sent_as("{\"b\":2}"), 0x81);  // FIN + text
  ASSERT_TRUE(c.Write(MaskedFrame(ws::kBinary, "bin")));
  EXPECT_EQ(RecvString(pair, Deadline(10)).value_or("?"), "bin");
  EXPECT_EQ(sent_as("after"), 0x82);
  EXPECT_EQ(pair.stats().rejected_bad_frame, 0u);
}

TEST_F(WsTransportTest, OversizeMessageClosesWith1009) {
  Socket pull(protocols::kPull);
  ASSERT_TRUE(pull.Set(opt::kMaxRecvSize, size_t{1000}).ok());
  std::string url = ListenPull(pull);
  RawClient c(url);
  Upgrade(c, url);
  ASSERT_TRUE(pull.WaitForPeers(1, Deadline(10)).ok());
  ASSERT_TRUE(c.Write(MaskedFrame(ws::kBinary, std::string(1001, 'x'))));
  std::string got;
  EXPECT_TRUE(c.ReadUntilClosed(Deadline(10), &got));
  ASSERT_GE(got.size(), 4u);
  EXPECT_EQ(got.substr(2, 2), std::string("\x03\xf1", 2));
  EXPECT_TRUE(WaitUntil([&] { return pull.stats().rejected_oversize == 1; },
                        Deadline(10)));
}

TEST_F(WsTransportTest, UnmaskedClientFrameIsAProtocolError) {
  Socket pull(protocols::kPull);
  std::string url = ListenPull(pull);
  RawClient c(url);
  Upgrade(c, url);
  std::string frame;
  ws::AppendFrame(&frame, ws::kBinary, true, false, 0, {"bare"});
  ASSERT_TRUE(c.Write(frame));
  std::string got;
  EXPECT_TRUE(c.ReadUntilClosed(Deadline(10), &got));
  ASSERT_GE(got.size(), 4u);
  EXPECT_EQ(got.substr(2, 2), std::string("\x03\xea", 2));  // 1002
  EXPECT_TRUE(WaitUntil([&] { return pull.stats().rejected_bad_frame == 1; },
                        Deadline(10)));
}

TEST_F(WsTransportTest, SilentClientIsDroppedAfterTheHandshakeTimeout) {
  Socket pull(protocols::kPull);
  ASSERT_TRUE(pull.Set(opt::kHandshakeTimeout, absl::Milliseconds(200)).ok());
  std::string url = ListenPull(pull);
  RawClient c(url);
  std::string got;
  EXPECT_TRUE(c.ReadUntilClosed(Deadline(10), &got));
  EXPECT_TRUE(
      WaitUntil([&] { return pull.stats().rejected_handshake_timeout == 1; },
                Deadline(10)));
}

TEST_F(WsTransportTest, PingIsAnsweredWithPong) {
  Socket pull(protocols::kPull);
  std::string url = ListenPull(pull);
  RawClient c(url);
  Upgrade(c, url);
  ASSERT_TRUE(c.Write(MaskedFrame(ws::kPing, "are you there")));
  std::string got;
  ASSERT_TRUE(c.ReadExactly(2 + 13, Deadline(10), &got));
  EXPECT_EQ(static_cast<uint8_t>(got[0]), 0x8A);  // FIN + pong
  EXPECT_EQ(got.substr(2), "are you there");
}

TEST_F(WsTransportTest, DialingAnUnknownPathFailsAndRetries) {
  Socket pull(protocols::kPull);
  std::string url = ListenPull(pull);
  absl::StatusOr<Url> u = ParseUrl(url);
  ASSERT_TRUE(u.ok());
  Socket push(protocols::kPush);
  ASSERT_TRUE(push.Set(opt::kReconnectMin, absl::Milliseconds(20)).ok());
  ASSERT_TRUE(
      push.Dial("ws://127.0.0.1:" + std::to_string(u->port) + "/wrong").ok());
  EXPECT_EQ(push.WaitForPeers(1, absl::Now() + absl::Milliseconds(300)).code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(pull.pipe_count(), 0);
}

TEST_F(WsTransportTest, TextOptionAcceptsAndSendsTextFrames) {
  Socket pair(protocols::kPair0);
  ASSERT_TRUE(pair.Set(opt::kWsText, true).ok());
  EXPECT_TRUE(pair.Get(opt::kWsText));
  absl::StatusOr<std::string> url = pair.Listen("ws://127.0.0.1:0/p");
  ASSERT_TRUE(url.ok());
  RawClient c(*url);
  ASSERT_TRUE(c.Write(Request("/p", "pair.sp.nanomsg.org")));
  ASSERT_EQ(ReadHead(c).rfind("HTTP/1.1 101", 0), 0u);
  ASSERT_TRUE(pair.WaitForPeers(1, Deadline(10)).ok());
  ASSERT_TRUE(c.Write(MaskedFrame(ws::kText, "{\"a\":1}")));
  EXPECT_EQ(RecvString(pair, Deadline(10)).value_or("?"), "{\"a\":1}");
  ASSERT_TRUE(SendString(pair, "{\"b\":2}", Deadline(10)).ok());
  std::string got;
  ASSERT_TRUE(c.ReadExactly(2 + 7, Deadline(10), &got));
  EXPECT_EQ(static_cast<uint8_t>(got[0]), 0x81);  // FIN + text
  EXPECT_EQ(got.substr(2), "{\"b\":2}");
}

TEST_F(WsTransportTest, PingsAndHangsUpOnASilentPeer) {
  Socket pull(protocols::kPull);
  ASSERT_TRUE(pull.Set(opt::kWsPingInterval, absl::Milliseconds(50)).ok());
  std::string url = ListenPull(pull);
  RawClient c(url);
  Upgrade(c, url);
  std::string got;
  ASSERT_TRUE(c.ReadExactly(2, Deadline(10), &got));
  EXPECT_EQ(static_cast<uint8_t>(got[0]), 0x89);  // FIN + ping
  // We never answer: after three silent intervals the listener hangs up.
  EXPECT_TRUE(c.ReadUntilClosed(Deadline(10), &got));
  EXPECT_TRUE(WaitUntil([&] { return pull.pipe_count() == 0; }, Deadline(10)));
}

TEST_F(WsTransportTest, StaticFilesServedBesideSockets) {
  test::ScratchDir dir;
  {
    std::ofstream f(dir.path() + "/index.html");
    f << "<p>hello</p>";
  }
  {
    std::ofstream f(dir.path() + "/app.js");
    f << "export const x = 1;";
  }
  Socket pull(protocols::kPull);
  std::string url = ListenPull(pull);
  absl::StatusOr<Url> u = ParseUrl(url);
  ASSERT_TRUE(u.ok());
  const std::string base = "ws://127.0.0.1:" + std::to_string(u->port);
  absl::StatusOr<std::unique_ptr<StaticFiles>> files =
      StaticFiles::Serve(base + "/www", dir.path());
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_EQ((*files)->url(),
            "http://127.0.0.1:" + std::to_string(u->port) + "/www/");
  auto get = [&](const std::string& path) {
    RawClient c(url);
    c.Write("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    std::string got;
    c.ReadUntilClosed(Deadline(10), &got);
    return got;
  };
  std::string index = get("/www/");
  EXPECT_EQ(index.rfind("HTTP/1.1 200", 0), 0u) << index;
  EXPECT_NE(index.find("text/html"), std::string::npos) << index;
  EXPECT_NE(index.find("<p>hello</p>"), std::string::npos) << index;
  std::string js = get("/www/app.js");
  EXPECT_NE(js.find("text/javascript"), std::string::npos) << js;
  EXPECT_EQ(get("/www/missing.html").rfind("HTTP/1.1 404", 0), 0u);
  EXPECT_NE(get("/www/../etc/passwd").rfind("HTTP/1.1 200", 0), 0u);
  EXPECT_NE(get("/www/%2e%2e/x").rfind("HTTP/1.1 200", 0), 0u);
  // The socket on the same port still works, and the path is taken.
  EXPECT_EQ(StaticFiles::Serve(base + "/www", dir.path()).status().code(),
            absl::StatusCode::kAlreadyExists);
  Socket push(protocols::kPush);
  ASSERT_TRUE(push.Dial(url).ok());
  ASSERT_TRUE(SendString(push, "after files", Deadline(10)).ok());
  EXPECT_EQ(RecvString(pull, Deadline(10)).value_or("?"), "after files");
  files->reset();
  EXPECT_EQ(get("/www/").rfind("HTTP/1.1 404", 0), 0u);
}

TEST_F(WsTransportTest, DialsAndListensByHostName) {
  Socket pull(protocols::kPull);
  absl::StatusOr<std::string> url = pull.Listen("ws://localhost:0/named");
  ASSERT_TRUE(url.ok()) << url.status();
  absl::StatusOr<Url> u = ParseUrl(*url);
  ASSERT_TRUE(u.ok());
  EXPECT_TRUE(u->host == "127.0.0.1" || u->host == "::1")
      << u->host << ": resolved before binding";
  Socket push(protocols::kPush);
  // Resolved on libuv's thread pool, then dialed by address.
  ASSERT_TRUE(
      push.Dial("ws://localhost:" + std::to_string(u->port) + "/named").ok());
  ASSERT_TRUE(SendString(push, "by name", Deadline(10)).ok());
  EXPECT_EQ(RecvString(pull, Deadline(10)).value_or("?"), "by name");
  // A name that does not resolve fails the attempt and the dialer retries;
  // closing the socket meanwhile is clean.
  Socket lost(protocols::kPush);
  ASSERT_TRUE(lost.Dial("ws://no-such-host.invalid:1/x").ok());
  lost.Close();
}

TEST(WsContextTest, PrivateContextTearsDownItsWebSocketState) {
  // A Context with ws sockets, destroyed: libwebsockets' context must be torn
  // down on the loop (two destroys with the loop running in between) and every
  // handle closed, or the destructor hangs and LeakSanitizer reports it.
  for (int round = 0; round < 3; ++round) {
    Context ctx;
    Socket pull(protocols::kPull, ctx);
    absl::StatusOr<std::string> url = pull.Listen("ws://127.0.0.1:0/t");
    ASSERT_TRUE(url.ok()) << url.status();
    Socket push(protocols::kPush, ctx);
    ASSERT_TRUE(push.Dial(*url).ok());
    ASSERT_TRUE(SendString(push, "bye", Deadline(10)).ok());
    EXPECT_EQ(RecvString(pull, Deadline(10)).value_or("?"), "bye");
    push.Close();
    pull.Close();
  }
}

}  // namespace
}  // namespace msock
