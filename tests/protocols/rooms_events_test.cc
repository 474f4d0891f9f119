// Rooms events: acks (value, error code and text, deadline and the late ack),
// a throwing handler, a client vanishing mid-ack, hub -> client acks, async
// emits, the middleware chain, the pending-ack bound, Close waking waiters,
// handler threads, and reconnecting.
#include <atomic>
#include <cctype>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/wrappers.pb.h"
#include "gtest/gtest.h"
#include "tests/protocols/rooms_test_util.h"

namespace msock {
namespace {

using test::ConnectClient;
using test::Deadline;
using test::ListenUrlFor;
using test::Notification;
using test::TestClient;
using test::WaitUntil;

class RoomsEventsTest : public ::testing::Test {
 protected:
  void Listen(Hub& hub) {
    absl::StatusOr<std::string> url = hub.Listen(ListenUrlFor("tcp"));
    ASSERT_TRUE(url.ok()) << url.status();
    url_ = *url;
  }
  std::string url_;
};

// A handler that waits (up to 20 s) for `release`, then answers `answer`.
EventHandler Blocking(Notification& release, std::string answer = "") {
  return [&release, answer](const RoomEvent&) -> absl::StatusOr<std::string> {
    release.WaitFor(absl::Seconds(20));
    return answer;
  };
}

// Waits for a pipe, then returns the id of the only one.
uint32_t OnlyPipe(Socket& s) {
  EXPECT_TRUE(s.WaitForPeers(1, Deadline(10)).ok());
  std::vector<PipeStats> pipes = s.pipe_stats();
  return pipes.empty() ? 0 : pipes[0].pipe_id;
}

TEST_F(RoomsEventsTest, AckCarriesTheHandlersValue) {
  Hub hub;
  hub.On("add", [](const RoomEvent& ev) -> absl::StatusOr<std::string> {
    return absl::StrCat(ev.payload.size());
  });
  Listen(hub);
  auto a = ConnectClient(url_);
  absl::StatusOr<std::string> r = a->client->Emit("add", "12345", Deadline(10));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, "5");
  EXPECT_EQ(hub.rooms_stats().events_in, 1u);
  // No handler and no Otherwise: kUnimplemented.
  r = a->client->Emit("nobody", "", Deadline(10));
  EXPECT_TRUE(absl::IsUnimplemented(r.status())) << r.status();
  // Send asks for no ack.
  ASSERT_TRUE(a->client->Send("add", "x", Deadline(10)).ok());
  EXPECT_TRUE(WaitUntil([&] { return hub.rooms_stats().events_in == 3; },
                        Deadline(10)));
}

TEST_F(RoomsEventsTest, EventNameOverTheHubsLimitIsInvalidArgument) {
  HubOptions options;
  options.max_name_size = 8;
  Hub hub(options);
  std::atomic<int> seen{0};
  hub.Otherwise([&](const RoomEvent&) -> absl::StatusOr<std::string> {
    ++seen;
    return std::string("seen");
  });
  Listen(hub);
  auto a = ConnectClient(url_);
  absl::StatusOr<std::string> r =
      a->client->Emit("a-name-longer-than-eight", "", Deadline(10));
  EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
  EXPECT_EQ(seen.load(), 0);  // no handler saw it
  r = a->client->Emit("short", "", Deadline(10));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, "seen");
}

TEST_F(RoomsEventsTest, TypedProtobufPayloads) {
  using google::protobuf::Int64Value;
  using google::protobuf::StringValue;
  Hub hub;
  hub.On("len", ProtoHandler<StringValue>(
                    [](const RoomEvent&,
                       const StringValue& s) -> absl::StatusOr<std::string> {
                      Int64Value n;
                      n.set_value(static_cast<int64_t>(s.value().size()));
                      return ProtoPayload(n);
                    }));
  Listen(hub);
  auto a = ConnectClient(url_);
  StringValue word;
  word.set_value("protobuf");
  absl::StatusOr<std::string> r =
      a->client->Emit("len", ProtoPayload(word), Deadline(10));
  ASSERT_TRUE(r.ok()) << r.status();
  absl::StatusOr<Int64Value> n = ParseProtoPayload<Int64Value>(*r);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(n->value(), 8);
  // A payload that does not parse answers kInvalidArgument.
  r = a->client->Emit("len", "\xff\xff", Deadline(10));
  EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
}

