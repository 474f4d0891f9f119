// tests/interop/wss_interop_test.cc: msock's wss:// transport against NNG 1.5.2
// over TLS (mbedTLS inside libnng): a small libnng program with its own TLS
// configuration (nng_wss_peer.c) in both roles, and nngcat listening. The
// certificates are made at run time (tests/support/test_certs.h): a test CA,
// a server certificate for localhost and 127.0.0.1, and one of another CA.
//
// NNG checks the server name of a wss dialer with mbedTLS, which matches DNS
// names only: its dialer is told "localhost" while it dials 127.0.0.1.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "msock/msock.h"
#include "tests/interop/child_process.h"
#include "tests/interop/interop_util.h"
#include "tests/support/test_certs.h"
#include "tests/support/test_support.h"

#ifndef MSOCK_NNG_WSS_PEER_PATH
#define MSOCK_NNG_WSS_PEER_PATH ""
#endif

namespace msock::testing {
namespace {

using test::Certs;

const char* PeerPath() { return MSOCK_NNG_WSS_PEER_PATH; }

// A wss listener (nng_wss_peer rep-listen, or nngcat --rep) on a free port;
// `extra` are more arguments. Returns it once it listens.
struct NngListener {
  std::unique_ptr<ChildProcess> child;
  std::string url;
};

absl::StatusOr<NngListener> StartNngListener(
    bool nngcat, const std::vector<std::string>& extra) {
  absl::Status last = absl::UnavailableError("no attempt");
  for (int attempt = 0; attempt < 5; ++attempt) {
    const int port = PickFreeTcpPort();
    std::string url = absl::StrCat("wss://127.0.0.1:", port, "/wss");
    std::vector<std::string> argv;
    if (nngcat) {
      argv = {kNngcat, "--rep",     "--listen", url,    "--cert", Certs().cert,
              "--key", Certs().key, "--data",   "pong", "-Q"};
    } else {
      argv = {PeerPath(),   "rep-listen", url,        "--cert",
              Certs().cert, "--key",      Certs().key};
    }
    argv.insert(argv.end(), extra.begin(), extra.end());
    absl::StatusOr<std::unique_ptr<ChildProcess>> child =
        ChildProcess::Start(argv);
    if (!child.ok()) return child.status();
    const std::string tcp = absl::StrCat("tcp://127.0.0.1:", port);
    bool up = nngcat ? WaitUntil([&] {
                         return IsListening(tcp) || (*child)->Exited();
                       }) &&
                           !(*child)->Exited()
                     : ReadUntilLine(**child, "listening", kWait);
    if (up) return NngListener{*std::move(child), url};
    last = absl::UnavailableError(absl::StrCat(
        (*child)->command(), " did not listen: ", (*child)->err()));
  }
  return last;
}

class WssInteropTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ToolAvailable(PeerPath()))
        << "nng_wss_peer missing (is libnng-dev installed?): " << PeerPath();
    ASSERT_TRUE(ToolAvailable(kNngcat)) << kNngcat << " missing";
  }
};

// msock Req dials a libnng rep over wss and checks its certificate (by the IP
// address of the URL, which the certificate names).
TEST_F(WssInteropTest, MsockReqToNngRep) {
  absl::StatusOr<NngListener> peer = StartNngListener(false, {});
  ASSERT_TRUE(peer.ok()) << peer.status();
  Req req;
  ASSERT_TRUE(req.Set(opt::kTlsCa, Certs().ca).ok());
  ASSERT_TRUE(req.Dial(peer->url).ok());
  for (const char* body : {"ping", "second ping"}) {
    Message m(body);
    absl::StatusOr<Message> r = req.Request(m, absl::Now() + kWait);
    ASSERT_TRUE(r.ok()) << r.status() << "; peer: " << peer->child->err();
    EXPECT_EQ(r->body(), absl::StrCat("pong:", body));
    EXPECT_TRUE(
        ReadUntilLine(*peer->child, absl::StrCat("request ", body), kWait));
  }
  EXPECT_EQ(req.stats().rejected_bad_frame, 0u);
}

// A 300 KiB request and reply cross TLS records and ws fragments intact.
TEST_F(WssInteropTest, LargeMessageToNngRep) {
  absl::StatusOr<NngListener> peer = StartNngListener(false, {});
  ASSERT_TRUE(peer.ok()) << peer.status();
  Req req;
  ASSERT_TRUE(req.Set(opt::kTlsCa, Certs().ca).ok());
  ASSERT_TRUE(req.Dial(peer->url).ok());
  std::string body(300 * 1024, '\0');
  for (size_t i = 0; i < body.size(); ++i) body[i] = 'a' + i % 26;
  Message m(body);
  absl::StatusOr<Message> r = req.Request(m, absl::Now() + kWait);
  ASSERT_TRUE(r.ok()) << r.status() << "; peer: " << peer->child->err();
  EXPECT_TRUE(r->body() == "pong:" + body)
      << "reply of " << r->size() << " bytes differs";
  EXPECT_TRUE(ReadUntilLine(*peer->child, "request of 307200 bytes", kWait));
}

