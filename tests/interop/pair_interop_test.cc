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
#include "tests/interop/peer_case.h"

namespace msock::testing {
namespace {

using PairInteropTest = PairPeerInteropTest;

TEST_P(PairInteropTest, BothDirections) { RunBothDirections("/"); }

INSTANTIATE_TEST_SUITE_P(Peers, PairInteropTest,
                         ::testing::ValuesIn(PairPeerCases({Transport::kTcp,
                                                            Transport::kIpc})),
                         PeerCaseName);

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
