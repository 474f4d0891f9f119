// Rooms on the wire: the JSON mapping (hand-written JSON as a browser sends it,
// a JSON RoomsClient over tcp and over ws text frames), mixed encodings in one
// room, a browser (text frames) and a C++ client (binary frames) on one ws
// port, malformed input and silent connections (closed, counted, others go
// on), and 1,000 clients in 10 rooms over tcp.
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/protocols/rooms_test_util.h"
#include "tests/support/raw_client.h"
#include "transports/ws/ws_codec.h"

namespace msock {
namespace {

using test::ConnectClient;
using test::Deadline;
using test::EventLog;
using test::ListenUrlFor;
using test::RecvString;
using test::TestClient;
using test::WaitUntil;

// A hand-driven hub client on a raw socket: it sends and receives bodies as
// given (JSON text here), the way clients/js does.
class RawPeer {
 public:
  explicit RawPeer(const std::string& url, bool ws_text = false)
      : sock_(protocols::kHubClient) {
    sock_.OnPipeEvent(log_.Fn());
    // No quick re-dial: a closed connection stays closed during the test.
    EXPECT_TRUE(sock_.Set(opt::kReconnectMin, absl::Seconds(60)).ok());
    if (ws_text) {
      EXPECT_TRUE(sock_.Set(opt::kWsText, true).ok());
    }
    EXPECT_TRUE(sock_.Dial(url).ok());
    EXPECT_TRUE(sock_.WaitForPeers(1, Deadline(10)).ok());
    std::vector<PipeStats> pipes = sock_.pipe_stats();
    pipe_ = pipes.empty() ? 0 : pipes[0].pipe_id;
  }
  absl::Status Send(std::string_view body) {
    Message m(body);
    return sock_.SendTo(Path{pipe_}, m, Deadline(10));
  }
  absl::StatusOr<std::string> Recv() { return RecvString(sock_, Deadline(10)); }
  // True once the hub has closed the connection.
  bool WaitClosed() {
    return WaitUntil([&] { return log_.Count(PipeEventType::kRemoved) >= 1; },
                     Deadline(10));
  }

 private:
  EventLog log_;  // outlives sock_
  Socket sock_;
  uint32_t pipe_ = 0;
};

Hub* NewEchoHub(Hub* hub) {
  hub->On("echo", [](const RoomEvent& ev) -> absl::StatusOr<std::string> {
    return ev.payload;
  });
  return hub;
}

TEST(RoomsWireTest, HandWrittenJsonExchange) {
  Hub hub;
  NewEchoHub(&hub);
  absl::StatusOr<std::string> url = hub.Listen(ListenUrlFor("tcp"));
  ASSERT_TRUE(url.ok());
  RawPeer peer(*url);
  ASSERT_TRUE(peer.Send(R"({"hello":{}})").ok());
  EXPECT_EQ(peer.Recv().value_or(""), R"({"welcome":{"id":"c1"}})");
  ASSERT_TRUE(peer.Send(R"({"join":{"id":7,"room":"lobby"}})").ok());
  EXPECT_EQ(peer.Recv().value_or(""), R"({"ack":{"id":7}})");
  EXPECT_EQ(hub.Members("lobby"), std::vector<std::string>{"c1"});
  ASSERT_TRUE(
      peer.Send(R"({"event":{"name":"echo","text":"hello","ack":8}})").ok());
  EXPECT_EQ(peer.Recv().value_or(""), R"({"ack":{"id":8,"text":"hello"}})");
  // Bytes that are not UTF-8 travel base64 in "payload" (0xFF = "/w==").
  ASSERT_TRUE(
      peer.Send(R"({"event":{"name":"echo","payload":"/w==","ack":9}})").ok());
  EXPECT_EQ(peer.Recv().value_or(""), R"({"ack":{"id":9,"payload":"/w=="}})");
  ASSERT_TRUE(
      peer.Send(R"({"event":{"name":"nope","text":"","ack":10}})").ok());
  EXPECT_EQ(
      peer.Recv().value_or(""),
      R"({"ack":{"id":10,"code":12,"error":"no handler for event \"nope\""}})");
  ASSERT_TRUE(hub.ToRoom("lobby", "news", "hi").ok());
  EXPECT_EQ(peer.Recv().value_or(""),
            R"({"event":{"name":"news","text":"hi","room":"lobby"}})");
  // Snake-case field names are accepted too, and unknown fields ignored.
  ASSERT_TRUE(
      peer.Send(R"({"leave":{"id":11,"room":"lobby","extra":1}})").ok());
  EXPECT_EQ(peer.Recv().value_or(""), R"({"ack":{"id":11}})");
  EXPECT_TRUE(hub.Members("lobby").empty());
}

