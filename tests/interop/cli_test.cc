// tests/interop/cli_test.cc: the `msock` command-line tool (built binary)
// against nngcat and nanocat, plus its usage errors and exit codes.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/interop/interop_util.h"

#ifndef MSOCK_CLI_PATH
#error "MSOCK_CLI_PATH must name the built msock binary"
#endif

namespace msock::testing {
namespace {

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ToolAvailable(MSOCK_CLI_PATH))
        << MSOCK_CLI_PATH << " was not built";
    ASSERT_TRUE(ToolAvailable(kNngcat)) << "nngcat missing (nng-utils)";
    ASSERT_TRUE(ToolAvailable(kNanocat)) << "nanocat missing (nanomsg-utils)";
    ASSERT_FALSE(dir_.path().empty());
  }

  static std::vector<std::string> Msock(std::vector<std::string> args) {
    args.insert(args.begin(), MSOCK_CLI_PATH);
    return args;
  }

  // Runs msock with `args` to completion; returns the child (exited) and its
  // exit code.
  std::unique_ptr<ChildProcess> RunToEnd(std::vector<std::string> args,
                                         int* code) {
    absl::StatusOr<std::unique_ptr<ChildProcess>> child =
        ChildProcess::Start(Msock(args));
    EXPECT_TRUE(child.ok()) << child.status();
    if (!child.ok()) return nullptr;
    std::optional<int> rc = (*child)->Wait(kWait);
    EXPECT_TRUE(rc.has_value()) << (*child)->command() << " did not exit";
    *code = rc.value_or(-1);
    return *std::move(child);
  }

  ScratchDir dir_;
};

TEST_F(CliTest, HelpExitsZeroAndDocumentsOptions) {
  int code = -1;
  std::unique_ptr<ChildProcess> c = RunToEnd({"--help"}, &code);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(code, 0);
  std::string out = c->pending_out();
  for (const char* word :
       {"Usage: msock", "push", "pull", "pair0", "pair1", "--dial", "--listen",
        "--data", "--file", "--count", "--interval", "--delay", "--format",
        "--recv-timeout", "--connect-timeout", "--verbose", "Examples"}) {
    EXPECT_NE(out.find(word), std::string::npos)
        << "--help does not mention " << word;
  }
}

TEST_F(CliTest, BadUrlIsAUsageError) {
  int code = -1;
  std::unique_ptr<ChildProcess> c =
      RunToEnd({"pull", "--dial", "foo://bar"}, &code);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(code, 2);
  EXPECT_NE(c->err().find("foo://bar"), std::string::npos) << c->err();
}

TEST_F(CliTest, UnknownOptionAndMissingValueAreUsageErrors) {
  int code = -1;
  std::unique_ptr<ChildProcess> c =
      RunToEnd({"pull", "--listen", "tcp://127.0.0.1:0", "--bogus"}, &code);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(code, 2);
  EXPECT_NE(c->err().find("--bogus"), std::string::npos) << c->err();

  c = RunToEnd({"pull", "--dial"}, &code);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(code, 2);
  EXPECT_NE(c->err().find("--dial"), std::string::npos) << c->err();

  c = RunToEnd({"pull", "--listen", "tcp://127.0.0.1:0", "--data", "x"}, &code);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(code, 2) << "pull cannot send";
  EXPECT_NE(c->err().find("cannot send"), std::string::npos) << c->err();
}

TEST_F(CliTest, PullPrintsWhatNanocatPushes) {
  std::string url = "ipc://" + dir_.NewPath("cli") + ".sock";
  absl::StatusOr<std::unique_ptr<ChildProcess>> msock = ChildProcess::Start(
      Msock({"pull", "--listen", url, "--count", "2", "--format", "quoted"}));
  ASSERT_TRUE(msock.ok()) << msock.status();
  absl::StatusOr<std::unique_ptr<ChildProcess>> peer =
      ChildProcess::Start({kNanocat, "--push", "--connect", url, "--data",
                           "hello\tworld", "--interval", "0.2"});
  ASSERT_TRUE(peer.ok()) << peer.status();
  for (int i = 0; i < 2; ++i) {
    std::optional<std::string> line = (*msock)->ReadLine(kWait);
    ASSERT_TRUE(line.has_value()) << "msock stderr: " << (*msock)->err();
    EXPECT_EQ(*line, "\"hello\\tworld\"");
  }
  EXPECT_EQ((*msock)->Wait(kWait), 0) << (*msock)->err();
}

TEST_F(CliTest, PullPrintsHexFromNngcatOverTcp) {
  absl::StatusOr<ListeningPeer> msock =
      StartListeningPeer(Transport::kTcp, dir_, [](const std::string& url) {
        return Msock(
            {"pull", "--listen", url, "--count", "1", "--format", "hex"});
      });
  ASSERT_TRUE(msock.ok()) << msock.status();
  absl::StatusOr<std::unique_ptr<ChildProcess>> peer = ChildProcess::Start(
      {kNngcat, "--push0", "--dial", msock->url, "--data", "ping"});
  ASSERT_TRUE(peer.ok()) << peer.status();
  std::optional<std::string> line = msock->child->ReadLine(kWait);
  ASSERT_TRUE(line.has_value()) << "msock stderr: " << msock->child->err()
                                << "; nngcat stderr: " << (*peer)->err();
  EXPECT_EQ(*line, "70696e67");
  EXPECT_EQ(msock->child->Wait(kWait), 0) << msock->child->err();
}

struct PushTarget {
  const char* tool;
  Transport transport;
};

class CliPushTest : public CliTest,
                    public ::testing::WithParamInterface<PushTarget> {};