TEST_F(RoomsEventsTest, AckErrorKeepsCodeAndText) {
  Hub hub;
  hub.On("find", [](const RoomEvent&) -> absl::StatusOr<std::string> {
    return absl::NotFoundError("no such thing: \xff");  // not UTF-8 either
  });
  Listen(hub);
  auto a = ConnectClient(url_);
  absl::StatusOr<std::string> r = a->client->Emit("find", "", Deadline(10));
  EXPECT_TRUE(absl::IsNotFound(r.status())) << r.status();
  EXPECT_EQ(r.status().message(), "no such thing: \\xff");
  EXPECT_EQ(hub.rooms_stats().handler_errors, 1u);
}

TEST_F(RoomsEventsTest, DeadlineExceededAndTheLateAckIsCounted) {
  Notification release;
  Hub hub;
  hub.On("slow", Blocking(release, "late"));
  Listen(hub);
  auto a = ConnectClient(url_);
  absl::StatusOr<std::string> r =
      a->client->Emit("slow", "", absl::Now() + absl::Milliseconds(200));
  EXPECT_TRUE(absl::IsDeadlineExceeded(r.status())) << r.status();
  EXPECT_EQ(a->client->rooms_stats().acks_timed_out, 1u);
  release.Notify();
  EXPECT_TRUE(WaitUntil([&] { return a->client->rooms_stats().acks_late == 1; },
                        Deadline(10)));
  // The client goes on working.
  hub.On("fast", [](const RoomEvent&) -> absl::StatusOr<std::string> {
    return std::string("ok");
  });
  EXPECT_TRUE(a->client->Emit("fast", "", Deadline(10)).ok());
}

TEST_F(RoomsEventsTest, ThrowingHandlerAnswersInternalAndHubKeepsServing) {
  Hub hub;
  hub.On("boom", [](const RoomEvent&) -> absl::StatusOr<std::string> {
    throw std::runtime_error("kaput");
  });
  hub.On("ok", [](const RoomEvent&) -> absl::StatusOr<std::string> {
    return std::string("fine");
  });
  Listen(hub);
  auto a = ConnectClient(url_);
  auto b = ConnectClient(url_);
  absl::StatusOr<std::string> r = a->client->Emit("boom", "", Deadline(10));
  EXPECT_TRUE(absl::IsInternal(r.status())) << r.status();
  EXPECT_EQ(r.status().message(), "handler threw: kaput");
  EXPECT_EQ(b->client->Emit("ok", "", Deadline(10)).value_or(""), "fine");
  EXPECT_EQ(a->client->Emit("ok", "", Deadline(10)).value_or(""), "fine");
}

// A hand-driven JSON client (a raw hub-client socket), so that it can vanish
// without answering.
TEST_F(RoomsEventsTest, ClientVanishingMidAckFailsTheHubsEmitAtOnce) {
  Hub hub;
  Listen(hub);
  Socket raw(protocols::kHubClient);
  ASSERT_TRUE(raw.Dial(url_).ok());
  const uint32_t pipe = OnlyPipe(raw);
  Message hello(R"({"hello":{"wantId":"ghost"}})");
  ASSERT_TRUE(raw.SendTo(Path{pipe}, hello, Deadline(10)).ok());
  absl::StatusOr<std::string> welcome = test::RecvString(raw, Deadline(10));
  ASSERT_TRUE(welcome.ok()) << welcome.status();
  EXPECT_EQ(*welcome, R"({"welcome":{"id":"ghost"}})");

  absl::StatusOr<std::string> result;
  absl::Time start = absl::Now();
  absl::Time end;
  std::thread emitter([&] {
    result = hub.Emit("ghost", "question", "?", Deadline(30));
    end = absl::Now();
  });
  absl::StatusOr<std::string> ev = test::RecvString(raw, Deadline(10));
  ASSERT_TRUE(ev.ok()) << ev.status();
  EXPECT_EQ(*ev, R"({"event":{"name":"question","text":"?","ack":1}})");
  raw.Close();  // gone without answering
  emitter.join();
  EXPECT_TRUE(absl::IsUnavailable(result.status())) << result.status();
  EXPECT_LT(end - start, absl::Seconds(10));
  EXPECT_TRUE(hub.Clients().empty());
}

