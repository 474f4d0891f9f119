// tests/interop/survey_interop_test.cc: msock Surveyor / Respondent against
// nngcat and nanocat (--surveyor / --respondent) over tcp and ipc, msock
// listening or dialing.
//
// Also one msock Surveyor with both tools as respondents at once.
//
// A survey sent while no respondent is connected is lost (sp-wire.md §6.2), so
// peer surveyors repeat theirs (--interval) and msock's Surveyor surveys again
// until an answer comes, each bounded by kWait.
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "msock/msock.h"
#include "tests/interop/interop_util.h"
#include "tests/interop/pattern_util.h"
#include "tests/interop/peer_case.h"

namespace msock::testing {
namespace {

using SurveyInteropTest = PeerInteropTest;

// Peer surveyor -> msock Respondent; the peer prints the answer.
TEST_P(SurveyInteropTest, PeerSurveyorMsockRespondent) {
  const PeerCase& c = GetParam();
  Respondent resp;
  ChildProcess* child =
      StartToolPeer(resp.socket(), [&](bool listen, const std::string& url) {
        return Argv(
            "surveyor", listen, url,
            {"--data", "who?", "--interval", RepeatInterval(c.tool), "-Q"});
      });
  ASSERT_NE(child, nullptr);
  ChildProcess& peer = *child;

  // Answer surveys until the peer prints an answer: one normally does, but an
  // answer to a survey the peer has already replaced by its next one (it
  // repeats every interval) is dropped by the peer, as SP requires.
  absl::Time deadline = absl::Now() + kWait;
  std::vector<std::string> lines;
  int answered = 0;
  while (lines.empty() && absl::Now() < deadline) {
    absl::StatusOr<Message> q = resp.Recv(deadline);
    ASSERT_TRUE(q.ok()) << q.status() << " after " << answered << " answers; "
                        << peer.command() << " stderr: " << peer.err();
    EXPECT_EQ(q->body(), "who?");
    ASSERT_EQ(q->header().size(), 1u) << "a direct survey has one header word";
    EXPECT_NE(q->header()[0] & 0x80000000u, 0u)
        << "survey id without its high bit";
    Message answer("yes-from-msock");
    absl::Status sent = resp.Reply(*q, answer, deadline);
    ASSERT_TRUE(sent.ok()) << sent;
    ++answered;
    // Longer than the peer's interval and survey time (1 s).
    if (std::optional<std::string> line = peer.ReadLine(absl::Seconds(2)))
      lines.push_back(*line);
  }
  ASSERT_FALSE(lines.empty()) << peer.command() << " printed no answer to "
                              << answered << "; stderr: " << peer.err();
  EXPECT_EQ(lines[0], Quoted("yes-from-msock"));
  SocketStats st = resp.stats();
  EXPECT_EQ(st.dropped, 0u);
  EXPECT_EQ(st.rejected_protocol, 0u);
  EXPECT_EQ(st.rejected_bad_frame, 0u);
}

// msock Surveyor -> peer respondent; Survey returns the peer's answer.
TEST_P(SurveyInteropTest, MsockSurveyorPeerRespondent) {
  Surveyor surveyor;
  ChildProcess* child = StartToolPeer(surveyor.socket(), [&](bool listen,
                                                             const std::string&
                                                                 url) {
    return Argv("respondent", listen, url, {"--data", "yes-from-peer", "-Q"});
  });
  ASSERT_NE(child, nullptr);
  ChildProcess& peer = *child;
  absl::Status up = surveyor.WaitForPeers(1, absl::Now() + kWait);
  ASSERT_TRUE(up.ok()) << up << "; " << peer.command()
                       << " stderr: " << peer.err();

  // One survey normally does; repeat if the peer was not ready for the first.
  std::vector<Message> answers;
  int surveys = 0;
  absl::Time deadline = absl::Now() + kWait;
  while (answers.empty() && absl::Now() < deadline) {
    Message who("who?");
    absl::StatusOr<std::vector<Message>> got =
        surveyor.Survey(who, absl::Now() + absl::Seconds(1));
    ASSERT_TRUE(got.ok()) << got.status();
    ++surveys;
    answers = *std::move(got);
  }
  ASSERT_EQ(answers.size(), 1u)
      << surveys << " surveys; " << peer.command() << " stderr: " << peer.err();
  EXPECT_EQ(answers[0].body(), "yes-from-peer");
  EXPECT_TRUE(answers[0].header().empty())
      << "the survey id must be stripped from the answer";
  // The peer printed each survey it got.
  std::optional<std::string> line = peer.ReadLine(kWait);
  ASSERT_TRUE(line.has_value()) << peer.command() << " printed nothing";
  EXPECT_EQ(*line, Quoted("who?"));
  SocketStats st = surveyor.stats();
  EXPECT_EQ(st.rejected_protocol, 0u);
  EXPECT_EQ(st.rejected_bad_frame, 0u);
}

// One msock Surveyor, both tools as respondents at once: a survey goes to
// both and Survey collects both answers before its deadline.
class MixedSurveyInteropTest : public ::testing::TestWithParam<Transport> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ToolAvailable(kNngcat)) << kNngcat << " missing";
    ASSERT_TRUE(ToolAvailable(kNanocat)) << kNanocat << " missing";
    ASSERT_FALSE(dir_.path().empty()) << "mkdtemp failed";
  }
  ScratchDir dir_;
};

