// Services on the hub over inproc, tcp and ws: answers, the provider's error,
// no provider, a provider gone mid-call, the deadline and the late answer,
// many calls in flight, the caller's id, round robin, hub-provided services,
// re-providing after a reconnect, withdrawing, limits and bad names, a caller
// gone mid-call, typed (protobuf) services and the hub's timeout cap.
#include "msock/protocols/services.h"

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/protobuf/wrappers.pb.h"
#include "gtest/gtest.h"
#include "protocols/rooms/hub_access.h"
#include "tests/protocols/rooms_test_util.h"

namespace msock {
namespace {

using test::ConnectClient;
using test::Deadline;
using test::ListenUrlFor;
using test::Notification;
using test::TestClient;
using test::WaitUntil;

// The outcome of one CallAsync, waited for with a deadline.
class AsyncAnswer {
 public:
  AckCallback Callback() {
    return [this](absl::StatusOr<std::string> r) {
      std::lock_guard<std::mutex> lock(mu_);
      result_ = std::move(r);
      cv_.notify_all();
    };
  }
  // The answer, or kDeadlineExceeded "test: no answer" after `timeout`.
  absl::StatusOr<std::string> Wait(absl::Duration timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                      [this] { return result_.has_value(); })) {
      return absl::DeadlineExceededError("test: no answer");
    }
    return *result_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<absl::StatusOr<std::string>> result_;
};

// A handler that says it has started, then waits (up to 20 s) for `release`.
ServiceHandler Blocking(Notification& entered, Notification& release) {
  return
      [&entered, &release](const ServiceCall&) -> absl::StatusOr<std::string> {
        entered.Notify();
        release.WaitFor(absl::Seconds(20));
        return std::string("late");
      };
}

ServiceHandler Echo(std::string prefix) {
  return [prefix](const ServiceCall& c) -> absl::StatusOr<std::string> {
    return prefix + c.args;
  };
}

// A rooms client with its services (declared in this order: the services
// go first).
struct Peer {
  std::unique_ptr<TestClient> conn;
  std::unique_ptr<ServicesClient> svc;
  const std::string& id() const { return conn->id; }
};

class ServicesTest : public ::testing::TestWithParam<std::string> {
 protected:
  void Start(const HubServicesOptions& options = HubServicesOptions()) {
    services_ = std::make_unique<HubServices>(hub_, options);
    absl::StatusOr<std::string> url = hub_.Listen(ListenUrlFor(GetParam()));
    ASSERT_TRUE(url.ok()) << url.status();
    url_ = *url;
  }
  Peer Connect() {
    Peer p;
    p.conn = ConnectClient(url_);
    p.svc = std::make_unique<ServicesClient>(*p.conn->client);
    return p;
  }

  Hub hub_;
  std::unique_ptr<HubServices> services_;
  std::string url_;
};

TEST_P(ServicesTest, CallGetsTheProvidersAnswer) {
  Start();
  Peer provider = Connect();
  Peer caller = Connect();
  ASSERT_TRUE(provider.svc->Provide("wrap", Echo("got:"), Deadline(10)).ok());
  absl::StatusOr<std::string> r = caller.svc->Call("wrap", "hi", Deadline(10));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, "got:hi");
  // Binary arguments and answers pass unchanged.
  const std::string bytes("\0\xff\x01", 3);
  r = caller.svc->Call("wrap", bytes, Deadline(10));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, "got:" + bytes);
  EXPECT_EQ(services_->stats().calls, 2u);
  EXPECT_EQ(services_->stats().answered, 2u);
  EXPECT_EQ(provider.svc->Provided(), std::vector<std::string>{"wrap"});
}

TEST_P(ServicesTest, ProviderLearnsTheCallersIdAndTimeout) {
  Start();
  Peer provider = Connect();
  Peer caller = Connect();
  ASSERT_TRUE(provider.svc
                  ->Provide(
                      "whoami",
                      [](const ServiceCall& c) -> absl::StatusOr<std::string> {
                        if (c.timeout > absl::Seconds(10) ||
                            c.timeout <= absl::ZeroDuration()) {
                          return absl::InternalError("bad timeout");
                        }
                        return c.caller + "/" + c.service;
                      },
                      Deadline(10))
                  .ok());
  absl::StatusOr<std::string> r = caller.svc->Call("whoami", "", Deadline(10));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, caller.id() + "/whoami");
}

