// Rooms: the same exchange over inproc, ipc, tcp, ws and wss; membership and
// namespace isolation; join refused; broadcast; ToRoom with an exception;
// empty rooms vanish; a disconnect leaves every room; the connect hook; one
// shared body per fan-out; events pushed around Emits whose acks the calling
// thread reads. JSON, malformed input and scale are in
// rooms_wire_test.cc.
#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "tests/protocols/rooms_test_util.h"
#include "tests/support/test_certs.h"
#include "transports/stream_pipe.h"

namespace msock {
namespace {

using test::ConnectClient;
using test::Deadline;
using test::ListenUrlFor;
using test::SyncWithMarker;
using test::TestClient;
using test::WaitUntil;

using RoomList = std::vector<std::pair<std::string, std::string>>;

class RoomsTransportTest : public ::testing::TestWithParam<std::string> {};

TEST_P(RoomsTransportTest, BasicExchange) {
  Hub hub;
  hub.On("echo", [](const RoomEvent& ev) -> absl::StatusOr<std::string> {
    return ev.client + ":" + ev.payload + "!";
  });
  // wss: both sides show and check certificates of the test CA.
  const bool tls = GetParam() == "wss";
  if (tls) test::UseTestTls(hub.socket());
  absl::StatusOr<std::string> url = hub.Listen(ListenUrlFor(GetParam()));
  ASSERT_TRUE(url.ok()) << url.status();
  auto alice = ConnectClient(*url, RoomsClientOptions(), Context::Default(),
                             [tls](RoomsClient& c) {
                               if (tls) test::UseTestTls(c.socket());
                             });
  ASSERT_FALSE(alice->id.empty());
  EXPECT_TRUE(alice->client->connected());

  absl::StatusOr<std::string> ack =
      alice->client->Emit("echo", "hello", Deadline(10));
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_EQ(*ack, alice->id + ":hello!");

  ASSERT_TRUE(alice->client->Join("lobby", Deadline(10)).ok());
  absl::StatusOr<size_t> n = hub.ToRoom("lobby", "news", "fresh");
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 1u);
  ASSERT_TRUE(alice->inbox.WaitFor("news"));
  RoomEvent got = alice->inbox.Last("news");
  EXPECT_EQ(got.payload, "fresh");
  EXPECT_EQ(got.room, "lobby");
  EXPECT_EQ(got.ns, "/");

  ASSERT_TRUE(hub.Send(alice->id, "direct", "d", Deadline(10)).ok());
  ASSERT_TRUE(alice->inbox.WaitFor("direct"));
  EXPECT_EQ(alice->inbox.Last("direct").room, "");

  absl::StatusOr<std::string> back =
      hub.Emit(alice->id, "ping", "x", Deadline(10));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, "got:ping");

  // A big payload (binary, not UTF-8) both ways.
  std::string big(200 * 1024, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7);
  hub.On("size", [](const RoomEvent& ev) -> absl::StatusOr<std::string> {
    return ev.payload;
  });
  absl::StatusOr<std::string> echoed =
      alice->client->Emit("size", big, Deadline(10));
  ASSERT_TRUE(echoed.ok()) << echoed.status();
  EXPECT_EQ(*echoed, big);
}

INSTANTIATE_TEST_SUITE_P(AllTransports, RoomsTransportTest,
                         ::testing::Values("inproc", "ipc", "tcp", "ws", "wss"),
                         [](const auto& info) { return info.param; });

class RoomsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::string> url = hub_.Listen(ListenUrlFor("tcp"));
    ASSERT_TRUE(url.ok()) << url.status();
    url_ = *url;
  }
  Hub hub_;
  std::string url_;
};

TEST_F(RoomsTest, EveryClientIsInItsOwnRoom) {
  auto a = ConnectClient(url_);
  EXPECT_EQ(hub_.Members(a->id), std::vector<std::string>{a->id});
  EXPECT_EQ(hub_.RoomsOf(a->id), (RoomList{{"/", a->id}}));
  EXPECT_EQ(hub_.Clients(), std::vector<std::string>{a->id});
  ASSERT_TRUE(hub_.ToRoom(a->id, "mine", "").ok());
  EXPECT_TRUE(a->inbox.WaitFor("mine"));
}

