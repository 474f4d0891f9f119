// tests/interop/ws_interop_test.cc: msock's ws:// transport against nngcat
// (NNG 1.5.2) and nanocat (nanomsg 1.1.5), both roles: msock listening (the
// tool dials the bound URL) and the tool listening (msock dials it).
//
// Patterns: req/rep both ways, pub/sub both ways (msock's Sub filters by
// prefix), push/pull both ways and pair (nngcat --pair0 / --pair1, nanocat
// --pair = pair0) in both directions over one connection.
//
// The msock-listening cases with nngcat dialing are the ones NNG cannot do
// against a stock libwebsockets server (it answers "Upgrade: WebSocket", which
// an NNG 1.5.2 dialer refuses); msock writes its own 101 reply.
//
// nanocat listeners take no path (sp-wire §5.1): they bind ws://127.0.0.1:P
// and msock dials ws://127.0.0.1:P/; nanocat dialers keep the path of msock's
// URL. NanocatPathTest covers the path-less forms.
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "msock/msock.h"
#include "tests/interop/interop_util.h"
#include "tests/interop/pattern_util.h"
#include "tests/interop/peer_case.h"
#include "tests/interop/ws_interop_util.h"

namespace msock::testing {
namespace {

using WsInteropTest = PeerInteropTest;

std::vector<PeerCase> AllCases() {
  return PeerCases({Tool::kNngcat, Tool::kNanocat}, {Transport::kWs},
                   {Listener::kMsock, Listener::kPeer});
}

// ---- req / rep ----

// msock Req -> peer rep answering "pong".
TEST_P(WsInteropTest, MsockReqPeerRep) {
  Req req;
  ChildProcess* child = StartToolPeer(
      req.socket(), "/reqrep", [&](bool listen, const std::string& url) {
        return Argv("rep", listen, url, {"--data", "pong", "-Q"});
      });
  ASSERT_NE(child, nullptr);
  ChildProcess& peer = *child;
  ASSERT_TRUE(PeersUp(req.socket(), 1));

  for (const char* body : {"ping", "ping-2"}) {
    Message m(body);
    absl::StatusOr<Message> r = req.Request(m, absl::Now() + kWait);
    ASSERT_TRUE(r.ok()) << r.status() << "; " << peer.command()
                        << " stderr: " << peer.err();
    EXPECT_EQ(r->body(), "pong");
    std::vector<std::string> other;
    EXPECT_TRUE(ReadUntilLine(peer, Quoted(body), kWait, &other))
        << peer.command()
        << " did not print the request; stderr: " << peer.err();
    NoOtherLines(peer, other);
  }
  EXPECT_EQ(req.replies_matched(), 2u);
  SocketStats st = req.stats();
  EXPECT_EQ(st.dropped, 0u);
  EXPECT_EQ(st.rejected_protocol, 0u);
  EXPECT_EQ(st.rejected_bad_frame, 0u);
}

// Peer req sending "ping" once -> msock Rep.
TEST_P(WsInteropTest, PeerReqMsockRep) {
  Rep rep;
  ChildProcess* child = StartToolPeer(
      rep.socket(), "/reqrep", [&](bool listen, const std::string& url) {
        return Argv("req", listen, url, {"--data", "ping", "-Q"});
      });
  ASSERT_NE(child, nullptr);
  ChildProcess& peer = *child;

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
  NoOtherLines(peer, other);
  SocketStats st = rep.stats();
  EXPECT_EQ(st.rejected_protocol, 0u);
  EXPECT_EQ(st.rejected_bad_frame, 0u);
}

// ---- pub / sub ----

// Two peer publishers ("news:hit" and "sports:miss") -> one msock Sub
// subscribed to "news:". Only news may come through; sports is filtered at the
// Sub (subscriptions never travel on the wire).
TEST_P(WsInteropTest, PeerPubMsockSubWithPrefix) {
  const PeerCase& c = GetParam();
  Sub sub;
  sub.Subscribe("news:");
  std::vector<ChildProcess*> pubs;
  for (const char* body : {"news:hit", "sports:miss"}) {
    // A message sent before the Sub's pipe is up is lost: repeat.
    ChildProcess* pub = StartToolPeer(
        sub.socket(), "/pubsub", [&](bool listen, const std::string& url) {
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
  EXPECT_TRUE(WaitUntil([&] { return sub.filtered_out() >= 1; }))
      << "filtered_out " << sub.filtered_out() << "; " << pubs[1]->command()
      << " stderr: " << pubs[1]->err();
  while (true) {
    absl::StatusOr<Message> m = sub.TryRecv();
    if (!m.ok()) break;
    EXPECT_EQ(m->body(), "news:hit");
  }
  SocketStats st = sub.stats();
  EXPECT_EQ(st.dropped, 0u);
  EXPECT_EQ(st.rejected_protocol, 0u);
  EXPECT_EQ(st.rejected_bad_frame, 0u);
}

// msock Pub -> peer sub subscribed to "news:". A "sports:" message goes before
// every "news:" one; the peer must print only news.
TEST_P(WsInteropTest, MsockPubPeerSubWithPrefix) {
  Pub pub;
  ChildProcess* child = StartToolPeer(
      pub.socket(), "/pubsub", [&](bool listen, const std::string& url) {
        return Argv("sub", listen, url, {"--subscribe", "news:", "-Q"});
      });
  ASSERT_NE(child, nullptr);
  ChildProcess& peer = *child;
  ASSERT_TRUE(PeersUp(pub.socket(), 1));

  // The peer may still be finishing its side of the upgrade: publish rounds
  // until the first news line shows up.
  std::vector<std::string> lines;
  absl::Time deadline = absl::Now() + kWait;
  for (int round = 0; lines.empty() && absl::Now() < deadline; ++round) {
    Message sports("sports:miss-" + std::to_string(round));
    Message news("news:hit-" + std::to_string(round));
    ASSERT_TRUE(pub.Send(sports, absl::Now() + kWait).ok());
    ASSERT_TRUE(pub.Send(news, absl::Now() + kWait).ok());
    if (std::optional<std::string> line =
            peer.ReadLine(absl::Milliseconds(300))) {
      lines.push_back(*line);
    }
  }
  ASSERT_FALSE(lines.empty())
      << peer.command() << " printed nothing; stderr: " << peer.err();
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

// ---- push / pull ----

TEST_P(WsInteropTest, PeerPushMsockPull) {
  const PeerCase& c = GetParam();
  Pull pull;
  // Repeated: a tool closing right after a one-shot send may lose it.
  ChildProcess* child = StartToolPeer(
      pull.socket(), "/pipeline", [&](bool listen, const std::string& url) {
        return Argv(
            "push", listen, url,
            {"--data", "job-from-peer", "--interval", RepeatInterval(c.tool)});
      });
  ASSERT_NE(child, nullptr);
  ChildProcess& peer = *child;
  absl::StatusOr<Message> m = pull.Recv(absl::Now() + kWait);
  ASSERT_TRUE(m.ok()) << m.status() << "; " << peer.command()
                      << " stderr: " << peer.err();
  EXPECT_EQ(m->body(), "job-from-peer");
  EXPECT_EQ(pull.stats().rejected_protocol, 0u);
  EXPECT_EQ(pull.stats().rejected_bad_frame, 0u);
}

TEST_P(WsInteropTest, MsockPushPeerPull) {
  Push push;
  ChildProcess* child = StartToolPeer(
      push.socket(), "/pipeline", [&](bool listen, const std::string& url) {
        return Argv("pull", listen, url, {"-Q"});
      });
  ASSERT_NE(child, nullptr);
  ChildProcess& peer = *child;
  ASSERT_TRUE(PeersUp(push.socket(), 1));
  const std::vector<std::string> bodies = {"job-1", "job-2 with spaces",
                                           "job-3"};
  for (const std::string& body : bodies)
    ASSERT_TRUE(push.Send(body, absl::Now() + kWait).ok());
  for (const std::string& body : bodies) {
    std::optional<std::string> line = peer.ReadLine(kWait);
    ASSERT_TRUE(line.has_value())
        << "no output from " << peer.command() << "; stderr: " << peer.err();
    EXPECT_EQ(*line, Quoted(body));
  }
  EXPECT_EQ(push.stats().messages_out, bodies.size());
}

INSTANTIATE_TEST_SUITE_P(Peers, WsInteropTest, ::testing::ValuesIn(AllCases()),
                         PeerCaseName);

// ---- pair ----

using WsPairInteropTest = PairPeerInteropTest;

TEST_P(WsPairInteropTest, BothDirections) { RunBothDirections("/pair"); }

INSTANTIATE_TEST_SUITE_P(Peers, WsPairInteropTest,
                         ::testing::ValuesIn(PairPeerCases({Transport::kWs})),
                         PeerCaseName);

// ---- nanocat and paths ----

class NanocatPathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ToolAvailable(kNanocat)) << kNanocat << " missing";
  }

  // msock Req dials `dial_url` (a nanocat rep listening) and gets "pong".
  static void RequestPong(Req& req, ChildProcess& peer) {
    absl::Status up = req.WaitForPeers(1, absl::Now() + kWait);
    ASSERT_TRUE(up.ok()) << up << "; " << peer.command()
                         << " stderr: " << peer.err();
    Message m("ping");
    absl::StatusOr<Message> r = req.Request(m, absl::Now() + kWait);
    ASSERT_TRUE(r.ok()) << r.status() << "; " << peer.command()
                        << " stderr: " << peer.err();
    EXPECT_EQ(r->body(), "pong");
    EXPECT_TRUE(ReadUntilLine(peer, Quoted("ping"), kWait))
        << peer.command() << " did not print the request";
  }
};

// nanocat --req --connect ws://127.0.0.1:P (no path: it asks for "/") -> msock
// Rep listening on ws://127.0.0.1:0 (no path: serves "/").
TEST_F(NanocatPathTest, NanocatReqNoPathToMsockRepNoPath) {
  Rep rep;
  absl::StatusOr<std::string> url = rep.Listen("ws://127.0.0.1:0");
  ASSERT_TRUE(url.ok()) << url.status();
  const std::string bare = "ws://127.0.0.1:" + std::to_string(UrlPort(*url));
  absl::StatusOr<std::unique_ptr<ChildProcess>> child = ChildProcess::Start(
      {kNanocat, "--req", "--connect", bare, "--data", "ping", "-Q"});
  ASSERT_TRUE(child.ok()) << child.status();
  absl::StatusOr<Message> q = rep.Recv(absl::Now() + kWait);
  ASSERT_TRUE(q.ok()) << q.status() << "; stderr: " << (*child)->err();
  EXPECT_EQ(q->body(), "ping");
  Message answer("pong");
  ASSERT_TRUE(rep.Reply(*q, answer, absl::Now() + kWait).ok());
  EXPECT_TRUE(ReadUntilLine(**child, Quoted("pong"), kWait))
      << "stderr: " << (*child)->err();
}

// msock Req -> nanocat --rep --bind ws://127.0.0.1:P, dialed three ways: with
// no path, with "/", and with some other path (nanomsg serves any path).
TEST_F(NanocatPathTest, MsockReqToNanocatRepAnyPath) {
  for (const char* path : {"", "/", "/any/path"}) {
    SCOPED_TRACE(std::string("dial path '") + path + "'");
    absl::StatusOr<WsListeningPeer> lp =
        StartListeningWsPeer(Tool::kNanocat, "", [&](const std::string& url) {
          return ToolArgv(Tool::kNanocat, "rep", true, url,
                          {"--data", "pong", "-Q"});
        });
    ASSERT_TRUE(lp.ok()) << lp.status();
    Req req;
    ASSERT_TRUE(req.Dial(lp->listen_url + path).ok());
    RequestPong(req, *lp->child);
  }
}

}  // namespace
}  // namespace msock::testing