TEST_P(ServicesTest, ProviderErrorReachesTheCallerWithCodeAndMessage) {
  Start();
  Peer provider = Connect();
  Peer caller = Connect();
  ASSERT_TRUE(provider.svc
                  ->Provide(
                      "strict",
                      [](const ServiceCall&) -> absl::StatusOr<std::string> {
                        return absl::PermissionDeniedError("not you");
                      },
                      Deadline(10))
                  .ok());
  absl::StatusOr<std::string> r = caller.svc->Call("strict", "", Deadline(10));
  EXPECT_EQ(r.status(), absl::PermissionDeniedError("not you"));
  EXPECT_EQ(services_->stats().handler_errors, 1u);
}

TEST_P(ServicesTest, NoProviderIsNotFound) {
  Start();
  Peer caller = Connect();
  absl::StatusOr<std::string> r = caller.svc->Call("nope", "", Deadline(10));
  EXPECT_EQ(r.status(), absl::NotFoundError("no provider of service \"nope\""));
  EXPECT_EQ(services_->stats().not_found, 1u);
}

TEST_P(ServicesTest, ProviderGoneMidCallIsUnavailableAtOnce) {
  Start();
  Peer provider = Connect();
  Peer caller = Connect();
  Notification entered, release;
  ASSERT_TRUE(
      provider.svc->Provide("slow", Blocking(entered, release), Deadline(10))
          .ok());
  AsyncAnswer answer;
  const absl::Time start = absl::Now();
  ASSERT_TRUE(
      caller.svc->CallAsync("slow", "", Deadline(30), answer.Callback()).ok());
  ASSERT_TRUE(entered.WaitFor(absl::Seconds(10)));
  absl::StatusOr<uint32_t> pipe = hub_.PipeOf(provider.id());
  ASSERT_TRUE(pipe.ok()) << pipe.status();
  hub_.socket().ClosePipe(*pipe);
  absl::StatusOr<std::string> r = answer.Wait(absl::Seconds(20));
  EXPECT_EQ(r.status(),
            absl::UnavailableError("provider of \"slow\" went away"));
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));  // not the deadline
  EXPECT_EQ(services_->stats().provider_gone, 1u);
  release.Notify();
}

TEST_P(ServicesTest, NoAnswerInTimeIsDeadlineExceededAndTheLateOneDropped) {
  Start();
  Peer provider = Connect();
  Peer caller = Connect();
  Notification entered, release;
  ASSERT_TRUE(
      provider.svc->Provide("slow", Blocking(entered, release), Deadline(10))
          .ok());
  absl::StatusOr<std::string> r =
      caller.svc->Call("slow", "", absl::Now() + absl::Milliseconds(300));
  EXPECT_TRUE(absl::IsDeadlineExceeded(r.status())) << r.status();
  ASSERT_TRUE(entered.WaitFor(absl::Seconds(10)));
  EXPECT_TRUE(WaitUntil([&] { return services_->stats().timed_out == 1; },
                        Deadline(10)));
  release.Notify();
  // The hub's ack table drops the provider's late answer.
  EXPECT_TRUE(WaitUntil([&] { return hub_.rooms_stats().acks_late == 1; },
                        Deadline(10)));
  EXPECT_EQ(services_->stats().answered, 0u);
  // The caller is fine and the provider still serves.
  ASSERT_TRUE(provider.svc->Provide("echo", Echo(""), Deadline(10)).ok());
  EXPECT_EQ(caller.svc->Call("echo", "x", Deadline(10)).value_or(""), "x");
}

