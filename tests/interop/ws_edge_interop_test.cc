// tests/interop/ws_edge_interop_test.cc: msock's ws:// transport at its edges
// against nngcat and nanocat: refusals, paths, a shared port, large messages.
//
// A logging relay (TcpRelay) sits between msock and the tool where the test
// must know what went over the wire: the HTTP status a real peer got (400 for a
// wrong protocol, 404 for a wrong path), the casing of msock's 101 reply, and
// how a 200 KiB message was cut into frames.
//
// - WsRejectInteropTest: a peer of the wrong protocol is refused with 400,
//   counted in stats().rejected_protocol, never becomes a pipe, and the socket
//   still serves a good peer afterwards; msock dialing the wrong protocol gets
//   NNG's 400 and makes no pipe either.
// - WsPathInteropTest, WsEdgeTest.MsockDialsWrongPathOfNngcat: a wrong path
//   gets 404 (from msock; from NNG when msock dials), and the right path keeps
//   working.
// - WsEdgeTest.SharedPortTwoSocketsByPath: two msock sockets on one port,
//   different paths.
// - WsLargeInteropTest: 200 KiB requests and replies both ways, content
//   checked byte for byte (tools print them with --raw), frames checked at the
//   relay.
#include <atomic>
#include <memory>
#include <ostream>
#include <string>
#include <thread>
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

// Counts pipes added to a socket. Shared with the observer, so a late event
// finds it alive.
std::shared_ptr<std::atomic<int>> CountAddedPipes(Socket& s) {
  auto added = std::make_shared<std::atomic<int>>(0);
  s.OnPipeEvent([added](const PipeEvent& e) {
    if (e.type == PipeEventType::kAdded) ++*added;
  });
  return added;
}

// The status line of the relay's reply on connection `i`, once it came (empty
// if none within kWait).
std::string AwaitStatusLine(TcpRelay& relay, size_t i) {
  std::string line;
  WaitUntil([&] {
    line = StatusLine(relay.s2c(i));
    return !line.empty();
  });
  return line;
}

// The dial flag of a tool.
const char* DialFlag(Tool t) {
  return t == Tool::kNngcat ? "--dial" : "--connect";
}

class WsEdgeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ToolAvailable(kNngcat)) << kNngcat << " missing";
    ASSERT_TRUE(ToolAvailable(kNanocat)) << kNanocat << " missing";
  }
};

// ---- wrong protocol ----

class WsRejectInteropTest : public WsEdgeTest {};

// nngcat --req dialing an msock Pull: msock answers 400 (NNG's dial fails with
// "Protocol error"), counts it, and still takes a good pusher.
TEST_F(WsRejectInteropTest, NngcatReqToMsockPullGets400) {
  Pull pull;
  std::shared_ptr<std::atomic<int>> added = CountAddedPipes(pull.socket());
  absl::StatusOr<std::string> url = pull.Listen("ws://127.0.0.1:0/pull");
  ASSERT_TRUE(url.ok()) << url.status();
  absl::StatusOr<std::unique_ptr<TcpRelay>> relay =
      TcpRelay::Start(UrlPort(*url));
  ASSERT_TRUE(relay.ok()) << relay.status();

  // Synchronous dial: one attempt, then nngcat exits.
  absl::StatusOr<std::unique_ptr<ChildProcess>> wrong = ChildProcess::Start(
      {kNngcat, "--req", "--dial", WithPort(*url, (*relay)->port()), "--data",
       "ping", "-Q"});
  ASSERT_TRUE(wrong.ok()) << wrong.status();
  std::optional<int> rc = (*wrong)->Wait(kWait);
  ASSERT_TRUE(rc.has_value()) << "nngcat --req kept running";
  EXPECT_NE(*rc, 0);
  EXPECT_TRUE(absl::StrContains((*wrong)->err(), "Protocol error"))
      << "nngcat stderr: " << (*wrong)->err();
  EXPECT_EQ(AwaitStatusLine(**relay, 0), "HTTP/1.1 400 Bad Request")
      << "msock's reply: " << (*relay)->s2c(0);
  // A dialer asks for the protocol it wants the listener to speak.
  EXPECT_TRUE(absl::StrContains((*relay)->c2s(0),
                                "Sec-WebSocket-Protocol: rep.sp.nanomsg.org"))
      << "nngcat's request: " << (*relay)->c2s(0);
  EXPECT_TRUE(WaitUntil([&] { return pull.stats().rejected_protocol >= 1; }))
      << "rejected_protocol stayed 0";
  EXPECT_EQ(added->load(), 0) << "a wrong-protocol peer became a pipe";
  EXPECT_EQ(pull.socket().pipe_count(), 0);

  absl::StatusOr<std::unique_ptr<ChildProcess>> good =
      ChildProcess::Start({kNngcat, "--push", "--dial", *url, "--data",
                           "after-reject", "--interval", "1"});
  ASSERT_TRUE(good.ok()) << good.status();
  absl::StatusOr<Message> m = pull.Recv(absl::Now() + kWait);
  ASSERT_TRUE(m.ok()) << m.status() << "; stderr: " << (*good)->err();
  EXPECT_EQ(m->body(), "after-reject");
  EXPECT_EQ(pull.stats().rejected_protocol, 1u);
}

