// tests/interop/cli_hub_test.cc: `msock hub` and `msock call` (the built
// binary): a call answered by the hub's own services, the error of a call to
// a missing service, usage errors, and the hub stopping on SIGTERM.
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/interop/child_process.h"
#include "tests/interop/interop_util.h"

#ifndef MSOCK_CLI_PATH
#error "MSOCK_CLI_PATH must name the built msock binary"
#endif

namespace msock::testing {
namespace {

std::vector<std::string> Msock(std::vector<std::string> args) {
  args.insert(args.begin(), MSOCK_CLI_PATH);
  return args;
}

// Runs msock to completion; returns the child and sets `code`.
std::unique_ptr<ChildProcess> RunToEnd(std::vector<std::string> args,
                                       int* code) {
  absl::StatusOr<std::unique_ptr<ChildProcess>> child =
      ChildProcess::Start(Msock(std::move(args)));
  EXPECT_TRUE(child.ok()) << child.status();
  if (!child.ok()) return nullptr;
  std::optional<int> rc = (*child)->Wait(kWait);
  EXPECT_TRUE(rc.has_value()) << (*child)->command() << " did not exit";
  *code = rc.value_or(-1);
  return *std::move(child);
}

class CliHubTest : public ::testing::TestWithParam<std::string> {
 protected:
  // Starts `msock hub` listening on port 0; sets url_ to the bound URL.
  void StartHub() {
    const std::string listen =
        GetParam() == "ws" ? "ws://127.0.0.1:0/hub" : "tcp://127.0.0.1:0";
    absl::StatusOr<std::unique_ptr<ChildProcess>> child = ChildProcess::Start(
        Msock({"hub", "--listen", listen, "--allow-client-topics"}));
    ASSERT_TRUE(child.ok()) << child.status();
    hub_ = *std::move(child);
    std::optional<std::string> line = hub_->ReadLine(kWait);
    ASSERT_TRUE(line.has_value()) << hub_->err();
    url_ = *line;
    ASSERT_NE(url_.find("127.0.0.1:"), std::string::npos) << url_;
  }

  std::unique_ptr<ChildProcess> hub_;
  std::string url_;
};

TEST_P(CliHubTest, CallEchoesThroughTheHub) {
  StartHub();
  int code = -1;
  std::unique_ptr<ChildProcess> c =
      RunToEnd({"call", "--dial", url_, "hub.echo", R"({"x":[1,2]})"}, &code);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(code, 0) << c->err();
  EXPECT_EQ(c->ReadLine(absl::Seconds(1)), R"({"x":[1,2]})");
}

TEST_P(CliHubTest, HubClientsListsTheCaller) {
  StartHub();
  int code = -1;
  std::unique_ptr<ChildProcess> c =
      RunToEnd({"call", "--dial", url_, "hub.clients"}, &code);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(code, 0) << c->err();
  std::optional<std::string> line = c->ReadLine(absl::Seconds(1));
  ASSERT_TRUE(line.has_value());
  // One client: the caller itself.
  EXPECT_EQ(line->front(), '[');
  EXPECT_EQ(line->back(), ']');
  EXPECT_EQ(line->find(','), std::string::npos) << *line;
  EXPECT_GT(line->size(), 4u) << *line;
}

TEST_P(CliHubTest, MissingServiceIsNotFoundOnStderr) {
  StartHub();
  int code = -1;
  std::unique_ptr<ChildProcess> c =
      RunToEnd({"call", "--timeout", "5", "--dial", url_, "no.such"}, &code);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(code, 1);
  EXPECT_NE(c->err().find("NOT_FOUND"), std::string::npos) << c->err();
  EXPECT_NE(c->err().find("no provider of service \"no.such\""),
            std::string::npos)
      << c->err();
  EXPECT_EQ(c->pending_out(), "");
}

TEST_P(CliHubTest, HubStopsOnSigterm) {
  StartHub();
  hub_->Kill();  // SIGTERM first
  std::optional<int> rc = hub_->Wait(kWait);
  ASSERT_TRUE(rc.has_value());
  EXPECT_EQ(*rc, 0) << hub_->err();
}

INSTANTIATE_TEST_SUITE_P(Transports, CliHubTest, ::testing::Values("tcp", "ws"),
                         [](const auto& info) { return info.param; });

TEST(CliHubUsageTest, BadCommandLinesExitTwo) {
  const std::vector<std::vector<std::string>> bad = {
      {"hub"},
      {"hub", "--listen"},
      {"hub", "--listen", "tcp://127.0.0.1:0", "--bogus"},
      {"call", "hub.echo"},
      {"call", "--dial", "tcp://127.0.0.1:1"},
      {"call", "--dial", "tcp://127.0.0.1:1", "--timeout", "x", "s"},
  };
  for (const auto& args : bad) {
    int code = -1;
    std::unique_ptr<ChildProcess> c = RunToEnd(args, &code);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(code, 2) << c->command() << ": " << c->err();
  }
}

TEST(CliHubUsageTest, NoHubIsAFailure) {
  int code = -1;
  // Port 1 on loopback: nothing listens; the call gives up at its timeout.
  std::unique_ptr<ChildProcess> c = RunToEnd(
      {"call", "--timeout", "0.5", "--dial", "tcp://127.0.0.1:1", "hub.echo"},
      &code);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(code, 1) << c->err();
  EXPECT_NE(c->err().find("DEADLINE_EXCEEDED"), std::string::npos) << c->err();
}

}  // namespace
}  // namespace msock::testing