TEST_P(CliPushTest, PushReachesPeerPull) {
  const PushTarget& p = GetParam();
  bool nng = p.tool == kNngcat;
  absl::StatusOr<ListeningPeer> peer =
      StartListeningPeer(p.transport, dir_, [&](const std::string& url) {
        return std::vector<std::string>{p.tool, nng ? "--pull0" : "--pull",
                                        nng ? "--listen" : "--bind", url, "-Q"};
      });
  ASSERT_TRUE(peer.ok()) << peer.status();
  int code = -1;
  std::unique_ptr<ChildProcess> msock =
      RunToEnd({"push", "--dial", peer->url, "--data", "from-cli", "--count",
                "2", "--interval", "0.1"},
               &code);
  ASSERT_NE(msock, nullptr);
  EXPECT_EQ(code, 0) << msock->err();
  for (int i = 0; i < 2; ++i) {
    std::optional<std::string> line = peer->child->ReadLine(kWait);
    ASSERT_TRUE(line.has_value()) << "peer stderr: " << peer->child->err();
    EXPECT_EQ(*line, Quoted("from-cli"));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Peers, CliPushTest,
    ::testing::Values(PushTarget{kNngcat, Transport::kTcp},
                      PushTarget{kNanocat, Transport::kIpc}),
    [](const ::testing::TestParamInfo<PushTarget>& info) {
      return std::string(info.param.tool == kNngcat ? "Nngcat" : "Nanocat") +
             "_" + TransportName(info.param.transport);
    });

TEST_F(CliTest, Pair1SendsAndPrintsReply) {
  absl::StatusOr<ListeningPeer> peer =
      StartListeningPeer(Transport::kTcp, dir_, [](const std::string& url) {
        return std::vector<std::string>{kNngcat,      "--pair1", "--listen",
                                        url,          "--data",  "pong",
                                        "--interval", "1",       "-Q"};
      });
  ASSERT_TRUE(peer.ok()) << peer.status();
  int code = -1;
  std::unique_ptr<ChildProcess> msock = RunToEnd(
      {"pair1", "--dial", peer->url, "--data", "ping", "--count", "1"}, &code);
  ASSERT_NE(msock, nullptr);
  EXPECT_EQ(code, 0) << msock->err();
  EXPECT_EQ(msock->ReadLine(absl::Seconds(1)), "pong");
  EXPECT_TRUE(ReadUntilLine(*peer->child, Quoted("ping"), kWait))
      << peer->child->err();
}

TEST_F(CliTest, RepAnswersNngcatReq) {
  absl::StatusOr<ListeningPeer> msock =
      StartListeningPeer(Transport::kIpc, dir_, [](const std::string& url) {
        return Msock(
            {"rep", "--listen", url, "--data", "pong", "--count", "1"});
      });
  ASSERT_TRUE(msock.ok()) << msock.status();
  absl::StatusOr<std::unique_ptr<ChildProcess>> peer = ChildProcess::Start(
      {kNngcat, "--req", "--dial", msock->url, "--data", "ping", "-Q"});
  ASSERT_TRUE(peer.ok()) << peer.status();
  EXPECT_EQ(msock->child->ReadLine(kWait), "ping") << msock->child->err();
  EXPECT_TRUE(ReadUntilLine(**peer, Quoted("pong"), kWait)) << (*peer)->err();
  EXPECT_EQ(msock->child->Wait(kWait), 0) << msock->child->err();
}

TEST_F(CliTest, ReqPrintsRepliesOfNanocatRep) {
  absl::StatusOr<ListeningPeer> peer =
      StartListeningPeer(Transport::kTcp, dir_, [](const std::string& url) {
        return std::vector<std::string>{kNanocat, "--rep", "--bind", url,
                                        "--data", "pong",  "-Q"};
      });
  ASSERT_TRUE(peer.ok()) << peer.status();
  int code = -1;
  std::unique_ptr<ChildProcess> msock =
      RunToEnd({"req", "--dial", peer->url, "--data", "ping", "--count", "2",
                "--interval", "0.1"},
               &code);
  ASSERT_NE(msock, nullptr);
  EXPECT_EQ(code, 0) << msock->err();
  EXPECT_EQ(msock->ReadLine(absl::Seconds(1)), "pong");
  EXPECT_EQ(msock->ReadLine(absl::Seconds(1)), "pong");
  EXPECT_TRUE(ReadUntilLine(*peer->child, Quoted("ping"), kWait))
      << peer->child->err();
}

TEST_F(CliTest, RecvTimeoutWithCountFails) {
  int code = -1;
  std::unique_ptr<ChildProcess> c =
      RunToEnd({"pull", "--listen", "ipc://" + dir_.NewPath("t") + ".sock",
                "--count", "1", "--recv-timeout", "0.3"},
               &code);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(code, 1);
  EXPECT_NE(c->err().find("timed out"), std::string::npos) << c->err();
}

TEST_F(CliTest, ListenOnBusyAddressIsARuntimeError) {
  int busy = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(busy, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(bind(busy, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(busy, 1), 0);
  ASSERT_EQ(getsockname(busy, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  std::string url = "tcp://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  int code = -1;
  std::unique_ptr<ChildProcess> c = RunToEnd({"pull", "--listen", url}, &code);
  close(busy);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(code, 1);
  EXPECT_NE(c->err().find(url), std::string::npos) << c->err();
}

TEST_F(CliTest, PushWithoutPeerFails) {
  int code = -1;
  std::unique_ptr<ChildProcess> c =
      RunToEnd({"push", "--dial", "ipc://" + dir_.NewPath("none") + ".sock",
                "--data", "x", "--connect-timeout", "0.3"},
               &code);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(code, 1);
  EXPECT_NE(c->err().find("no peer"), std::string::npos) << c->err();
}

}  // namespace
}  // namespace msock::testing