// nanocat --req dialing an msock Pull (nanocat retries for ever): each attempt
// gets 400 and is counted; a good nanocat pusher is served meanwhile.
TEST_F(WsRejectInteropTest, NanocatReqToMsockPullGets400) {
  Pull pull;
  std::shared_ptr<std::atomic<int>> added = CountAddedPipes(pull.socket());
  absl::StatusOr<std::string> url = pull.Listen("ws://127.0.0.1:0/pull");
  ASSERT_TRUE(url.ok()) << url.status();
  absl::StatusOr<std::unique_ptr<TcpRelay>> relay =
      TcpRelay::Start(UrlPort(*url));
  ASSERT_TRUE(relay.ok()) << relay.status();

  absl::StatusOr<std::unique_ptr<ChildProcess>> wrong =
      ChildProcess::Start({kNanocat, "--req", "--connect",
                           WithPort(*url, (*relay)->port()), "--data", "ping"});
  ASSERT_TRUE(wrong.ok()) << wrong.status();
  EXPECT_EQ(AwaitStatusLine(**relay, 0), "HTTP/1.1 400 Bad Request")
      << "msock's reply: " << (*relay)->s2c(0);
  EXPECT_TRUE(WaitUntil([&] { return pull.stats().rejected_protocol >= 1; }))
      << "rejected_protocol stayed 0; nanocat stderr: " << (*wrong)->err();

  absl::StatusOr<std::unique_ptr<ChildProcess>> good =
      ChildProcess::Start({kNanocat, "--push", "--connect", *url, "--data",
                           "after-reject", "--interval", "0.2"});
  ASSERT_TRUE(good.ok()) << good.status();
  absl::StatusOr<Message> m = pull.Recv(absl::Now() + kWait);
  ASSERT_TRUE(m.ok()) << m.status() << "; stderr: " << (*good)->err();
  EXPECT_EQ(m->body(), "after-reject");
  EXPECT_EQ(added->load(), 1) << "only the pusher may become a pipe";
}

// msock Req dialing an nngcat --pub listener: NNG answers 400; msock makes no
// pipe and counts the refusal. NNG's 400 gives no reason, so either counter
// will do (msock currently counts it in rejected_bad_frame; the test records
// both as properties).
TEST_F(WsRejectInteropTest, MsockReqToNngcatPubRefused) {
  absl::StatusOr<WsListeningPeer> lp =
      StartListeningWsPeer(Tool::kNngcat, "/x", [](const std::string& url) {
        return ToolArgv(Tool::kNngcat, "pub", true, url,
                        {"--data", "news", "--interval", "1"});
      });
  ASSERT_TRUE(lp.ok()) << lp.status();
  absl::StatusOr<std::unique_ptr<TcpRelay>> relay =
      TcpRelay::Start(UrlPort(lp->listen_url));
  ASSERT_TRUE(relay.ok()) << relay.status();
  Req req;
  std::shared_ptr<std::atomic<int>> added = CountAddedPipes(req.socket());
  ASSERT_TRUE(req.Dial(WithPort(lp->dial_url, (*relay)->port())).ok());

  EXPECT_EQ(AwaitStatusLine(**relay, 0), "HTTP/1.1 400 Bad Request")
      << "nngcat's reply: " << (*relay)->s2c(0);
  EXPECT_TRUE(absl::StrContains((*relay)->c2s(0),
                                "Sec-WebSocket-Protocol: rep.sp.nanomsg.org"))
      << "msock's request: " << (*relay)->c2s(0);
  EXPECT_TRUE(WaitUntil([&] {
    SocketStats st = req.stats();
    return st.rejected_protocol + st.rejected_bad_frame >= 1;
  })) << "the refused upgrade was not counted";
  EXPECT_EQ(added->load(), 0);
  EXPECT_EQ(req.socket().pipe_count(), 0);
  SocketStats st = req.stats();
  RecordProperty("rejected_protocol", std::to_string(st.rejected_protocol));
  RecordProperty("rejected_bad_frame", std::to_string(st.rejected_bad_frame));
}

