// Raw sockets and Device over every transport: a req/rep broker whose
// backtrace grows one hop word per device, the TTL across a chain of devices
// (8 hops pass, the 9th is dropped and counted), a pub/sub forwarder, a
// push/pull streamer, and Device's argument checks and shutdown.
#include "msock/protocols/device.h"

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "msock/msock.h"
#include "tests/support/test_support.h"

namespace msock {
namespace {

using test::Deadline;
using test::ListenUrlFor;
using test::WaitUntil;

// A device between two raw sockets, running on its own thread; closing the
// front socket stops it.
class RunningDevice {
 public:
  RunningDevice(const SocketSpec& front, const SocketSpec& back,
                const std::string& transport)
      : front_(RawSocket(front)), back_(RawSocket(back)) {
    front_url_ = front_.Listen(ListenUrlFor(transport)).value();
    back_url_ = back_.Listen(ListenUrlFor(transport)).value();
    thread_ = std::thread([this] { status_ = Device(front_, back_); });
  }
  ~RunningDevice() { Stop().IgnoreError(); }
  absl::Status Stop() {
    front_.Close();
    back_.Close();
    if (thread_.joinable()) thread_.join();
    return status_;
  }
  Socket& front() { return front_; }
  Socket& back() { return back_; }
  const std::string& front_url() const { return front_url_; }
  const std::string& back_url() const { return back_url_; }

 private:
  Socket front_, back_;
  std::string front_url_, back_url_;
  absl::Status status_;
  std::thread thread_;
};

class DeviceTest : public ::testing::TestWithParam<std::string> {
 protected:
  const std::string& transport() const { return GetParam(); }
};

TEST_P(DeviceTest, BrokerAddsOneHopWordAndRoutesRepliesBack) {
  RunningDevice broker(protocols::kRep, protocols::kReq, transport());
  Rep worker;
  ASSERT_TRUE(worker.Dial(broker.back_url()).ok());
  Req client;
  ASSERT_TRUE(client.Dial(broker.front_url()).ok());
  ASSERT_TRUE(broker.back().WaitForPeers(1, Deadline(10)).ok());
  ASSERT_TRUE(broker.front().WaitForPeers(1, Deadline(10)).ok());
  std::thread serve([&] {
    absl::StatusOr<Message> q = worker.Recv(Deadline(10));
    ASSERT_TRUE(q.ok()) << q.status();
    ASSERT_EQ(q->header().size(), 2u) << "hop word + request id";
    EXPECT_EQ(q->header()[0] & 0x80000000u, 0u)
        << "a hop word has bit 31 clear";
    EXPECT_NE(q->header()[1] & 0x80000000u, 0u);
    Message a(absl::StrCat("re:", std::string(q->body())));
    EXPECT_TRUE(worker.Reply(*q, a, Deadline(5)).ok());
  });
  Message m("job");
  absl::StatusOr<Message> r = client.Request(m, Deadline(10));
  serve.join();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body(), "re:job");
  EXPECT_TRUE(broker.Stop().ok());
}

TEST_P(DeviceTest, BrokerSpreadsManyClientsOverAPoolOfWorkers) {
  RunningDevice broker(protocols::kRep, protocols::kReq, transport());
  constexpr int kWorkers = 3, kClients = 4, kEach = 25;
  std::vector<std::unique_ptr<Rep>> workers;
  std::vector<std::thread> serving;
  std::atomic<bool> stop{false};
  std::vector<std::atomic<int>> served(kWorkers);
  for (int w = 0; w < kWorkers; ++w) {
    workers.push_back(std::make_unique<Rep>());
    ASSERT_TRUE(workers.back()->Dial(broker.back_url()).ok());
  }
  ASSERT_TRUE(broker.back().WaitForPeers(kWorkers, Deadline(10)).ok());
  for (int w = 0; w < kWorkers; ++w) {
    serving.emplace_back([&, w] {
      while (!stop) {
        absl::StatusOr<Message> q =
            workers[w]->Recv(absl::Now() + absl::Milliseconds(50));
        if (!q.ok()) continue;
        Message a(absl::StrCat("re:", std::string(q->body())));
        if (workers[w]->Reply(*q, a, Deadline(5)).ok()) ++served[w];
      }
    });
  }
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      Req req;
      ASSERT_TRUE(req.Dial(broker.front_url()).ok());
      for (int i = 0; i < kEach; ++i) {
        std::string body = absl::StrCat("c", c, "-", i);
        Message m(body);
        absl::StatusOr<Message> r = req.Request(m, Deadline(20));
        ASSERT_TRUE(r.ok()) << r.status();
        ASSERT_EQ(r->body(), "re:" + body);
        ++ok;
      }
    });
  }
  for (auto& t : clients) t.join();
  stop = true;
  for (auto& t : serving) t.join();
  EXPECT_EQ(ok.load(), kClients * kEach);
  for (int w = 0; w < kWorkers; ++w) EXPECT_GT(served[w].load(), 0) << w;
}