TEST_F(RoomsEventsTest, HubToClientAcks) {
  Hub hub;
  Listen(hub);
  auto a = ConnectClient(url_);
  a->client->On("ping", [](const RoomEvent& ev) -> absl::StatusOr<std::string> {
    return "pong:" + ev.payload;
  });
  a->client->On("fail", [](const RoomEvent&) -> absl::StatusOr<std::string> {
    return absl::FailedPreconditionError("not now");
  });
  absl::StatusOr<std::string> r = hub.Emit(a->id, "ping", "x", Deadline(10));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, "pong:x");
  r = hub.Emit(a->id, "fail", "", Deadline(10));
  EXPECT_TRUE(absl::IsFailedPrecondition(r.status())) << r.status();
  EXPECT_EQ(r.status().message(), "not now");
  EXPECT_TRUE(
      absl::IsNotFound(hub.Emit("nobody", "ping", "", Deadline(1)).status()));

  Notification done;
  std::mutex mu;
  absl::StatusOr<std::string> async_result;
  ASSERT_TRUE(hub.EmitAsync(a->id, "ping", "y", Deadline(10),
                            [&](absl::StatusOr<std::string> ack) {
                              {
                                std::lock_guard<std::mutex> lock(mu);
                                async_result = std::move(ack);
                              }
                              done.Notify();
                            })
                  .ok());
  ASSERT_TRUE(done.WaitFor(absl::Seconds(10)));
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(async_result.value_or(""), "pong:y");
}

TEST_F(RoomsEventsTest, ClientEmitAsyncValueAndDeadline) {
  Notification release;
  Hub hub;
  hub.On("echo", [](const RoomEvent& ev) -> absl::StatusOr<std::string> {
    return ev.payload;
  });
  hub.On("stuck", Blocking(release));
  Listen(hub);
  auto a = ConnectClient(url_);
  std::mutex mu;
  std::vector<absl::StatusOr<std::string>> results;
  Notification two;
  auto cb = [&](absl::StatusOr<std::string> ack) {
    std::lock_guard<std::mutex> lock(mu);
    results.push_back(std::move(ack));
    if (results.size() == 2) two.Notify();
  };
  ASSERT_TRUE(a->client->EmitAsync("echo", "v", Deadline(10), cb).ok());
  ASSERT_TRUE(
      a->client
          ->EmitAsync("stuck", "", absl::Now() + absl::Milliseconds(100), cb)
          .ok());
  ASSERT_TRUE(two.WaitFor(absl::Seconds(10)));
  release.Notify();
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].value_or(""), "v");
  EXPECT_TRUE(absl::IsDeadlineExceeded(results[1].status()));
}