TEST_P(MixedSurveyInteropTest, SurveyCollectsEveryAnswer) {
  Surveyor surveyor;
  std::vector<std::unique_ptr<ChildProcess>> peers;
  for (Tool tool : {Tool::kNngcat, Tool::kNanocat}) {
    absl::StatusOr<std::unique_ptr<ChildProcess>> peer = StartPeer(
        surveyor.socket(), GetParam(), dir_, /*msock_listens=*/true,
        [&](bool listen, const std::string& url) {
          return ToolArgv(tool, "respondent", listen, url,
                          {"--data", "yes-from-" + ToolName(tool), "-Q"});
        });
    ASSERT_TRUE(peer.ok()) << peer.status();
    peers.push_back(*std::move(peer));
  }
  absl::Status up = surveyor.WaitForPeers(2, absl::Now() + kWait);
  ASSERT_TRUE(up.ok()) << up << "; stderr: " << peers[0]->err() << " / "
                       << peers[1]->err();
  std::multiset<std::string> bodies;
  int surveys = 0;
  absl::Time deadline = absl::Now() + kWait;
  while (bodies.size() < 2 && absl::Now() < deadline) {
    Message who("who?");
    bodies.clear();
    absl::Status s = surveyor.Survey(
        who, absl::Now() + absl::Seconds(1),
        [&](Message& answer) { bodies.insert(std::string(answer.body())); });
    ASSERT_TRUE(s.ok()) << s;
    ++surveys;
  }
  EXPECT_EQ(bodies,
            (std::multiset<std::string>{"yes-from-Nanocat", "yes-from-Nngcat"}))
      << "after " << surveys << " surveys";
  for (auto& peer : peers) {
    std::optional<std::string> line = peer->ReadLine(kWait);
    EXPECT_EQ(line, std::optional<std::string>(Quoted("who?")))
        << peer->command();
  }
  EXPECT_EQ(surveyor.stats().rejected_bad_frame, 0u);
}

INSTANTIATE_TEST_SUITE_P(Transports, MixedSurveyInteropTest,
                         ::testing::Values(Transport::kTcp, Transport::kIpc),
                         [](const ::testing::TestParamInfo<Transport>& info) {
                           return TransportName(info.param);
                         });

INSTANTIATE_TEST_SUITE_P(Peers, SurveyInteropTest,
                         ::testing::ValuesIn(AllPeerCases()), PeerCaseName);

}  // namespace
}  // namespace msock::testing
