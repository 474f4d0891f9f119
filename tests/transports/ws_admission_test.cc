// The admission hook (msock/peer.h) on ws and wss listeners: it sees the
// upgrade request (path, query, Origin, headers) and the client certificate's
// subject, and a refused client gets a 403 instead of the 101, is counted and
// reported as kRefused, and never delivers a message (even one sent right
// behind its upgrade request). Also opt::kWsRequestHeaders, the dialer's way to
// send a token.
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "msock/msock.h"
#include "tests/support/raw_client.h"
#include "tests/support/test_certs.h"
#include "tests/support/test_support.h"
#include "transports/ws/ws_codec.h"

namespace msock {
namespace {

using test::Certs;
using test::Deadline;
using test::EventLog;
using test::RawClient;
using test::RecvString;
using test::SendString;
using test::WaitUntil;

// An upgrade request for a pull listening at `path` on `url`'s port, with
// `extra` header lines, followed by one masked binary frame holding `body`.
std::string UpgradeAndMessage(const std::string& path, const std::string& extra,
                              const std::string& body) {
  std::string out = absl::StrCat(
      "GET ", path,
      " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
      "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
      "Sec-WebSocket-Version: 13\r\n"
      "Sec-WebSocket-Protocol: pull.sp.nanomsg.org\r\n",
      extra, "\r\n");
  internal::ws::AppendFrame(&out, internal::ws::kBinary, true, true, 0x12345678,
                            {body});
  return out;
}

// Reads the response head (up to the blank line) or what came before the
// connection closed.
std::string ReadHead(RawClient& c) {
  std::string got;
  const absl::Time deadline = Deadline(10);
  while (!absl::EndsWith(got, "\r\n\r\n") &&
         c.ReadExactly(got.size() + 1, deadline, &got)) {
  }
  return got;
}

void FastRedial(Socket& s) {
  ASSERT_TRUE(s.Set(opt::kReconnectMin, absl::Milliseconds(20)).ok());
  ASSERT_TRUE(s.Set(opt::kReconnectMax, absl::Milliseconds(200)).ok());
}

TEST(WsAdmissionTest, RefusesByOriginWith403) {
  EventLog log;
  Socket pull(protocols::kPull);
  pull.OnPipeEvent(log.Fn());
  pull.SetAdmission([](const PeerInfo& peer) -> absl::Status {
    if (peer.origin != "https://good.example") {
      return absl::PermissionDeniedError(
          absl::StrCat("origin '", peer.origin, "' not allowed"));
    }
    return absl::OkStatus();
  });
  absl::StatusOr<std::string> url = pull.Listen("ws://127.0.0.1:0/msock");
  ASSERT_TRUE(url.ok()) << url.status();

  RawClient bad(*url);
  ASSERT_TRUE(bad.connected());
  ASSERT_TRUE(bad.Write(UpgradeAndMessage(
      "/msock", "Origin: https://evil.example\r\n", "from evil")));
  std::string answer;
  EXPECT_TRUE(bad.ReadUntilClosed(Deadline(10), &answer));
  EXPECT_TRUE(absl::StartsWith(answer, "HTTP/1.1 403 Forbidden\r\n")) << answer;
  EXPECT_TRUE(absl::StrContains(answer, "origin 'https://evil.example'"))
      << answer;
  EXPECT_EQ(pull.stats().rejected_admission, 1u);
  EXPECT_EQ(pull.stats().rejected_bad_frame, 0u);
  ASSERT_TRUE(WaitUntil([&] { return log.Count(PipeEventType::kRefused) == 1; },
                        Deadline(10)));
  EXPECT_EQ(log.FirstReason(PipeEventType::kRefused),
            "origin 'https://evil.example' not allowed");

  RawClient good(*url);
  ASSERT_TRUE(good.connected());
  ASSERT_TRUE(good.Write(UpgradeAndMessage(
      "/msock?room=1", "Origin: https://good.example\r\n", "from good")));
  std::string head = ReadHead(good);
  EXPECT_TRUE(absl::StartsWith(head, "HTTP/1.1 101")) << head;
  absl::StatusOr<Message> got = pull.Recv(Deadline(10));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->body(), "from good");
  absl::StatusOr<PeerInfo> peer = pull.PeerOf(got->source().back());
  ASSERT_TRUE(peer.ok()) << peer.status();
  EXPECT_EQ(peer->transport, "ws");
  EXPECT_EQ(peer->path, "/msock");
  EXPECT_EQ(peer->query, "room=1");
  EXPECT_EQ(peer->origin, "https://good.example");
  ASSERT_NE(peer->Header("sec-websocket-protocol"), nullptr);
  EXPECT_EQ(*peer->Header("sec-websocket-protocol"), "pull.sp.nanomsg.org");
  EXPECT_FALSE(peer->dialed);
  // Only the admitted client's message ever arrived.
  EXPECT_EQ(pull.stats().messages_in, 1u);
  EXPECT_EQ(pull.stats().rejected_admission, 1u);
}

TEST(WsAdmissionTest, RefusesByAuthorizationHeader) {
  EventLog log;
  Socket pull(protocols::kPull);
  pull.OnPipeEvent(log.Fn());
  pull.SetAdmission([](const PeerInfo& peer) -> absl::Status {
    const std::string* auth = peer.Header("authorization");
    if (auth == nullptr || *auth != "Bearer good-token") {
      return absl::UnauthenticatedError("bad or missing token");
    }
    return absl::OkStatus();
  });
  absl::StatusOr<std::string> url = pull.Listen("ws://127.0.0.1:0/jobs");
  ASSERT_TRUE(url.ok()) << url.status();

  // An msock dialer with the wrong token: each attempt gets a 403 and fails.
  EventLog bad_log;
  Socket bad(protocols::kPush);
  bad.OnPipeEvent(bad_log.Fn());
  FastRedial(bad);
  ASSERT_TRUE(bad.Set(opt::kWsRequestHeaders,
                      "Authorization: Bearer bad-token\nX-Client: test")
                  .ok());
  ASSERT_TRUE(bad.Dial(*url).ok());
  ASSERT_TRUE(WaitUntil([&] { return pull.stats().rejected_admission >= 2; },
                        Deadline(10)));
  ASSERT_TRUE(
      WaitUntil([&] { return bad_log.Count(PipeEventType::kDialFailed) >= 1; },
                Deadline(10)));
  EXPECT_TRUE(
      absl::StrContains(bad_log.FirstReason(PipeEventType::kDialFailed), "403"))
      << bad_log.FirstReason(PipeEventType::kDialFailed);
  EXPECT_EQ(bad.pipe_count(), 0);
  EXPECT_GE(log.Count(PipeEventType::kRefused), 2);
  EXPECT_EQ(log.Count(PipeEventType::kAdded), 0);
  EXPECT_EQ(log.FirstReason(PipeEventType::kRefused), "bad or missing token");
  bad.Close();

  // The right token is let in, and the hook saw every header it sent.
  Socket push(protocols::kPush);
  ASSERT_TRUE(push.Set(opt::kWsRequestHeaders,
                       "Authorization: Bearer good-token\r\nX-Client: test\r\n")
                  .ok());
  ASSERT_TRUE(push.Dial(*url).ok());
  ASSERT_TRUE(SendString(push, "job", Deadline(10)).ok());
  absl::StatusOr<Message> got = pull.Recv(Deadline(10));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->body(), "job");
  absl::StatusOr<PeerInfo> peer = pull.PeerOf(got->source().back());
  ASSERT_TRUE(peer.ok()) << peer.status();
  ASSERT_NE(peer->Header("x-client"), nullptr);
  EXPECT_EQ(*peer->Header("x-client"), "test");
  EXPECT_EQ(peer->path, "/jobs");
  EXPECT_EQ(pull.stats().messages_in, 1u);
}

