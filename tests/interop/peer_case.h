// tests/interop/peer_case.h: the case type and fixture of the interop tests
// that run msock sockets against nngcat / nanocat peers: which tool (and which
// protocol variant of it), which transport (tcp, ipc or ws) and who listens;
// the fixture checks the tool is installed and starts peers for the case.
#ifndef MSOCK_TESTS_INTEROP_PEER_CASE_H_
#define MSOCK_TESTS_INTEROP_PEER_CASE_H_

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "msock/msock.h"
#include "tests/interop/child_process.h"
#include "tests/interop/interop_util.h"
#include "tests/interop/pattern_util.h"

namespace msock::testing {

// Who listens: msock (the peer dials it), the peer (msock dials it), or each
// test decides for itself (the case only names tool and transport).
enum class Listener { kMsock, kPeer, kPerTest };

struct PeerCase {
  Tool tool;
  Transport transport;
  Listener listener;
  // A protocol variant the case is about ("pair0", "pair1", "pair"), or "".
  const char* variant = "";

  bool msock_listens() const { return listener == Listener::kMsock; }
};

// "<Tool><Variant>_<transport>_MsockListens|_PeerListens", e.g.
// "NngcatPair1_ipc_PeerListens". ws cases leave out "_ws" (their suites are
// ws only) and kPerTest cases the listener part.
std::string PeerCaseName(const ::testing::TestParamInfo<PeerCase>& info);
// Readable parameters in test listings (and no padding bytes in them).
void PrintTo(const PeerCase& c, std::ostream* os);

// Every tool x transport x listener, in that order of nesting, with no
// variant.
std::vector<PeerCase> PeerCases(const std::vector<Tool>& tools,
                                const std::vector<Transport>& transports,
                                const std::vector<Listener>& listeners);
// PeerCases over both tools, tcp and ipc, and both listeners.
std::vector<PeerCase> AllPeerCases();
// The pair peers (variants nngcat "pair0" and "pair1", nanocat "pair": `nngcat
// --pair` is broken in NNG 1.5.2, nanomsg's pair is v0) over `transports`,
// both listeners.
std::vector<PeerCase> PairPeerCases(const std::vector<Transport>& transports);

// Reports every line of `lines` (output of `peer` that no check expected).
void NoOtherLines(const ChildProcess& peer,
                  const std::vector<std::string>& lines);

// Example:
//   using PushInteropTest = PeerInteropTest;
//   TEST_P(PushInteropTest, X) {
//     Push p;
//     ChildProcess* peer = StartToolPeer(
//         p.socket(), [&](bool listen, const std::string& url) {
//           return Argv("pull", listen, url, {"-Q"});
//         });
//     ASSERT_NE(peer, nullptr);
//     ASSERT_TRUE(PeersUp(p.socket(), 1));
//     ...
//   }
//   INSTANTIATE_TEST_SUITE_P(Peers, PushInteropTest,
//                            ::testing::ValuesIn(AllPeerCases()),
//                            PeerCaseName);
class PeerInteropTest : public ::testing::TestWithParam<PeerCase> {
 protected:
  // Fails the test if the case's tool is missing or the scratch directory
  // could not be made.
  void SetUp() override;

  // Connects `sock` and a new peer as the case says (StartPeer for tcp / ipc,
  // StartWsPeer with `ws_path` for ws), the peer started with
  // argv_for(peer_listens, url). Does not wait for the pipe. The fixture owns
  // the peer; nullptr after a test failure saying why.
  ChildProcess* StartToolPeer(Socket& sock, const std::string& ws_path,
                              const PeerArgvFn& argv_for);
  ChildProcess* StartToolPeer(Socket& sock, const PeerArgvFn& argv_for) {
    return StartToolPeer(sock, "/", argv_for);
  }

  // ToolArgv for the case's tool.
  std::vector<std::string> Argv(const std::string& proto, bool listen,
                                const std::string& url,
                                const std::vector<std::string>& extra) const;

  // `sock` has `n` peers within kWait; a failure shows every peer's command
  // and stderr. Use as ASSERT_TRUE(PeersUp(sock, 1)).
  ::testing::AssertionResult PeersUp(Socket& sock, int n);

  ScratchDir dir_;
  std::vector<std::unique_ptr<ChildProcess>> peers_;
};

// For PairPeerCases: a Pair0 or Pair1 (as the variant says) and the peer
// exchange messages both ways over one connection, the peer sending
// "from-peer" every interval and printing what it receives.
class PairPeerInteropTest : public PeerInteropTest {
 protected:
  void RunBothDirections(const std::string& ws_path);

 private:
  void RunBothDirections(PairRole& pair, const std::string& ws_path);
};

}  // namespace msock::testing

#endif  // MSOCK_TESTS_INTEROP_PEER_CASE_H_