TEST(RoomsWireTest, JsonRefusalAndReconnectHello) {
  Hub hub;
  hub.OnConnect([](const ConnectRequest& req) -> absl::StatusOr<std::string> {
    if (!req.json) return absl::InternalError("expected a JSON client");
    if (req.token.empty()) return absl::PermissionDeniedError("log in first");
    return req.previous_id.empty() ? "fresh" : req.previous_id;
  });
  absl::StatusOr<std::string> url = hub.Listen(ListenUrlFor("tcp"));
  ASSERT_TRUE(url.ok());
  RawPeer anon(*url);
  ASSERT_TRUE(anon.Send(R"({"hello":{}})").ok());
  EXPECT_EQ(anon.Recv().value_or(""),
            R"({"refused":{"code":7,"reason":"log in first"}})");
  RawPeer back(*url);
  ASSERT_TRUE(
      back.Send(R"({"hello":{"token":"t","previous_id":"old-7"}})").ok());
  EXPECT_EQ(back.Recv().value_or(""),
            R"({"welcome":{"id":"old-7","reconnected":true}})");
}

class RoomsJsonClientTest : public ::testing::TestWithParam<std::string> {};

TEST_P(RoomsJsonClientTest, JsonClientRoundTrip) {
  const bool ws = GetParam() == "ws";
  Hub hub;
  NewEchoHub(&hub);
  if (ws) {
    ASSERT_TRUE(hub.Set(opt::kWsText, true).ok());
  }
  absl::StatusOr<std::string> url = hub.Listen(ListenUrlFor(GetParam()));
  ASSERT_TRUE(url.ok()) << url.status();
  RoomsClientOptions o;
  o.json = true;
  auto c = std::make_unique<TestClient>();
  c->client = std::make_unique<RoomsClient>(o);
  if (ws) {
    ASSERT_TRUE(c->client->Set(opt::kWsText, true).ok());
  }
  c->client->Otherwise(c->inbox.Handler());
  absl::StatusOr<std::string> id = c->client->Connect(*url, Deadline(10));
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(c->client->Emit("echo", "text ok", Deadline(10)).value_or(""),
            "text ok");
  const std::string binary("\x00\x01\xfe\xff", 4);
  EXPECT_EQ(c->client->Emit("echo", binary, Deadline(10)).value_or(""), binary);
  ASSERT_TRUE(c->client->Join("r", Deadline(10), "/json").ok());
  ASSERT_TRUE(hub.ToRoom("r", "bin", binary, "/json").ok());
  ASSERT_TRUE(c->inbox.WaitFor("bin"));
  EXPECT_EQ(c->inbox.Last("bin").payload, binary);
  EXPECT_EQ(c->inbox.Last("bin").ns, "/json");
  absl::StatusOr<std::string> ack = hub.Emit(*id, "q", "?", Deadline(10));
  EXPECT_EQ(ack.value_or(""), "got:q");
}

INSTANTIATE_TEST_SUITE_P(TcpAndWsText, RoomsJsonClientTest,
                         ::testing::Values("tcp", "ws"),
                         [](const auto& info) { return info.param; });

TEST(RoomsWireTest, MixedRoomEncodesOneBodyPerEncoding) {
  Hub hub;
  absl::StatusOr<std::string> url = hub.Listen(ListenUrlFor("tcp"));
  ASSERT_TRUE(url.ok());
  RoomsClientOptions json;
  json.json = true;
  std::vector<std::unique_ptr<TestClient>> cs;
  for (int i = 0; i < 6; ++i) {
    cs.push_back(ConnectClient(*url, i % 2 ? json : RoomsClientOptions()));
    ASSERT_TRUE(cs.back()->client->Join("mix", Deadline(10)).ok());
  }
  const uint64_t before = hub.rooms_stats().bodies_encoded;
  absl::StatusOr<size_t> n = hub.ToRoom("mix", "e", "p");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 6u);
  EXPECT_EQ(hub.rooms_stats().bodies_encoded - before, 2u);
  for (auto& c : cs) {
    ASSERT_TRUE(c->inbox.WaitFor("e"));
    EXPECT_EQ(c->inbox.Last("e").payload, "p");
  }
}

