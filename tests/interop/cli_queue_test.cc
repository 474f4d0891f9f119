// tests/interop/cli_queue_test.cc: `msock queue` (the built binary): serve,
// register, post and recv round trip (user and @alias), a wrong secret
// refused, an idempotent re-post with the same --id, entries not acked kept
// across a restart of `serve` on the same --db, and usage errors.
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

// What a finished `msock` printed.
struct Result {
  int code = -1;
  std::vector<std::string> lines;  // standard output
  std::string err;
};

Result RunMsock(std::vector<std::string> args) {
  Result r;
  absl::StatusOr<std::unique_ptr<ChildProcess>> child =
      ChildProcess::Start(Msock(std::move(args)));
  EXPECT_TRUE(child.ok()) << child.status();
  if (!child.ok()) return r;
  std::optional<int> rc = (*child)->Wait(absl::Seconds(20));
  EXPECT_TRUE(rc.has_value()) << (*child)->command() << " did not exit";
  r.code = rc.value_or(-1);
  while (std::optional<std::string> line =
             (*child)->ReadLine(absl::Milliseconds(100))) {
    r.lines.push_back(*line);
  }
  r.err = (*child)->err();
  return r;
}

class CliQueueTest : public ::testing::Test {
 protected:
  void SetUp() override { db_ = dir_.NewPath("queue") + ".db"; }

  // Starts `msock queue serve` on port 0 and the test's db; sets url_.
  void StartServer() {
    absl::StatusOr<std::unique_ptr<ChildProcess>> child =
        ChildProcess::Start(Msock(
            {"queue", "serve", "--listen", "tcp://127.0.0.1:0", "--db", db_}));
    ASSERT_TRUE(child.ok()) << child.status();
    server_ = *std::move(child);
    std::optional<std::string> line = server_->ReadLine(kWait);
    ASSERT_TRUE(line.has_value()) << server_->err();
    url_ = *line;
    ASSERT_NE(url_.find("127.0.0.1:"), std::string::npos) << url_;
  }

  // Stops the server with SIGTERM; it must exit 0.
  void StopServer() {
    server_->Kill();
    std::optional<int> rc = server_->Wait(kWait);
    ASSERT_TRUE(rc.has_value());
    EXPECT_EQ(*rc, 0) << server_->err();
  }

  // Registers user/node; returns its secret.
  std::string Register(const std::string& user, const std::string& node,
                       std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"queue",  "register", "--dial", url_,
                                     "--user", user,       "--node", node};
    args.insert(args.end(), extra.begin(), extra.end());
    Result r = RunMsock(args);
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.lines.size(), 1u) << r.err;
    EXPECT_FALSE(r.lines.empty() || r.lines[0].empty());
    return r.lines.empty() ? "" : r.lines[0];
  }

  Result Client(const std::string& op, const std::string& user,
                const std::string& node, const std::string& secret,
                std::vector<std::string> extra) {
    std::vector<std::string> args = {"queue",    op,    "--dial", url_,
                                     "--user",   user,  "--node", node,
                                     "--secret", secret};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunMsock(args);
  }

  ScratchDir dir_;
  std::string db_;
  std::unique_ptr<ChildProcess> server_;
  std::string url_;
};

TEST_F(CliQueueTest, PostThenRecvRoundTrip) {
  StartServer();
  const std::string alice = Register("alice", "pc");
  const std::string bob = Register("bob", "phone", {"--alias", "bobby"});
  Result post = Client("post", "alice", "pc", alice,
                       {"--to", "bob", "--data", "hello", "--count", "2"});
  ASSERT_EQ(post.code, 0) << post.err;
  ASSERT_EQ(post.lines.size(), 2u);
  EXPECT_LT(std::stoull(post.lines[0]), std::stoull(post.lines[1]));
  post = Client("post", "alice", "pc", alice,
                {"--to", "@bobby", "--data", "via alias"});
  ASSERT_EQ(post.code, 0) << post.err;
  Result recv = Client("recv", "bob", "phone", bob, {"--count", "3"});
  ASSERT_EQ(recv.code, 0) << recv.err;
  EXPECT_EQ(recv.lines,
            (std::vector<std::string>{"hello-1", "hello-2", "via alias"}));
  // All acked: nothing more.
  recv = Client("recv", "bob", "phone", bob, {"--recv-timeout", "0.5"});
  EXPECT_EQ(recv.code, 1);
  EXPECT_TRUE(recv.lines.empty());
  StopServer();
}

