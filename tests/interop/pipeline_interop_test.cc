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

namespace msock::testing {
namespace {

struct PipelineCase {
  const char* tool;  // kNngcat or kNanocat
  Transport transport;
  bool msock_listens;
};

std::string CaseName(const ::testing::TestParamInfo<PipelineCase>& info) {
  const PipelineCase& c = info.param;
  return std::string(c.tool == kNngcat ? "Nngcat" : "Nanocat") + "_" +
         TransportName(c.transport) +
         (c.msock_listens ? "_MsockListens" : "_PeerListens");
}

// The peer's protocol flag and its listen / dial flag.
std::vector<std::string> PeerArgs(const PipelineCase& c,
                                  const std::string& proto, bool peer_listens,
                                  const std::string& url) {
  bool nng = c.tool == kNngcat;
  return {c.tool, nng ? "--" + proto + "0" : "--" + proto,
          peer_listens ? (nng ? "--listen" : "--bind")
                       : (nng ? "--dial" : "--connect"),
          url};
}

class PipelineInteropTest : public ::testing::TestWithParam<PipelineCase> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ToolAvailable(GetParam().tool))
        << GetParam().tool
        << " is required (Debian packages nng-utils / nanomsg-utils)";
    ASSERT_FALSE(dir_.path().empty()) << "mkdtemp failed";
  }

  // Connects `role` to a peer running `proto` (pull / push) with `extra`
  // arguments; the peer process is kept in peer_. With `wait`, also waits until
  // the pipe is up. Returns false (after recording a failure) if that did not
  // work.
  template <typename R>
  bool Connect(R& role, const std::string& proto,
               const std::vector<std::string>& extra, bool wait) {
    const PipelineCase& c = GetParam();
    if (c.msock_listens) {
      absl::StatusOr<std::string> url =
          role.Listen(MsockListenUrl(c.transport, dir_));
      EXPECT_TRUE(url.ok()) << url.status();
      if (!url.ok()) return false;
      std::vector<std::string> argv = PeerArgs(c, proto, false, *url);
      argv.insert(argv.end(), extra.begin(), extra.end());
      absl::StatusOr<std::unique_ptr<ChildProcess>> child =
          ChildProcess::Start(argv);
      EXPECT_TRUE(child.ok()) << child.status();
      if (!child.ok()) return false;
      peer_ = *std::move(child);
    } else {
      absl::StatusOr<ListeningPeer> peer =
          StartListeningPeer(c.transport, dir_, [&](const std::string& url) {
            std::vector<std::string> argv = PeerArgs(c, proto, true, url);
            argv.insert(argv.end(), extra.begin(), extra.end());
            return argv;
          });
      EXPECT_TRUE(peer.ok()) << peer.status();
      if (!peer.ok()) return false;
      peer_ = std::move(peer->child);
      absl::Status dialed = role.Dial(peer->url);
      EXPECT_TRUE(dialed.ok()) << dialed;
      if (!dialed.ok()) return false;
    }
    if (!wait) return true;
    absl::Status s = role.WaitForPeers(1, absl::Now() + kWait);
    EXPECT_TRUE(s.ok()) << s << "; peer " << peer_->command()
                        << " stderr: " << peer_->err();
    return s.ok();
  }

  ScratchDir dir_;
  std::unique_ptr<ChildProcess> peer_;
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
  if (GetParam().tool == kNanocat)
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

INSTANTIATE_TEST_SUITE_P(
    Peers, PipelineInteropTest,
    ::testing::Values(PipelineCase{kNngcat, Transport::kTcp, true},
                      PipelineCase{kNngcat, Transport::kTcp, false},
                      PipelineCase{kNngcat, Transport::kIpc, true},
                      PipelineCase{kNngcat, Transport::kIpc, false},
                      PipelineCase{kNanocat, Transport::kTcp, true},
                      PipelineCase{kNanocat, Transport::kTcp, false},
                      PipelineCase{kNanocat, Transport::kIpc, true},
                      PipelineCase{kNanocat, Transport::kIpc, false}),
    CaseName);

}  // namespace
}  // namespace msock::testing