TEST(RoomsWireTest, MalformedInputClosesOnlyThatConnection) {
  Hub hub;
  NewEchoHub(&hub);
  absl::StatusOr<std::string> url = hub.Listen(ListenUrlFor("tcp"));
  ASSERT_TRUE(url.ok());
  auto good = ConnectClient(*url);
  const std::vector<std::string> bad = {
      std::string("\x07garbage"),              // not protobuf
      R"({"hello": nope})",                    // not JSON
      R"({"event":{"name":"echo","ack":1}})",  // event before Hello
      R"({"welcome":{"id":"me"}})",            // wrong direction
      std::string(),                           // empty: no kind
  };
  for (size_t i = 0; i < bad.size(); ++i) {
    RawPeer peer(*url);
    ASSERT_TRUE(peer.Send(bad[i]).ok());
    EXPECT_TRUE(peer.WaitClosed()) << i;
    EXPECT_EQ(hub.rooms_stats().malformed, i + 1);
  }
  EXPECT_EQ(good->client->Emit("echo", "still", Deadline(10)).value_or(""),
            "still");
}

TEST(RoomsWireTest, TooDeepJsonIsAnsweredCountedAndTheConnectionGoesOn) {
  // 100,000 levels of nesting in an unknown field: not parsed, answered
  // kInvalidArgument where there is an id, counted, the connection kept.
  Hub hub;
  NewEchoHub(&hub);
  ASSERT_TRUE(hub.Set(opt::kWsText, true).ok());
  absl::StatusOr<std::string> url = hub.Listen(ListenUrlFor("ws"));
  ASSERT_TRUE(url.ok()) << url.status();
  RawPeer peer(*url, /*ws_text=*/true);
  ASSERT_TRUE(peer.Send(R"({"hello":{}})").ok());
  EXPECT_EQ(peer.Recv().value_or(""), R"({"welcome":{"id":"c1"}})");
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  ASSERT_TRUE(
      peer.Send(R"({"event":{"name":"echo","ack":5,"x":)" + deep + "}}").ok());
  EXPECT_EQ(peer.Recv().value_or(""),
            R"({"ack":{"id":5,"code":3,"error":"rooms: JSON nested deeper )"
            R"(than 64 levels"}})");
  // protobuf also reads single-quoted strings: a '"' in one hides nothing.
  ASSERT_TRUE(
      peer.Send(R"({"event":{"name":"echo","ack":9},'x"':)" + deep + "}").ok());
  EXPECT_EQ(peer.Recv().value_or(""),
            R"({"ack":{"id":9,"code":3,"error":"rooms: JSON nested deeper )"
            R"(than 64 levels"}})");
  // An ack too deep to read fails the hub's Emit at once with the reason.
  absl::StatusOr<std::string> emitted;
  std::thread emit([&] { emitted = hub.Emit("c1", "q", "?", Deadline(20)); });
  absl::StatusOr<std::string> event = peer.Recv();
  ASSERT_TRUE(event.ok()) << event.status();
  const size_t at = event->find("\"ack\":");
  ASSERT_NE(at, std::string::npos) << *event;
  const std::string id =
      event->substr(at + 6, event->find_first_of(",}", at) - (at + 6));
  ASSERT_TRUE(
      peer.Send(R"({"ack":{"x":)" + deep + R"(,"id":)" + id + "}}").ok());
  emit.join();
  EXPECT_EQ(emitted.status().code(), absl::StatusCode::kInvalidArgument)
      << emitted.status();
  EXPECT_NE(emitted.status().message().find("deeper than 64 levels"),
            std::string::npos);
  // Within the limit is fine, and the connection still serves.
  const std::string ok = std::string(60, '[') + std::string(60, ']');
  ASSERT_TRUE(
      peer.Send(R"({"event":{"name":"echo","text":"still","ack":6,"x":)" + ok +
                "}}")
          .ok());
  EXPECT_EQ(peer.Recv().value_or(""), R"({"ack":{"id":6,"text":"still"}})");
  EXPECT_EQ(hub.rooms_stats().too_deep, 3u);
  EXPECT_EQ(hub.rooms_stats().malformed, 0u);
}