TEST_F(RoomsTest, MembershipAndNamespaceIsolation) {
  auto a = ConnectClient(url_);
  auto b = ConnectClient(url_);
  ASSERT_TRUE(a->client->Join("r", Deadline(10)).ok());
  ASSERT_TRUE(a->client->Join("r", Deadline(10), "/game").ok());
  ASSERT_TRUE(b->client->Join("r", Deadline(10), "/game").ok());
  EXPECT_EQ(hub_.Members("r"), std::vector<std::string>{a->id});
  std::vector<std::string> both{a->id, b->id};
  std::sort(both.begin(), both.end());
  EXPECT_EQ(hub_.Members("r", "/game"), both);
  EXPECT_EQ(hub_.Rooms("/game"), std::vector<std::string>{"r"});
  RoomList want{{"/", a->id}, {"/", "r"}, {"/game", "r"}};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(hub_.RoomsOf(a->id), want);

  absl::StatusOr<size_t> n = hub_.ToRoom("r", "plain", "1");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1u);
  n = hub_.ToRoom("r", "game", "2", "/game");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2u);
  SyncWithMarker(hub_, {a.get(), b.get()}, "marker");
  EXPECT_EQ(a->inbox.Count("plain"), 1);
  EXPECT_EQ(b->inbox.Count("plain"), 0);  // "r" in "/" is not "r" in "/game"
  EXPECT_EQ(a->inbox.Count("game"), 1);
  EXPECT_EQ(b->inbox.Count("game"), 1);
  EXPECT_EQ(b->inbox.Last("game").ns, "/game");
}

TEST_F(RoomsTest, JoinRefusedReasonReachesTheClient) {
  hub_.OnJoin([](const JoinRequest& req) -> absl::Status {
    if (req.room == "secret")
      return absl::PermissionDeniedError("members only");
    return absl::OkStatus();
  });
  auto a = ConnectClient(url_);
  absl::Status st = a->client->Join("secret", Deadline(10));
  EXPECT_TRUE(absl::IsPermissionDenied(st)) << st;
  EXPECT_EQ(st.message(), "members only");
  EXPECT_TRUE(hub_.Members("secret").empty());
  EXPECT_TRUE(a->client->Join("open", Deadline(10)).ok());
  EXPECT_EQ(hub_.Members("open"), std::vector<std::string>{a->id});
}

TEST_F(RoomsTest, BroadcastIgnoresNamespaces) {
  auto a = ConnectClient(url_);
  auto b = ConnectClient(url_);
  auto c = ConnectClient(url_);
  ASSERT_TRUE(b->client->Join("x", Deadline(10), "/one").ok());
  ASSERT_TRUE(c->client->Join("y", Deadline(10), "/two").ok());
  absl::StatusOr<size_t> n = hub_.Broadcast("all", "hi");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 3u);
  for (TestClient* t : {a.get(), b.get(), c.get()}) {
    ASSERT_TRUE(t->inbox.WaitFor("all")) << t->id;
    EXPECT_EQ(t->inbox.Last("all").payload, "hi");
  }
}

TEST_F(RoomsTest, ToRoomExceptSkipsOneClient) {
  auto a = ConnectClient(url_);
  auto b = ConnectClient(url_);
  auto c = ConnectClient(url_);
  for (TestClient* t : {a.get(), b.get(), c.get()})
    ASSERT_TRUE(t->client->Join("chat", Deadline(10)).ok());
  absl::StatusOr<size_t> n = hub_.ToRoom("chat", "said", "hi", "/", a->id);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2u);
  SyncWithMarker(hub_, {a.get(), b.get(), c.get()}, "marker");
  EXPECT_EQ(a->inbox.Count("said"), 0);
  EXPECT_EQ(b->inbox.Count("said"), 1);
  EXPECT_EQ(c->inbox.Count("said"), 1);
}

TEST_F(RoomsTest, EmptyRoomDisappears) {
  auto a = ConnectClient(url_);
  auto b = ConnectClient(url_);
  ASSERT_TRUE(a->client->Join("tmp", Deadline(10)).ok());
  ASSERT_TRUE(hub_.JoinRoom(b->id, "tmp").ok());
  EXPECT_EQ(hub_.Members("tmp").size(), 2u);
  ASSERT_TRUE(a->client->Leave("tmp", Deadline(10)).ok());
  EXPECT_EQ(hub_.Members("tmp"), std::vector<std::string>{b->id});
  ASSERT_TRUE(hub_.LeaveRoom(b->id, "tmp").ok());
  EXPECT_TRUE(hub_.Members("tmp").empty());
  std::vector<std::string> rooms = hub_.Rooms();
  EXPECT_EQ(std::count(rooms.begin(), rooms.end(), "tmp"), 0);
  absl::StatusOr<size_t> n = hub_.ToRoom("tmp", "x", "");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
  // A namespace disappears with its last room.
  ASSERT_TRUE(hub_.JoinRoom(a->id, "r", "/ns").ok());
  ASSERT_TRUE(hub_.LeaveRoom(a->id, "r", "/ns").ok());
  EXPECT_TRUE(hub_.Rooms("/ns").empty());
}