TEST_F(CliQueueTest, WrongSecretIsRefused) {
  StartServer();
  const std::string alice = Register("alice", "pc");
  Result post = Client("post", "alice", "pc", alice + "x",
                       {"--to", "alice", "--data", "x", "--timeout", "5"});
  EXPECT_EQ(post.code, 1);
  EXPECT_TRUE(post.lines.empty());
  EXPECT_NE(post.err.find("PERMISSION_DENIED"), std::string::npos) << post.err;
  Result recv = Client("recv", "alice", "nope", alice, {"--timeout", "5"});
  EXPECT_EQ(recv.code, 1);
  EXPECT_NE(recv.err.find("PERMISSION_DENIED"), std::string::npos) << recv.err;
  // Registering an existing node again is refused too.
  Result again = RunMsock(
      {"queue", "register", "--dial", url_, "--user", "alice", "--node", "pc"});
  EXPECT_EQ(again.code, 1);
  EXPECT_NE(again.err.find("ALREADY_EXISTS"), std::string::npos) << again.err;
}

TEST_F(CliQueueTest, RepostWithTheSameIdIsStoredOnce) {
  StartServer();
  const std::string alice = Register("alice", "pc");
  const std::string bob = Register("bob", "phone");
  const std::vector<std::string> args = {"--to", "bob",  "--data",
                                         "once", "--id", "msg-42"};
  Result first = Client("post", "alice", "pc", alice, args);
  Result second = Client("post", "alice", "pc", alice, args);
  ASSERT_EQ(first.code, 0) << first.err;
  ASSERT_EQ(second.code, 0) << second.err;
  ASSERT_EQ(first.lines.size(), 1u);
  EXPECT_EQ(first.lines, second.lines);  // the same message id
  Result recv = Client("recv", "bob", "phone", bob, {"--count", "1"});
  ASSERT_EQ(recv.code, 0) << recv.err;
  EXPECT_EQ(recv.lines, std::vector<std::string>{"once"});
  recv = Client("recv", "bob", "phone", bob, {"--recv-timeout", "0.5"});
  EXPECT_EQ(recv.code, 1);
  EXPECT_TRUE(recv.lines.empty());
}

TEST_F(CliQueueTest, UnackedEntriesSurviveARestart) {
  StartServer();
  const std::string alice = Register("alice", "pc");
  const std::string bob = Register("bob", "phone");
  Result post = Client("post", "alice", "pc", alice,
                       {"--to", "bob", "--data", "m", "--count", "3"});
  ASSERT_EQ(post.code, 0) << post.err;
  Result recv = Client("recv", "bob", "phone", bob, {"--count", "1"});
  ASSERT_EQ(recv.code, 0) << recv.err;
  EXPECT_EQ(recv.lines, std::vector<std::string>{"m-1"});
  // Seen but not acked: must come again.
  recv = Client("recv", "bob", "phone", bob, {"--count", "1", "--no-ack"});
  ASSERT_EQ(recv.code, 0) << recv.err;
  EXPECT_EQ(recv.lines, std::vector<std::string>{"m-2"});
  StopServer();
  StartServer();  // same --db, a new port
  recv = Client("recv", "bob", "phone", bob, {"--count", "2"});
  ASSERT_EQ(recv.code, 0) << recv.err;
  EXPECT_EQ(recv.lines, (std::vector<std::string>{"m-2", "m-3"}));
  recv = Client("recv", "bob", "phone", bob, {"--recv-timeout", "0.5"});
  EXPECT_EQ(recv.code, 1);
  EXPECT_TRUE(recv.lines.empty());
  StopServer();
}

TEST(CliQueueUsageTest, BadCommandLinesExitTwo) {
  const std::vector<std::vector<std::string>> bad = {
      {"queue"},
      {"queue", "frob"},
      {"queue", "serve", "--db", "/tmp/x.db"},
      {"queue", "serve", "--listen", "tcp://127.0.0.1:0"},
      {"queue", "serve", "--listen", "tcp://127.0.0.1:0", "--db", "x", "--to",
       "a"},
      {"queue", "register", "--dial", "tcp://127.0.0.1:1", "--user", "u"},
      {"queue", "post", "--dial", "tcp://127.0.0.1:1", "--user", "u", "--node",
       "n", "--secret", "s", "--data", "x"},
      {"queue", "post", "--dial", "tcp://127.0.0.1:1", "--user", "u", "--node",
       "n", "--secret", "s", "--to", "v", "--data", "x", "--count", "0"},
      {"queue", "recv", "--dial", "tcp://127.0.0.1:1", "--user", "u", "--node",
       "n", "--secret", "s", "--timeout", "x"},
  };
  for (const auto& args : bad) {
    Result r = RunMsock(args);
    EXPECT_EQ(r.code, 2) << r.err;
  }
}

TEST(CliQueueUsageTest, NoServerIsAFailure) {
  Result r = RunMsock({"queue", "post", "--dial", "tcp://127.0.0.1:1", "--user",
                       "u", "--node", "n", "--secret", "s", "--to", "v",
                       "--data", "x", "--timeout", "0.5"});
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("DEADLINE_EXCEEDED"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace msock::testing
