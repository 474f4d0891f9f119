// tests/interop/reqrep_interop_test.cc: msock Req / Rep against nngcat, nanocat
// (--req / --rep) over tcp and ipc.
//
// Req cases: the peer listens as a rep that prints each request and answers
// "pong"; msock's Req dials and must get "pong" back. Rep cases: msock's Rep
// listens; the peer dials as a req sending "ping" and must print msock's reply.
#include <memory>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "msock/msock.h"
#include "msock/protocols/reqrep.h"
#include "tests/interop/interop_util.h"
#include "tests/interop/peer_case.h"

namespace msock::testing {
namespace {

using ReqRepInteropTest = PeerInteropTest;

// msock Req -> peer rep.
TEST_P(ReqRepInteropTest, MsockReqPeerRep) {
  const PeerCase& c = GetParam();
  absl::StatusOr<ListeningPeer> lp =
      StartListeningPeer(c.transport, dir_, [&](const std::string& url) {
        return Argv("rep", /*listen=*/true, url, {"--data", "pong", "-Q"});
      });
  ASSERT_TRUE(lp.ok()) << lp.status();
  Req req;
  ASSERT_TRUE(req.Dial(lp->url).ok());
  absl::Status up = req.WaitForPeers(1, absl::Now() + kWait);
  ASSERT_TRUE(up.ok()) << up << "; stderr: " << lp->child->err();

  for (const char* body : {"ping", "ping-2"}) {
    Message m(body);
    absl::StatusOr<Message> r = req.Request(m, absl::Now() + kWait);
    ASSERT_TRUE(r.ok()) << r.status() << "; " << lp->child->command()
                        << " stderr: " << lp->child->err();
    EXPECT_EQ(r->body(), "pong");
    std::vector<std::string> other;
    EXPECT_TRUE(ReadUntilLine(*lp->child, Quoted(body), kWait, &other))
        << lp->child->command()
        << " did not print the request; stderr: " << lp->child->err();
    for (const std::string& line : other)
      ADD_FAILURE() << "unexpected peer output: " << line;
  }
  EXPECT_EQ(req.replies_matched(), 2u);
  EXPECT_EQ(req.stats().dropped, 0u);  // both replies matched their requests
  EXPECT_EQ(req.stats().rejected_protocol, 0u);
  EXPECT_EQ(req.stats().rejected_bad_frame, 0u);
}

// Peer req -> msock Rep.
TEST_P(ReqRepInteropTest, PeerReqMsockRep) {
  const PeerCase& c = GetParam();
  Rep rep;
  absl::StatusOr<std::string> url =
      rep.Listen(MsockListenUrl(c.transport, dir_));
  ASSERT_TRUE(url.ok()) << url.status();
  absl::StatusOr<std::unique_ptr<ChildProcess>> child = ChildProcess::Start(
      Argv("req", /*listen=*/false, *url, {"--data", "ping", "-Q"}));
  ASSERT_TRUE(child.ok()) << child.status();
  ChildProcess& peer = **child;

  absl::StatusOr<Message> q = rep.Recv(absl::Now() + kWait);
  ASSERT_TRUE(q.ok()) << q.status() << "; " << peer.command()
                      << " stderr: " << peer.err();
  EXPECT_EQ(q->body(), "ping");
  ASSERT_EQ(q->header().size(), 1u);
  EXPECT_NE(q->header()[0] & 0x80000000u, 0u)
      << "request id without its high bit";
  Message answer("pong-from-msock");
  ASSERT_TRUE(rep.Reply(*q, answer, absl::Now() + kWait).ok());
  std::vector<std::string> other;
  EXPECT_TRUE(ReadUntilLine(peer, Quoted("pong-from-msock"), kWait, &other))
      << peer.command() << " did not print the reply; stderr: " << peer.err();
  for (const std::string& line : other)
    ADD_FAILURE() << "unexpected peer output: " << line;
  EXPECT_EQ(rep.stats().rejected_protocol, 0u);
  EXPECT_EQ(rep.stats().rejected_bad_frame, 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Peers, ReqRepInteropTest,
    ::testing::ValuesIn(PeerCases({Tool::kNngcat, Tool::kNanocat},
                                  {Transport::kTcp, Transport::kIpc},
                                  {Listener::kPerTest})),
    PeerCaseName);

}  // namespace
}  // namespace msock::testing