// A libnng req dials msock's wss Rep and checks msock's certificate.
TEST_F(WssInteropTest, NngReqToMsockRep) {
  Rep rep;
  ASSERT_TRUE(rep.Set(opt::kTlsCert, Certs().cert).ok());
  ASSERT_TRUE(rep.Set(opt::kTlsKey, Certs().key).ok());
  absl::StatusOr<std::string> url = rep.Listen("wss://127.0.0.1:0/wss");
  ASSERT_TRUE(url.ok()) << url.status();
  absl::StatusOr<std::unique_ptr<ChildProcess>> child =
      ChildProcess::Start({PeerPath(), "req-dial", *url, "--ca", Certs().ca,
                           "--server-name", "localhost"});
  ASSERT_TRUE(child.ok()) << child.status();
  absl::StatusOr<Message> q = rep.Recv(absl::Now() + kWait);
  ASSERT_TRUE(q.ok()) << q.status() << "; peer: " << (*child)->err();
  EXPECT_EQ(q->body(), "ping");
  Message answer("pong-over-tls");
  ASSERT_TRUE(rep.Reply(*q, answer, absl::Now() + kWait).ok());
  EXPECT_TRUE(ReadUntilLine(**child, "reply pong-over-tls", kWait))
      << (*child)->err();
  EXPECT_EQ((*child)->Wait(kWait), 0);
}

// NNG refuses msock's certificate when it is not from the CA NNG trusts; the
// msock listener counts the failed handshake and keeps serving.
TEST_F(WssInteropTest, NngRefusesUnknownCertificate) {
  Rep rep;
  ASSERT_TRUE(rep.Set(opt::kTlsCert, Certs().other_cert).ok());
  ASSERT_TRUE(rep.Set(opt::kTlsKey, Certs().other_key).ok());
  absl::StatusOr<std::string> url = rep.Listen("wss://127.0.0.1:0/wss");
  ASSERT_TRUE(url.ok()) << url.status();
  absl::StatusOr<std::unique_ptr<ChildProcess>> child = ChildProcess::Start(
      {PeerPath(), "req-dial", *url, "--ca", Certs().ca, "--server-name",
       "localhost", "--timeout-ms", "1500"});
  ASSERT_TRUE(child.ok()) << child.status();
  EXPECT_TRUE(WaitUntil([&] { return rep.stats().rejected_bad_frame >= 1; }))
      << (*child)->err();
  EXPECT_EQ(rep.socket().pipe_count(), 0);
  EXPECT_EQ((*child)->Wait(kWait), 1);
}

// Mutual TLS: the NNG listener requires a client certificate of the test CA;
// msock presents one. Without one, msock's dial fails.
TEST_F(WssInteropTest, NngRequiresMsockClientCertificate) {
  absl::StatusOr<NngListener> peer =
      StartNngListener(false, {"--ca", Certs().ca, "--require-client"});
  ASSERT_TRUE(peer.ok()) << peer.status();
  Req with_cert;
  test::UseTestTls(with_cert.socket());
  ASSERT_TRUE(with_cert.Dial(peer->url).ok());
  Message m("with a certificate");
  absl::StatusOr<Message> r = with_cert.Request(m, absl::Now() + kWait);
  ASSERT_TRUE(r.ok()) << r.status() << "; peer: " << peer->child->err();
  EXPECT_EQ(r->body(), "pong:with a certificate");

  Req without;
  ASSERT_TRUE(without.Set(opt::kTlsCa, Certs().ca).ok());
  test::EventLog failures;
  without.socket().OnPipeEvent(failures.Fn());
  ASSERT_TRUE(without.Dial(peer->url).ok());
  EXPECT_TRUE(WaitUntil([&] {
    return !failures.FirstReason(PipeEventType::kDialFailed).empty();
  })) << "the dial without a certificate never failed";
  Message n("without");
  EXPECT_FALSE(without.Request(n, absl::Now() + absl::Milliseconds(300)).ok());
  without.socket().OnPipeEvent(nullptr);
}

// nngcat listening on wss (its --cert / --key), msock dialing.
TEST_F(WssInteropTest, MsockReqToNngcatRep) {
  absl::StatusOr<NngListener> peer = StartNngListener(true, {});
  ASSERT_TRUE(peer.ok()) << peer.status();
  Req req;
  ASSERT_TRUE(req.Set(opt::kTlsCa, Certs().ca).ok());
  ASSERT_TRUE(req.Dial(peer->url).ok());
  Message m("hello nngcat");
  absl::StatusOr<Message> r = req.Request(m, absl::Now() + kWait);
  ASSERT_TRUE(r.ok()) << r.status() << "; peer: " << peer->child->err();
  EXPECT_EQ(r->body(), "pong");
  EXPECT_TRUE(ReadUntilLine(*peer->child, Quoted("hello nngcat"), kWait));
}

}  // namespace
}  // namespace msock::testing