TEST(RoomsWireTest, AckReachesAClientWhoseQueueARoomFloodFilled) {
  // Fan-outs stop at the send queue limits (and are dropped, counted); an
  // answer may pass them by a small reserve, so the client's Emit still gets
  // its ack instead of timing out.
  Hub hub;
  NewEchoHub(&hub);
  absl::StatusOr<std::string> url = hub.Listen(ListenUrlFor("tcp"));
  ASSERT_TRUE(url.ok());
  RawPeer peer(*url);
  ASSERT_TRUE(peer.Send(R"({"hello":{}})").ok());
  EXPECT_EQ(peer.Recv().value_or(""), R"({"welcome":{"id":"c1"}})");
  // The peer reads nothing while the hub floods its room until a copy is
  // dropped: its queue at the hub is full.
  const std::string big(32 * 1024, 'f');
  const absl::Time until = Deadline(30);
  while (hub.rooms_stats().dropped == 0 && absl::Now() < until) {
    ASSERT_TRUE(hub.ToRoom("c1", "flood", big).ok());
  }
  const uint64_t dropped = hub.rooms_stats().dropped;
  ASSERT_GT(dropped, 0u);
  ASSERT_TRUE(
      peer.Send(R"({"event":{"name":"echo","text":"mine","ack":42}})").ok());
  bool got_ack = false;
  for (int i = 0; i < 100000 && !got_ack; ++i) {
    absl::StatusOr<std::string> m = peer.Recv();
    ASSERT_TRUE(m.ok()) << i << ": " << m.status();
    got_ack = *m == R"({"ack":{"id":42,"text":"mine"}})";
  }
  EXPECT_TRUE(got_ack);
  EXPECT_EQ(hub.rooms_stats().dropped, dropped);  // the ack was not dropped
}

TEST(RoomsWireTest, SilentConnectionIsClosedAfterHelloTimeout) {
  HubOptions o;
  o.hello_timeout = absl::Milliseconds(200);
  Hub hub(o);
  absl::StatusOr<std::string> url = hub.Listen(ListenUrlFor("tcp"));
  ASSERT_TRUE(url.ok());
  auto good = ConnectClient(*url);
  RawPeer silent(*url);
  EXPECT_TRUE(silent.WaitClosed());
  EXPECT_TRUE(good->client->connected());
  EXPECT_EQ(hub.Clients(), std::vector<std::string>{good->id});
}

// The first frame the hub sends a raw ws client: its first byte (FIN and
// opcode) and its payload (short, unmasked), or {0, ""}.
std::pair<int, std::string> ReadFrame(test::RawClient& c) {
  std::string head;
  if (!c.ReadExactly(2, Deadline(10), &head)) return {0, ""};
  std::string payload;
  const size_t len = static_cast<uint8_t>(head[1]);
  if (len >= 126 || !c.ReadExactly(len, Deadline(10), &payload)) return {0, ""};
  return {static_cast<uint8_t>(head[0]), payload};
}

std::string TextFrame(const std::string& text) {
  std::string f;
  internal::ws::AppendFrame(&f, internal::ws::kText, true, true, 0x1234u,
                            {text});
  return f;
}

TEST(RoomsWireTest, OneWsPortServesBrowsersAndCppClients) {
  Hub hub;  // no kWsText: each ws peer is answered in its own frame type
  NewEchoHub(&hub);
  absl::StatusOr<std::string> url = hub.Listen(ListenUrlFor("ws"));
  ASSERT_TRUE(url.ok()) << url.status();
  absl::StatusOr<Url> u = ParseUrl(*url);
  ASSERT_TRUE(u.ok());
  // A browser, by hand: JSON in text frames.
  test::RawClient browser(*url);
  ASSERT_TRUE(browser.Write(internal::ws::UpgradeRequest(
      "127.0.0.1", u->path, internal::ws::NewClientKey(),
      "hub.sp.nanomsg.org")));
  std::string head;
  while (head.find("\r\n\r\n") == std::string::npos) {
    ASSERT_TRUE(browser.ReadExactly(head.size() + 1, Deadline(10), &head));
  }
  ASSERT_EQ(head.rfind("HTTP/1.1 101", 0), 0u) << head;
  ASSERT_TRUE(browser.Write(TextFrame(R"({"hello":{}})")));
  const std::pair<int, std::string> kWelcome = {0x81,
                                                R"({"welcome":{"id":"c1"}})"};
  EXPECT_EQ(ReadFrame(browser), kWelcome);
  // A C++ client on the same port speaks protobuf in binary frames (it would
  // close on a text frame).
  auto cpp = ConnectClient(*url);
  ASSERT_TRUE(cpp->client->connected());
  EXPECT_EQ(cpp->client->Emit("echo", "bin", Deadline(10)).value_or(""), "bin");
  ASSERT_TRUE(browser.Write(TextFrame(R"({"join":{"id":7,"room":"lobby"}})")));
  const std::pair<int, std::string> kAck = {0x81, R"({"ack":{"id":7}})"};
  EXPECT_EQ(ReadFrame(browser), kAck);
  ASSERT_TRUE(cpp->client->Join("lobby", Deadline(10)).ok());
  // One event to both, each in its encoding and frame type.
  ASSERT_TRUE(hub.ToRoom("lobby", "news", "hi").ok());
  const std::pair<int, std::string> kNews = {
      0x81, R"({"event":{"name":"news","text":"hi","room":"lobby"}})"};
  EXPECT_EQ(ReadFrame(browser), kNews);
  ASSERT_TRUE(cpp->inbox.WaitFor("news"));
  EXPECT_EQ(cpp->inbox.Last("news").payload, "hi");
  EXPECT_TRUE(cpp->client->connected());
}

