// Unit tests of the HTTP half of the WebSocket codec (transports/ws/ws_codec.h,
// ws_http.cc): accept keys, HTTP heads and the upgrade handshake checks,
// against bytes captured from NNG and nanomsg (shared/spec/vectors/ws-*).
#include <optional>
#include <string>

#include "gtest/gtest.h"
#include "transports/ws/ws_codec.h"

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

// ws-nngcat-req-rep.txt: nngcat --req dialing nngcat --rep on ws://.../sp.
// Connection c2s: the upgrade request, then one masked frame "e7c59267 ping".
const std::string kNngRequestBytes =
    Hex("474554202f737020485454502f312e310d0a486f73743a203132372e302e302e"
        "313a32353137310d0a557067726164653a20776562736f636b65740d0a436f6e"
        "6e656374696f6e3a20557067726164650d0a5365632d576562536f636b65742d"
        "4b65793a2054464f45575169776d787139334c324e41786b4433513d3d0d0a53"
        "65632d576562536f636b65742d56657273696f6e3a2031330d0a5365632d5765"
        "62536f636b65742d50726f746f636f6c3a207265702e73702e6e616e6f6d7367"
        "2e6f72670d0a0d0a8288f23a58e915ffca8e8253368e");
// Connection s2c: the 101, then one unmasked frame "e7c59267 pong".
const std::string kNngResponseBytes =
    Hex("485454502f312e312031303120537769746368696e672050726f746f636f6c73"
        "0d0a436f6e6e656374696f6e3a20557067726164650d0a557067726164653a20"
        "776562736f636b65740d0a5365632d576562536f636b65742d4163636570743a"
        "206d784d673238466a66786c53756274792b6c616251495254354a733d0d0a53"
        "65632d576562536f636b65742d50726f746f636f6c3a207265702e73702e6e61"
        "6e6f6d73672e6f72670d0a0d0a8208e7c59267706f6e67");
constexpr size_t kNngRequestHead = 200;
constexpr size_t kNngResponseHead = 173;
constexpr std::string_view kNngKey = "TFOEWQiwmxq93L2NAxkD3Q==";
constexpr std::string_view kRep = "rep.sp.nanomsg.org";

// Status::message() is an absl::string_view, not a std::string_view, here.
std::string Msg(const absl::Status& s) { return std::string(s.message()); }

HttpHead MustParseRequest(std::string_view text) {
  absl::StatusOr<std::optional<HttpHead>> r = ParseRequestHead(text);
  EXPECT_TRUE(r.ok()) << r.status();
  if (!r.ok() || !r->has_value()) {
    ADD_FAILURE() << "incomplete head";
    return HttpHead();
  }
  return **r;
}

HttpHead MustParseResponse(std::string_view text) {
  absl::StatusOr<std::optional<HttpHead>> r = ParseResponseHead(text);
  EXPECT_TRUE(r.ok()) << r.status();
  if (!r.ok() || !r->has_value()) {
    ADD_FAILURE() << "incomplete head";
    return HttpHead();
  }
  return **r;
}

// ---- SHA-1 / base64 / keys ----