// Requests cross `devices` brokers in a row; returns whether the reply came and
// the first device that dropped one, if any.
void Chain(const std::string& transport, int devices, bool expect_reply) {
  std::vector<std::unique_ptr<RunningDevice>> chain;
  for (int i = 0; i < devices; ++i) {
    chain.push_back(std::make_unique<RunningDevice>(
        protocols::kRep, protocols::kReq, transport));
    if (i > 0) {
      // The previous device's back (raw req) dials this device's front.
      ASSERT_TRUE(chain[i - 1]->back().Dial(chain[i]->front_url()).ok());
    }
  }
  Rep server;
  ASSERT_TRUE(server.Dial(chain.back()->back_url()).ok());
  Req client;
  ASSERT_TRUE(client.Dial(chain.front()->front_url()).ok());
  for (auto& d : chain) {
    ASSERT_TRUE(d->front().WaitForPeers(1, Deadline(10)).ok());
    ASSERT_TRUE(d->back().WaitForPeers(1, Deadline(10)).ok());
  }
  std::thread serve([&] {
    absl::StatusOr<Message> q = server.Recv(Deadline(expect_reply ? 10 : 1.5));
    if (!expect_reply) {
      EXPECT_FALSE(q.ok()) << "a request over the TTL reached the server";
      return;
    }
    ASSERT_TRUE(q.ok()) << q.status();
    EXPECT_EQ(q->header().size(), static_cast<size_t>(devices + 1));
    Message a("made it");
    EXPECT_TRUE(server.Reply(*q, a, Deadline(5)).ok());
  });
  Message m("far");
  absl::StatusOr<Message> r =
      client.Request(m, Deadline(expect_reply ? 10 : 1));
  serve.join();
  if (expect_reply) {
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->body(), "made it");
  } else {
    EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded);
    // The last device saw the 9th word and dropped it, counted.
    EXPECT_EQ(chain.back()->front().stats().dropped, 1u);
  }
}

TEST_P(DeviceTest, SevenDevicesPassEightHopWordsTheRepAccepts) {
  // The rep sees 7 hop words + the id = 8 words = kTtl.
  Chain(transport(), 7, /*expect_reply=*/true);
}

TEST_P(DeviceTest, TheHopOverTheTtlIsDroppedAndCounted) {
  Chain(transport(), 8, /*expect_reply=*/false);
}