// ---- paths ----

class WsPathInteropTest : public WsEdgeTest,
                          public ::testing::WithParamInterface<Tool> {};

// A tool dialing a path msock does not serve gets 404; the same tool on the
// right path is served, and msock's 101 says "Upgrade: websocket" in the
// casing NNG 1.5.2 requires.
TEST_P(WsPathInteropTest, WrongPathGets404RightPathServed) {
  const Tool tool = GetParam();
  Rep rep;
  absl::StatusOr<std::string> url = rep.Listen("ws://127.0.0.1:0/right");
  ASSERT_TRUE(url.ok()) << url.status();
  absl::StatusOr<std::unique_ptr<TcpRelay>> relay =
      TcpRelay::Start(UrlPort(*url));
  ASSERT_TRUE(relay.ok()) << relay.status();
  const std::string base = "ws://127.0.0.1:" + std::to_string((*relay)->port());

  absl::StatusOr<std::unique_ptr<ChildProcess>> lost =
      ChildProcess::Start({ToolPath(tool), "--req", DialFlag(tool),
                           base + "/wrong", "--data", "lost", "-Q"});
  ASSERT_TRUE(lost.ok()) << lost.status();
  EXPECT_EQ(AwaitStatusLine(**relay, 0), "HTTP/1.1 404 Not Found")
      << "msock's reply: " << (*relay)->s2c(0);
  EXPECT_TRUE(absl::StartsWith((*relay)->c2s(0), "GET /wrong HTTP/1.1\r\n"))
      << (*relay)->c2s(0);
  if (tool == Tool::kNngcat) {
    // A synchronous dial: NNG reports the 404 as "Connection refused".
    std::optional<int> rc = (*lost)->Wait(kWait);
    ASSERT_TRUE(rc.has_value()) << "nngcat kept running";
    EXPECT_NE(*rc, 0);
  }
  // (nanocat keeps retrying /wrong meanwhile.)

  absl::StatusOr<std::unique_ptr<ChildProcess>> good =
      ChildProcess::Start({ToolPath(tool), "--req", DialFlag(tool),
                           base + "/right", "--data", "ping", "-Q"});
  ASSERT_TRUE(good.ok()) << good.status();
  absl::StatusOr<Message> q = rep.Recv(absl::Now() + kWait);
  ASSERT_TRUE(q.ok()) << q.status() << "; stderr: " << (*good)->err();
  EXPECT_EQ(q->body(), "ping");
  Message answer("pong");
  ASSERT_TRUE(rep.Reply(*q, answer, absl::Now() + kWait).ok());
  EXPECT_TRUE(ReadUntilLine(**good, Quoted("pong"), kWait))
      << "stderr: " << (*good)->err();

  // The connection that was served: the only one asking for /right.
  std::string served_head;
  for (size_t i = 0; i < (*relay)->connections(); ++i) {
    if (absl::StartsWith((*relay)->c2s(i), "GET /right "))
      served_head = HttpHeadOf((*relay)->s2c(i));
  }
  EXPECT_TRUE(
      absl::StartsWith(served_head, "HTTP/1.1 101 Switching Protocols\r\n"))
      << served_head;
  EXPECT_TRUE(absl::StrContains(served_head, "\r\nUpgrade: websocket\r\n"))
      << served_head;
  EXPECT_TRUE(absl::StrContains(served_head,
                                "\r\nSec-WebSocket-Protocol: rep.sp.nanomsg.org"
                                "\r\n"))
      << served_head;
  EXPECT_EQ(rep.stats().rejected_protocol, 0u);
}

