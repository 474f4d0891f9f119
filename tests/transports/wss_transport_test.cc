// The wss:// transport beyond the conformance suite (which already runs over
// wss with certificates checked both ways): option errors at Listen, every
// reason a dialer refuses a listener (unknown CA, wrong name, no client
// certificate), the options that relax the checks, PEM text instead of files,
// and plain-text or silent clients on a wss port. Certificates are made at run
// time (tests/support/test_certs.h).
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "msock/msock.h"
#include "tests/support/raw_client.h"
#include "tests/support/test_certs.h"
#include "tests/support/test_support.h"

namespace msock {
namespace {

using test::Certs;
using test::Deadline;
using test::RawClient;
using test::RecvString;
using test::SendString;
using test::WaitUntil;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class WssTransportTest : public ::testing::Test {
 protected:
  // A pull listening on wss with `cert` and `key`; returns its URL.
  std::string ListenPull(Socket& pull, const std::string& cert,
                         const std::string& key) {
    EXPECT_TRUE(pull.Set(opt::kTlsCert, cert).ok());
    EXPECT_TRUE(pull.Set(opt::kTlsKey, key).ok());
    absl::StatusOr<std::string> bound = pull.Listen("wss://127.0.0.1:0/pull");
    EXPECT_TRUE(bound.ok()) << bound.status();
    return bound.value_or("wss://127.0.0.1:1/failed");
  }
  static void FastRedial(Socket& s) {
    ASSERT_TRUE(s.Set(opt::kReconnectMin, absl::Milliseconds(20)).ok());
    ASSERT_TRUE(s.Set(opt::kReconnectMax, absl::Milliseconds(200)).ok());
  }
  // Dials `url` from `push` and expects the attempt to fail with a reason
  // containing `why`, and no pipe.
  void ExpectRefused(Socket& push, const std::string& url,
                     const std::string& why) {
    test::EventLog failures;
    push.OnPipeEvent(failures.Fn());
    FastRedial(push);
    ASSERT_TRUE(push.Dial(url).ok());
    ASSERT_TRUE(WaitUntil(
        [&] {
          return !failures.FirstReason(PipeEventType::kDialFailed).empty();
        },
        Deadline(10)));
    EXPECT_NE(failures.FirstReason(PipeEventType::kDialFailed).find(why),
              std::string::npos)
        << failures.FirstReason(PipeEventType::kDialFailed);
    EXPECT_EQ(push.pipe_count(), 0);
    EXPECT_GE(push.stats().rejected_bad_frame, 1u);
    push.OnPipeEvent(nullptr);
  }
};

TEST_F(WssTransportTest, ListenWithoutCertificateIsInvalidArgument) {
  Socket pull(protocols::kPull);
  absl::StatusOr<std::string> bound = pull.Listen("wss://127.0.0.1:0/pull");
  ASSERT_EQ(bound.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bound.status().message().find("tls-cert"), std::string::npos)
      << bound.status();
}

TEST_F(WssTransportTest, MissingCertificateFileIsNamed) {
  Socket pull(protocols::kPull);
  ASSERT_TRUE(pull.Set(opt::kTlsCert, "/nonexistent/cert.pem").ok());
  ASSERT_TRUE(pull.Set(opt::kTlsKey, Certs().key).ok());
  absl::StatusOr<std::string> bound = pull.Listen("wss://127.0.0.1:0/pull");
  ASSERT_EQ(bound.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bound.status().message().find("/nonexistent/cert.pem"),
            std::string::npos)
      << bound.status();
}

TEST_F(WssTransportTest, KeyOfAnotherCertificateIsInvalidArgument) {
  Socket pull(protocols::kPull);
  ASSERT_TRUE(pull.Set(opt::kTlsCert, Certs().cert).ok());
  ASSERT_TRUE(pull.Set(opt::kTlsKey, Certs().other_key).ok());
  absl::StatusOr<std::string> bound = pull.Listen("wss://127.0.0.1:0/pull");
  ASSERT_EQ(bound.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bound.status().message().find("does not match"), std::string::npos)
      << bound.status();
}

TEST_F(WssTransportTest, DialerRefusesCertificateOfUnknownCa) {
  Socket pull(protocols::kPull);
  std::string url = ListenPull(pull, Certs().other_cert, Certs().other_key);
  Socket push(protocols::kPush);
  ASSERT_TRUE(push.Set(opt::kTlsCa, Certs().ca).ok());
  ExpectRefused(push, url, "certificate check failed");
  // The listener saw the dialer give up (its alert) and counted it.
  EXPECT_TRUE(WaitUntil([&] { return pull.stats().rejected_bad_frame >= 1; },
                        Deadline(5)));
  EXPECT_EQ(pull.pipe_count(), 0);
}

TEST_F(WssTransportTest, DialerChecksTheServerName) {
  Socket pull(protocols::kPull);
  std::string url =
      ListenPull(pull, Certs().elsewhere_cert, Certs().elsewhere_key);
  Socket push(protocols::kPush);
  ASSERT_TRUE(push.Set(opt::kTlsCa, Certs().ca).ok());
  ExpectRefused(push, url, "mismatch");
  // Told which name to expect, the same dial succeeds.
  Socket named(protocols::kPush);
  ASSERT_TRUE(named.Set(opt::kTlsCa, Certs().ca).ok());
  ASSERT_TRUE(named.Set(opt::kTlsServerName, "elsewhere.example").ok());
  ASSERT_TRUE(named.Dial(url).ok());
  ASSERT_TRUE(SendString(named, "named", Deadline(10)).ok());
  EXPECT_EQ(RecvString(pull, Deadline(10)).value_or("?"), "named");
}

TEST_F(WssTransportTest, DialByHostNameChecksThatName) {
  Socket pull(protocols::kPull);
  std::string url = ListenPull(pull, Certs().cert, Certs().key);
  absl::StatusOr<Url> u = ParseUrl(url);
  ASSERT_TRUE(u.ok());
  Socket push(protocols::kPush);
  ASSERT_TRUE(push.Set(opt::kTlsCa, Certs().ca).ok());
  ASSERT_TRUE(
      push.Dial("wss://localhost:" + std::to_string(u->port) + "/pull").ok());
  ASSERT_TRUE(SendString(push, "by name", Deadline(10)).ok());
  EXPECT_EQ(RecvString(pull, Deadline(10)).value_or("?"), "by name");
}

TEST_F(WssTransportTest, VerifyPeerOffAcceptsAnyCertificate) {
  Socket pull(protocols::kPull);
  std::string url = ListenPull(pull, Certs().other_cert, Certs().other_key);
  Socket push(protocols::kPush);
  ASSERT_TRUE(push.Set(opt::kTlsVerifyPeer, false).ok());
  EXPECT_FALSE(push.Get(opt::kTlsVerifyPeer));
  ASSERT_TRUE(push.Dial(url).ok());
  ASSERT_TRUE(SendString(push, "unchecked", Deadline(10)).ok());
  EXPECT_EQ(RecvString(pull, Deadline(10)).value_or("?"), "unchecked");
}

TEST_F(WssTransportTest, ListenerWithCaRequiresClientCertificate) {
  Socket pull(protocols::kPull);
  ASSERT_TRUE(pull.Set(opt::kTlsCa, Certs().ca).ok());
  std::string url = ListenPull(pull, Certs().cert, Certs().key);
  Socket anonymous(protocols::kPush);
  ASSERT_TRUE(anonymous.Set(opt::kTlsCa, Certs().ca).ok());
  test::EventLog failures;
  anonymous.OnPipeEvent(failures.Fn());
  FastRedial(anonymous);
  ASSERT_TRUE(anonymous.Dial(url).ok());
  // TLS 1.3: the dialer finishes its handshake before the listener checks the
  // client certificate, so the refusal shows on the listener first.
  ASSERT_TRUE(WaitUntil([&] { return pull.stats().rejected_bad_frame >= 1; },
                        Deadline(10)));
  EXPECT_EQ(pull.pipe_count(), 0);
  EXPECT_EQ(SendString(anonymous, "x", Deadline(0.2)).code(),
            absl::StatusCode::kDeadlineExceeded);
  anonymous.Close();
  // With a certificate of the CA, the same listener takes the dialer.
  Socket known(protocols::kPush);
  test::UseTestTls(known);
  ASSERT_TRUE(known.Dial(url).ok());
  ASSERT_TRUE(SendString(known, "known", Deadline(10)).ok());
  EXPECT_EQ(RecvString(pull, Deadline(10)).value_or("?"), "known");
}

TEST_F(WssTransportTest, PemTextWorksLikeFiles) {
  Socket pull(protocols::kPull);
  std::string url =
      ListenPull(pull, ReadFile(Certs().cert), ReadFile(Certs().key));
  EXPECT_EQ(pull.Get(opt::kTlsCert).rfind("-----BEGIN", 0), 0u);
  Socket push(protocols::kPush);
  ASSERT_TRUE(push.Set(opt::kTlsCa, ReadFile(Certs().ca)).ok());
  ASSERT_TRUE(push.Dial(url).ok());
  ASSERT_TRUE(SendString(push, "pem", Deadline(10)).ok());
  EXPECT_EQ(RecvString(pull, Deadline(10)).value_or("?"), "pem");
}

TEST_F(WssTransportTest, PlainHttpOnWssPortIsClosedAndCounted) {
  Socket pull(protocols::kPull);
  std::string url = ListenPull(pull, Certs().cert, Certs().key);
  RawClient c(url);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(
      c.Write("GET /pull HTTP/1.1\r\nHost: 127.0.0.1\r\n"
              "Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n"));
  std::string got;
  ASSERT_TRUE(c.ReadUntilClosed(Deadline(10), &got));
  EXPECT_EQ(got.find("HTTP/1.1 101"), std::string::npos) << got;
  EXPECT_TRUE(WaitUntil([&] { return pull.stats().rejected_bad_frame == 1; },
                        Deadline(5)));
  // The port still serves proper wss dialers.
  Socket push(protocols::kPush);
  ASSERT_TRUE(push.Set(opt::kTlsCa, Certs().ca).ok());
  ASSERT_TRUE(push.Dial(url).ok());
  ASSERT_TRUE(SendString(push, "after", Deadline(10)).ok());
  EXPECT_EQ(RecvString(pull, Deadline(10)).value_or("?"), "after");
}

TEST_F(WssTransportTest, SilentClientIsHungUpAtHandshakeTimeout) {
  Socket pull(protocols::kPull);
  ASSERT_TRUE(pull.Set(opt::kHandshakeTimeout, absl::Milliseconds(200)).ok());
  std::string url = ListenPull(pull, Certs().cert, Certs().key);
  RawClient c(url);
  ASSERT_TRUE(c.connected());
  std::string got;
  EXPECT_TRUE(c.ReadUntilClosed(Deadline(10), &got));
  EXPECT_TRUE(
      WaitUntil([&] { return pull.stats().rejected_handshake_timeout == 1; },
                Deadline(5)));
}

// A peer that refuses our certificate may send its alert and reset the
// connection at once, and the reset can arrive before the alert is read
// (NNG does this). A handshake the peer started and broke off is counted.
TEST_F(WssTransportTest, HandshakeBrokenOffByAResetIsCounted) {
  Socket pull(protocols::kPull);
  ASSERT_TRUE(pull.Set(opt::kHandshakeTimeout, absl::Seconds(60)).ok());
  std::string url = ListenPull(pull, Certs().cert, Certs().key);
  RawClient c(url);
  ASSERT_TRUE(c.connected());
  // Our ClientHello goes out; once the server's answer is back, reset.
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  ASSERT_NE(ctx, nullptr);
  SSL* ssl = SSL_new(ctx);
  ASSERT_NE(ssl, nullptr);
  // It reads from an empty buffer, never from the socket: the handshake
  // stops after the ClientHello.
  SSL_set_bio(ssl, BIO_new(BIO_s_mem()), BIO_new_socket(c.fd(), BIO_NOCLOSE));
  EXPECT_EQ(SSL_get_error(ssl, SSL_connect(ssl)), SSL_ERROR_WANT_READ);
  pollfd answer{c.fd(), POLLIN, 0};
  EXPECT_EQ(poll(&answer, 1, 10000), 1);
  linger reset{1, 0};  // close() sends RST; the answer is left unread
  ASSERT_EQ(setsockopt(c.fd(), SOL_SOCKET, SO_LINGER, &reset, sizeof(reset)),
            0);
  c.Close();
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  EXPECT_TRUE(WaitUntil([&] { return pull.stats().rejected_bad_frame == 1; },
                        Deadline(10)));
  EXPECT_EQ(pull.stats().rejected_handshake_timeout, 0u);
  EXPECT_EQ(pull.pipe_count(), 0);
}

TEST_F(WssTransportTest, WsAndWssCannotShareAPort) {
  Socket secure(protocols::kPull);
  std::string url = ListenPull(secure, Certs().cert, Certs().key);
  absl::StatusOr<Url> u = ParseUrl(url);
  ASSERT_TRUE(u.ok());
  Socket plain(protocols::kPull);
  absl::StatusOr<std::string> bound =
      plain.Listen("ws://127.0.0.1:" + std::to_string(u->port) + "/plain");
  EXPECT_EQ(bound.status().code(), absl::StatusCode::kAlreadyExists)
      << bound.status();
  // Another wss socket with the same certificate shares it by path.
  Socket second(protocols::kPull);
  ASSERT_TRUE(second.Set(opt::kTlsCert, Certs().cert).ok());
  ASSERT_TRUE(second.Set(opt::kTlsKey, Certs().key).ok());
  EXPECT_TRUE(
      second.Listen("wss://127.0.0.1:" + std::to_string(u->port) + "/second")
          .ok());
}

TEST_F(WssTransportTest, WssDialToPlainWsPortFails) {
  Socket plain(protocols::kPull);
  absl::StatusOr<std::string> url = plain.Listen("ws://127.0.0.1:0/pull");
  ASSERT_TRUE(url.ok()) << url.status();
  Socket push(protocols::kPush);
  ASSERT_TRUE(push.Set(opt::kTlsCa, Certs().ca).ok());
  ExpectRefused(push, "wss" + url->substr(2), "tls handshake");
  EXPECT_EQ(plain.pipe_count(), 0);
}

TEST(WssContextTest, PrivateContextTearsDownItsTlsState) {
  // Contexts with wss pipes (one mid-handshake) destroyed: every OpenSSL
  // object is freed with its pipe (ASan / valgrind see no leak) and the
  // destructor returns.
  for (int round = 0; round < 3; ++round) {
    Context ctx;
    Socket pull(protocols::kPull, ctx);
    test::UseTestTls(pull);
    absl::StatusOr<std::string> url = pull.Listen("wss://127.0.0.1:0/t");
    ASSERT_TRUE(url.ok()) << url.status();
    Socket push(protocols::kPush, ctx);
    test::UseTestTls(push);
    ASSERT_TRUE(push.Dial(*url).ok());
    ASSERT_TRUE(SendString(push, "bye", Deadline(10)).ok());
    EXPECT_EQ(RecvString(pull, Deadline(10)).value_or("?"), "bye");
    RawClient silent(*url);  // a TLS handshake that never starts
    ASSERT_TRUE(silent.connected());
    push.Close();
    pull.Close();
  }
}

}  // namespace
}  // namespace msock