TEST_P(DeviceTest, PubSubForwarder) {
  Pub origin;
  absl::StatusOr<std::string> origin_url =
      origin.Listen(ListenUrlFor(transport()));
  ASSERT_TRUE(origin_url.ok());
  Socket in = RawSocket(protocols::kSub);
  Socket out = RawSocket(protocols::kPub);
  absl::StatusOr<std::string> out_url = out.Listen(ListenUrlFor(transport()));
  ASSERT_TRUE(out_url.ok());
  ASSERT_TRUE(in.Dial(*origin_url).ok());
  std::thread dev([&] { EXPECT_TRUE(Device(in, out).ok()); });
  Sub s1, s2;
  s1.Subscribe("a");
  s2.Subscribe("b");
  ASSERT_TRUE(s1.Dial(*out_url).ok());
  ASSERT_TRUE(s2.Dial(*out_url).ok());
  ASSERT_TRUE(out.WaitForPeers(2, Deadline(10)).ok());
  ASSERT_TRUE(origin.WaitForPeers(1, Deadline(10)).ok());
  for (const char* b : {"a1", "b1", "c1", "a2"}) {
    Message m(b);
    ASSERT_TRUE(origin.Send(m, Deadline(5)).ok());
  }
  auto next = [](Sub& s) {
    absl::StatusOr<Message> m = s.Recv(Deadline(10));
    return m.ok() ? std::string(m->body()) : m.status().ToString();
  };
  EXPECT_EQ(next(s1), "a1");
  EXPECT_EQ(next(s1), "a2");
  EXPECT_EQ(next(s2), "b1");
  in.Close();
  dev.join();
}

TEST_P(DeviceTest, PushPullStreamer) {
  RunningDevice streamer(protocols::kPull, protocols::kPush, transport());
  Push producer;
  Pull consumer;
  ASSERT_TRUE(producer.Dial(streamer.front_url()).ok());
  ASSERT_TRUE(consumer.Dial(streamer.back_url()).ok());
  for (int i = 0; i < 100; ++i) {
    Message m(absl::StrCat("j", i));
    ASSERT_TRUE(producer.Send(m, Deadline(10)).ok());
  }
  for (int i = 0; i < 100; ++i) {
    absl::StatusOr<Message> m = consumer.Recv(Deadline(10));
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_EQ(m->body(), absl::StrCat("j", i));
  }
}

TEST_P(DeviceTest, SurveyThroughADevice) {
  RunningDevice dev(protocols::kRespondent, protocols::kSurveyor, transport());
  Respondent r1, r2;
  ASSERT_TRUE(r1.Dial(dev.back_url()).ok());
  ASSERT_TRUE(r2.Dial(dev.back_url()).ok());
  Surveyor surveyor;
  ASSERT_TRUE(surveyor.Dial(dev.front_url()).ok());
  ASSERT_TRUE(dev.back().WaitForPeers(2, Deadline(10)).ok());
  ASSERT_TRUE(dev.front().WaitForPeers(1, Deadline(10)).ok());
  ASSERT_TRUE(surveyor.WaitForPeers(1, Deadline(10)).ok());
  auto answer = [](Respondent& r, const char* text) {
    absl::StatusOr<Message> q = r.Recv(Deadline(10));
    ASSERT_TRUE(q.ok()) << q.status();
    EXPECT_EQ(q->header().size(), 2u);
    Message a(text);
    EXPECT_TRUE(r.Reply(*q, a, Deadline(5)).ok());
  };
  std::thread t1([&] { answer(r1, "one"); });
  std::thread t2([&] { answer(r2, "two"); });
  Message q("count off");
  absl::StatusOr<std::vector<Message>> a = surveyor.Survey(q, Deadline(1.5));
  t1.join();
  t2.join();
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->size(), 2u);
}

TEST(DeviceArgs, RefusesSocketsOfDifferentProtocols) {
  Socket a = RawSocket(protocols::kRep);
  Socket b = RawSocket(protocols::kPush);
  absl::Status s = Device(a, b);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("rep"), std::string_view::npos) << s;
  Socket req = RawSocket(protocols::kReq);
  EXPECT_EQ(Device(req, req).code(), absl::StatusCode::kInvalidArgument);
}

TEST(DeviceArgs, RawRepSendNeedsAHopWord) {
  Socket raw = RawSocket(protocols::kRep);
  Message m("nowhere");
  EXPECT_EQ(raw.Send(m, Deadline(1)).code(),
            absl::StatusCode::kInvalidArgument);
  m.header().push_back(12345);
  EXPECT_EQ(raw.Send(m, Deadline(1)).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(m.header().size(), 1u) << "the caller keeps the message as given";
}

INSTANTIATE_TEST_SUITE_P(Transports, DeviceTest,
                         ::testing::Values("inproc", "ipc", "tcp"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace msock
