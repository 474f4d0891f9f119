// The protocol conformance suite: every recipe (pair0, pair1, push/pull,
// req/rep, pub/sub, bus, surveyor/respondent) over every transport (inproc,
// ipc, tcp) through the typed classes: send/receive, body integrity, ordering,
// statistics and refusal of a peer speaking another protocol. Also checks at
// compile time that each typed class exposes only what its role allows.
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
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

// ---- compile-time surface of the typed classes ----
template <typename T>
concept CanSend = requires(T& t, Message& m) {
  t.Send(m, absl::Now());
  t.TrySend(m);
};
template <typename T>
concept CanSendAnything = requires(T& t, Message& m) {
  t.Send(m);
}
|| requires(T& t, Message& m) { t.TrySend(m); }
|| requires(T& t, Message& m) { t.Send(m, absl::Now()); };
template <typename T>
concept CanRecv = requires(T& t) {
  t.Recv(absl::Now());
  t.TryRecv();
};
template <typename T>
concept CanRecvAnything = requires(T& t) {
  t.Recv();
}
|| requires(T& t) { t.TryRecv(); }
|| requires(T& t) { t.Recv(absl::Now()); };

static_assert(CanSend<Push>, "Push sends");
static_assert(!CanRecvAnything<Push>, "Push must have no Recv");
static_assert(CanRecv<Pull>, "Pull receives");
static_assert(!CanSendAnything<Pull>, "Pull must have no Send");
static_assert(CanSend<Pair0> && CanRecv<Pair0>, "Pair0 sends and receives");
static_assert(CanSend<Pair1> && CanRecv<Pair1>, "Pair1 sends and receives");
static_assert(CanSend<Pub> && !CanRecvAnything<Pub>, "Pub only sends");
static_assert(CanRecv<Sub> && !CanSendAnything<Sub>, "Sub only receives");
static_assert(CanSend<Bus> && CanRecv<Bus>, "Bus sends and receives");
// Every sending role has the same surface (msock/protocols/role.h).
template <typename T>
concept CanSendBody = requires(T& t, Message& m) {
  t.Send(std::string_view("body"), absl::Now());
  t.Send(m);
};
static_assert(CanSendBody<Push> && CanSendBody<Pub> && CanSendBody<Bus> &&
                  CanSendBody<Pair0> && CanSendBody<Pair1>,
              "every sending role takes a string_view body too");
static_assert(!CanSendAnything<Req> && !CanSendAnything<Rep> &&
                  !CanSendAnything<Surveyor> && !CanSendAnything<Respondent>,
              "req/rep and survey send only through their own verbs");
static_assert(CanRecv<Rep> && CanRecv<Respondent> && !CanRecvAnything<Req> &&
                  !CanRecvAnything<Surveyor>,
              "rep and respondent receive; req and surveyor only answer");
static_assert(CanSend<Bus> && CanRecv<Bus>, "Bus sends and receives");
static_assert(CanRecv<Rep> && !CanSendAnything<Rep>, "Rep only replies");
static_assert(!CanSendAnything<Req> && !CanRecvAnything<Req>,
              "Req only makes requests");
static_assert(!CanSendAnything<Surveyor> && !CanRecvAnything<Surveyor>,
              "Surveyor only surveys");
static_assert(CanRecv<Respondent> && !CanSendAnything<Respondent>,
              "Respondent only replies");
static_assert(!std::is_copy_constructible_v<Push> &&
                  !std::is_copy_constructible_v<Pair1>,
              "sockets are not copyable");

