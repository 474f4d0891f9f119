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

namespace msock::testing {
namespace {

enum class Peer { kNngcat, kNanocat };

struct ReqRepCase {
  Peer peer;
  Transport transport;
};

const char* Tool(Peer p) { return p == Peer::kNngcat ? kNngcat : kNanocat; }

std::string CaseName(const ::testing::TestParamInfo<ReqRepCase>& info) {
  return std::string(info.param.peer == Peer::kNngcat ? "Nngcat" : "Nanocat") +
         "_" + TransportName(info.param.transport);
}

std::vector<ReqRepCase> AllCases() {
  std::vector<ReqRepCase> cases;
  for (Peer p : {Peer::kNngcat, Peer::kNanocat}) {
    for (Transport t : {Transport::kTcp, Transport::kIpc})
      cases.push_back({p, t});
  }
  return cases;
}

class ReqRepInteropTest : public ::testing::TestWithParam<ReqRepCase> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ToolAvailable(Tool(GetParam().peer)))
        << Tool(GetParam().peer) << " missing";
    ASSERT_FALSE(dir_.path().empty()) << "mkdtemp failed";
  }
  ScratchDir dir_;
};

// msock Req -> peer rep.
TEST_P(ReqRepInteropTest, MsockReqPeerRep) {
  const ReqRepCase& c = GetParam();
  absl::StatusOr<ListeningPeer> lp =
      StartListeningPeer(c.transport, dir_, [&](const std::string& url) {
        std::vector<std::string> argv = {
            Tool(c.peer),
            "--rep",
            c.peer == Peer::kNngcat ? "--listen" : "--bind",
            url,
            "--data",
            "pong",
            "-Q"};
        return argv;
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
  const ReqRepCase& c = GetParam();
  Rep rep;
  absl::StatusOr<std::string> url =
      rep.Listen(MsockListenUrl(c.transport, dir_));
  ASSERT_TRUE(url.ok()) << url.status();
  absl::StatusOr<std::unique_ptr<ChildProcess>> child = ChildProcess::Start(
      {Tool(c.peer), "--req", c.peer == Peer::kNngcat ? "--dial" : "--connect",
       *url, "--data", "ping", "-Q"});
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

INSTANTIATE_TEST_SUITE_P(Peers, ReqRepInteropTest,
                         ::testing::ValuesIn(AllCases()), CaseName);

}  // namespace
}  // namespace msock::testing