TEST_P(ServicesTest, SlowHubServiceTimesOut) {
  Start();
  Notification entered, release;
  ASSERT_TRUE(services_->Provide("hub.slow", Blocking(entered, release)).ok());
  Peer caller = Connect();
  absl::StatusOr<std::string> r =
      caller.svc->Call("hub.slow", "", absl::Now() + absl::Milliseconds(300));
  EXPECT_TRUE(absl::IsDeadlineExceeded(r.status())) << r.status();
  ASSERT_TRUE(entered.WaitFor(absl::Seconds(10)));
  // The hub's deadline runs from when it took the call (no later than now),
  // so it has passed by now + 300 ms however late the call reached the hub
  // (under ASan on a busy machine it can be well after the caller gave up).
  absl::SleepFor(absl::Milliseconds(300) + absl::Milliseconds(50));
  release.Notify();
  EXPECT_TRUE(WaitUntil([&] { return services_->stats().timed_out == 1; },
                        Deadline(10)));
  EXPECT_EQ(services_->stats().answered, 0u);
}

TEST_P(ServicesTest, ThousandCallsInFlightFromFourThreads) {
  Start();
  Peer provider = Connect();
  Peer caller = Connect();
  ASSERT_TRUE(provider.svc->Provide("echo", Echo("r:"), Deadline(10)).ok());
  constexpr int kThreads = 4, kPerThread = 250;
  std::mutex mu;
  std::condition_variable cv;
  int done = 0, right = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string args = absl::StrCat(t, ".", i);
        absl::Status s =
            caller.svc->CallAsync("echo", args, Deadline(30),
                                  [&, args](absl::StatusOr<std::string> r) {
                                    std::lock_guard<std::mutex> lock(mu);
                                    ++done;
                                    if (r.ok() && *r == "r:" + args) ++right;
                                    cv.notify_all();
                                  });
        if (!s.ok()) {
          std::lock_guard<std::mutex> lock(mu);
          ++done;
          cv.notify_all();
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  std::unique_lock<std::mutex> lock(mu);
  EXPECT_TRUE(cv.wait_for(lock, std::chrono::seconds(30),
                          [&] { return done == kThreads * kPerThread; }));
  EXPECT_EQ(right, kThreads * kPerThread);
}

TEST_P(ServicesTest, ProvidersTakeTurns) {
  Start();
  Peer a = Connect();
  Peer b = Connect();
  Peer caller = Connect();
  ASSERT_TRUE(a.svc->Provide("rr", Echo("a"), Deadline(10)).ok());
  ASSERT_TRUE(b.svc->Provide("rr", Echo("b"), Deadline(10)).ok());
  std::vector<ServiceInfo> list = services_->List();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].providers, (std::vector<std::string>{a.id(), b.id()}));
  std::map<std::string, int> got;
  for (int i = 0; i < 10; ++i) {
    absl::StatusOr<std::string> r = caller.svc->Call("rr", "", Deadline(10));
    ASSERT_TRUE(r.ok()) << r.status();
    got[*r]++;
  }
  EXPECT_EQ(got["a"], 5);
  EXPECT_EQ(got["b"], 5);
  // A withdraws: B answers everything; A cannot withdraw B's registration.
  ASSERT_TRUE(a.svc->Withdraw("rr", Deadline(10)).ok());
  ASSERT_TRUE(a.svc->Withdraw("rr", Deadline(10)).ok());
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(caller.svc->Call("rr", "", Deadline(10)).value_or(""), "b");
  }
  ASSERT_TRUE(b.svc->Withdraw("rr", Deadline(10)).ok());
  EXPECT_TRUE(
      absl::IsNotFound(caller.svc->Call("rr", "", Deadline(10)).status()));
  EXPECT_TRUE(services_->List().empty());
}

TEST_P(ServicesTest, HubProvidedServiceGoesFirst) {
  Start();
  Peer provider = Connect();
  Peer caller = Connect();
  ASSERT_TRUE(
      services_
          ->Provide("time",
                    [](const ServiceCall& c) -> absl::StatusOr<std::string> {
                      return "hub:" + c.caller + ":" + c.args;
                    })
          .ok());
  ASSERT_TRUE(
      provider.svc->Provide("time", Echo("client:"), Deadline(10)).ok());
  absl::StatusOr<std::string> r = caller.svc->Call("time", "t", Deadline(10));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, "hub:" + caller.id() + ":t");
  std::vector<ServiceInfo> list = services_->List();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_TRUE(list[0].hub);
  EXPECT_EQ(list[0].providers, std::vector<std::string>{provider.id()});
  // Without the hub's handler the client provider answers.
  services_->Withdraw("time");
  r = caller.svc->Call("time", "t", Deadline(10));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, "client:t");
  EXPECT_TRUE(absl::IsInvalidArgument(services_->Provide("", Echo(""))));
}

