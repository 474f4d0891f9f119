// Push / Pull specifics over every transport: fan-in from several pushes into
// one pull (all messages, each push's in order), fan-out round robin from one
// push, and the bare wire body.
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "msock/msock.h"
#include "tests/support/test_support.h"

namespace msock {
namespace {

using test::Deadline;
using test::ListenUrlFor;
using test::WaitUntil;
using test::WireBytes;

class PipelineTest : public ::testing::TestWithParam<std::string> {
 protected:
  const std::string& transport() const { return GetParam(); }
};

TEST_P(PipelineTest, FanInFromThreePushes) {
  constexpr int kPushes = 3;
  constexpr int kEach = 300;
  Pull pull;
  absl::StatusOr<std::string> url = pull.Listen(ListenUrlFor(transport()));
  ASSERT_TRUE(url.ok()) << url.status();
  std::vector<std::unique_ptr<Push>> pushes;
  for (int p = 0; p < kPushes; ++p) {
    pushes.push_back(std::make_unique<Push>());
    ASSERT_TRUE(pushes.back()->Dial(*url).ok());
  }
  ASSERT_TRUE(pull.WaitForPeers(kPushes, Deadline(10)).ok());
  std::atomic<int> errors{0};
  std::vector<std::thread> senders;
  for (int p = 0; p < kPushes; ++p) {
    senders.emplace_back([&, p] {
      if (!pushes[p]->WaitForPeers(1, Deadline(10)).ok()) errors++;
      for (int i = 0; i < kEach; ++i) {
        if (!pushes[p]->Send(absl::StrCat(p, " ", i), Deadline(10)).ok())
          errors++;
      }
    });
  }
  std::vector<int> next(kPushes, 0);
  std::vector<uint32_t> pipe_of(kPushes, 0);
  for (int n = 0; n < kPushes * kEach; ++n) {
    absl::StatusOr<Message> m = pull.Recv(Deadline(10));
    ASSERT_TRUE(m.ok()) << m.status() << " after " << n;
    std::vector<std::string> parts =
        absl::StrSplit(std::string(m->body()), ' ');
    ASSERT_EQ(parts.size(), 2u);
    int p = -1, i = -1;
    ASSERT_TRUE(absl::SimpleAtoi(parts[0], &p) &&
                absl::SimpleAtoi(parts[1], &i));
    ASSERT_GE(p, 0);
    ASSERT_LT(p, kPushes);
    ASSERT_EQ(i, next[p]) << "push " << p << " out of order";
    ++next[p];
    // Each push's messages all come through its own pipe.
    ASSERT_EQ(m->source().size(), 1u);
    if (pipe_of[p] == 0) pipe_of[p] = m->source().back();
    EXPECT_EQ(m->source().back(), pipe_of[p]);
  }
  for (std::thread& t : senders) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_NE(pipe_of[0], pipe_of[1]);
  EXPECT_NE(pipe_of[1], pipe_of[2]);
  EXPECT_NE(pipe_of[0], pipe_of[2]);
  EXPECT_EQ(pull.TryRecv().status().code(), absl::StatusCode::kUnavailable);
}

TEST_P(PipelineTest, PushSpreadsOverPulls) {
  constexpr int kCount = 90;
  Push push;
  absl::StatusOr<std::string> url = push.Listen(ListenUrlFor(transport()));
  ASSERT_TRUE(url.ok()) << url.status();
  Pull pulls[3];
  for (Pull& p : pulls) ASSERT_TRUE(p.Dial(*url).ok());
  ASSERT_TRUE(push.WaitForPeers(3, Deadline(10)).ok());
  for (int i = 0; i < kCount; ++i)
    ASSERT_TRUE(push.Send("job", Deadline(5)).ok());
  int got[3] = {0, 0, 0};
  ASSERT_TRUE(WaitUntil(
      [&] {
        for (int k = 0; k < 3; ++k) {
          while (pulls[k].TryRecv().ok()) ++got[k];
        }
        return got[0] + got[1] + got[2] == kCount;
      },
      Deadline(10)));
  for (int k = 0; k < 3; ++k) EXPECT_GE(got[k], 20) << "pull " << k;
}

TEST_P(PipelineTest, PushSendsBareBody) {
  Socket raw_pull(protocols::kPull);
  absl::StatusOr<std::string> url = raw_pull.Listen(ListenUrlFor(transport()));
  ASSERT_TRUE(url.ok()) << url.status();
  Push push;
  ASSERT_TRUE(push.Dial(*url).ok());
  ASSERT_TRUE(push.WaitForPeers(1, Deadline(10)).ok());
  ASSERT_TRUE(push.Send("job1", Deadline(5)).ok());
  absl::StatusOr<Message> got = raw_pull.Recv(Deadline(5));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(WireBytes(*got), "job1");
}

INSTANTIATE_TEST_SUITE_P(AllTransports, PipelineTest,
                         ::testing::Values("inproc", "ipc", "tcp"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace msock
