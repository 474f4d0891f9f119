// tests/interop/cli_test.cc: the `msock` command-line tool (built binary)
// against nngcat and nanocat, plus its usage errors and exit codes. Every role
// and `msock device` (reqrep) meet a real NNG or nanomsg peer here.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/interop/interop_util.h"
#include "tests/support/test_certs.h"

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

// Reads lines of `child` until every line of `want` has been seen (in any
// order, others skipped); false on timeout.
bool ReadUntilAll(ChildProcess& child, std::set<std::string> want,
                  absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (!want.empty()) {
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return false;
    std::optional<std::string> line = child.ReadLine(left);
    if (!line) return false;
    want.erase(*line);
  }
  return true;
}

// nngcat and nanocat spell the same things differently; each test below runs
// against one or both.
struct Peer {
  const char* tool;
  Transport transport;

  bool nng() const { return tool == kNngcat; }
  const char* listen() const { return nng() ? "--listen" : "--bind"; }
  const char* dial() const { return nng() ? "--dial" : "--connect"; }
};

void PrintTo(const Peer& p, std::ostream* os) {
  *os << (p.nng() ? "nngcat" : "nanocat") << " over "
      << TransportName(p.transport);
}

std::string PeerName(const ::testing::TestParamInfo<Peer>& info) {
  return std::string(info.param.nng() ? "Nngcat" : "Nanocat") + "_" +
         TransportName(info.param.transport);
}

const auto kBothPeers = ::testing::Values(Peer{kNngcat, Transport::kTcp},
                                          Peer{kNanocat, Transport::kIpc});

// Tests run once with each tool (kBothPeers).
class CliPeerTest : public CliTest,
                    public ::testing::WithParamInterface<Peer> {};

