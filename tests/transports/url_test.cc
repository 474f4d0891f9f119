// Tests of msock::ParseUrl and Url::ToString (msock/url.h): accepted forms and
// the kInvalidArgument cases.
#include "msock/url.h"

#include <string>

#include "gtest/gtest.h"

namespace msock {
namespace {

TEST(ParseUrlTest, Inproc) {
  absl::StatusOr<Url> u = ParseUrl("inproc://some-name");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->scheme, "inproc");
  EXPECT_EQ(u->path, "some-name");
}

TEST(ParseUrlTest, IpcAbsolute) {
  absl::StatusOr<Url> u = ParseUrl("ipc:///tmp/x.sock");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->scheme, "ipc");
  EXPECT_EQ(u->path, "/tmp/x.sock");
}

TEST(ParseUrlTest, IpcRelative) {
  absl::StatusOr<Url> u = ParseUrl("ipc://rel/path.sock");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->path, "rel/path.sock");
}

TEST(ParseUrlTest, TcpIpv4) {
  absl::StatusOr<Url> u = ParseUrl("tcp://127.0.0.1:5555");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->scheme, "tcp");
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 5555);
}

TEST(ParseUrlTest, TcpPortZero) {
  absl::StatusOr<Url> u = ParseUrl("tcp://127.0.0.1:0");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->port, 0);
}

TEST(ParseUrlTest, TcpMaxPort) {
  absl::StatusOr<Url> u = ParseUrl("tcp://localhost:65535");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->host, "localhost");
  EXPECT_EQ(u->port, 65535);
}

TEST(ParseUrlTest, TcpIpv6InBrackets) {
  absl::StatusOr<Url> u = ParseUrl("tcp://[::1]:5");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 5);
}

TEST(ParseUrlTest, TcpWildcardHost) {
  absl::StatusOr<Url> star = ParseUrl("tcp://*:7000");
  ASSERT_TRUE(star.ok()) << star.status();
  EXPECT_EQ(star->host, "");
  EXPECT_EQ(star->port, 7000);
  absl::StatusOr<Url> empty = ParseUrl("tcp://:7001");
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(empty->host, "");
  EXPECT_EQ(empty->port, 7001);
}

void ExpectInvalid(std::string_view url) {
  absl::StatusOr<Url> u = ParseUrl(url);
  EXPECT_EQ(u.status().code(), absl::StatusCode::kInvalidArgument)
      << "url: " << url;
  if (!u.ok()) {
    EXPECT_FALSE(u.status().message().empty()) << "url: " << url;
  }
}

TEST(ParseUrlTest, MissingSchemeIsInvalidArgument) {
  ExpectInvalid("127.0.0.1:5555");
  ExpectInvalid("://127.0.0.1:5555");
  ExpectInvalid("");
  ExpectInvalid("tcp:/127.0.0.1:5");
}

TEST(ParseUrlTest, UnknownSchemeIsInvalidArgument) {
  ExpectInvalid("udp://127.0.0.1:5555");
  ExpectInvalid("http://example.com:80");
  ExpectInvalid("TCPX://x:1");
}

TEST(ParseUrlTest, TcpWithoutPortIsInvalidArgument) {
  ExpectInvalid("tcp://127.0.0.1");
  ExpectInvalid("tcp://127.0.0.1:");
  ExpectInvalid("tcp://");
  ExpectInvalid("tcp://[::1]");
}

TEST(ParseUrlTest, BadPortIsInvalidArgument) {
  ExpectInvalid("tcp://127.0.0.1:65536");
  ExpectInvalid("tcp://127.0.0.1:99999");
  ExpectInvalid("tcp://127.0.0.1:-1");
  ExpectInvalid("tcp://127.0.0.1:http");
  ExpectInvalid("tcp://127.0.0.1:12ab");
  ExpectInvalid("tcp://127.0.0.1: 80");
  ExpectInvalid("tcp://127.0.0.1:+80");
}

TEST(ParseUrlTest, UnbracketedIpv6IsInvalidArgument) {
  ExpectInvalid("tcp://::1:5");
}

TEST(ParseUrlTest, BracketInHostIsInvalidArgument) {
  // Found by fuzz_url: these parsed, and ToString() then gave a URL that does
  // not parse.
  ExpectInvalid("tcp://[[::1]:5");
  ExpectInvalid("tcp://[[[[x]:5");
}

TEST(ParseUrlTest, EmptyIpcPathIsInvalidArgument) {
  ExpectInvalid("ipc://");
  ExpectInvalid("inproc://");
}

TEST(ParseUrlTest, WebSocketHostPortPath) {
  absl::StatusOr<Url> u = ParseUrl("ws://127.0.0.1:5555/sp/rep");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->scheme, "ws");
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 5555);
  EXPECT_EQ(u->path, "/sp/rep");
  // Defaults: path "/", port 80 (ws) or 443 (wss).
  u = ParseUrl("ws://example.org");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->port, 80);
  EXPECT_EQ(u->path, "/");
  u = ParseUrl("wss://[::1]/x");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->path, "/x");
  u = ParseUrl("ws://*:0/");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->host, "");
  ExpectInvalid("ws://127.0.0.1:99999/");
  ExpectInvalid("ws://127.0.0.1:5/a b");
  ExpectInvalid("wss://[::1/x");
}

TEST(UrlToStringTest, RoundTrips) {
  for (const char* s :
       {"tcp://127.0.0.1:5555", "tcp://[::1]:5", "ipc:///tmp/a.sock",
        "inproc://name", "ws://127.0.0.1:80/", "wss://[::1]:443/a/b"}) {
    absl::StatusOr<Url> u = ParseUrl(s);
    ASSERT_TRUE(u.ok()) << s;
    EXPECT_EQ(u->ToString(), s);
    absl::StatusOr<Url> again = ParseUrl(u->ToString());
    ASSERT_TRUE(again.ok()) << s;
    EXPECT_EQ(again->host, u->host);
    EXPECT_EQ(again->port, u->port);
    EXPECT_EQ(again->path, u->path);
  }
}

}  // namespace
}  // namespace msock