// ---- a listener `a` and a dialer `b` of one recipe ----
class Duo {
 public:
  virtual ~Duo() = default;
  virtual internal::Role& a() = 0;  // listens; always sends
  virtual internal::Role& b() = 0;  // dials; always receives
  virtual absl::Status SendA(Message& m, absl::Time d) = 0;
  virtual absl::StatusOr<Message> RecvB(absl::Time d) = 0;
  virtual bool both_ways() const = 0;
  virtual absl::Status SendB(Message& m, absl::Time d) = 0;
  virtual absl::StatusOr<Message> RecvA(absl::Time d) = 0;
  // A spec whose raw socket `a` must refuse as a peer.
  virtual const SocketSpec& mismatched() const = 0;
  virtual const char* name() const = 0;
  // Sends never wait for a peer (pub, bus, surveyor): with none, the message
  // goes nowhere.
  virtual bool fan_out() const { return false; }
  // Many sends may be queued before anything is received, and arrive in order
  // (not so for requests and surveys, each waiting for its answer).
  virtual bool streams() const { return true; }
};

// Collects what calls running on their own threads return: a Request or a
// Survey started by SendA, answered later and read back by RecvA.
class Answers {
 public:
  void Put(absl::StatusOr<Message> m) {
    std::lock_guard<std::mutex> lock(mu_);
    q_.push_back(std::move(m));
    cv_.notify_all();
  }
  absl::StatusOr<Message> Take(absl::Time deadline) {
    std::unique_lock<std::mutex> lock(mu_);
    while (q_.empty()) {
      if (cv_.wait_for(lock,
                       absl::ToChronoNanoseconds(deadline - absl::Now())) ==
              std::cv_status::timeout &&
          q_.empty()) {
        return absl::DeadlineExceededError("no answer");
      }
    }
    absl::StatusOr<Message> m = std::move(q_.front());
    q_.pop_front();
    return m;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<absl::StatusOr<Message>> q_;
};

template <typename P>
class PairDuo : public Duo {
 public:
  PairDuo(const SocketSpec& mismatch, const char* name)
      : mismatch_(mismatch), name_(name) {}
  internal::Role& a() override { return a_; }
  internal::Role& b() override { return b_; }
  absl::Status SendA(Message& m, absl::Time d) override {
    return a_.Send(m, d);
  }
  absl::StatusOr<Message> RecvB(absl::Time d) override { return b_.Recv(d); }
  bool both_ways() const override { return true; }
  absl::Status SendB(Message& m, absl::Time d) override {
    return b_.Send(m, d);
  }
  absl::StatusOr<Message> RecvA(absl::Time d) override { return a_.Recv(d); }
  const SocketSpec& mismatched() const override { return mismatch_; }
  const char* name() const override { return name_; }

 private:
  P a_, b_;
  const SocketSpec& mismatch_;
  const char* name_;
};

class PipelineDuo : public Duo {
 public:
  internal::Role& a() override { return push_; }
  internal::Role& b() override { return pull_; }
  absl::Status SendA(Message& m, absl::Time d) override {
    return push_.Send(m, d);
  }
  absl::StatusOr<Message> RecvB(absl::Time d) override { return pull_.Recv(d); }
  bool both_ways() const override { return false; }
  absl::Status SendB(Message&, absl::Time) override {
    return absl::UnimplementedError("pull cannot send");
  }
  absl::StatusOr<Message> RecvA(absl::Time) override {
    return absl::UnimplementedError("push cannot receive");
  }
  const SocketSpec& mismatched() const override { return protocols::kPush; }
  const char* name() const override { return "push"; }