TEST_F(RoomsTest, DisconnectLeavesAllRooms) {
  test::Notification gone;
  std::string gone_id;
  std::mutex mu;
  hub_.OnDisconnect([&](const std::string& id) {
    {
      std::lock_guard<std::mutex> lock(mu);
      gone_id = id;
    }
    gone.Notify();
  });
  auto a = ConnectClient(url_);
  auto b = ConnectClient(url_);
  for (const char* room : {"one", "two", "three"})
    ASSERT_TRUE(a->client->Join(room, Deadline(10)).ok());
  ASSERT_TRUE(b->client->Join("two", Deadline(10)).ok());
  const std::string id = a->id;
  a->client->Close();
  ASSERT_TRUE(gone.WaitFor(absl::Seconds(10)));
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_EQ(gone_id, id);
  }
  EXPECT_TRUE(hub_.RoomsOf(id).empty());
  EXPECT_EQ(hub_.Clients(), std::vector<std::string>{b->id});
  std::vector<std::string> rooms{b->id, "two"};
  std::sort(rooms.begin(), rooms.end());
  EXPECT_EQ(hub_.Rooms(), rooms);
  EXPECT_EQ(hub_.Members("two"), std::vector<std::string>{b->id});
  EXPECT_TRUE(absl::IsNotFound(hub_.Send(id, "x", "", Deadline(1))));
  hub_.OnDisconnect(nullptr);  // b leaves after this test's locals are gone
}

TEST_F(RoomsTest, ConnectHookRefusesWithReason) {
  hub_.OnConnect([](const ConnectRequest& req) -> absl::StatusOr<std::string> {
    if (req.token != "sesame") return absl::PermissionDeniedError("bad token");
    return "user-" + req.want_id;
  });
  RoomsClientOptions bad;
  bad.token = "guess";
  RoomsClient intruder(bad);
  absl::StatusOr<std::string> id = intruder.Connect(url_, Deadline(10));
  EXPECT_TRUE(absl::IsPermissionDenied(id.status())) << id.status();
  EXPECT_EQ(id.status().message(), "bad token");
  EXPECT_EQ(hub_.rooms_stats().refused, 1u);
  // The refused client is finished: its calls give the refusal.
  EXPECT_TRUE(absl::IsPermissionDenied(intruder.Join("r", Deadline(1))));

  RoomsClientOptions good;
  good.token = "sesame";
  good.want_id = "ann";
  auto ann = ConnectClient(url_, good);
  EXPECT_EQ(ann->id, "user-ann");
  EXPECT_EQ(hub_.Clients(), std::vector<std::string>{"user-ann"});
  // The hub hangs up on the refused connection.
  EXPECT_TRUE(
      WaitUntil([&] { return hub_.socket().pipe_count() == 1; }, Deadline(10)));
}

TEST_F(RoomsTest, DefaultHookGrantsAFreeWantedId) {
  RoomsClientOptions o;
  o.want_id = "zed";
  auto z = ConnectClient(url_, o);
  EXPECT_EQ(z->id, "zed");
  auto z2 = ConnectClient(url_, o);  // taken: a generated one
  EXPECT_NE(z2->id, "zed");
  EXPECT_FALSE(z2->id.empty());
}

TEST_F(RoomsTest, FanOutEncodesOneSharedBody) {
  std::vector<std::unique_ptr<TestClient>> clients;
  for (int i = 0; i < 5; ++i) {
    clients.push_back(ConnectClient(url_));
    ASSERT_TRUE(clients.back()->client->Join("room", Deadline(10)).ok());
  }
  const RoomsStats before = hub_.rooms_stats();
  absl::StatusOr<size_t> n = hub_.ToRoom("room", "tick", "payload");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 5u);
  const RoomsStats after = hub_.rooms_stats();
  EXPECT_EQ(after.bodies_encoded - before.bodies_encoded, 1u);
  EXPECT_EQ(after.events_out - before.events_out, 5u);
  for (auto& c : clients) EXPECT_TRUE(c->inbox.WaitFor("tick"));
}