INSTANTIATE_TEST_SUITE_P(Tools, WsPathInteropTest,
                         ::testing::Values(Tool::kNngcat, Tool::kNanocat),
                         [](const ::testing::TestParamInfo<Tool>& info) {
                           return ToolName(info.param);
                         });

// msock dialing a path NNG does not serve gets 404 and makes no pipe; the right
// path works.
TEST_F(WsEdgeTest, MsockDialsWrongPathOfNngcat) {
  absl::StatusOr<WsListeningPeer> lp =
      StartListeningWsPeer(Tool::kNngcat, "/right", [](const std::string& url) {
        return ToolArgv(Tool::kNngcat, "rep", true, url,
                        {"--data", "pong", "-Q"});
      });
  ASSERT_TRUE(lp.ok()) << lp.status();
  absl::StatusOr<std::unique_ptr<TcpRelay>> relay =
      TcpRelay::Start(UrlPort(lp->listen_url));
  ASSERT_TRUE(relay.ok()) << relay.status();

  Req lost;
  std::shared_ptr<std::atomic<int>> added = CountAddedPipes(lost.socket());
  ASSERT_TRUE(
      lost.Dial("ws://127.0.0.1:" + std::to_string((*relay)->port()) + "/wrong")
          .ok());
  EXPECT_EQ(AwaitStatusLine(**relay, 0), "HTTP/1.1 404 Not Found")
      << "nngcat's reply: " << (*relay)->s2c(0);
  EXPECT_TRUE(WaitUntil([&] { return (*relay)->finished(0); }));
  EXPECT_EQ(added->load(), 0);
  EXPECT_EQ(lost.socket().pipe_count(), 0);

  Req req;
  ASSERT_TRUE(req.Dial(lp->dial_url).ok());
  Message m("ping");
  absl::StatusOr<Message> r = req.Request(m, absl::Now() + kWait);
  ASSERT_TRUE(r.ok()) << r.status() << "; stderr: " << lp->child->err();
  EXPECT_EQ(r->body(), "pong");
}

// ---- one port, several sockets ----

// An msock Rep on /rep and an msock Pull on /pull of one port: nngcat req and
// push reach the right one each; a req on /pull is refused by the Pull alone.
TEST_F(WsEdgeTest, SharedPortTwoSocketsByPath) {
  Rep rep;
  Pull pull;
  absl::StatusOr<std::string> rep_url = rep.Listen("ws://127.0.0.1:0/rep");
  ASSERT_TRUE(rep_url.ok()) << rep_url.status();
  const std::string pull_url =
      WithPort("ws://127.0.0.1:0/pull", UrlPort(*rep_url));
  absl::StatusOr<std::string> bound = pull.Listen(pull_url);
  ASSERT_TRUE(bound.ok()) << bound.status();
  EXPECT_EQ(*bound, pull_url);

  absl::StatusOr<std::unique_ptr<ChildProcess>> pusher =
      ChildProcess::Start({kNngcat, "--push", "--dial", pull_url, "--data",
                           "job", "--interval", "1"});
  ASSERT_TRUE(pusher.ok()) << pusher.status();
  absl::StatusOr<std::unique_ptr<ChildProcess>> asker = ChildProcess::Start(
      {kNanocat, "--req", "--connect", *rep_url, "--data", "ping", "-Q"});
  ASSERT_TRUE(asker.ok()) << asker.status();

  absl::StatusOr<Message> job = pull.Recv(absl::Now() + kWait);
  ASSERT_TRUE(job.ok()) << job.status() << "; stderr: " << (*pusher)->err();
  EXPECT_EQ(job->body(), "job");
  absl::StatusOr<Message> q = rep.Recv(absl::Now() + kWait);
  ASSERT_TRUE(q.ok()) << q.status() << "; stderr: " << (*asker)->err();
  EXPECT_EQ(q->body(), "ping");
  Message answer("pong");
  ASSERT_TRUE(rep.Reply(*q, answer, absl::Now() + kWait).ok());
  EXPECT_TRUE(ReadUntilLine(**asker, Quoted("pong"), kWait))
      << "stderr: " << (*asker)->err();

  absl::StatusOr<std::unique_ptr<ChildProcess>> wrong = ChildProcess::Start(
      {kNngcat, "--req", "--dial", pull_url, "--data", "ping"});
  ASSERT_TRUE(wrong.ok()) << wrong.status();
  std::optional<int> rc = (*wrong)->Wait(kWait);
  ASSERT_TRUE(rc.has_value());
  EXPECT_NE(*rc, 0);
  EXPECT_TRUE(WaitUntil([&] { return pull.stats().rejected_protocol >= 1; }));
  EXPECT_EQ(rep.stats().rejected_protocol, 0u);
  EXPECT_EQ(pull.socket().pipe_count(), 1);  // the pusher only
}