 private:
  Push push_;
  Pull pull_;
};

// a = Req (sends requests), b = Rep. Each SendA runs a Request on a thread;
// RecvA gives the reply to the oldest.
class ReqRepDuo : public Duo {
 public:
  ~ReqRepDuo() override {
    req_.Close();  // wakes the Requests still waiting
    for (auto& t : threads_) t.join();
  }
  internal::Role& a() override { return req_; }
  internal::Role& b() override { return rep_; }
  absl::Status SendA(Message& m, absl::Time d) override {
    auto owned = std::make_shared<Message>(std::move(m));
    threads_.emplace_back([this, owned, d] {
      answers_.Put(req_.Request(*owned, d + absl::Seconds(5)));
    });
    return absl::OkStatus();
  }
  absl::StatusOr<Message> RecvB(absl::Time d) override {
    absl::StatusOr<Message> q = rep_.Recv(d);
    if (q.ok()) last_ = q->Clone();
    return q;
  }
  bool both_ways() const override { return true; }
  absl::Status SendB(Message& m, absl::Time d) override {
    if (!last_) return absl::FailedPreconditionError("no request to answer");
    return rep_.Reply(*last_, m, d);
  }
  absl::StatusOr<Message> RecvA(absl::Time d) override {
    return answers_.Take(d);
  }
  const SocketSpec& mismatched() const override { return protocols::kPush; }
  const char* name() const override { return "req"; }
  bool streams() const override { return false; }

 private:
  Req req_;
  Rep rep_;
  std::optional<Message> last_;
  Answers answers_;
  std::vector<std::thread> threads_;
};

// a = Surveyor, b = Respondent: like ReqRepDuo, with surveys.
class SurveyDuo : public Duo {
 public:
  ~SurveyDuo() override {
    surveyor_.Close();
    for (auto& t : threads_) t.join();
  }
  internal::Role& a() override { return surveyor_; }
  internal::Role& b() override { return resp_; }
  absl::Status SendA(Message& m, absl::Time d) override {
    if (d <= absl::Now()) {  // a survey that ends at once: no thread
      return surveyor_.Survey(m, d, [](Message&) {});
    }
    auto owned = std::make_shared<Message>(std::move(m));
    threads_.emplace_back([this, owned, d] {
      surveyor_
          .Survey(*owned, d + absl::Seconds(5),
                  [this](Message& a) { answers_.Put(std::move(a)); })
          .IgnoreError();
    });
    return absl::OkStatus();
  }
  absl::StatusOr<Message> RecvB(absl::Time d) override {
    absl::StatusOr<Message> q = resp_.Recv(d);
    if (q.ok()) last_ = q->Clone();
    return q;
  }
  bool both_ways() const override { return true; }
  absl::Status SendB(Message& m, absl::Time d) override {
    if (!last_) return absl::FailedPreconditionError("no survey to answer");
    return resp_.Reply(*last_, m, d);
  }
  absl::StatusOr<Message> RecvA(absl::Time d) override {
    return answers_.Take(d);
  }
  const SocketSpec& mismatched() const override { return protocols::kReq; }
  const char* name() const override { return "surveyor"; }
  bool fan_out() const override { return true; }
  bool streams() const override { return false; }

 private:
  Surveyor surveyor_;
  Respondent resp_;
  std::optional<Message> last_;
  Answers answers_;
  std::vector<std::thread> threads_;
};

class PubSubDuo : public Duo {
 public:
  PubSubDuo() { sub_.Subscribe(""); }
  internal::Role& a() override { return pub_; }
  internal::Role& b() override { return sub_; }
  absl::Status SendA(Message& m, absl::Time d) override {
    return pub_.Send(m, d);
  }
  absl::StatusOr<Message> RecvB(absl::Time d) override { return sub_.Recv(d); }
  bool both_ways() const override { return false; }
  absl::Status SendB(Message&, absl::Time) override {
    return absl::UnimplementedError("sub cannot send");
  }
  absl::StatusOr<Message> RecvA(absl::Time) override {
    return absl::UnimplementedError("pub cannot receive");
  }
  const SocketSpec& mismatched() const override { return protocols::kBus; }
  const char* name() const override { return "pub"; }
  bool fan_out() const override { return true; }

