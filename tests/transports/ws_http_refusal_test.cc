// Every HTTP request a ws port refuses is answered, closed and counted in
// stats().rejected_http (400 malformed or not HTTP at all, 404, 426, and the
// file server's 404), heads over ws::kMaxHeadSize are refused as soon as that
// much arrived (bounded buffering), and the port keeps serving proper
// clients. The peer is a raw TCP client.
#include <fstream>
#include <memory>
#include <string>
#include <vector>

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

std::string Upgrade(const std::string& path, const std::string& version,
                    const std::string& protocol) {
  return "GET " + path +
         " HTTP/1.1\r\n"
         "Host: 127.0.0.1\r\n"
         "Upgrade: websocket\r\n"
         "Connection: Upgrade\r\n"
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
         "Sec-WebSocket-Version: " +
         version +
         "\r\n"
         "Sec-WebSocket-Protocol: " +
         protocol + "\r\n\r\n";
}

struct BadRequest {
  const char* name;
  std::string bytes;
  const char* status;  // "HTTP/1.1 400"
};

std::vector<BadRequest> BadRequests() {
  std::string hello("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", 11);
  hello.append(32, '\x5a');  // the rest of a TLS ClientHello start
  std::string many = "GET /pull HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (int i = 0; i < 10000; ++i) many += "X-" + std::to_string(i) + ": a\r\n";
  std::string huge = "GET /pull HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ";
  huge.append(size_t{1} << 20, 'a');
  return {
      {"http10", "GET /pull HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n",
       "HTTP/1.1 400"},
      {"bare_lf", "GET /pull HTTP/1.1\nHost: 127.0.0.1\n\n", "HTTP/1.1 400"},
      {"binary", std::string("\x00\x01\x02\xff\xfe garbage", 13),
       "HTTP/1.1 400"},
      {"tls_client_hello", hello, "HTTP/1.1 400"},
      {"not_an_upgrade", "GET /pull HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
       "HTTP/1.1 400"},
      {"unknown_path", Upgrade("/nobody", "13", "pull.sp.nanomsg.org"),
       "HTTP/1.1 404"},
      {"wrong_version", Upgrade("/pull", "8", "pull.sp.nanomsg.org"),
       "HTTP/1.1 426"},
      {"wrong_subprotocol", Upgrade("/pull", "13", "pub.sp.nanomsg.org"),
       "HTTP/1.1 400"},
      // Only the first 9000 bytes are sent: a listener that buffered the
      // whole head before refusing would wait for the rest.
      {"ten_thousand_headers", many.substr(0, 9000), "HTTP/1.1 400"},
      {"one_mib_header", huge.substr(0, 9000), "HTTP/1.1 400"},
  };
}

TEST(WsHttpRefusalTest, EachBadRequestIsAnsweredClosedAndCounted) {
  Socket pull(protocols::kPull);
  absl::StatusOr<std::string> url = pull.Listen("ws://127.0.0.1:0/pull");
  ASSERT_TRUE(url.ok()) << url.status();
  uint64_t counted = 0;
  for (const BadRequest& bad : BadRequests()) {
    SCOPED_TRACE(bad.name);
    RawClient c(*url);
    ASSERT_TRUE(c.Write(bad.bytes));
    std::string got;
    EXPECT_TRUE(c.ReadUntilClosed(Deadline(10), &got));
    EXPECT_EQ(got.rfind(bad.status, 0), 0u) << got.substr(0, 200);
    ++counted;
    EXPECT_TRUE(WaitUntil([&] { return pull.stats().rejected_http == counted; },
                          Deadline(10)))
        << pull.stats().rejected_http << " counted, " << counted << " sent";
  }
  EXPECT_EQ(pull.stats().rejected_protocol, 1u);  // wrong_subprotocol
  EXPECT_EQ(pull.stats().rejected_bad_frame, 0u);
  EXPECT_EQ(pull.stats().pipes_opened, 0u);
  // A proper client still gets through.
  Socket push(protocols::kPush);
  ASSERT_TRUE(push.Dial(*url).ok());
  ASSERT_TRUE(SendString(push, "after", Deadline(10)).ok());
  EXPECT_EQ(RecvString(pull, Deadline(10)).value_or("?"), "after");
  EXPECT_EQ(pull.stats().rejected_http, counted);
}

TEST(WsHttpRefusalTest, FileServerErrorsAreCountedButFilesAreNot) {
  test::ScratchDir dir;
  {
    std::ofstream f(dir.path() + "/index.html");
    f << "<p>hello</p>";
  }
  Socket pull(protocols::kPull);
  absl::StatusOr<std::string> url = pull.Listen("ws://127.0.0.1:0/pull");
  ASSERT_TRUE(url.ok()) << url.status();
  absl::StatusOr<Url> u = ParseUrl(*url);
  ASSERT_TRUE(u.ok());
  absl::StatusOr<std::unique_ptr<StaticFiles>> files = StaticFiles::Serve(
      "ws://127.0.0.1:" + std::to_string(u->port) + "/www", dir.path());
  ASSERT_TRUE(files.ok()) << files.status();
  auto get = [&](const std::string& method, const std::string& path) {
    RawClient c(*url);
    c.Write(method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    std::string got;
    c.ReadUntilClosed(Deadline(10), &got);
    return got.substr(0, 12);
  };
  EXPECT_EQ(get("GET", "/www/"), "HTTP/1.1 200");
  EXPECT_EQ(get("HEAD", "/www/index.html"), "HTTP/1.1 200");
  EXPECT_EQ(pull.stats().rejected_http, 0u);
  EXPECT_EQ(get("GET", "/www/missing.html"), "HTTP/1.1 404");
  EXPECT_EQ(get("GET", "/www/%2e%2e/x"), "HTTP/1.1 400");
  EXPECT_EQ(get("POST", "/www/"), "HTTP/1.1 405");
  EXPECT_TRUE(
      WaitUntil([&] { return pull.stats().rejected_http == 3; }, Deadline(10)))
      << pull.stats().rejected_http;
}

}  // namespace
}  // namespace msock