TEST_F(RoomsEventsTest, MiddlewareOrderRefusalRewriteAndUpstream) {
  std::mutex mu;
  std::vector<std::string> log;
  Hub hub;
  auto note = [&](std::string s) {
    std::lock_guard<std::mutex> lock(mu);
    log.push_back(std::move(s));
  };
  hub.Use([&](RoomEvent& ev, const Next& next) -> absl::StatusOr<std::string> {
    note("m1>");
    absl::StatusOr<std::string> r = next();
    note("<m1");
    if (r.ok()) return "[" + *r + "]";  // upstream: wraps the answer
    return r;
  });
  hub.Use([&](RoomEvent& ev, const Next& next) -> absl::StatusOr<std::string> {
    note("m2>");
    if (ev.name == "forbidden") return absl::PermissionDeniedError("nope");
    absl::StatusOr<std::string> r = next();
    note("<m2");
    return r;
  });
  hub.Use([&](RoomEvent& ev, const Next& next) -> absl::StatusOr<std::string> {
    note("m3>");
    for (char& c : ev.payload) c = static_cast<char>(std::toupper(c));
    return next();
  });
  hub.On("say", [&](const RoomEvent& ev) -> absl::StatusOr<std::string> {
    note("handler:" + ev.payload);
    return ev.payload;
  });
  hub.On("forbidden", [&](const RoomEvent&) -> absl::StatusOr<std::string> {
    note("forbidden handler ran");
    return std::string();
  });
  Listen(hub);
  auto a = ConnectClient(url_);
  absl::StatusOr<std::string> r = a->client->Emit("say", "hi", Deadline(10));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, "[HI]");
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_EQ(log, (std::vector<std::string>{"m1>", "m2>", "m3>", "handler:HI",
                                             "<m2", "<m1"}));
    log.clear();
  }
  r = a->client->Emit("forbidden", "", Deadline(10));
  EXPECT_TRUE(absl::IsPermissionDenied(r.status())) << r.status();
  EXPECT_EQ(r.status().message(), "nope");
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(log, (std::vector<std::string>{"m1>", "m2>", "<m1"}));
}

TEST_F(RoomsEventsTest, PendingAcksAreBounded) {
  Notification release;
  Hub hub;
  hub.On("hold", Blocking(release));
  Listen(hub);
  RoomsClientOptions o;
  o.max_pending_acks = 2;
  auto a = ConnectClient(url_, o);
  std::atomic<int> answered{0};
  auto cb = [&](absl::StatusOr<std::string>) { answered++; };
  ASSERT_TRUE(a->client->EmitAsync("hold", "", Deadline(20), cb).ok());
  ASSERT_TRUE(a->client->EmitAsync("hold", "", Deadline(20), cb).ok());
  absl::Status third = a->client->EmitAsync("hold", "", Deadline(20), cb);
  EXPECT_TRUE(absl::IsResourceExhausted(third)) << third;
  release.Notify();
  EXPECT_TRUE(WaitUntil([&] { return answered.load() == 2; }, Deadline(10)));
}

TEST_F(RoomsEventsTest, CloseWakesWaitersWithCancelled) {
  Notification release;
  Hub hub;
  hub.On("hold", Blocking(release));
  Listen(hub);
  auto a = ConnectClient(url_);
  std::atomic<bool> called{false};
  absl::Status async_status;
  ASSERT_TRUE(a->client
                  ->EmitAsync("hold", "", Deadline(20),
                              [&](absl::StatusOr<std::string> r) {
                                async_status = r.status();
                                called = true;
                              })
                  .ok());
  absl::StatusOr<std::string> r;
  std::thread waiter([&] { r = a->client->Emit("hold", "", Deadline(20)); });
  // Wait until the second is in flight too (the client counts events sent).
  ASSERT_TRUE(WaitUntil(
      [&] { return a->client->rooms_stats().events_out >= 2; }, Deadline(10)));
  a->client->Close();
  waiter.join();
  EXPECT_TRUE(absl::IsCancelled(r.status()) ||
              absl::IsFailedPrecondition(r.status()))
      << r.status();
  EXPECT_TRUE(called.load());
  EXPECT_TRUE(absl::IsCancelled(async_status)) << async_status;
  release.Notify();
  EXPECT_TRUE(absl::IsFailedPrecondition(
      a->client->Emit("hold", "", Deadline(1)).status()));
}

TEST_F(RoomsEventsTest, CloseFromAHandler) {
  Hub hub;
  Listen(hub);
  auto a = ConnectClient(url_);
  RoomsClient* client = a->client.get();
  client->On("bye", [client](const RoomEvent&) -> absl::StatusOr<std::string> {
    client->Close();  // from its own dispatcher thread
    return std::string("closing");
  });
  ASSERT_TRUE(hub.Send(a->id, "bye", "", Deadline(10)).ok());
  EXPECT_TRUE(WaitUntil([&] { return hub.Clients().empty(); }, Deadline(10)));
  EXPECT_TRUE(
      absl::IsFailedPrecondition(client->Emit("x", "", Deadline(1)).status()));
  a.reset();  // the destructor waits for the threads
}

