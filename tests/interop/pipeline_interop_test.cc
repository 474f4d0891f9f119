// tests/interop/pipeline_interop_test.cc: msock Push / Pull against real nngcat
// and nanocat.
//
// Every combination of peer tool (nngcat, nanocat), transport (tcp, ipc) and
// who listens (msock or the peer) is run in both directions: msock Push -> peer
// pull, peer push -> msock Pull.
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "msock/msock.h"
#include "tests/interop/interop_util.h"
#include "tests/interop/peer_case.h"

namespace msock::testing {
namespace {

class PipelineInteropTest : public PeerInteropTest {
 protected:
  // Connects `role` to a peer running `proto` (pull / push; nngcat is given
  // the versioned --pull0 / --push0) with `extra` arguments; the peer process
  // is kept in peer_. With `wait`, also waits until the pipe is up. Returns
  // false (after recording a failure) if that did not work.
  template <typename R>
  bool Connect(R& role, const std::string& proto,
               const std::vector<std::string>& extra, bool wait) {
    const std::string versioned =
        GetParam().tool == Tool::kNngcat ? proto + "0" : proto;
    peer_ = StartToolPeer(role.socket(),
                          [&](bool peer_listens, const std::string& url) {
                            return Argv(versioned, peer_listens, url, extra);
                          });
    if (peer_ == nullptr) return false;
    if (!wait) return true;
    ::testing::AssertionResult up = PeersUp(role.socket(), 1);
    EXPECT_TRUE(up);
    return static_cast<bool>(up);
  }

  ChildProcess* peer_ = nullptr;
};

TEST_P(PipelineInteropTest, MsockPushToPeerPull) {
  Push push;
  ASSERT_TRUE(Connect(push, "pull", {"-Q"}, /*wait=*/true));
  const std::vector<std::string> bodies = {"job-1", "job-2 with spaces",
                                           "job-3"};
  for (const std::string& body : bodies) {
    ASSERT_TRUE(push.Send(body, absl::Now() + kWait).ok());
  }
  for (const std::string& body : bodies) {
    std::optional<std::string> line = peer_->ReadLine(kWait);
    ASSERT_TRUE(line.has_value())
        << "no output from " << peer_->command() << "; stderr: " << peer_->err()
        << "; exited: " << peer_->Exited() << "; msock pipes "
        << push.socket().pipe_count() << ", messages_out "
        << push.stats().messages_out << ", bytes_out "
        << push.stats().bytes_out;
    EXPECT_EQ(*line, Quoted(body));
  }
  EXPECT_EQ(push.stats().messages_out, bodies.size());
}

TEST_P(PipelineInteropTest, PeerPushToMsockPull) {
  Pull pull;
  // nanocat closes right after a one-shot send and may lose the message
  // (nanomsg 1.1.5 has no linger), so it sends repeatedly; nngcat sends exactly
  // once.
  std::vector<std::string> extra = {"--data", "from-peer"};
  if (GetParam().tool == Tool::kNanocat)
    extra.insert(extra.end(), {"--interval", "0.2"});
  // No WaitForPeers: a one-shot pusher may be gone again before it would
  // return.
  ASSERT_TRUE(Connect(pull, "push", extra, /*wait=*/false));
  absl::StatusOr<Message> m = pull.Recv(absl::Now() + kWait);
  ASSERT_TRUE(m.ok()) << m.status() << "; peer stderr: " << peer_->err();
  EXPECT_EQ(m->body(), "from-peer");
  EXPECT_GE(pull.stats().messages_in, 1u);
  EXPECT_EQ(pull.stats().rejected_protocol, 0u);
}

INSTANTIATE_TEST_SUITE_P(Peers, PipelineInteropTest,
                         ::testing::ValuesIn(AllPeerCases()), PeerCaseName);

}  // namespace
}  // namespace msock::testing