 private:
  Pub pub_;
  Sub sub_;
};

class BusDuo : public PairDuo<Bus> {
 public:
  BusDuo() : PairDuo<Bus>(protocols::kPub, "bus") {}
  bool fan_out() const override { return true; }
};

std::unique_ptr<Duo> MakeDuo(const std::string& recipe) {
  if (recipe == "reqrep") return std::make_unique<ReqRepDuo>();
  if (recipe == "survey") return std::make_unique<SurveyDuo>();
  if (recipe == "pubsub") return std::make_unique<PubSubDuo>();
  if (recipe == "bus") return std::make_unique<BusDuo>();
  if (recipe == "pair0")
    return std::make_unique<PairDuo<Pair0>>(protocols::kPair1, "pair0");
  if (recipe == "pair1")
    return std::make_unique<PairDuo<Pair1>>(protocols::kPair0, "pair1");
  return std::make_unique<PipelineDuo>();
}

using Param = std::tuple<std::string, std::string>;  // recipe, transport

class ProtocolTest : public ::testing::TestWithParam<Param> {
 protected:
  void SetUp() override { duo_ = MakeDuo(std::get<0>(GetParam())); }
  const std::string& transport() const { return std::get<1>(GetParam()); }

  std::string Listen() {
    absl::StatusOr<std::string> url =
        duo_->a().Listen(ListenUrlFor(transport()));
    EXPECT_TRUE(url.ok()) << url.status();
    return url.value_or("inproc://listen-failed");
  }
  void Connect() {
    std::string url = Listen();
    EXPECT_TRUE(duo_->b().Set(opt::kReconnectMin, absl::Milliseconds(10)).ok());
    EXPECT_TRUE(duo_->b().Dial(url).ok());
    EXPECT_TRUE(duo_->b().WaitForPeers(1, Deadline(10)).ok());
    EXPECT_TRUE(duo_->a().WaitForPeers(1, Deadline(10)).ok());
  }

  std::unique_ptr<Duo> duo_;
};

TEST_P(ProtocolTest, RoleSocketIsTheRecipe) {
  EXPECT_STREQ(duo_->a().socket().spec().name, duo_->name());
}

TEST_P(ProtocolTest, SendRecv) {
  Connect();
  Message m("from a");
  ASSERT_TRUE(duo_->SendA(m, Deadline(5)).ok());
  absl::StatusOr<Message> got = duo_->RecvB(Deadline(5));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->body(), "from a");
  if (duo_->both_ways()) {
    Message back("from b");
    ASSERT_TRUE(duo_->SendB(back, Deadline(5)).ok());
    absl::StatusOr<Message> got_back = duo_->RecvA(Deadline(5));
    ASSERT_TRUE(got_back.ok()) << got_back.status();
    EXPECT_EQ(got_back->body(), "from b");
  }
}

TEST_P(ProtocolTest, BodyArrivesUntouched) {
  Connect();
  // Bodies a protocol header parser could trip on: empty, short, word-sized,
  // binary.
  const std::string bodies[] = {
      std::string(), std::string("\x00", 1), std::string("\x00\x00\x00\x01", 4),
      std::string("\x80\x00\x00\x01\xff", 5), std::string(1000, '\0')};
  for (const std::string& body : bodies) {
    Message m(body);
    ASSERT_TRUE(duo_->SendA(m, Deadline(5)).ok());
    absl::StatusOr<Message> got = duo_->RecvB(Deadline(5));
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(got->body(), body) << "body of size " << body.size();
  }
}

TEST_P(ProtocolTest, ManyMessagesInOrder) {
  if (!duo_->streams()) GTEST_SKIP() << "each request waits for its answer";
  Connect();
  for (int i = 0; i < 1000; ++i) {
    Message m(absl::StrCat("m", i));
    ASSERT_TRUE(duo_->SendA(m, Deadline(10)).ok());
  }
  for (int i = 0; i < 1000; ++i) {
    absl::StatusOr<Message> got = duo_->RecvB(Deadline(10));
    ASSERT_TRUE(got.ok()) << got.status();
    ASSERT_EQ(got->body(), absl::StrCat("m", i));
  }
  EXPECT_EQ(duo_->a().stats().messages_out, 1000u);
  EXPECT_EQ(duo_->b().stats().messages_in, 1000u);
}

