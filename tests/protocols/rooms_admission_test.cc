// The hub and the admission hook (msock/peer.h): the connect hook sees the
// connection's PeerInfo (here a ws Authorization header sent with
// opt::kWsRequestHeaders), and a hub's SetAdmission refuses before Hello (the
// ws client gets a 403 and never says anything to the hub).
#include <atomic>
#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "tests/protocols/rooms_test_util.h"

namespace msock {
namespace {

using test::ConnectClient;
using test::Deadline;
using test::EventLog;
using test::WaitUntil;

void SendToken(RoomsClient& c, const std::string& token) {
  ASSERT_TRUE(c.socket()
                  .Set(opt::kWsRequestHeaders, "Authorization: Bearer " + token)
                  .ok());
}

TEST(RoomsAdmissionTest, ConnectHookRefusesByTokenHeader) {
  Hub hub;
  std::atomic<int> hellos{0};
  hub.OnConnect([&](const ConnectRequest& req) -> absl::StatusOr<std::string> {
    ++hellos;
    EXPECT_EQ(req.peer.transport, "ws");
    EXPECT_EQ(req.peer.path, "/rooms");
    const std::string* auth = req.peer.Header("authorization");
    if (auth == nullptr || *auth != "Bearer sesame") {
      return absl::PermissionDeniedError("bad token header");
    }
    return "user-" + req.want_id;
  });
  hub.On("echo", [](const RoomEvent& ev) -> absl::StatusOr<std::string> {
    return ev.payload;
  });
  absl::StatusOr<std::string> url = hub.Listen("ws://127.0.0.1:0/rooms");
  ASSERT_TRUE(url.ok()) << url.status();

  RoomsClient intruder;
  SendToken(intruder, "guess");
  absl::StatusOr<std::string> id = intruder.Connect(*url, Deadline(10));
  EXPECT_TRUE(absl::IsPermissionDenied(id.status())) << id.status();
  EXPECT_EQ(id.status().message(), "bad token header");
  EXPECT_EQ(hub.rooms_stats().refused, 1u);
  EXPECT_EQ(hub.rooms_stats().events_in, 0u);

  RoomsClientOptions o;
  o.want_id = "ann";
  auto ann = ConnectClient(*url, o, Context::Default(),
                           [](RoomsClient& c) { SendToken(c, "sesame"); });
  EXPECT_EQ(ann->id, "user-ann");
  absl::StatusOr<std::string> ack =
      ann->client->Emit("echo", "hi", Deadline(10));
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_EQ(*ack, "hi");
  EXPECT_EQ(hellos.load(), 2);
}

TEST(RoomsAdmissionTest, HubAdmissionRefusesBeforeHello) {
  EventLog log;
  Hub hub;
  hub.socket().OnPipeEvent(log.Fn());
  std::atomic<int> hellos{0};
  hub.OnConnect([&](const ConnectRequest& req) -> absl::StatusOr<std::string> {
    ++hellos;
    return "c" + std::to_string(req.pipe);
  });
  hub.SetAdmission([](const PeerInfo& peer) -> absl::Status {
    const std::string* auth = peer.Header("authorization");
    if (auth == nullptr || *auth != "Bearer sesame") {
      return absl::PermissionDeniedError("no entry");
    }
    return absl::OkStatus();
  });
  absl::StatusOr<std::string> url = hub.Listen("ws://127.0.0.1:0/rooms");
  ASSERT_TRUE(url.ok()) << url.status();

  RoomsClient intruder;
  ASSERT_TRUE(
      intruder.socket().Set(opt::kReconnectMin, absl::Milliseconds(20)).ok());
  SendToken(intruder, "guess");
  // Each dial gets a 403, so it never gets as far as a Hello.
  ASSERT_TRUE(intruder.Dial(*url).ok());
  ASSERT_TRUE(WaitUntil([&] { return hub.stats().rejected_admission >= 2; },
                        Deadline(10)));
  EXPECT_FALSE(intruder.connected());
  EXPECT_GE(log.Count(PipeEventType::kRefused), 1);
  EXPECT_EQ(log.FirstReason(PipeEventType::kRefused), "no entry");
  EXPECT_EQ(log.Count(PipeEventType::kAdded), 0);
  EXPECT_EQ(hellos.load(), 0);
  intruder.Close();

  auto ann = ConnectClient(*url, RoomsClientOptions(), Context::Default(),
                           [](RoomsClient& c) { SendToken(c, "sesame"); });
  EXPECT_FALSE(ann->id.empty());
  EXPECT_EQ(hellos.load(), 1);
}

}  // namespace
}  // namespace msock
