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
#include "tests/interop/ws_interop_util.h"

namespace msock::testing {
namespace {

struct WsCase {
  Tool tool;
  bool msock_listens;
};

std::string CaseName(const ::testing::TestParamInfo<WsCase>& info) {
  return ToolName(info.param.tool) +
         (info.param.msock_listens ? "_MsockListens" : "_PeerListens");
}

// Readable parameters in test listings (and no padding bytes in them).
void PrintTo(const WsCase& c, std::ostream* os) {
  *os << ToolName(c.tool)
      << (c.msock_listens ? " dials msock" : " listens, msock dials");
}

std::vector<WsCase> AllCases() {
  std::vector<WsCase> cases;
  for (Tool tool : {Tool::kNngcat, Tool::kNanocat}) {
    for (bool msock_listens : {true, false})
      cases.push_back({tool, msock_listens});
  }
  return cases;
}

// Checks every line in `lines` was expected; reports the others.
void NoOtherLines(const ChildProcess& peer,
                  const std::vector<std::string>& lines) {
  for (const std::string& line : lines)
    ADD_FAILURE() << "unexpected output of " << peer.command() << ": " << line;
}

class WsInteropTest : public ::testing::TestWithParam<WsCase> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ToolAvailable(ToolPath(GetParam().tool)))
        << ToolPath(GetParam().tool) << " missing";
  }
};

// ---- req / rep ----

// msock Req -> peer rep answering "pong".
TEST_P(WsInteropTest, MsockReqPeerRep) {
  const WsCase& c = GetParam();
  Req req;
  absl::StatusOr<std::unique_ptr<ChildProcess>> child = StartWsPeer(
      req.socket(), c.tool, c.msock_listens, "/reqrep",
      [&](bool listen, const std::string& url) {
        return ToolArgv(c.tool, "rep", listen, url, {"--data", "pong", "-Q"});
      });
  ASSERT_TRUE(child.ok()) << child.status();
  ChildProcess& peer = **child;
  absl::Status up = req.WaitForPeers(1, absl::Now() + kWait);
  ASSERT_TRUE(up.ok()) << up << "; " << peer.command()
                       << " stderr: " << peer.err();

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
  const WsCase& c = GetParam();
  Rep rep;
  absl::StatusOr<std::unique_ptr<ChildProcess>> child = StartWsPeer(
      rep.socket(), c.tool, c.msock_listens, "/reqrep",
      [&](bool listen, const std::string& url) {
        return ToolArgv(c.tool, "req", listen, url, {"--data", "ping", "-Q"});
      });
  ASSERT_TRUE(child.ok()) << child.status();
  ChildProcess& peer = **child;

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
  const WsCase& c = GetParam();
  Sub sub;
  sub.Subscribe("news:");
  std::vector<std::unique_ptr<ChildProcess>> pubs;
  for (const char* body : {"news:hit", "sports:miss"}) {
    // A message sent before the Sub's pipe is up is lost: repeat.
    absl::StatusOr<std::unique_ptr<ChildProcess>> pub = StartWsPeer(
        sub.socket(), c.tool, c.msock_listens, "/pubsub",
        [&](bool listen, const std::string& url) {
          return ToolArgv(
              c.tool, "pub", listen, url,
              {"--data", body, "--interval", RepeatInterval(c.tool)});
        });
    ASSERT_TRUE(pub.ok()) << pub.status();
    pubs.push_back(*std::move(pub));
  }
  absl::Status up = sub.WaitForPeers(2, absl::Now() + kWait);
  ASSERT_TRUE(up.ok()) << up << "; stderr: " << pubs[0]->err() << " / "
                       << pubs[1]->err();

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
  const WsCase& c = GetParam();
  Pub pub;
  absl::StatusOr<std::unique_ptr<ChildProcess>> child =
      StartWsPeer(pub.socket(), c.tool, c.msock_listens, "/pubsub",
                  [&](bool listen, const std::string& url) {
                    return ToolArgv(c.tool, "sub", listen, url,
                                    {"--subscribe", "news:", "-Q"});
                  });
  ASSERT_TRUE(child.ok()) << child.status();
  ChildProcess& peer = **child;
  absl::Status up = pub.WaitForPeers(1, absl::Now() + kWait);
  ASSERT_TRUE(up.ok()) << up << "; " << peer.command()
                       << " stderr: " << peer.err();

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
  const WsCase& c = GetParam();
  Pull pull;
  // Repeated: a tool closing right after a one-shot send may lose it.
  absl::StatusOr<std::unique_ptr<ChildProcess>> child = StartWsPeer(
      pull.socket(), c.tool, c.msock_listens, "/pipeline",
      [&](bool listen, const std::string& url) {
        return ToolArgv(
            c.tool, "push", listen, url,
            {"--data", "job-from-peer", "--interval", RepeatInterval(c.tool)});
      });
  ASSERT_TRUE(child.ok()) << child.status();
  ChildProcess& peer = **child;
  absl::StatusOr<Message> m = pull.Recv(absl::Now() + kWait);
  ASSERT_TRUE(m.ok()) << m.status() << "; " << peer.command()
                      << " stderr: " << peer.err();
  EXPECT_EQ(m->body(), "job-from-peer");
  EXPECT_EQ(pull.stats().rejected_protocol, 0u);
  EXPECT_EQ(pull.stats().rejected_bad_frame, 0u);
}