#if defined(__SANITIZE_THREAD__)
#define MSOCK_UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define MSOCK_UNDER_TSAN 1
#endif
#endif

TEST(RoomsScaleTest, ThousandClientsInTenRoomsOverTcp) {
#ifdef MSOCK_UNDER_TSAN
  constexpr int kClients = 300;  // TSan: 3 threads per client get costly
#else
  constexpr int kClients = 1000;
#endif
  constexpr int kRooms = 10;
  // Two descriptors per connection (both ends are in this process).
  rlimit lim{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &lim), 0);
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
  ASSERT_GE(lim.rlim_cur, static_cast<rlim_t>(2 * kClients + 200))
      << "raise the open-files limit";

  const absl::Time start = absl::Now();
  Context ctx;  // one I/O loop for everything
  Hub hub(HubOptions(), ctx);
  std::atomic<int> said{0};
  hub.On("hello", [&](const RoomEvent&) -> absl::StatusOr<std::string> {
    said++;
    return std::string("hi");
  });
  absl::StatusOr<std::string> url = hub.Listen("tcp://127.0.0.1:0");
  ASSERT_TRUE(url.ok());
  std::vector<std::unique_ptr<TestClient>> cs(kClients);
  for (int i = 0; i < kClients; ++i) {
    cs[i] = std::make_unique<TestClient>();
    cs[i]->client = std::make_unique<RoomsClient>(RoomsClientOptions(), ctx);
    cs[i]->client->Otherwise(cs[i]->inbox.Handler());
    ASSERT_TRUE(cs[i]->client->Dial(*url).ok());
  }
  // Connect, join and emit from 10 threads, one room each.
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int r = 0; r < kRooms; ++r) {
    threads.emplace_back([&, r] {
      for (int i = r; i < kClients; i += kRooms) {
        RoomsClient& c = *cs[i]->client;
        if (!c.WaitConnected(Deadline(60)).ok() ||
            !c.Join(absl::StrCat("room", r), Deadline(60)).ok() ||
            c.Emit("hello", "", Deadline(60)).value_or("") != "hi") {
          failures++;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_EQ(failures.load(), 0);
  EXPECT_EQ(said.load(), kClients);
  EXPECT_EQ(hub.Clients().size(), static_cast<size_t>(kClients));
  for (int r = 0; r < kRooms; ++r) {
    EXPECT_EQ(hub.Members(absl::StrCat("room", r)).size(),
              static_cast<size_t>(kClients / kRooms));
    absl::StatusOr<size_t> n =
        hub.ToRoom(absl::StrCat("room", r), absl::StrCat("to", r), "x");
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(*n, static_cast<size_t>(kClients / kRooms));
  }
  absl::StatusOr<size_t> all = hub.Broadcast("everyone", "");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(*all, static_cast<size_t>(kClients));
  for (int i = 0; i < kClients; ++i) {
    ASSERT_TRUE(cs[i]->inbox.WaitFor("everyone", absl::Seconds(30))) << i;
    // Events of one connection arrive in order: its room's came first.
    EXPECT_EQ(cs[i]->inbox.Count(absl::StrCat("to", i % kRooms)), 1) << i;
    EXPECT_EQ(cs[i]->inbox.Events().size(), 2u) << i;
  }
  EXPECT_EQ(hub.rooms_stats().dropped, 0u);
  cs.clear();  // closes every client
  EXPECT_TRUE(WaitUntil([&] { return hub.Clients().empty(); }, Deadline(30)));
  EXPECT_TRUE(hub.Rooms().empty());
  EXPECT_LT(absl::Now() - start, absl::Seconds(60));
}

}  // namespace
}  // namespace msock
