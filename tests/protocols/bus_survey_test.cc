// Bus and surveyor / respondent over every transport: one-hop delivery on the
// bus (no forwarding loops), surveys collecting every answer until the
// deadline, concurrent surveys, late answers dropped and counted, and the
// respondent's backtrace echo.
#include <atomic>
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

class BusSurveyTest : public ::testing::TestWithParam<std::string> {
 protected:
  const std::string& transport() const { return GetParam(); }

  template <typename L>
  std::string Listen(L& listener) {
    absl::StatusOr<std::string> url =
        listener.Listen(ListenUrlFor(transport()));
    EXPECT_TRUE(url.ok()) << url.status();
    return url.value_or("inproc://listen-failed");
  }
  template <typename S>
  static std::string Next(S& s) {
    absl::StatusOr<Message> m = s.Recv(Deadline(10));
    EXPECT_TRUE(m.ok()) << m.status();
    return m.ok() ? std::string(m->body()) : "<" + m.status().ToString() + ">";
  }
  template <typename S>
  static void SendText(S& s, std::string_view body) {
    Message m(body);
    ASSERT_TRUE(s.Send(m, Deadline(5)).ok());
  }
};

TEST_P(BusSurveyTest, BusReachesEveryDirectPeer) {
  Bus hub, b, c;
  std::string url = Listen(hub);
  ASSERT_TRUE(b.Dial(url).ok());
  ASSERT_TRUE(c.Dial(url).ok());
  ASSERT_TRUE(hub.WaitForPeers(2, Deadline(10)).ok());
  ASSERT_TRUE(b.WaitForPeers(1, Deadline(10)).ok());
  ASSERT_TRUE(c.WaitForPeers(1, Deadline(10)).ok());
  SendText(hub, "to all");
  EXPECT_EQ(Next(b), "to all");
  EXPECT_EQ(Next(c), "to all");
  SendText(b, "from b");
  absl::StatusOr<Message> at_hub = hub.Recv(Deadline(10));
  ASSERT_TRUE(at_hub.ok());
  EXPECT_EQ(at_hub->body(), "from b");
  EXPECT_EQ(at_hub->source().size(), 1u);
  // One hop only: the hub did not pass "from b" on to c. c's next message is
  // the hub's own.
  SendText(hub, "second");
  EXPECT_EQ(Next(c), "second");
  EXPECT_EQ(Next(b), "second");  // and nothing came back to b
}

TEST_P(BusSurveyTest, BusDeviceReflectsToEveryOtherPeer) {
  Socket hub = RawSocket(protocols::kBus);
  absl::StatusOr<std::string> url = hub.Listen(ListenUrlFor(transport()));
  ASSERT_TRUE(url.ok());
  std::thread device([&] { EXPECT_TRUE(Device(hub, hub).ok()); });
  Bus b, c, d;
  for (Bus* x : {&b, &c, &d}) ASSERT_TRUE(x->Dial(*url).ok());
  ASSERT_TRUE(hub.WaitForPeers(3, Deadline(10)).ok());
  SendText(b, "from b");
  EXPECT_EQ(Next(c), "from b");
  EXPECT_EQ(Next(d), "from b");
  SendText(c, "from c");
  EXPECT_EQ(Next(b), "from c");  // b's first: its own message did not echo
  EXPECT_EQ(Next(d), "from c");
  hub.Close();
  device.join();
}

TEST_P(BusSurveyTest, SurveyCollectsEveryAnswer) {
  Surveyor surveyor;
  std::string url = Listen(surveyor);
  constexpr int kRespondents = 3;
  std::vector<std::unique_ptr<Respondent>> rs;
  std::vector<std::thread> answering;
  for (int i = 0; i < kRespondents; ++i) {
    rs.push_back(std::make_unique<Respondent>());
    ASSERT_TRUE(rs.back()->Dial(url).ok());
  }
  ASSERT_TRUE(surveyor.WaitForPeers(kRespondents, Deadline(10)).ok());
  for (int i = 0; i < kRespondents; ++i) {
    answering.emplace_back([&, i] {
      absl::StatusOr<Message> q = rs[i]->Recv(Deadline(10));
      ASSERT_TRUE(q.ok()) << q.status();
      EXPECT_EQ(q->body(), "who?");
      ASSERT_EQ(q->header().size(), 1u);
      EXPECT_NE(q->header()[0] & 0x80000000u, 0u);
      Message a(absl::StrCat("me", i));
      EXPECT_TRUE(rs[i]->Reply(*q, a, Deadline(5)).ok());
    });
  }
  Message who("who?");
  absl::Time start = absl::Now();
  absl::StatusOr<std::vector<Message>> answers =
      surveyor.Survey(who, absl::Now() + absl::Seconds(2));
  for (auto& t : answering) t.join();
  ASSERT_TRUE(answers.ok()) << answers.status();
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(1900))
      << "a survey runs until its deadline";
  std::vector<std::string> bodies;
  for (const Message& m : *answers) bodies.emplace_back(m.body());
  std::sort(bodies.begin(), bodies.end());
  EXPECT_EQ(bodies, (std::vector<std::string>{"me0", "me1", "me2"}));
  EXPECT_TRUE(who.empty());
}