// ---- large messages ----

constexpr size_t kLarge = 200 * 1024;

using WsLargeInteropTest = PeerInteropTest;

// What a relay carried, for failure messages.
std::string Traffic(TcpRelay& relay) {
  std::string out;
  for (size_t i = 0; i < relay.connections(); ++i) {
    const std::string c2s = relay.c2s(i);
    const std::string s2c = relay.s2c(i);
    out += "\nconnection " + std::to_string(i) +
           (relay.finished(i) ? " (closed)" : "") + ": c2s " +
           std::to_string(c2s.size()) + " bytes, head " +
           std::to_string(HttpHeadOf(c2s).size()) + ", frames " +
           DescribeFrames(WsFramesOf(c2s)) + "; s2c " +
           std::to_string(s2c.size()) + " bytes, status '" + StatusLine(s2c) +
           "', frames " + DescribeFrames(WsFramesOf(s2c));
  }
  return out.empty() ? "no connections" : out;
}

// The data frames msock sent for one message of `payload` bytes: fragmented,
// none over 64 KiB, masked iff msock dialed, a binary first frame then
// continuations, FIN on the last only.
void ExpectMsockFrames(const std::string& stream, size_t payload, bool masked) {
  std::vector<WsFrame> frames;
  for (const WsFrame& f : WsFramesOf(stream)) {
    if (f.opcode < 8) frames.push_back(f);  // not the close at the end
  }
  SCOPED_TRACE("msock's frames: " + DescribeFrames(frames));
  ASSERT_GE(frames.size(), 2u)
      << "a " << payload << "-byte message in one frame";
  uint64_t total = 0;
  for (size_t i = 0; i < frames.size(); ++i) {
    EXPECT_EQ(frames[i].opcode, i == 0 ? 2 : 0) << "frame " << i;
    EXPECT_EQ(frames[i].fin, i + 1 == frames.size()) << "frame " << i;
    EXPECT_EQ(frames[i].masked, masked) << "frame " << i;
    EXPECT_LE(frames[i].length, 65536u) << "frame " << i;
    total += frames[i].length;
  }
  EXPECT_EQ(total, payload);
}

