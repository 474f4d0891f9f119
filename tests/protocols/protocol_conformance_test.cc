// The protocol conformance suite: every recipe (pair0, pair1, push/pull) over
// every transport (inproc, ipc, tcp) through the typed classes: send/receive,
// body integrity, ordering, statistics and refusal of a peer speaking another
// protocol. Also checks at compile time that each typed class exposes only what
// its role allows.
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>

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

std::unique_ptr<Duo> MakeDuo(const std::string& recipe) {
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
  Message m("right peer");
  ASSERT_TRUE(duo_->SendA(m, Deadline(5)).ok());
  absl::StatusOr<Message> got = duo_->RecvB(Deadline(5));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->body(), "right peer");
}

TEST_P(ProtocolTest, SendBlocksUntilPeerArrives) {
  std::string url = Listen();
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
    ::testing::Combine(::testing::Values("pair0", "pair1", "pushpull"),
                       ::testing::Values("inproc", "ipc", "tcp")),
    [](const ::testing::TestParamInfo<Param>& info) {
      return std::get<0>(info.param) + "_" + std::get<1>(info.param);
    });

}  // namespace
}  // namespace msock