TEST_P(BusSurveyTest, LateAnswerIsDroppedAndCounted) {
  Surveyor surveyor;
  Respondent resp;
  ASSERT_TRUE(resp.Dial(Listen(surveyor)).ok());
  ASSERT_TRUE(surveyor.WaitForPeers(1, Deadline(10)).ok());
  Message q1("first");
  absl::StatusOr<std::vector<Message>> none =
      surveyor.Survey(q1, absl::Now() + absl::Milliseconds(100));
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  absl::StatusOr<Message> got = resp.Recv(Deadline(10));
  ASSERT_TRUE(got.ok());
  Message late("too late");
  ASSERT_TRUE(resp.Reply(*got, late, Deadline(5)).ok());
  ASSERT_TRUE(
      WaitUntil([&] { return surveyor.stats().dropped == 1; }, Deadline(10)));
  // The next survey is not disturbed by the late answer.
  std::thread answer([&] {
    absl::StatusOr<Message> q = resp.Recv(Deadline(10));
    ASSERT_TRUE(q.ok());
    Message a("on time");
    EXPECT_TRUE(resp.Reply(*q, a, Deadline(5)).ok());
  });
  Message q2("second");
  std::vector<std::string> bodies;
  ASSERT_TRUE(surveyor
                  .Survey(q2, Deadline(1),
                          [&](Message& m) { bodies.emplace_back(m.body()); })
                  .ok());
  answer.join();
  EXPECT_EQ(bodies, std::vector<std::string>{"on time"});
}

TEST_P(BusSurveyTest, ConcurrentSurveysGetTheirOwnAnswers) {
  Surveyor surveyor;
  Respondent resp;
  ASSERT_TRUE(resp.Dial(Listen(surveyor)).ok());
  ASSERT_TRUE(surveyor.WaitForPeers(1, Deadline(10)).ok());
  std::thread echo([&] {
    for (int i = 0; i < 4; ++i) {
      absl::StatusOr<Message> q = resp.Recv(Deadline(10));
      ASSERT_TRUE(q.ok());
      Message a(absl::StrCat("re:", std::string(q->body())));
      EXPECT_TRUE(resp.Reply(*q, a, Deadline(5)).ok());
    }
  });
  std::vector<std::thread> askers;
  for (int t = 0; t < 4; ++t) {
    askers.emplace_back([&, t] {
      Message q(absl::StrCat("q", t));
      absl::StatusOr<std::vector<Message>> a = surveyor.Survey(q, Deadline(1));
      ASSERT_TRUE(a.ok());
      ASSERT_EQ(a->size(), 1u);
      EXPECT_EQ((*a)[0].body(), absl::StrCat("re:q", t));
    });
  }
  for (auto& t : askers) t.join();
  echo.join();
  EXPECT_EQ(surveyor.stats().dropped, 0u);
}

TEST_P(BusSurveyTest, SurveyWithoutRespondentsEndsEmptyAtDeadline) {
  Surveyor surveyor;
  Message q("anyone?");
  absl::StatusOr<std::vector<Message>> a =
      surveyor.Survey(q, absl::Now() + absl::Milliseconds(100));
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_TRUE(a->empty());
  surveyor.SetSurveyTime(absl::Milliseconds(50));
  EXPECT_EQ(surveyor.survey_time(), absl::Milliseconds(50));
  Message q2("still nobody");
  EXPECT_TRUE(surveyor.Survey(q2).ok());
}

TEST_P(BusSurveyTest, CloseWakesRunningSurvey) {
  Surveyor surveyor;
  absl::Status s;
  std::atomic<bool> started{false};
  std::thread t([&] {
    Message q("forever");
    started = true;
    s = surveyor.Survey(q, absl::InfiniteFuture(), [](Message&) {});
  });
  ASSERT_TRUE(WaitUntil([&] { return started.load(); }, Deadline(10)));
  surveyor.Close();
  t.join();
  EXPECT_TRUE(s.code() == absl::StatusCode::kCancelled ||
              s.code() == absl::StatusCode::kFailedPrecondition)
      << s;
}

TEST_P(BusSurveyTest, RespondentEchoesBacktraceAndEnforcesTtl) {
  Respondent resp;
  Socket raw(protocols::kSurveyor);  // speaks the wire format directly
  ASSERT_TRUE(raw.Dial(Listen(resp)).ok());
  ASSERT_TRUE(raw.WaitForPeers(1, Deadline(10)).ok());
  ASSERT_TRUE(resp.WaitForPeers(1, Deadline(10)).ok());
  Message q("hop");
  q.header() = {5, 0x80000009u};
  ASSERT_TRUE(raw.Send(q, Deadline(5)).ok());
  absl::StatusOr<Message> got = resp.Recv(Deadline(10));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->header(), (HeaderWords{5, 0x80000009u}));
  Message a("back");
  ASSERT_TRUE(resp.Reply(*got, a, Deadline(5)).ok());
  absl::StatusOr<Message> back = raw.Recv(Deadline(10));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(test::WireBytes(*back),
            std::string("\x00\x00\x00\x05\x80\x00\x00\x09"
                        "back",
                        12));
  Message nine("nine");  // 8 hops + the id: over the TTL
  nine.header() = {1, 2, 3, 4, 5, 6, 7, 8, 0x80000001u};
  ASSERT_TRUE(raw.Send(nine, Deadline(5)).ok());
  ASSERT_TRUE(
      WaitUntil([&] { return resp.stats().dropped == 1; }, Deadline(10)));
}

INSTANTIATE_TEST_SUITE_P(Transports, BusSurveyTest,
                         ::testing::Values("inproc", "ipc", "tcp"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace msock