TEST_P(ServicesTest, ProviderProvidesAgainAfterReconnecting) {
  Start();
  // Runs after the services' own disconnect listener (added later).
  Notification provider_gone;
  std::string provider_id;
  std::mutex mu;
  const uint64_t key = internal::HubAccess::AddDisconnectListener(
      hub_, [&](const std::string& client) {
        std::lock_guard<std::mutex> lock(mu);
        if (client == provider_id) provider_gone.Notify();
      });
  Peer provider = Connect();
  {
    std::lock_guard<std::mutex> lock(mu);
    provider_id = provider.id();
  }
  Peer caller = Connect();
  ASSERT_TRUE(provider.svc->Provide("echo", Echo("e:"), Deadline(10)).ok());
  absl::StatusOr<uint32_t> pipe = hub_.PipeOf(provider.id());
  ASSERT_TRUE(pipe.ok()) << pipe.status();
  hub_.socket().ClosePipe(*pipe);
  ASSERT_TRUE(provider_gone.WaitFor(absl::Seconds(10)));
  // Its old registration is gone; it comes back and provides again.
  EXPECT_TRUE(WaitUntil(
      [&] {
        return caller.svc->Call("echo", "x", Deadline(5)).value_or("") == "e:x";
      },
      Deadline(10)));
  EXPECT_GE(provider.conn->client->rooms_stats().reconnects, 1u);
  std::vector<ServiceInfo> list = services_->List();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].providers, std::vector<std::string>{provider.id()});
  internal::HubAccess::RemoveDisconnectListener(hub_, key);
}

TEST_P(ServicesTest, BadNamesAreRefusedAndTheConnectionKept) {
  Start();
  ASSERT_TRUE(services_->Provide("hub.echo", Echo("")).ok());
  Peer caller = Connect();
  RoomsClient& raw = *caller.conn->client;
  // Straight to the hub, past the client's own checks.
  EXPECT_TRUE(
      absl::IsInvalidArgument(raw.Emit("_call/", "", Deadline(10)).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      raw.Emit("_call/a\x01", "", Deadline(10)).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      raw.Emit("_svc/provide", "", Deadline(10)).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      raw.Emit("_svc/provide", std::string("\xff", 1), Deadline(10)).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      raw.Emit("_svc/frob", "x", Deadline(10)).status()));
  // And the client's own checks.
  EXPECT_TRUE(
      absl::IsInvalidArgument(caller.svc->Call("", "", Deadline(10)).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      caller.svc->Provide(std::string(300, 'n'), Echo(""), Deadline(10))));
  EXPECT_TRUE(caller.svc->Provided().empty());
  EXPECT_EQ(caller.svc->Call("hub.echo", "ok", Deadline(10)).value_or(""),
            "ok");
  EXPECT_EQ(raw.rooms_stats().reconnects, 0u);
  EXPECT_EQ(services_->stats().calls, 1u);
}

TEST_P(ServicesTest, LimitsAreResourceExhausted) {
  HubServicesOptions options;
  options.max_services_per_client = 2;
  options.max_providers_per_service = 1;
  Start(options);
  Peer a = Connect();
  Peer b = Connect();
  ASSERT_TRUE(a.svc->Provide("one", Echo(""), Deadline(10)).ok());
  ASSERT_TRUE(a.svc->Provide("two", Echo(""), Deadline(10)).ok());
  ASSERT_TRUE(a.svc->Provide("two", Echo("again"), Deadline(10)).ok());
  EXPECT_TRUE(absl::IsResourceExhausted(
      a.svc->Provide("three", Echo(""), Deadline(10))));
  EXPECT_TRUE(
      absl::IsResourceExhausted(b.svc->Provide("one", Echo(""), Deadline(10))));
  EXPECT_EQ(a.svc->Provided(), (std::vector<std::string>{"one", "two"}));
  EXPECT_TRUE(b.svc->Provided().empty());
  EXPECT_EQ(b.svc->Call("two", "x", Deadline(10)).value_or(""), "againx");
}