// 200 KiB of random bytes each way in one req/rep exchange: the request from
// msock (or the tool's --file), the reply from the tool's --file (or msock).
// The tool prints what it got with --raw; both sides compare byte for byte.
TEST_P(WsLargeInteropTest, RequestAndReplyIntact) {
  const PeerCase& c = GetParam();
  const std::string request = RandomBytes(kLarge, 1);
  const std::string reply = RandomBytes(kLarge, 2);
  std::unique_ptr<TcpRelay> relay;
  std::unique_ptr<ChildProcess> peer;

  if (c.msock_listens()) {
    // tool --req --file request -> relay -> msock Rep, which replies `reply`.
    Rep rep;
    ASSERT_TRUE(rep.Set(opt::kMaxRecvSize, size_t{1} << 20).ok());
    absl::StatusOr<std::string> url = rep.Listen("ws://127.0.0.1:0/large");
    ASSERT_TRUE(url.ok()) << url.status();
    absl::StatusOr<std::unique_ptr<TcpRelay>> r =
        TcpRelay::Start(UrlPort(*url));
    ASSERT_TRUE(r.ok()) << r.status();
    relay = *std::move(r);
    const std::string file = dir_.WriteFile("request", request);
    absl::StatusOr<std::unique_ptr<ChildProcess>> child = ChildProcess::Start(
        ToolArgv(c.tool, "req", false, WithPort(*url, relay->port()),
                 {"--file", file, "--raw"}));
    ASSERT_TRUE(child.ok()) << child.status();
    peer = *std::move(child);
    absl::StatusOr<Message> q = rep.Recv(absl::Now() + kWait);
    ASSERT_TRUE(q.ok()) << q.status() << "; stderr: " << peer->err();
    EXPECT_TRUE(q->body() == request) << FirstDifference(q->body(), request);
    Message answer(reply);
    ASSERT_TRUE(rep.Reply(*q, answer, absl::Now() + kWait).ok());
    const std::string printed = peer->ReadBytes(kLarge, kWait);
    EXPECT_TRUE(printed == reply)
        << FirstDifference(printed, reply) << "; stderr: " << peer->err();
    EXPECT_EQ(rep.stats().rejected_oversize, 0u);
    EXPECT_EQ(rep.stats().rejected_bad_frame, 0u);
  } else {
    // msock Req -> relay -> tool --rep --file reply.
    const std::string file = dir_.WriteFile("reply", reply);
    absl::StatusOr<WsListeningPeer> lp =
        StartListeningWsPeer(c.tool, "/large", [&](const std::string& url) {
          return ToolArgv(c.tool, "rep", true, url, {"--file", file, "--raw"});
        });
    ASSERT_TRUE(lp.ok()) << lp.status();
    peer = std::move(lp->child);
    absl::StatusOr<std::unique_ptr<TcpRelay>> r =
        TcpRelay::Start(UrlPort(lp->listen_url));
    ASSERT_TRUE(r.ok()) << r.status();
    relay = *std::move(r);
    Req req;
    ASSERT_TRUE(req.Set(opt::kMaxRecvSize, size_t{1} << 20).ok());
    ASSERT_TRUE(req.Dial(WithPort(lp->dial_url, relay->port())).ok());
    // The tool prints the request before it replies, and 200 KiB do not fit
    // in its stdout pipe: read its output while the request waits.
    absl::StatusOr<Message> got = absl::UnknownError("not run");
    std::thread asker([&] {
      Message m(request);
      got = req.Request(m, absl::Now() + kWait);
    });
    const std::string printed = peer->ReadBytes(kLarge, kWait);
    asker.join();
    EXPECT_TRUE(printed == request)
        << FirstDifference(printed, request) << "; stderr: " << peer->err();
    ASSERT_TRUE(got.ok()) << got.status() << "; stderr: " << peer->err()
                          << "; relay: " << Traffic(*relay);
    EXPECT_TRUE(got->body() == reply) << FirstDifference(got->body(), reply);
    EXPECT_EQ(req.stats().rejected_oversize, 0u);
    EXPECT_EQ(req.stats().rejected_bad_frame, 0u);
  }

  // On the wire: one connection, each way one message of id + body.
  ASSERT_EQ(relay->connections(), 1u);
  const std::string c2s = relay->c2s(0);
  const std::string s2c = relay->s2c(0);
  const std::vector<std::string> up = WsMessagesOf(c2s);
  const std::vector<std::string> down = WsMessagesOf(s2c);
  ASSERT_EQ(up.size(), 1u) << DescribeFrames(WsFramesOf(c2s));
  ASSERT_EQ(down.size(), 1u) << DescribeFrames(WsFramesOf(s2c));
  EXPECT_EQ(up[0].size(), kLarge + 4);
  EXPECT_TRUE(up[0].substr(4) == request);
  EXPECT_EQ(down[0].substr(0, 4), up[0].substr(0, 4)) << "request id echo";
  EXPECT_TRUE(down[0].substr(4) == reply);
  // msock's own frames; the tool's are recorded for the report.
  const std::string& msock_stream = c.msock_listens() ? s2c : c2s;
  const std::string& tool_stream = c.msock_listens() ? c2s : s2c;
  ExpectMsockFrames(msock_stream, kLarge + 4, /*masked=*/!c.msock_listens());
  RecordProperty("tool_frames", DescribeFrames(WsFramesOf(tool_stream)));
}

INSTANTIATE_TEST_SUITE_P(Peers, WsLargeInteropTest,
                         ::testing::ValuesIn(PeerCases(
                             {Tool::kNngcat, Tool::kNanocat}, {Transport::kWs},
                             {Listener::kMsock, Listener::kPeer})),
                         PeerCaseName);

}  // namespace
}  // namespace msock::testing
