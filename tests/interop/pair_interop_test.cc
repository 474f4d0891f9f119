// tests/interop/pair_interop_test.cc: msock Pair0 / Pair1 against nngcat
// --pair0 / --pair1 and nanocat --pair (nanomsg NN_PAIR is pair v0).
//
// Each case runs both message directions over one connection, for both
// transports and both listen / dial roles: the peer sends "from-peer" every
// interval and prints what it receives.
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "msock/msock.h"
#include "tests/interop/interop_util.h"

namespace msock::testing {
namespace {

enum class PairPeer { kNngcatPair0, kNngcatPair1, kNanocatPair };

struct PairCase {
  PairPeer peer;
  Transport transport;
  bool msock_listens;
};

const char* Tool(PairPeer p) {
  return p == PairPeer::kNanocatPair ? kNanocat : kNngcat;
}

std::string CaseName(const ::testing::TestParamInfo<PairCase>& info) {
  const PairCase& c = info.param;
  const char* peer = c.peer == PairPeer::kNngcatPair0   ? "NngcatPair0"
                     : c.peer == PairPeer::kNngcatPair1 ? "NngcatPair1"
                                                        : "NanocatPair";
  return std::string(peer) + "_" + TransportName(c.transport) +
         (c.msock_listens ? "_MsockListens" : "_PeerListens");
}

std::vector<std::string> PeerArgv(PairPeer p, bool listen,
                                  const std::string& url) {
  switch (p) {
    case PairPeer::kNngcatPair0:
    case PairPeer::kNngcatPair1:
      // `nngcat --pair` is broken in 1.5.2; --interval takes whole seconds
      // only.
      return {kNngcat,
              p == PairPeer::kNngcatPair0 ? "--pair0" : "--pair1",
              listen ? "--listen" : "--dial",
              url,
              "--data",
              "from-peer",
              "--interval",
              "1",
              "-Q"};
    case PairPeer::kNanocatPair:
      return {kNanocat,     "--pair", listen ? "--bind" : "--connect",
              url,          "--data", "from-peer",
              "--interval", "0.3",    "-Q"};
  }
  return {};
}

class PairInteropTest : public ::testing::TestWithParam<PairCase> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ToolAvailable(Tool(GetParam().peer)))
        << Tool(GetParam().peer) << " missing";
    ASSERT_FALSE(dir_.path().empty()) << "mkdtemp failed";
  }

  // Connects `pair` to the peer, runs both directions, checks the bodies.
  void RunBothDirections(PairRole& pair) {
    const PairCase& c = GetParam();
    std::unique_ptr<ChildProcess> peer;
    if (c.msock_listens) {
      absl::StatusOr<std::string> url =
          pair.Listen(MsockListenUrl(c.transport, dir_));
      ASSERT_TRUE(url.ok()) << url.status();
      absl::StatusOr<std::unique_ptr<ChildProcess>> child =
          ChildProcess::Start(PeerArgv(c.peer, false, *url));
      ASSERT_TRUE(child.ok()) << child.status();
      peer = *std::move(child);
    } else {
      absl::StatusOr<ListeningPeer> lp = StartListeningPeer(
          c.transport, dir_,
          [&](const std::string& url) { return PeerArgv(c.peer, true, url); });
      ASSERT_TRUE(lp.ok()) << lp.status();
      peer = std::move(lp->child);
      ASSERT_TRUE(pair.Dial(lp->url).ok());
    }
    absl::Status s = pair.WaitForPeers(1, absl::Now() + kWait);
    ASSERT_TRUE(s.ok()) << s << "; " << peer->command()
                        << " stderr: " << peer->err();

    // peer -> msock
    absl::StatusOr<Message> m = pair.Recv(absl::Now() + kWait);
    ASSERT_TRUE(m.ok()) << m.status() << "; peer stderr: " << peer->err();
    EXPECT_EQ(m->body(), "from-peer");

    // msock -> peer
    ASSERT_TRUE(pair.Send("from-msock", absl::Now() + kWait).ok());
    std::vector<std::string> other;
    EXPECT_TRUE(ReadUntilLine(*peer, Quoted("from-msock"), kWait, &other))
        << peer->command() << " printed " << other.size()
        << " other lines; stderr: " << peer->err();
    for (const std::string& line : other)
      ADD_FAILURE() << "unexpected peer output: " << line;

    SocketStats st = pair.stats();
    EXPECT_EQ(st.rejected_protocol, 0u);
    EXPECT_EQ(st.rejected_bad_frame, 0u);
  }

  ScratchDir dir_;
};

TEST_P(PairInteropTest, BothDirections) {
  if (GetParam().peer == PairPeer::kNngcatPair1) {
    Pair1 pair;
    RunBothDirections(pair);
  } else {
    Pair0 pair;
    RunBothDirections(pair);
  }
}

std::vector<PairCase> AllCases() {
  std::vector<PairCase> cases;
  for (PairPeer p : {PairPeer::kNngcatPair0, PairPeer::kNngcatPair1,
                     PairPeer::kNanocatPair}) {
    for (Transport t : {Transport::kTcp, Transport::kIpc}) {
      for (bool msock_listens : {true, false})
        cases.push_back({p, t, msock_listens});
    }
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Peers, PairInteropTest,
                         ::testing::ValuesIn(AllCases()), CaseName);

// nanomsg has no pair v1: a Pair1 must refuse nanocat --pair (it speaks pair0)
// after the header exchange, and count it.
TEST(PairMismatchInteropTest, Pair1RejectsNanocatPair0) {
  ASSERT_TRUE(ToolAvailable(kNanocat)) << "nanocat missing";
  Pair1 pair;
  auto added = std::make_shared<std::atomic<int>>(
      0);  // shared: safe even for late events
  pair.socket().OnPipeEvent([added](const PipeEvent& e) {
    if (e.type == PipeEventType::kAdded) ++*added;
  });
  absl::StatusOr<std::string> url = pair.Listen("tcp://127.0.0.1:0");
  ASSERT_TRUE(url.ok()) << url.status();
  absl::StatusOr<std::unique_ptr<ChildProcess>> peer =
      ChildProcess::Start({kNanocat, "--pair", "--connect", *url, "-Q"});
  ASSERT_TRUE(peer.ok()) << peer.status();
  EXPECT_TRUE(WaitUntil([&] { return pair.stats().rejected_protocol >= 1; }))
      << "rejected_protocol stayed 0";
  EXPECT_EQ(pair.socket().pipe_count(), 0);
  EXPECT_EQ(added->load(), 0);
}

}  // namespace
}  // namespace msock::testing
