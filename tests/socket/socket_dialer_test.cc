// Socket::StartDial / StopDial: one dialer of a socket stopped, the others
// untouched.
#include <string>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "msock/options.h"
#include "msock/protocols/pipeline.h"
#include "msock/protocols/recipes.h"
#include "msock/socket.h"
#include "tests/support/test_support.h"

namespace msock {
namespace {

using test::Deadline;
using test::EventLog;
using test::RecvString;
using test::SendString;
using test::WaitUntil;

TEST(DialerTest, StopDialStopsRedialingThatUrlOnly) {
  EventLog log;
  Socket push(protocols::kPush);
  push.OnPipeEvent(log.Fn());
  ASSERT_TRUE(push.Set(opt::kReconnectMin, absl::Milliseconds(10)).ok());
  ASSERT_TRUE(push.Set(opt::kReconnectMax, absl::Milliseconds(50)).ok());
  const std::string name = test::UniqueInprocUrl();
  auto first = std::make_unique<Socket>(protocols::kPull);
  ASSERT_TRUE(first->Listen(name).ok());
  Socket other(protocols::kPull);
  absl::StatusOr<std::string> other_url = other.Listen(test::UniqueInprocUrl());
  ASSERT_TRUE(other_url.ok()) << other_url.status();

  // Two dialers to `name` (one to be stopped), one to `other`.
  absl::StatusOr<DialerId> stopped = push.StartDial(name);
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  absl::StatusOr<DialerId> kept = push.StartDial(name);
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_NE(stopped->value, kept->value);
  ASSERT_TRUE(push.Dial(*other_url).ok());
  ASSERT_TRUE(push.WaitForPeers(3, Deadline(10)).ok());

  // Stopping closes the pipe that dialer made (kRemoved, OK reason).
  ASSERT_TRUE(push.StopDial(*stopped).ok());
  ASSERT_TRUE(WaitUntil([&] { return push.pipe_count() == 2; }, Deadline(10)));
  ASSERT_TRUE(
      WaitUntil([&] { return first->pipe_count() == 1; }, Deadline(10)));
  EXPECT_EQ(log.Count(PipeEventType::kRemoved), 1);
  EXPECT_TRUE(log.Events().back().reason.ok()) << log.Events().back().reason;
  EXPECT_EQ(push.StopDial(*stopped).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(push.StopDial(DialerId{999999}).code(),
            absl::StatusCode::kNotFound);

  // The listener goes away and comes back: only the kept dialer reconnects.
  first->Close();
  ASSERT_TRUE(WaitUntil([&] { return push.pipe_count() == 1; }, Deadline(10)));
  first = std::make_unique<Socket>(protocols::kPull);
  ASSERT_TRUE(first->Listen(name).ok());
  ASSERT_TRUE(
      WaitUntil([&] { return first->pipe_count() == 1; }, Deadline(10)));
  // Many re-dial periods later the stopped dialer has not come back.
  EXPECT_FALSE(WaitUntil(
      [&] { return first->pipe_count() > 1 || push.pipe_count() > 2; },
      absl::Now() + absl::Milliseconds(500)));
  // The other dialers still carry messages.
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(SendString(push, "m", Deadline(10)).ok());
  }
  EXPECT_EQ(RecvString(*first, Deadline(10)).value_or("?"), "m");
  EXPECT_EQ(RecvString(other, Deadline(10)).value_or("?"), "m");
  EXPECT_EQ(push.StopDial(*kept).code(), absl::StatusCode::kOk);
}

TEST(DialerTest, RolesStartAndStopDialers) {
  Pull pull;
  absl::StatusOr<std::string> url = pull.Listen(test::UniqueInprocUrl());
  ASSERT_TRUE(url.ok()) << url.status();
  Push push;
  absl::StatusOr<DialerId> d = push.StartDial(*url);
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_TRUE(push.WaitForPeers(1, Deadline(10)).ok());
  ASSERT_TRUE(push.StopDial(*d).ok());
  EXPECT_TRUE(
      WaitUntil([&] { return push.socket().pipe_count() == 0; }, Deadline(10)));
  EXPECT_EQ(push.StartDial("nope://x").status().code(),
            absl::StatusCode::kInvalidArgument);
  push.Close();
  EXPECT_EQ(push.StopDial(*d).code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace msock