TEST_F(RoomsEventsTest, SlowHandlerDoesNotBlockClientsOfOtherThreads) {
  HubOptions opts;
  opts.threads = 2;
  Hub hub(opts);
  Notification release;
  hub.On("slow", Blocking(release, "slow"));
  hub.On("fast", [](const RoomEvent&) -> absl::StatusOr<std::string> {
    return std::string("fast");
  });
  Listen(hub);
  auto a = ConnectClient(url_);
  // Clients are spread over the threads by connection id: find one on the
  // other thread than a.
  std::vector<std::unique_ptr<TestClient>> others;
  const uint32_t pa = hub.PipeOf(a->id).value_or(0);
  TestClient* b = nullptr;
  for (int i = 0; i < 4 && b == nullptr; ++i) {
    others.push_back(ConnectClient(url_));
    if (hub.PipeOf(others.back()->id).value_or(pa) % 2 != pa % 2)
      b = others.back().get();
  }
  ASSERT_NE(b, nullptr);
  absl::StatusOr<std::string> slow;
  std::thread t([&] { slow = a->client->Emit("slow", "", Deadline(20)); });
  EXPECT_EQ(b->client->Emit("fast", "", Deadline(10)).value_or(""), "fast");
  release.Notify();
  t.join();
  EXPECT_EQ(slow.value_or(""), "slow");
}

TEST_F(RoomsEventsTest, ReconnectKeepsTheIdAndRejoins) {
  Hub hub;
  Listen(hub);
  auto a = ConnectClient(url_);
  ASSERT_TRUE(a->client->Join("lobby", Deadline(10)).ok());
  Notification back;
  std::atomic<bool> same{false};
  std::atomic<bool> rejoined{false};
  RoomsClient* client = a->client.get();
  client->OnReconnected([&](const std::string& id, bool same_id) {
    same = same_id;
    rejoined = client->Join("lobby", Deadline(10)).ok();
    back.Notify();
  });
  const std::string id = a->id;
  absl::StatusOr<uint32_t> pipe = hub.PipeOf(id);
  ASSERT_TRUE(pipe.ok());
  hub.socket().ClosePipe(*pipe);
  ASSERT_TRUE(back.WaitFor(absl::Seconds(20)));
  EXPECT_TRUE(same.load());
  EXPECT_TRUE(rejoined.load());
  EXPECT_EQ(client->id(), id);
  EXPECT_EQ(client->rooms_stats().reconnects, 1u);
  EXPECT_NE(hub.PipeOf(id).value_or(*pipe), *pipe);
  EXPECT_EQ(hub.Members("lobby"), std::vector<std::string>{id});
  ASSERT_TRUE(hub.ToRoom("lobby", "again", "").ok());
  EXPECT_TRUE(a->inbox.WaitFor("again"));
  client->OnReconnected(nullptr);  // its captures die before the client
}

TEST_F(RoomsEventsTest, LostConnectionFailsPendingAcksAtOnce) {
  Notification release;
  Hub hub;
  hub.On("hold", Blocking(release));
  Listen(hub);
  auto a = ConnectClient(url_);
  absl::StatusOr<std::string> r;
  absl::Time start = absl::Now();
  std::thread t([&] { r = a->client->Emit("hold", "", Deadline(30)); });
  ASSERT_TRUE(WaitUntil([&] { return hub.rooms_stats().events_in == 1; },
                        Deadline(10)));
  hub.socket().ClosePipe(hub.PipeOf(a->id).value_or(0));
  t.join();
  EXPECT_TRUE(absl::IsUnavailable(r.status())) << r.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  release.Notify();
}

}  // namespace
}  // namespace msock