TEST(AcceptKeyTest, Rfc6455Example) {
  EXPECT_EQ(AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(AcceptKeyTest, CapturedNngAndNanomsgKeys) {
  EXPECT_EQ(AcceptKey("TFOEWQiwmxq93L2NAxkD3Q=="),
            "mxMg28FjfxlSubty+labQIRT5Js=");  // ws-nngcat-req-rep
  EXPECT_EQ(AcceptKey("cxckv3CY5T8o1vdaM5ZtUg=="),
            "LauaRqO5paDckG5FPEFtMi28qHQ=");  // ws-nngcat-large-reply
  EXPECT_EQ(AcceptKey("IUwkzqBEJSJGqCwXrt59zQ=="),
            "QkcMqkqtqiTnlVZVDZ0x0ApweCA=");  // ws-nanocat-req-rep
}

TEST(AcceptKeyTest, LongInputSpansSeveralShaBlocks) {
  // 200 bytes of key + GUID crosses the 64-byte block and padding boundaries;
  // the value is SHA-1("a"*200 + GUID), base64 (computed with Python hashlib).
  EXPECT_EQ(AcceptKey(std::string(200, 'a')), "W7nwfYCuwcatB7HT3divf5cVU2A=");
}

TEST(NewClientKeyTest, Is16RandomBytesInBase64) {
  const std::string a = NewClientKey();
  const std::string b = NewClientKey();
  EXPECT_EQ(a.size(), 24u);
  EXPECT_EQ(a.substr(22), "==");
  EXPECT_NE(a, b);
  // The listener side accepts it.
  HttpHead req = MustParseRequest(UpgradeRequest("h:1", "/", a, kRep));
  absl::StatusOr<std::string> key = CheckUpgradeRequest(req, kRep);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(*key, a);
}

// ---- HTTP heads ----

TEST(ParseRequestHeadTest, CapturedNngRequest) {
  HttpHead h = MustParseRequest(kNngRequestBytes);
  EXPECT_EQ(h.method, "GET");
  EXPECT_EQ(h.target, "/sp");
  EXPECT_EQ(h.head_size, kNngRequestHead);
  ASSERT_EQ(h.headers.size(), 6u);
  EXPECT_EQ(h.headers[0].first, "host");
  EXPECT_EQ(h.headers[0].second, "127.0.0.1:25171");
  ASSERT_NE(h.Find("sec-websocket-key"), nullptr);
  EXPECT_EQ(*h.Find("sec-websocket-key"), kNngKey);
  EXPECT_EQ(*h.Find("sec-websocket-protocol"), kRep);
  EXPECT_EQ(h.Find("origin"), nullptr);
}

TEST(ParseRequestHeadTest, EveryPrefixIsIncomplete) {
  for (size_t n = 0; n < kNngRequestHead; ++n) {
    absl::StatusOr<std::optional<HttpHead>> r =
        ParseRequestHead(std::string_view(kNngRequestBytes).substr(0, n));
    ASSERT_TRUE(r.ok()) << n << ": " << r.status();
    EXPECT_FALSE(r->has_value()) << n;
  }
}

// A head read a byte at a time, parsed after each byte with one `scanned`
// offset, as WsPipe does: each call checks only the new bytes (the offset
// follows the buffer, one byte behind for a CR that awaits its LF), the
// result is the whole parse's, and a CR split from a wrong next byte is still
// refused.
TEST(ParseRequestHeadTest, HeadReadAByteAtATimeIsScannedOnce) {
  const std::string_view bytes(kNngRequestBytes);
  std::string buf;
  size_t scanned = 0;
  absl::StatusOr<std::optional<HttpHead>> r = std::nullopt;
  for (size_t n = 0; n < kNngRequestHead; ++n) {
    buf.push_back(bytes[n]);
    r = ParseRequestHead(buf, &scanned);
    ASSERT_TRUE(r.ok()) << n << ": " << r.status();
    if (r->has_value()) break;
    ASSERT_EQ(scanned, buf.size() - 1) << n;
  }
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ((*r)->head_size, kNngRequestHead);
  EXPECT_EQ((*r)->headers, MustParseRequest(kNngRequestBytes).headers);

  std::string bad = "GET / HTTP/1.1\r";
  scanned = 0;
  r = ParseRequestHead(bad, &scanned);
  ASSERT_TRUE(r.ok() && !r->has_value());
  bad.push_back('x');
  EXPECT_EQ(ParseRequestHead(bad, &scanned).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ParseRequestHeadTest, NamesLowerCasedValuesTrimmed) {
  HttpHead h = MustParseRequest(
      "GET /x?y=1 HTTP/1.1\r\nHOST:   a:1 \t\r\nX-Empty:\r\n"
      "Connection: keep-alive,  UpGrade \r\nconnection: close\r\n\r\n");
  EXPECT_EQ(h.target, "/x?y=1");
  EXPECT_EQ(*h.Find("host"), "a:1");
  EXPECT_EQ(*h.Find("x-empty"), "");
  EXPECT_TRUE(h.HasToken("connection", "upgrade"));
  EXPECT_TRUE(h.HasToken("connection", "Keep-Alive"));
  EXPECT_TRUE(h.HasToken("connection", "close"));  // second header counts
  EXPECT_FALSE(h.HasToken("connection", "upgrad"));
  EXPECT_FALSE(h.HasToken("upgrade", "websocket"));
}

TEST(ParseRequestHeadTest, BareLfIsMalformed) {
  auto r = ParseRequestHead("GET / HTTP/1.1\nHost: a\n\n");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  r = ParseRequestHead("GET / HTTP/1.1\r\nHost: a\n");  // before the end
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ParseRequestHeadTest, BareCrIsMalformed) {
  auto r = ParseRequestHead("GET / HTTP/1.1\rHost: a\r\n\r\n");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ParseRequestHeadTest, ObsFoldIsMalformed) {
  auto r = ParseRequestHead("GET / HTTP/1.1\r\nHost: a\r\n  b\r\n\r\n");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ParseRequestHeadTest, SpaceBeforeColonIsMalformed) {
  auto r = ParseRequestHead("GET / HTTP/1.1\r\nHost : a\r\n\r\n");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ParseRequestHeadTest, HeaderWithoutColonIsMalformed) {
  auto r = ParseRequestHead("GET / HTTP/1.1\r\nHost a\r\n\r\n");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ParseRequestHeadTest, BadRequestLinesAreMalformed) {
  for (const char* head :
       {"GET / HTTP/1.0\r\n\r\n", "GET /  HTTP/1.1\r\n\r\n", "GET\r\n\r\n",
        "GET /\r\n\r\n", "G(T / HTTP/1.1\r\n\r\n", " GET / HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1 \r\n\r\n", "\r\n\r\n", "GET / http/1.1\r\n\r\n"}) {
    EXPECT_EQ(ParseRequestHead(head).status().code(),
              absl::StatusCode::kInvalidArgument)
        << head;
  }
}

TEST(ParseRequestHeadTest, NonHttpBytesFailAtOnce) {
  // An SP/TCP peer's connection header and a TLS ClientHello start.
  EXPECT_FALSE(ParseRequestHead(Bytes({0x00, 'S', 'P', 0x00})).ok());
  EXPECT_FALSE(ParseRequestHead(Bytes({0x16, 0x03, 0x01})).ok());
}

TEST(ParseRequestHeadTest, OverMaxHeadSizeIsMalformed) {
  std::string head = "GET / HTTP/1.1\r\nX: " + std::string(kMaxHeadSize, 'a');
  EXPECT_EQ(ParseRequestHead(head).status().code(),
            absl::StatusCode::kInvalidArgument);
  // Exactly kMaxHeadSize bytes including the blank line is accepted.
  std::string fits = "GET / HTTP/1.1\r\nX: ";
  fits += std::string(kMaxHeadSize - fits.size() - 4, 'a') + "\r\n\r\n";
  ASSERT_EQ(fits.size(), kMaxHeadSize);
  EXPECT_EQ(MustParseRequest(fits).head_size, kMaxHeadSize);
  EXPECT_FALSE(ParseRequestHead(fits.substr(0, kMaxHeadSize - 1))->has_value());
}

TEST(ParseResponseHeadTest, CapturedNng101) {
  HttpHead h = MustParseResponse(kNngResponseBytes);
  EXPECT_EQ(h.status, 101);
  EXPECT_EQ(h.reason, "Switching Protocols");
  EXPECT_EQ(h.head_size, kNngResponseHead);
  EXPECT_TRUE(CheckUpgradeResponse(h, kNngKey, kRep).ok());
}

TEST(ParseResponseHeadTest, StatusLines) {
  EXPECT_EQ(MustParseResponse("HTTP/1.0 503 Busy Now\r\n\r\n").reason,
            "Busy Now");
  HttpHead h = MustParseResponse("HTTP/1.1 404\r\n\r\n");
  EXPECT_EQ(h.status, 404);
  EXPECT_EQ(h.reason, "");
  for (const char* bad :
       {"HTTP/1.1 40 x\r\n\r\n", "HTTP/1.1 4040 x\r\n\r\n",
        "HTTP/1.1 099 x\r\n\r\n", "HTTP/2 200 OK\r\n\r\n",
        "HTTP/1.1 2x0 OK\r\n\r\n", "GET / HTTP/1.1\r\n\r\n"}) {
    EXPECT_FALSE(ParseResponseHead(bad).ok()) << bad;
  }
}

// ---- building heads ----

TEST(UpgradeRequestTest, MatchesNngBytes) {
  EXPECT_EQ(UpgradeRequest("127.0.0.1:25171", "/sp", kNngKey, kRep),
            kNngRequestBytes.substr(0, kNngRequestHead));
  EXPECT_EQ(UpgradeRequest("h", "", kNngKey, kRep).substr(0, 16),
            "GET / HTTP/1.1\r\n");
}

TEST(UpgradeResponseTest, MatchesNngBytes) {
  EXPECT_EQ(UpgradeResponse(AcceptKey(kNngKey), kRep),
            kNngResponseBytes.substr(0, kNngResponseHead));
}

TEST(ErrorResponseTest, ParsesWithBodyLength) {
  const std::string r =
      ErrorResponse(404, "Not Found", "no msock socket listens on /foo");
  HttpHead h = MustParseResponse(r);
  EXPECT_EQ(h.status, 404);
  EXPECT_EQ(h.reason, "Not Found");
  EXPECT_TRUE(h.HasToken("connection", "close"));
  const std::string body = r.substr(h.head_size);
  EXPECT_EQ(body, "no msock socket listens on /foo\n");
  EXPECT_EQ(*h.Find("content-length"), std::to_string(body.size()));
  EXPECT_EQ(h.Find("sec-websocket-version"), nullptr);
}

TEST(ErrorResponseTest, UpgradeRequiredNamesVersion13) {
  HttpHead h = MustParseResponse(ErrorResponse(426, "Upgrade Required", "x"));
  ASSERT_NE(h.Find("sec-websocket-version"), nullptr);
  EXPECT_EQ(*h.Find("sec-websocket-version"), "13");
}

TEST(ErrorResponseTest, ReasonCannotInjectHeaders) {
  HttpHead h = MustParseResponse(ErrorResponse(400, "Bad\r\nX-Evil: 1", "x"));
  EXPECT_EQ(h.Find("x-evil"), nullptr);
}

TEST(FileResponseHeadTest, Parses) {
  const std::string r = FileResponseHead("text/html; charset=utf-8", 1234);
  HttpHead h = MustParseResponse(r);
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.head_size, r.size());
  EXPECT_EQ(*h.Find("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(*h.Find("content-length"), "1234");
}

// ---- CheckUpgradeRequest ----

// Chrome's shape: extra headers, an extension offer, Connection: Upgrade.
constexpr std::string_view kBrowserRequest =
    "GET /sp HTTP/1.1\r\n"
    "Host: 127.0.0.1:8080\r\n"
    "Connection: Upgrade\r\n"
    "Pragma: no-cache\r\n"
    "Cache-Control: no-cache\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0.0.0\r\n"
    "Upgrade: websocket\r\n"
    "Origin: http://127.0.0.1:8080\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Accept-Language: en-US,en;q=0.9\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
    "Sec-WebSocket-Protocol: rep.sp.nanomsg.org\r\n"
    "\r\n";

// Replaces the first occurrence of `from` in `s` by `to`.
std::string Edit(std::string_view s, std::string_view from,
                 std::string_view to) {
  std::string out(s);
  const size_t at = out.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) out.replace(at, from.size(), to);
  return out;
}

std::string CheckStatusPrefix(std::string_view request) {
  absl::StatusOr<std::string> r =
      CheckUpgradeRequest(MustParseRequest(request), kRep);
  if (r.ok()) return "ok";
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(Msg(r.status()).substr(0, 4));
}

TEST(CheckUpgradeRequestTest, AcceptsNngRequest) {
  absl::StatusOr<std::string> key =
      CheckUpgradeRequest(MustParseRequest(kNngRequestBytes), kRep);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(*key, kNngKey);
}

TEST(CheckUpgradeRequestTest, AcceptsBrowserRequestIgnoringExtensions) {
  absl::StatusOr<std::string> key =
      CheckUpgradeRequest(MustParseRequest(kBrowserRequest), kRep);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(*key, "dGhlIHNhbXBsZSBub25jZQ==");
  // The answer negotiates no extension.
  EXPECT_EQ(UpgradeResponse(AcceptKey(*key), kRep).find("Extensions"),
            std::string::npos);
}

TEST(CheckUpgradeRequestTest, AcceptsFirefoxConnectionList) {
  EXPECT_EQ(CheckStatusPrefix(Edit(kBrowserRequest, "Connection: Upgrade",
                                   "Connection: keep-alive, Upgrade")),
            "ok");
}

TEST(CheckUpgradeRequestTest, AcceptsTokensInAnyCase) {
  std::string r =
      Edit(kBrowserRequest, "Upgrade: websocket", "UPGRADE: WebSocket");
  r = Edit(r, "Connection: Upgrade", "connection: upgrade");
  EXPECT_EQ(CheckStatusPrefix(r), "ok");
}

TEST(CheckUpgradeRequestTest, AcceptsOurNameInAList) {
  EXPECT_EQ(CheckStatusPrefix(Edit(kBrowserRequest, "Protocol: rep.sp",
                                   "Protocol: foo, rep.sp")),
            "ok");
}

TEST(CheckUpgradeRequestTest, MissingSubprotocolIs400) {
  absl::StatusOr<std::string> r = CheckUpgradeRequest(
      MustParseRequest(Edit(kBrowserRequest,
                            "Sec-WebSocket-Protocol: rep.sp.nanomsg.org\r\n",
                            "")),
      kRep);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(Msg(r.status()).substr(0, 5), "400: ");
  EXPECT_NE(Msg(r.status()).find("subprotocol"), std::string::npos);
  EXPECT_NE(Msg(r.status()).find(kRep), std::string::npos);
}

TEST(CheckUpgradeRequestTest, WrongSubprotocolIs400NamingBoth) {
  absl::StatusOr<std::string> r = CheckUpgradeRequest(
      MustParseRequest(Edit(kBrowserRequest, "rep.sp", "req.sp")), kRep);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Msg(r.status()).substr(0, 5), "400: ");
  EXPECT_NE(Msg(r.status()).find("wrong subprotocol"), std::string::npos);
  EXPECT_NE(Msg(r.status()).find("req.sp.nanomsg.org"), std::string::npos);
  EXPECT_NE(Msg(r.status()).find(kRep), std::string::npos);
}

TEST(CheckUpgradeRequestTest, SubprotocolIsCaseSensitive) {
  EXPECT_EQ(CheckStatusPrefix(Edit(kBrowserRequest, "rep.sp", "REP.sp")),
            "400:");
}

TEST(CheckUpgradeRequestTest, WrongVersionIs426) {
  EXPECT_EQ(
      CheckStatusPrefix(Edit(kBrowserRequest, "Version: 13", "Version: 8")),
      "426:");
  EXPECT_EQ(CheckStatusPrefix(
                Edit(kBrowserRequest, "Sec-WebSocket-Version: 13\r\n", "")),
            "426:");
}

TEST(CheckUpgradeRequestTest, NotAnUpgradeIs400) {
  EXPECT_EQ(CheckStatusPrefix(Edit(kBrowserRequest, "GET", "POST")), "400:");
  EXPECT_EQ(
      CheckStatusPrefix(Edit(kBrowserRequest, "Upgrade: websocket\r\n", "")),
      "400:");
  EXPECT_EQ(CheckStatusPrefix(
                Edit(kBrowserRequest, "Upgrade: websocket", "Upgrade: h2c")),
            "400:");
  EXPECT_EQ(CheckStatusPrefix(Edit(kBrowserRequest, "Connection: Upgrade",
                                   "Connection: keep-alive")),
            "400:");
  EXPECT_EQ(
      CheckStatusPrefix(Edit(kBrowserRequest, "Host: 127.0.0.1:8080\r\n", "")),
      "400:");
}

TEST(CheckUpgradeRequestTest, BadKeyIs400) {
  const std::string_view key = "dGhlIHNhbXBsZSBub25jZQ==";
  for (std::string_view bad :
       {"", "dGhlIHNhbXBsZSBub25jZQ=", "dGhlIHNhbXBsZSBub25jZQ", "dGhl",
        "dGhlIHNhbXBsZSBub25jZ!==", "dGhlIHNhbXBsZSBub25jZSE=",
        "dGhlIHNhbXBsZSBub25jZQ==dGhl"}) {
    EXPECT_EQ(CheckStatusPrefix(Edit(kBrowserRequest, key, bad)), "400:")
        << bad;
  }
  EXPECT_EQ(CheckStatusPrefix(Edit(kBrowserRequest,
                                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ"
                                   "==\r\n",
                                   "")),
            "400:");
  // Two keys are ambiguous.
  EXPECT_EQ(CheckStatusPrefix(Edit(kBrowserRequest, "Origin:",
                                   "Sec-WebSocket-Key: "
                                   "AAAAAAAAAAAAAAAAAAAAAA==\r\nOrigin:")),
            "400:");
}

// ---- CheckUpgradeResponse ----

constexpr std::string_view kNng101 =
    "HTTP/1.1 101 Switching Protocols\r\n"
    "Connection: Upgrade\r\n"
    "Upgrade: websocket\r\n"
    "Sec-WebSocket-Accept: mxMg28FjfxlSubty+labQIRT5Js=\r\n"
    "Sec-WebSocket-Protocol: rep.sp.nanomsg.org\r\n\r\n";

absl::StatusCode ResponseCode(std::string_view response) {
  return CheckUpgradeResponse(MustParseResponse(response), kNngKey, kRep)
      .code();
}

TEST(CheckUpgradeResponseTest, AcceptsNngAndLwsStyle) {
  EXPECT_EQ(ResponseCode(kNng101), absl::StatusCode::kOk);
  // lws answers "Upgrade: WebSocket"; we compare without regard to case.
  EXPECT_EQ(ResponseCode(Edit(kNng101, "websocket", "WebSocket")),
            absl::StatusCode::kOk);
}

TEST(CheckUpgradeResponseTest, Non101IsUnavailableWithStatus) {
  absl::Status s = CheckUpgradeResponse(
      MustParseResponse(
          "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"),
      kNngKey, kRep);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(Msg(s).find("400 Bad Request"), std::string::npos);
}

TEST(CheckUpgradeResponseTest, Malformed101IsDataLoss) {
  EXPECT_EQ(ResponseCode(Edit(kNng101, "mxMg", "mxMh")),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(ResponseCode(Edit(kNng101, "Upgrade: websocket\r\n", "")),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(ResponseCode(Edit(kNng101, "Connection: Upgrade\r\n", "")),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(ResponseCode(Edit(
                kNng101, "Sec-WebSocket-Protocol: rep.sp.nanomsg.org\r\n", "")),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(ResponseCode(Edit(kNng101, "rep.sp", "req.sp")),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(ResponseCode(Edit(kNng101, "Connection:",
                              "Sec-WebSocket-Extensions: permessage-deflate\r\n"
                              "Connection:")),
            absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace msock::internal::ws
