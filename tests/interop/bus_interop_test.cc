// tests/interop/bus_interop_test.cc: one msock Bus with mixed real peers,
// nngcat --bus and nanocat --bus at once, over tcp and ipc, msock listening
// (both tools dial) or dialing (both tools listen).
//
// Each tool sends its own body at an interval and prints what it receives.
// Checked: both tools' messages reach msock; every msock message reaches both
// tools; and nothing else reaches a tool. The tools are only connected to
// msock, so a tool printing its own or the other tool's message would mean
// msock forwarded (an msock Bus never does: one hop only, no loops).
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "msock/msock.h"
#include "tests/interop/interop_util.h"
#include "tests/interop/pattern_util.h"

namespace msock::testing {
namespace {

struct BusCase {
  Transport transport;
  bool msock_listens;
};

std::string CaseName(const ::testing::TestParamInfo<BusCase>& info) {
  return TransportName(info.param.transport) +
         (info.param.msock_listens ? "_MsockListens" : "_PeersListen");
}

class BusInteropTest : public ::testing::TestWithParam<BusCase> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ToolAvailable(kNngcat)) << kNngcat << " missing";
    ASSERT_TRUE(ToolAvailable(kNanocat)) << kNanocat << " missing";
    ASSERT_FALSE(dir_.path().empty()) << "mkdtemp failed";
  }
  ScratchDir dir_;
};

// The body each tool sends.
std::string FromTool(Tool t) {
  return t == Tool::kNngcat ? "from-nngcat" : "from-nanocat";
}

TEST_P(BusInteropTest, MixedPeersNoEcho) {
  const BusCase& c = GetParam();
  Bus bus;
  const std::vector<Tool> tools = {Tool::kNngcat, Tool::kNanocat};
  std::vector<std::unique_ptr<ChildProcess>> peers;
  for (Tool tool : tools) {
    absl::StatusOr<std::unique_ptr<ChildProcess>> peer =
        StartPeer(bus.socket(), c.transport, dir_, c.msock_listens,
                  [&](bool listen, const std::string& url) {
                    return ToolArgv(tool, "bus", listen, url,
                                    {"--data", FromTool(tool), "--interval",
                                     RepeatInterval(tool), "-Q"});
                  });
    ASSERT_TRUE(peer.ok()) << peer.status();
    peers.push_back(*std::move(peer));
  }
  absl::Status up = bus.WaitForPeers(2, absl::Now() + kWait);
  ASSERT_TRUE(up.ok()) << up << "; stderr: " << peers[0]->err() << " / "
                       << peers[1]->err();

  for (int round = 1; round <= 2; ++round) {
    // tools -> msock: one message from each (more may come; all must be
    // theirs).
    std::set<std::string> seen;
    absl::Time deadline = absl::Now() + kWait;
    while (seen.size() < tools.size()) {
      absl::StatusOr<Message> m = bus.Recv(deadline);
      ASSERT_TRUE(m.ok()) << m.status() << " in round " << round << "; got "
                          << seen.size() << " of 2; stderr: " << peers[0]->err()
                          << " / " << peers[1]->err();
      std::string body(m->body());
      ASSERT_TRUE(body == FromTool(Tool::kNngcat) ||
                  body == FromTool(Tool::kNanocat))
          << "unexpected body " << Hex(body);
      seen.insert(body);
    }
    // msock -> every tool. The tools' messages msock received above came
    // before this one, so had msock passed them on they would be printed
    // before it.
    const std::string mine = "from-msock-" + std::to_string(round);
    Message m(mine);
    ASSERT_TRUE(bus.Send(m, absl::Now() + kWait).ok());
    for (size_t i = 0; i < peers.size(); ++i) {
      std::vector<std::string> other;
      EXPECT_TRUE(ReadUntilLine(*peers[i], Quoted(mine), kWait, &other))
          << peers[i]->command() << " did not print " << mine
          << "; stderr: " << peers[i]->err();
      for (const std::string& line : other)
        ADD_FAILURE() << ToolName(tools[i]) << " got " << line
                      << " (echo / forwarding through msock?)";
    }
  }
  for (size_t i = 0; i < peers.size(); ++i) {
    std::string rest = peers[i]->pending_out();
    EXPECT_EQ(rest.find("from-n"), std::string::npos)
        << ToolName(tools[i]) << " got a tool's message back: " << rest;
  }
  SocketStats st = bus.stats();
  EXPECT_EQ(st.messages_out, 2u);  // one per Send, however many peers
  std::vector<PipeStats> pipes = bus.pipe_stats();
  EXPECT_EQ(pipes.size(), 2u);
  for (const PipeStats& p : pipes) {
    EXPECT_EQ(p.messages_out, 2u) << "pipe " << p.pipe_id;
    EXPECT_EQ(p.dropped, 0u) << "pipe " << p.pipe_id;
  }
  EXPECT_EQ(st.dropped, 0u);
  EXPECT_EQ(st.rejected_protocol, 0u);
  EXPECT_EQ(st.rejected_bad_frame, 0u);
}

INSTANTIATE_TEST_SUITE_P(Peers, BusInteropTest,
                         ::testing::Values(BusCase{Transport::kTcp, true},
                                           BusCase{Transport::kTcp, false},
                                           BusCase{Transport::kIpc, true},
                                           BusCase{Transport::kIpc, false}),
                         CaseName);

}  // namespace
}  // namespace msock::testing