TEST_P(ServicesTest, CallerGoneMidCallAffectsNobodyElse) {
  Start();
  Peer provider = Connect();
  Peer gone = Connect();
  Peer other = Connect();
  Notification entered, release;
  ASSERT_TRUE(
      provider.svc->Provide("slow", Blocking(entered, release), Deadline(10))
          .ok());
  ASSERT_TRUE(provider.svc->Provide("echo", Echo(""), Deadline(10)).ok());
  AsyncAnswer answer;
  ASSERT_TRUE(
      gone.svc->CallAsync("slow", "", Deadline(30), answer.Callback()).ok());
  ASSERT_TRUE(entered.WaitFor(absl::Seconds(10)));
  absl::StatusOr<uint32_t> pipe = hub_.PipeOf(gone.id());
  ASSERT_TRUE(pipe.ok()) << pipe.status();
  hub_.socket().ClosePipe(*pipe);
  EXPECT_TRUE(absl::IsUnavailable(answer.Wait(absl::Seconds(10)).status()));
  release.Notify();  // its answer goes nowhere
  EXPECT_TRUE(WaitUntil([&] { return services_->stats().answered == 1; },
                        Deadline(10)));
  EXPECT_EQ(other.svc->Call("echo", "still", Deadline(10)).value_or(""),
            "still");
  EXPECT_EQ(provider.conn->client->rooms_stats().reconnects, 0u);
}

TEST_P(ServicesTest, TypedServiceParsesItsArguments) {
  Start();
  Peer provider = Connect();
  Peer caller = Connect();
  using google::protobuf::StringValue;
  ASSERT_TRUE(provider.svc
                  ->Provide("len",
                            ProtoService<StringValue>(
                                [](const ServiceCall&, const StringValue& v)
                                    -> absl::StatusOr<std::string> {
                                  StringValue out;
                                  out.set_value(absl::StrCat(v.value().size()));
                                  return ProtoPayload(out);
                                }),
                            Deadline(10))
                  .ok());
  StringValue in;
  in.set_value("four");
  absl::StatusOr<std::string> r =
      caller.svc->Call("len", ProtoPayload(in), Deadline(10));
  ASSERT_TRUE(r.ok()) << r.status();
  absl::StatusOr<StringValue> out = ParseProtoPayload<StringValue>(*r);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->value(), "4");
  r = caller.svc->Call("len", std::string("\xff\xff", 2), Deadline(10));
  EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
}

TEST_P(ServicesTest, HubCapsTheCallersTimeout) {
  HubServicesOptions options;
  options.max_call_timeout = absl::Seconds(2);
  Start(options);
  Peer provider = Connect();
  Peer caller = Connect();
  auto timeout_ms = [](const ServiceCall& c) -> absl::StatusOr<std::string> {
    return absl::StrCat(absl::ToInt64Milliseconds(c.timeout));
  };
  ASSERT_TRUE(provider.svc->Provide("client.t", timeout_ms, Deadline(10)).ok());
  ASSERT_TRUE(services_->Provide("hub.t", timeout_ms).ok());
  for (const char* name : {"client.t", "hub.t"}) {
    absl::StatusOr<std::string> r = caller.svc->Call(name, "", Deadline(60));
    ASSERT_TRUE(r.ok()) << name << ": " << r.status();
    int64_t ms = 0;
    ASSERT_TRUE(absl::SimpleAtoi(*r, &ms)) << *r;
    EXPECT_GT(ms, 0) << name;
    EXPECT_LE(ms, 2000) << name;
  }
}

INSTANTIATE_TEST_SUITE_P(Transports, ServicesTest,
                         ::testing::Values("inproc", "tcp", "ws"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace msock
