// tests/interop/pubsub_interop_test.cc: msock Pub / Sub against nngcat and
// nanocat (--pub / --sub) over tcp and ipc, msock listening or dialing.
//
// Peer pub -> msock Sub: two peer publishers, one sending "news:hit", the other
// "sports:miss", both to one Sub subscribed to "news:". Only "news:hit" may
// arrive; the other is discarded at the Sub (filtered_out() counts it), since
// subscriptions never travel on the SP wire.
// msock Pub -> peer sub: the peer subscribes to "news:" and prints what it
// keeps; msock publishes a "sports:" message before every "news:" one, and the
// peer must print only the "news:" ones.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "msock/msock.h"
#include "tests/interop/interop_util.h"
#include "tests/interop/pattern_util.h"
#include "tests/interop/peer_case.h"

namespace msock::testing {
namespace {

using PubSubInteropTest = PeerInteropTest;

// Two peer publishers (news and sports) -> one msock Sub subscribed to "news:".
TEST_P(PubSubInteropTest, PeerPubToMsockSubWithPrefix) {
  const PeerCase& c = GetParam();
  Sub sub;
  sub.Subscribe("news:");
  std::vector<ChildProcess*> pubs;
  for (const char* body : {"news:hit", "sports:miss"}) {
    ChildProcess* pub =
        StartToolPeer(sub.socket(), [&](bool listen, const std::string& url) {
          return Argv("pub", listen, url,
                      {"--data", body, "--interval", RepeatInterval(c.tool)});
        });
    ASSERT_NE(pub, nullptr);
    pubs.push_back(pub);
  }
  ASSERT_TRUE(PeersUp(sub.socket(), 2));

  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<Message> m = sub.Recv(absl::Now() + kWait);
    ASSERT_TRUE(m.ok()) << m.status() << "; " << pubs[0]->command()
                        << " stderr: " << pubs[0]->err();
    EXPECT_EQ(m->body(), "news:hit");
  }
  // The sports publisher is connected and sends as often as the news one: its
  // messages reach the Sub and are discarded there.
  EXPECT_TRUE(WaitUntil([&] { return sub.filtered_out() >= 2; }))
      << "filtered_out " << sub.filtered_out() << "; " << pubs[1]->command()
      << " stderr: " << pubs[1]->err();
  // Nothing that got through the filter may be a sports message.
  while (true) {
    absl::StatusOr<Message> m = sub.TryRecv();
    if (!m.ok()) break;
    EXPECT_EQ(m->body(), "news:hit");
  }
  SocketStats st = sub.stats();
  EXPECT_EQ(st.dropped, 0u);
  EXPECT_EQ(st.rejected_protocol, 0u);
  EXPECT_EQ(st.rejected_bad_frame, 0u);
  EXPECT_GE(st.messages_in, 4u);  // 2 kept + at least 2 filtered
}

// msock Pub -> peer sub subscribed to "news:".
TEST_P(PubSubInteropTest, MsockPubToPeerSubWithPrefix) {
  Pub pub;
  ChildProcess* child =
      StartToolPeer(pub.socket(), [&](bool listen, const std::string& url) {
        return Argv("sub", listen, url, {"--subscribe", "news:", "-Q"});
      });
  ASSERT_NE(child, nullptr);
  ChildProcess& peer = *child;
  ASSERT_TRUE(PeersUp(pub.socket(), 1));

  // The pipe is up on msock's side; the peer may still be finishing its own
  // side of the handshake, so publish rounds until the first one shows up. A
  // sports message goes first in each round: the pipe keeps the order, so the
  // sports one reached the peer before the news one it prints.
  std::vector<std::string> lines;
  absl::Time deadline = absl::Now() + kWait;
  for (int round = 0; lines.empty() && absl::Now() < deadline; ++round) {
    Message sports("sports:miss-" + std::to_string(round));
    Message news("news:hit-" + std::to_string(round));
    ASSERT_TRUE(pub.Send(sports, absl::Now() + kWait).ok());
    ASSERT_TRUE(pub.Send(news, absl::Now() + kWait).ok());
    if (std::optional<std::string> line =
            peer.ReadLine(absl::Milliseconds(500))) {
      lines.push_back(*line);
    }
  }
  ASSERT_FALSE(lines.empty())
      << peer.command() << " printed nothing; stderr: " << peer.err();
  // A last round after the first hit: every line up to its news message must be
  // a news message (late ones of earlier rounds are fine).
  Message sports("sports:miss-last");
  Message news("news:hit-last");
  ASSERT_TRUE(pub.Send(sports, absl::Now() + kWait).ok());
  ASSERT_TRUE(pub.Send(news, absl::Now() + kWait).ok());
  EXPECT_TRUE(ReadUntilLine(peer, Quoted("news:hit-last"), kWait, &lines))
      << peer.command()
      << " did not print news:hit-last; stderr: " << peer.err();
  for (const std::string& line : lines) {
    EXPECT_TRUE(absl::StartsWith(line, "\"news:hit-"))
        << "peer sub printed " << line;
  }
  EXPECT_EQ(pub.stats().dropped, 0u);
  EXPECT_EQ(pub.stats().rejected_protocol, 0u);
}

INSTANTIATE_TEST_SUITE_P(Peers, PubSubInteropTest,
                         ::testing::ValuesIn(AllPeerCases()), PeerCaseName);

}  // namespace
}  // namespace msock::testing