TEST_P(ProtocolTest, WrongPeerProtocolRejected) {
  std::string url = Listen();
  Socket wrong(duo_->mismatched());
  ASSERT_TRUE(wrong.Set(opt::kReconnectMin, absl::Milliseconds(50)).ok());
  ASSERT_TRUE(wrong.Dial(url).ok());
  ASSERT_TRUE(WaitUntil(
      [&] { return duo_->a().stats().rejected_protocol >= 1; }, Deadline(10)))
      << "listener accepted a " << duo_->mismatched().name << " peer";
  EXPECT_EQ(duo_->a().socket().pipe_count(), 0);
  EXPECT_EQ(duo_->a().stats().pipes_opened, 0u);
  EXPECT_EQ(
      duo_->a().WaitForPeers(1, absl::Now() + absl::Milliseconds(100)).code(),
      absl::StatusCode::kDeadlineExceeded);
  ASSERT_TRUE(WaitUntil([&] { return wrong.stats().rejected_protocol >= 1; },
                        Deadline(10)))
      << "the mismatched dialer did not notice";
  EXPECT_EQ(wrong.stats().pipes_opened, 0u);

  // The right peer is still welcome.
  ASSERT_TRUE(duo_->b().Dial(url).ok());
  ASSERT_TRUE(duo_->b().WaitForPeers(1, Deadline(10)).ok());
  ASSERT_TRUE(duo_->a().WaitForPeers(1, Deadline(10)).ok());
  Message m("right peer");
  ASSERT_TRUE(duo_->SendA(m, Deadline(5)).ok());
  absl::StatusOr<Message> got = duo_->RecvB(Deadline(5));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->body(), "right peer");
}

TEST_P(ProtocolTest, SendBlocksUntilPeerArrives) {
  std::string url = Listen();
  if (duo_->fan_out()) {
    // Fan-out: with no peer the message reaches nobody, at once.
    Message lost("nobody hears this");
    EXPECT_TRUE(duo_->SendA(lost, absl::InfinitePast()).ok());
    ASSERT_TRUE(duo_->b().Dial(url).ok());
    ASSERT_TRUE(duo_->a().WaitForPeers(1, Deadline(10)).ok());
    ASSERT_TRUE(duo_->b().WaitForPeers(1, Deadline(10)).ok());
    Message heard("heard");
    ASSERT_TRUE(duo_->SendA(heard, Deadline(5)).ok());
    absl::StatusOr<Message> got = duo_->RecvB(Deadline(5));
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(got->body(), "heard");
    return;
  }
  if (!duo_->streams()) {
    // A request made before any peer is there waits for one.
    Message early("early");
    ASSERT_TRUE(duo_->SendA(early, Deadline(10)).ok());
    ASSERT_TRUE(duo_->b().Dial(url).ok());
    absl::StatusOr<Message> got = duo_->RecvB(Deadline(10));
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(got->body(), "early");
    return;
  }
  Message early("early");
  EXPECT_EQ(duo_->SendA(early, absl::Now() + absl::Milliseconds(20)).code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(early.body(), "early");
  ASSERT_TRUE(duo_->b().Dial(url).ok());
  ASSERT_TRUE(duo_->SendA(early, Deadline(10)).ok());
  absl::StatusOr<Message> got = duo_->RecvB(Deadline(5));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->body(), "early");
}

INSTANTIATE_TEST_SUITE_P(
    AllRecipes, ProtocolTest,
    ::testing::Combine(::testing::Values("pair0", "pair1", "pushpull", "reqrep",
                                         "pubsub", "bus", "survey"),
                       ::testing::Values("inproc", "ipc", "tcp")),
    [](const ::testing::TestParamInfo<Param>& info) {
      return std::get<0>(info.param) + "_" + std::get<1>(info.param);
    });

}  // namespace
}  // namespace msock
