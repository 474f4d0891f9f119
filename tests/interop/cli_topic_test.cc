// tests/interop/cli_topic_test.cc: `msock topic` (the built binary) against
// `msock hub --allow-client-topics`: create, apply (printing the version),
// get, a refused change (exit 1 with the reason), watch --count, and a hub
// without the flag refusing creation.
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

class CliTopicTest : public ::testing::Test {
 protected:
  void StartHub(bool allow = true) {
    std::vector<std::string> args = {"hub", "--listen", "tcp://127.0.0.1:0"};
    if (allow) args.push_back("--allow-client-topics");
    absl::StatusOr<std::unique_ptr<ChildProcess>> child =
        ChildProcess::Start(Msock(args));
    ASSERT_TRUE(child.ok()) << child.status();
    hub_ = *std::move(child);
    std::optional<std::string> line = hub_->ReadLine(kWait);
    ASSERT_TRUE(line.has_value()) << hub_->err();
    url_ = *line;
  }

  // Runs `msock topic --dial URL args...` to its end: exit code and the first
  // line of its output.
  int Topic(std::vector<std::string> args, std::string* out = nullptr,
            std::string* err = nullptr) {
    args.insert(args.begin(), {"topic", "--dial", url_});
    absl::StatusOr<std::unique_ptr<ChildProcess>> child =
        ChildProcess::Start(Msock(args));
    EXPECT_TRUE(child.ok()) << child.status();
    if (!child.ok()) return -1;
    std::optional<int> rc = (*child)->Wait(kWait);
    if (out != nullptr) {
      *out = (*child)->ReadLine(absl::Seconds(1)).value_or("<none>");
    }
    if (err != nullptr) *err = (*child)->err();
    return rc.value_or(-1);
  }

  std::unique_ptr<ChildProcess> hub_;
  std::string url_;
};

TEST_F(CliTopicTest, CreateApplyGet) {
  StartHub();
  std::string out, err;
  ASSERT_EQ(Topic({"create", "todo", "list"}, nullptr, &err), 0) << err;
  EXPECT_EQ(
      Topic({"apply", "todo", R"({"type":"insert","item":"x","position":-1})"},
            &out, &err),
      0)
      << err;
  EXPECT_EQ(out, "1");  // the new version
  EXPECT_EQ(
      Topic({"apply", "todo", R"({"type":"insert","item":"y","position":0})"},
            &out),
      0);
  EXPECT_EQ(out, "2");
  EXPECT_EQ(Topic({"get", "todo"}, &out), 0);
  EXPECT_EQ(out, R"(["y","x"])");
}

TEST_F(CliTopicTest, RefusedChangeExitsOneWithTheReason) {
  StartHub();
  ASSERT_EQ(Topic({"create", "n", "int"}), 0);
  std::string out, err;
  EXPECT_EQ(Topic({"apply", "n", R"({"type":"pop","position":0})"}, &out, &err),
            1);
  EXPECT_NE(err.find("INVALID_ARGUMENT"), std::string::npos) << err;
  EXPECT_NE(err.find("pop"), std::string::npos) << err;
  EXPECT_EQ(Topic({"get", "nope"}, &out, &err), 1);
  EXPECT_NE(err.find("NOT_FOUND"), std::string::npos) << err;
  EXPECT_EQ(Topic({"create", "t", "wat"}, nullptr, &err), 2);  // bad TYPE
  EXPECT_EQ(Topic({"frobnicate", "n"}), 2);
}

TEST_F(CliTopicTest, WatchPrintsSnapshotThenChanges) {
  StartHub();
  ASSERT_EQ(Topic({"create", "n", "int"}), 0);
  absl::StatusOr<std::unique_ptr<ChildProcess>> watch = ChildProcess::Start(
      Msock({"topic", "--dial", url_, "watch", "n", "--count", "2"}));
  ASSERT_TRUE(watch.ok()) << watch.status();
  EXPECT_EQ((*watch)->ReadLine(kWait), "0");  // subscribed: the snapshot
  ASSERT_EQ(Topic({"apply", "n", R"({"type":"add","value":2})"}), 0);
  ASSERT_EQ(Topic({"apply", "n", R"({"type":"add","value":-5})"}), 0);
  std::optional<std::string> a = (*watch)->ReadLine(kWait);
  std::optional<std::string> b = (*watch)->ReadLine(kWait);
  ASSERT_TRUE(a.has_value() && b.has_value()) << (*watch)->err();
  EXPECT_NE(a->find(R"("type":"add","value":2)"), std::string::npos) << *a;
  EXPECT_NE(b->find(R"("value":-5)"), std::string::npos) << *b;
  EXPECT_EQ((*watch)->Wait(kWait), 0);
}

TEST_F(CliTopicTest, HubWithoutTheFlagRefusesClientTopics) {
  StartHub(/*allow=*/false);
  std::string err;
  EXPECT_EQ(Topic({"create", "n", "int"}, nullptr, &err), 1);
  EXPECT_NE(err.find("PERMISSION_DENIED"), std::string::npos) << err;
}

}  // namespace
}  // namespace msock::testing