TEST_P(WsInteropTest, MsockPushPeerPull) {
  const WsCase& c = GetParam();
  Push push;
  absl::StatusOr<std::unique_ptr<ChildProcess>> child =
      StartWsPeer(push.socket(), c.tool, c.msock_listens, "/pipeline",
                  [&](bool listen, const std::string& url) {
                    return ToolArgv(c.tool, "pull", listen, url, {"-Q"});
                  });
  ASSERT_TRUE(child.ok()) << child.status();
  ChildProcess& peer = **child;
  absl::Status up = push.WaitForPeers(1, absl::Now() + kWait);
  ASSERT_TRUE(up.ok()) << up << "; " << peer.command()
                       << " stderr: " << peer.err();
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
                         CaseName);

// ---- pair ----

enum class PairPeer { kNngcatPair0, kNngcatPair1, kNanocatPair };

struct WsPairCase {
  PairPeer peer;
  bool msock_listens;
};

Tool PairTool(PairPeer p) {
  return p == PairPeer::kNanocatPair ? Tool::kNanocat : Tool::kNngcat;
}

const char* PairPeerName(PairPeer p) {
  return p == PairPeer::kNngcatPair0   ? "NngcatPair0"
         : p == PairPeer::kNngcatPair1 ? "NngcatPair1"
                                       : "NanocatPair";
}

std::string PairCaseName(const ::testing::TestParamInfo<WsPairCase>& info) {
  return std::string(PairPeerName(info.param.peer)) +
         (info.param.msock_listens ? "_MsockListens" : "_PeerListens");
}

void PrintTo(const WsPairCase& c, std::ostream* os) {
  *os << PairPeerName(c.peer)
      << (c.msock_listens ? " dials msock" : " listens, msock dials");
}

class WsPairInteropTest : public ::testing::TestWithParam<WsPairCase> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ToolAvailable(ToolPath(PairTool(GetParam().peer))))
        << ToolPath(PairTool(GetParam().peer)) << " missing";
  }

  // The peer sends "from-peer" every interval and prints what it receives.
  void RunBothDirections(PairRole& pair) {
    const WsPairCase& c = GetParam();
    const Tool tool = PairTool(c.peer);
    // `nngcat --pair` is broken in 1.5.2: name the version.
    const std::string proto = c.peer == PairPeer::kNngcatPair0   ? "pair0"
                              : c.peer == PairPeer::kNngcatPair1 ? "pair1"
                                                                 : "pair";
    absl::StatusOr<std::unique_ptr<ChildProcess>> child =
        StartWsPeer(pair.socket(), tool, c.msock_listens, "/pair",
                    [&](bool listen, const std::string& url) {
                      return ToolArgv(tool, proto, listen, url,
                                      {"--data", "from-peer", "--interval",
                                       RepeatInterval(tool), "-Q"});
                    });
    ASSERT_TRUE(child.ok()) << child.status();
    ChildProcess& peer = **child;
    absl::Status s = pair.WaitForPeers(1, absl::Now() + kWait);
    ASSERT_TRUE(s.ok()) << s << "; " << peer.command()
                        << " stderr: " << peer.err();

    absl::StatusOr<Message> m = pair.Recv(absl::Now() + kWait);
    ASSERT_TRUE(m.ok()) << m.status() << "; " << peer.command()
                        << " stderr: " << peer.err();
    EXPECT_EQ(m->body(), "from-peer");

    ASSERT_TRUE(pair.Send("from-msock", absl::Now() + kWait).ok());
    std::vector<std::string> other;
    EXPECT_TRUE(ReadUntilLine(peer, Quoted("from-msock"), kWait, &other))
        << peer.command() << " printed " << other.size()
        << " other lines; stderr: " << peer.err();
    NoOtherLines(peer, other);

    SocketStats st = pair.stats();
    EXPECT_EQ(st.rejected_protocol, 0u);
    EXPECT_EQ(st.rejected_bad_frame, 0u);
  }
};

TEST_P(WsPairInteropTest, BothDirections) {
  if (GetParam().peer == PairPeer::kNngcatPair1) {
    Pair1 pair;
    RunBothDirections(pair);
  } else {
    Pair0 pair;
    RunBothDirections(pair);
  }
}

std::vector<WsPairCase> AllPairCases() {
  std::vector<WsPairCase> cases;
  for (PairPeer p : {PairPeer::kNngcatPair0, PairPeer::kNngcatPair1,
                     PairPeer::kNanocatPair}) {
    for (bool msock_listens : {true, false})
      cases.push_back({p, msock_listens});
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Peers, WsPairInteropTest,
                         ::testing::ValuesIn(AllPairCases()), PairCaseName);

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