// The hub's dispatcher reads its clients' requests on its own thread even
// when it sent nothing since the last one (answers may go out from other
// threads): one wake-up per request, not the loop's and then its own; with
// up to 64 clients (a plain socket polls at most four pipes). With the test
// hooks the loop lends a pipe as soon as a receiver polls it, so who reads
// the second event is deterministic.
class RoomsRecvOnCaller : public ::testing::TestWithParam<int> {};

TEST_P(RoomsRecvOnCaller, TheHubsDispatcherReadsRequestsItself) {
  internal::LendOnPollForTest lend_on_poll(absl::Minutes(1));
  const int lent_before = internal::LentPipesForTest();
  Hub hub;
  std::atomic<int> seen{0};
  hub.On("note", [&](const RoomEvent&) -> absl::StatusOr<std::string> {
    seen++;
    return std::string();
  });
  absl::StatusOr<std::string> url = hub.Listen("tcp://127.0.0.1:0");
  ASSERT_TRUE(url.ok()) << url.status();
  // The clients never lend: every lent pipe is the hub's.
  std::vector<std::unique_ptr<TestClient>> clients;
  for (int i = 0; i < GetParam(); ++i) {
    clients.push_back(ConnectClient(
        *url, RoomsClientOptions(), Context::Default(), [](RoomsClient& c) {
          ASSERT_TRUE(c.socket().Set(opt::kRecvOnCaller, false).ok());
        }));
  }
  ASSERT_TRUE(hub.socket().WaitForPeers(GetParam(), Deadline(10)).ok());
  TestClient& alice = *clients.back();
  // An event without an ack: the hub sends nothing back.
  ASSERT_TRUE(alice.client->Send("note", "1", Deadline(10)).ok());
  ASSERT_TRUE(WaitUntil([&] { return seen.load() == 1; }, Deadline(10)));
  ASSERT_TRUE(
      WaitUntil([&] { return internal::LentPipesForTest() > lent_before; },
                Deadline(10)));
  const uint64_t before = hub.socket().stats().reads_on_caller;
  ASSERT_TRUE(alice.client->Send("note", "2", Deadline(10)).ok());
  ASSERT_TRUE(WaitUntil([&] { return seen.load() == 2; }, Deadline(10)));
  EXPECT_GT(hub.socket().stats().reads_on_caller, before);
}

INSTANTIATE_TEST_SUITE_P(Clients, RoomsRecvOnCaller, ::testing::Values(1, 8));

// A client's Emit reads its ack on the calling thread (the dispatcher sleeps
// in Recv meanwhile); the events that thread reads with it still reach the
// dispatcher, also those that come after an Emit ended while the dispatcher
// was busy (a lost wake-up once left them unread).
TEST(RoomsEmitOnCaller, EventsPushedAroundEmitsAllArrive) {
  Hub hub;
  hub.On("ping", [&](const RoomEvent& ev) -> absl::StatusOr<std::string> {
    // Before the ack, and once more after it on another thread's schedule.
    EXPECT_TRUE(hub.Send(ev.client, "push", ev.payload).ok());
    return "pong:" + ev.payload;
  });
  absl::StatusOr<std::string> url = hub.Listen("tcp://127.0.0.1:0");
  ASSERT_TRUE(url.ok()) << url.status();
  auto alice = ConnectClient(*url);
  constexpr int kEmits = 300;
  const uint64_t reads_before = alice->client->socket().stats().reads_on_caller;
  for (int i = 0; i < kEmits; ++i) {
    const std::string n = std::to_string(i);
    absl::StatusOr<std::string> ack =
        alice->client->Emit("ping", n, Deadline(10));
    ASSERT_TRUE(ack.ok()) << ack.status();
    ASSERT_EQ(*ack, "pong:" + n);
  }
  EXPECT_TRUE(alice->inbox.WaitForCount(kEmits, absl::Seconds(10)))
      << alice->inbox.Count("push") << " of " << kEmits;
  EXPECT_EQ(alice->inbox.Count("push"), kEmits);
  EXPECT_GT(alice->client->socket().stats().reads_on_caller, reads_before);
}

}  // namespace
}  // namespace msock