TEST_F(CliTest, HelpExitsZeroAndDocumentsOptions) {
  int code = -1;
  std::unique_ptr<ChildProcess> c = RunToEnd({"--help"}, &code);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(code, 0);
  std::string out = c->pending_out();
  // Role and pattern names, options, and the device command line.
  std::vector<std::string> words = {
      "push",        "pull",      "pair0",         "pair1",
      "req",         "rep",       "pub",           "sub",
      "bus",         "surveyor",  "respondent",    "reqrep",
      "pubsub",      "pipeline",  "--dial",        "--listen",
      "--data",      "--file",    "--count",       "--interval",
      "--delay",     "--format",  "--subscribe",   "--survey-time",
      "--pattern",   "--front",   "--front-dial",  "--back",
      "--back-dial", "--verbose", "--recv-timeout"};
  words.insert(words.end(), {"--connect-timeout", "Usage: msock",
                             "msock device", "Examples"});
  for (const std::string& word : words) {
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

class CliPushTest : public CliPeerTest {};

TEST_P(CliPushTest, PushReachesPeerPull) {
  const Peer& p = GetParam();
  absl::StatusOr<ListeningPeer> peer =
      StartListeningPeer(p.transport, dir_, [&](const std::string& url) {
        return std::vector<std::string>{p.tool, p.nng() ? "--pull0" : "--pull",
                                        p.listen(), url, "-Q"};
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

INSTANTIATE_TEST_SUITE_P(Peers, CliPushTest, kBothPeers, PeerName);

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

TEST_F(CliTest, NewRolesAndDeviceUsageErrors) {
  const std::string url = "tcp://127.0.0.1:0";
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"pub", "--listen", url, "--data", "x", "--subscribe", "a"},
       "--subscribe"},
      {{"sub", "--listen", url, "--survey-time", "1"}, "--survey-time"},
      {{"sub", "--listen", url, "--data", "x"}, "cannot send"},
      {{"surveyor", "--listen", url}, "needs something to send"},
      {{"surveyor", "--listen", url, "--data", "x", "--survey-time", "0"},
       "--survey-time"},
      {{"device", "--front", url, "--back", url}, "--pattern"},
      {{"device", "--pattern", "nope", "--front", url, "--back", url}, "nope"},
      {{"device", "--pattern", "reqrep", "--front", url}, "--back"},
      {{"device", "--pattern", "reqrep", "--listen", url, "--back", url},
       "--front"},
      {{"device", "--pattern", "reqrep", "--front", url, "--back", url,
        "--data", "x"},
       "--data"},
      {{"pull", "--listen", url, "--pattern", "reqrep"}, "msock device"},
      {{"device", "pull", "--pattern", "pipeline", "--front", url, "--back",
        url},
       "two roles"},
  };
  for (const auto& [args, word] : cases) {
    int code = -1;
    std::unique_ptr<ChildProcess> c = RunToEnd(args, &code);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(code, 2) << c->command();
    EXPECT_NE(c->err().find(word), std::string::npos)
        << c->command() << ": " << c->err();
  }
}

class CliPubTest : public CliPeerTest {};

// The peer sub subscribes to "news:"; a first msock pub sends something else,
// which it must drop, then a second one sends news twice.
TEST_P(CliPubTest, PubReachesPeerSubThroughItsFilter) {
  const Peer& p = GetParam();
  absl::StatusOr<ListeningPeer> peer =
      StartListeningPeer(p.transport, dir_, [&](const std::string& url) {
        return std::vector<std::string>{p.tool, "--sub",       p.listen(), url,
                                        "-Q",   "--subscribe", "news:"};
      });
  ASSERT_TRUE(peer.ok()) << peer.status();
  int code = -1;
  std::unique_ptr<ChildProcess> msock =
      RunToEnd({"pub", "--dial", peer->url, "--data", "weather:rain"}, &code);
  ASSERT_NE(msock, nullptr);
  EXPECT_EQ(code, 0) << msock->err();
  msock = RunToEnd({"pub", "--dial", peer->url, "--data", "news:hello",
                    "--count", "2", "--interval", "0.1"},
                   &code);
  ASSERT_NE(msock, nullptr);
  EXPECT_EQ(code, 0) << msock->err();
  for (int i = 0; i < 2; ++i) {
    std::optional<std::string> line = peer->child->ReadLine(kWait);
    ASSERT_TRUE(line.has_value()) << "peer stderr: " << peer->child->err();
    EXPECT_EQ(*line, Quoted("news:hello"));
  }
}

INSTANTIATE_TEST_SUITE_P(Peers, CliPubTest, kBothPeers, PeerName);

// Three publishers: nngcat sends weather (not subscribed) from before the
// others connect, nngcat and nanocat send news and sport (subscribed). msock
// must print news and sport, and never weather.
TEST_F(CliTest, SubPrintsOnlySubscribedPrefixesFromNngcatAndNanocatPub) {
  absl::StatusOr<ListeningPeer> msock =
      StartListeningPeer(Transport::kTcp, dir_, [](const std::string& url) {
        return Msock({"sub", "--listen", url, "--subscribe",
                      "news:", "--subscribe", "sport:", "--verbose"});
      });
  ASSERT_TRUE(msock.ok()) << msock.status();
  absl::StatusOr<std::unique_ptr<ChildProcess>> weather =
      ChildProcess::Start({kNngcat, "--pub", "--dial", msock->url, "--data",
                           "weather:rain", "--interval", "1"});
  ASSERT_TRUE(weather.ok()) << weather.status();
  // nngcat dials synchronously and publishes at once: once msock has the pipe,
  // the first weather message is on its way, ahead of any news or sport.
  ASSERT_TRUE(WaitUntil([&] {
    return msock->child->err().find(" added") != std::string::npos;
  })) << msock->child->err();
  absl::StatusOr<std::unique_ptr<ChildProcess>> news =
      ChildProcess::Start({kNngcat, "--pub", "--dial", msock->url, "--data",
                           "news:hello", "--interval", "1"});
  ASSERT_TRUE(news.ok()) << news.status();
  absl::StatusOr<std::unique_ptr<ChildProcess>> sport =
      ChildProcess::Start({kNanocat, "--pub", "--connect", msock->url, "--data",
                           "sport:goal", "--interval", "0.3"});
  ASSERT_TRUE(sport.ok()) << sport.status();
  std::set<std::string> missing = {"news:hello", "sport:goal"};
  absl::Time deadline = absl::Now() + kWait;
  while (!missing.empty() && absl::Now() < deadline) {
    std::optional<std::string> line =
        msock->child->ReadLine(deadline - absl::Now());
    if (!line) break;
    EXPECT_TRUE(*line == "news:hello" || *line == "sport:goal") << *line;
    missing.erase(*line);
  }
  EXPECT_TRUE(missing.empty()) << "not received: " << *missing.begin()
                               << "; msock stderr: " << msock->child->err();
}

TEST_F(CliTest, SubWithoutSubscribeGetsEverything) {
  absl::StatusOr<ListeningPeer> msock =
      StartListeningPeer(Transport::kIpc, dir_, [](const std::string& url) {
        return Msock({"sub", "--listen", url, "--count", "1"});
      });
  ASSERT_TRUE(msock.ok()) << msock.status();
  absl::StatusOr<std::unique_ptr<ChildProcess>> pub =
      ChildProcess::Start({kNngcat, "--pub", "--dial", msock->url, "--data",
                           "weather:rain", "--interval", "1"});
  ASSERT_TRUE(pub.ok()) << pub.status();
  EXPECT_EQ(msock->child->ReadLine(kWait), "weather:rain")
      << msock->child->err();
  EXPECT_EQ(msock->child->Wait(kWait), 0) << msock->child->err();
}

class CliSurveyorTest : public CliPeerTest {};

TEST_P(CliSurveyorTest, SurveyorPrintsAnswersOfPeerRespondent) {
  const Peer& p = GetParam();
  absl::StatusOr<ListeningPeer> peer =
      StartListeningPeer(p.transport, dir_, [&](const std::string& url) {
        return std::vector<std::string>{
            p.tool, "--respondent", p.listen(), url, "--data", "yes", "-Q"};
      });
  ASSERT_TRUE(peer.ok()) << peer.status();
  int code = -1;
  std::unique_ptr<ChildProcess> msock =
      RunToEnd({"surveyor", "--dial", peer->url, "--data", "who?", "--count",
                "2", "--interval", "0.1", "--survey-time", "0.5"},
               &code);
  ASSERT_NE(msock, nullptr);
  EXPECT_EQ(code, 0) << msock->err();
  EXPECT_EQ(msock->ReadLine(absl::Seconds(1)), "yes") << msock->err();
  EXPECT_EQ(msock->ReadLine(absl::Seconds(1)), "yes") << msock->err();
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(peer->child->ReadLine(kWait), Quoted("who?"))
        << peer->child->err();
  }
}

INSTANTIATE_TEST_SUITE_P(Peers, CliSurveyorTest, kBothPeers, PeerName);

class CliRespondentTest : public CliPeerTest {};

TEST_P(CliRespondentTest, RespondentAnswersPeerSurveyor) {
  const Peer& p = GetParam();
  absl::StatusOr<ListeningPeer> msock =
      StartListeningPeer(p.transport, dir_, [](const std::string& url) {
        return Msock({"respondent", "--listen", url, "--data", "yes"});
      });
  ASSERT_TRUE(msock.ok()) << msock.status();
  std::vector<std::string> argv = {p.tool,   "--surveyor", p.dial(), msock->url,
                                   "--data", "who?",       "-Q"};
  if (!p.nng()) {
    // nanocat sends at once, maybe before it is connected (a survey to nobody
    // is lost): wait a little, and survey again every 0.5 s.
    argv.insert(argv.end(), {"-d", "0.3", "--interval", "0.5"});
  }
  absl::StatusOr<std::unique_ptr<ChildProcess>> peer =
      ChildProcess::Start(argv);
  ASSERT_TRUE(peer.ok()) << peer.status();
  EXPECT_EQ(msock->child->ReadLine(kWait), "who?") << msock->child->err();
  EXPECT_TRUE(ReadUntilLine(**peer, Quoted("yes"), kWait)) << (*peer)->err();
}

INSTANTIATE_TEST_SUITE_P(Peers, CliRespondentTest, kBothPeers, PeerName);

// msock bus dials an nngcat bus (tcp) and a nanocat bus (ipc): msock hears
// both, both hear msock (and not each other: a bus message travels one hop).
TEST_F(CliTest, BusTalksWithNngcatAndNanocat) {
  absl::StatusOr<ListeningPeer> nng =
      StartListeningPeer(Transport::kTcp, dir_, [](const std::string& url) {
        return std::vector<std::string>{kNngcat, "--bus",      "--listen",
                                        url,     "--data",     "from-nng",
                                        "-Q",    "--interval", "1"};
      });
  ASSERT_TRUE(nng.ok()) << nng.status();
  absl::StatusOr<ListeningPeer> nano =
      StartListeningPeer(Transport::kIpc, dir_, [](const std::string& url) {
        return std::vector<std::string>{kNanocat, "--bus",      "--bind",
                                        url,      "--data",     "from-nano",
                                        "-Q",     "--interval", "0.5"};
      });
  ASSERT_TRUE(nano.ok()) << nano.status();
  // Sends once both peers are connected (a bus sender waits for every --dial),
  // then prints what they send until killed.
  absl::StatusOr<std::unique_ptr<ChildProcess>> msock =
      ChildProcess::Start(Msock({"bus", "--dial", nng->url, "--dial", nano->url,
                                 "--data", "from-msock"}));
  ASSERT_TRUE(msock.ok()) << msock.status();
  EXPECT_TRUE(ReadUntilAll(**msock, {"from-nng", "from-nano"}, kWait))
      << (*msock)->err();
  EXPECT_TRUE(ReadUntilLine(*nng->child, Quoted("from-msock"), kWait))
      << nng->child->err();
  EXPECT_TRUE(ReadUntilLine(*nano->child, Quoted("from-msock"), kWait))
      << nano->child->err();
}

// nngcat req -> msock device (front tcp, back ipc) -> nngcat rep, and back;
// then SIGTERM stops the device cleanly (exit 0).
TEST_F(CliTest, DeviceForwardsNngcatReqToNngcatRep) {
  const std::string back = MsockListenUrl(Transport::kIpc, dir_);
  absl::StatusOr<ListeningPeer> device =
      StartListeningPeer(Transport::kTcp, dir_, [&](const std::string& url) {
        return Msock({"device", "--pattern", "reqrep", "--front", url, "--back",
                      back, "--verbose"});
      });
  ASSERT_TRUE(device.ok()) << device.status();
  ASSERT_TRUE(WaitUntil([&] { return IsListening(back); }))
      << device->child->err();
  // nngcat dials synchronously: the device's back listens already.
  absl::StatusOr<std::unique_ptr<ChildProcess>> rep = ChildProcess::Start(
      {kNngcat, "--rep", "--dial", back, "--data", "pong", "-Q"});
  ASSERT_TRUE(rep.ok()) << rep.status();
  ASSERT_TRUE(WaitUntil([&] {
    return device->child->err().find("back: pipe") != std::string::npos;
  })) << device->child->err();
  absl::StatusOr<std::unique_ptr<ChildProcess>> req = ChildProcess::Start(
      {kNngcat, "--req", "--dial", device->url, "--data", "ping", "-Q"});
  ASSERT_TRUE(req.ok()) << req.status();
  EXPECT_TRUE(ReadUntilLine(**rep, Quoted("ping"), kWait)) << (*rep)->err();
  EXPECT_TRUE(ReadUntilLine(**req, Quoted("pong"), kWait))
      << (*req)->err() << "; device: " << device->child->err();
  EXPECT_EQ((*req)->Wait(kWait), 0) << (*req)->err();

  device->child->Kill();  // SIGTERM; SIGKILL (exit 137) only after 2 s
  EXPECT_EQ(device->child->Wait(absl::ZeroDuration()), 0)
      << device->child->err();
  EXPECT_NE(device->child->err().find("stopped by"), std::string::npos)
      << device->child->err();
}

// wss: the CLI's TLS flags (nngcat's spelling) against nngcat listening on wss.
TEST_F(CliTest, ReqOverWssChecksNngcatCertificate) {
  const test::TestCerts& certs = test::Certs();
  auto wss = [](const std::string& tcp_url) {
    return "wss" + tcp_url.substr(3) + "/cli";
  };
  absl::StatusOr<ListeningPeer> peer =
      StartListeningPeer(Transport::kTcp, dir_, [&](const std::string& url) {
        return std::vector<std::string>{
            kNngcat, "--rep",   "--listen", wss(url), "--cert", certs.cert,
            "--key", certs.key, "--data",   "pong",   "-Q"};
      });
  ASSERT_TRUE(peer.ok()) << peer.status();
  int code = -1;
  std::unique_ptr<ChildProcess> msock = RunToEnd(
      {"req", "--dial", wss(peer->url), "--cacert", certs.ca, "--data", "ping"},
      &code);
  ASSERT_NE(msock, nullptr);
  EXPECT_EQ(code, 0) << msock->err();
  EXPECT_EQ(msock->ReadLine(absl::Seconds(1)), "pong");
  // Trusting another CA, the CLI refuses nngcat's certificate and says why.
  msock = RunToEnd({"req", "--dial", wss(peer->url), "--cacert", certs.other_ca,
                    "--data", "ping", "--connect-timeout", "1", "--verbose"},
                   &code);
  ASSERT_NE(msock, nullptr);
  EXPECT_NE(code, 0);
  EXPECT_NE(msock->err().find("certificate check failed"), std::string::npos)
      << msock->err();
}

}  // namespace
}  // namespace msock::testing