TEST(WsAdmissionTest, RequestHeadersOptionIsChecked) {
  Socket push(protocols::kPush);
  EXPECT_TRUE(push.Set(opt::kWsRequestHeaders, "").ok());
  EXPECT_TRUE(push.Set(opt::kWsRequestHeaders, "A: 1\r\nB-c: two words").ok());
  for (const char* bad :
       {"no colon", ": empty name", "Bad Name: x", "A: bell\a", "Host: other",
        "sec-websocket-key: x", "Connection: close"}) {
    absl::Status s = push.Set(opt::kWsRequestHeaders, bad);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(push.Get(opt::kWsRequestHeaders), "A: 1\r\nB-c: two words");
}

TEST(WsAdmissionTest, WssRefusesByCertificateSubject) {
  EventLog log;
  Socket pull(protocols::kPull);
  pull.OnPipeEvent(log.Fn());
  test::UseTestTls(pull);  // clients must show a certificate of the test CA
  pull.SetAdmission([](const PeerInfo& peer) -> absl::Status {
    if (peer.certificate_subject != "CN=localhost") {
      return absl::PermissionDeniedError(
          absl::StrCat("subject '", peer.certificate_subject, "' refused"));
    }
    return absl::OkStatus();
  });
  absl::StatusOr<std::string> url = pull.Listen("wss://127.0.0.1:0/msock");
  ASSERT_TRUE(url.ok()) << url.status();

  // A certificate of the right CA for another subject: TLS accepts it, the
  // hook does not.
  Socket elsewhere(protocols::kPush);
  FastRedial(elsewhere);
  ASSERT_TRUE(elsewhere.Set(opt::kTlsCert, Certs().elsewhere_cert).ok());
  ASSERT_TRUE(elsewhere.Set(opt::kTlsKey, Certs().elsewhere_key).ok());
  ASSERT_TRUE(elsewhere.Set(opt::kTlsCa, Certs().ca).ok());
  ASSERT_TRUE(elsewhere.Dial(*url).ok());
  ASSERT_TRUE(WaitUntil([&] { return pull.stats().rejected_admission >= 1; },
                        Deadline(10)));
  EXPECT_EQ(log.FirstReason(PipeEventType::kRefused),
            "subject 'CN=elsewhere.example' refused");
  EXPECT_EQ(pull.stats().rejected_bad_frame, 0u);
  elsewhere.Close();

  Socket push(protocols::kPush);
  test::UseTestTls(push);
  ASSERT_TRUE(push.Dial(*url).ok());
  ASSERT_TRUE(SendString(push, "signed", Deadline(10)).ok());
  absl::StatusOr<Message> got = pull.Recv(Deadline(10));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->body(), "signed");
  absl::StatusOr<PeerInfo> peer = pull.PeerOf(got->source().back());
  ASSERT_TRUE(peer.ok()) << peer.status();
  EXPECT_EQ(peer->transport, "wss");
  EXPECT_EQ(peer->certificate_subject, "CN=localhost");
  // The dialer sees the listener's certificate.
  std::vector<PipeStats> mine = push.pipe_stats();
  ASSERT_EQ(mine.size(), 1u);
  absl::StatusOr<PeerInfo> server = push.PeerOf(mine[0].pipe_id);
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_EQ(server->certificate_subject, "CN=localhost");
  EXPECT_TRUE(server->dialed);
  EXPECT_EQ(server->path, "/msock");
  EXPECT_EQ(pull.stats().messages_in, 1u);
}

}  // namespace
}  // namespace msock
