// tests/interop/peer_case.cc: the shared interop case type and fixture (see
// peer_case.h).
#include "tests/interop/peer_case.h"

#include <cctype>
#include <utility>

#include "absl/time/clock.h"
#include "tests/interop/ws_interop_util.h"

namespace msock::testing {

std::string PeerCaseName(const ::testing::TestParamInfo<PeerCase>& info) {
  const PeerCase& c = info.param;
  std::string variant = c.variant;
  if (!variant.empty())
    variant[0] = static_cast<char>(std::toupper(variant[0]));
  std::string name = ToolName(c.tool) + variant;
  if (c.transport != Transport::kWs) name += "_" + TransportName(c.transport);
  if (c.listener == Listener::kMsock) name += "_MsockListens";
  if (c.listener == Listener::kPeer) name += "_PeerListens";
  return name;
}

void PrintTo(const PeerCase& c, std::ostream* os) {
  *os << ToolName(c.tool) << (*c.variant != '\0' ? " --" : "") << c.variant
      << " over " << TransportName(c.transport);
  if (c.listener == Listener::kMsock) *os << ", dials msock";
  if (c.listener == Listener::kPeer) *os << ", listens, msock dials";
}

std::vector<PeerCase> PeerCases(const std::vector<Tool>& tools,
                                const std::vector<Transport>& transports,
                                const std::vector<Listener>& listeners) {
  std::vector<PeerCase> cases;
  for (Tool tool : tools) {
    for (Transport t : transports) {
      for (Listener l : listeners) cases.push_back({tool, t, l});
    }
  }
  return cases;
}

std::vector<PeerCase> AllPeerCases() {
  return PeerCases({Tool::kNngcat, Tool::kNanocat},
                   {Transport::kTcp, Transport::kIpc},
                   {Listener::kMsock, Listener::kPeer});
}

std::vector<PeerCase> PairPeerCases(const std::vector<Transport>& transports) {
  std::vector<PeerCase> cases;
  for (const char* variant : {"pair0", "pair1", "pair"}) {
    const Tool tool =
        std::string(variant) == "pair" ? Tool::kNanocat : Tool::kNngcat;
    for (PeerCase c :
         PeerCases({tool}, transports, {Listener::kMsock, Listener::kPeer})) {
      c.variant = variant;
      cases.push_back(c);
    }
  }
  return cases;
}

void NoOtherLines(const ChildProcess& peer,
                  const std::vector<std::string>& lines) {
  for (const std::string& line : lines)
    ADD_FAILURE() << "unexpected output of " << peer.command() << ": " << line;
}

void PeerInteropTest::SetUp() {
  ASSERT_TRUE(ToolAvailable(ToolPath(GetParam().tool)))
      << ToolPath(GetParam().tool)
      << " is required (Debian packages nng-utils / nanomsg-utils)";
  ASSERT_FALSE(dir_.path().empty()) << "mkdtemp failed";
}

ChildProcess* PeerInteropTest::StartToolPeer(Socket& sock,
                                             const std::string& ws_path,
                                             const PeerArgvFn& argv_for) {
  const PeerCase& c = GetParam();
  if (c.listener == Listener::kPerTest) {
    ADD_FAILURE() << "StartToolPeer: the case does not say who listens";
    return nullptr;
  }
  absl::StatusOr<std::unique_ptr<ChildProcess>> peer =
      c.transport == Transport::kWs
          ? StartWsPeer(sock, c.tool, c.msock_listens(), ws_path, argv_for)
          : StartPeer(sock, c.transport, dir_, c.msock_listens(), argv_for);
  if (!peer.ok()) {
    ADD_FAILURE() << "starting the peer: " << peer.status();
    return nullptr;
  }
  peers_.push_back(*std::move(peer));
  return peers_.back().get();
}

std::vector<std::string> PeerInteropTest::Argv(
    const std::string& proto, bool listen, const std::string& url,
    const std::vector<std::string>& extra) const {
  return ToolArgv(GetParam().tool, proto, listen, url, extra);
}

::testing::AssertionResult PeerInteropTest::PeersUp(Socket& sock, int n) {
  absl::Status up = sock.WaitForPeers(n, absl::Now() + kWait);
  if (up.ok()) return ::testing::AssertionSuccess();
  ::testing::AssertionResult failure = ::testing::AssertionFailure() << up;
  for (const std::unique_ptr<ChildProcess>& p : peers_)
    failure << "; " << p->command() << " stderr: " << p->err();
  return failure;
}

void PairPeerInteropTest::RunBothDirections(const std::string& ws_path) {
  if (std::string(GetParam().variant) == "pair1") {
    Pair1 pair;
    RunBothDirections(pair, ws_path);
  } else {
    Pair0 pair;
    RunBothDirections(pair, ws_path);
  }
}

void PairPeerInteropTest::RunBothDirections(PairRole& pair,
                                            const std::string& ws_path) {
  const PeerCase& c = GetParam();
  ChildProcess* peer = StartToolPeer(
      pair.socket(), ws_path, [&](bool listen, const std::string& url) {
        return Argv(c.variant, listen, url,
                    {"--data", "from-peer", "--interval",
                     RepeatInterval(c.tool), "-Q"});
      });
  ASSERT_NE(peer, nullptr);
  ASSERT_TRUE(PeersUp(pair.socket(), 1));

  // peer -> msock
  absl::StatusOr<Message> m = pair.Recv(absl::Now() + kWait);
  ASSERT_TRUE(m.ok()) << m.status() << "; " << peer->command()
                      << " stderr: " << peer->err();
  EXPECT_EQ(m->body(), "from-peer");

  // msock -> peer
  ASSERT_TRUE(pair.Send("from-msock", absl::Now() + kWait).ok());
  std::vector<std::string> other;
  EXPECT_TRUE(ReadUntilLine(*peer, Quoted("from-msock"), kWait, &other))
      << peer->command() << " printed " << other.size()
      << " other lines; stderr: " << peer->err();
  NoOtherLines(*peer, other);

  SocketStats st = pair.stats();
  EXPECT_EQ(st.rejected_protocol, 0u);
  EXPECT_EQ(st.rejected_bad_frame, 0u);
}

}  // namespace msock::testing
