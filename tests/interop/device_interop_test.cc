// tests/interop/device_interop_test.cc: msock Devices between real NNG /
// nanomsg peers, over tcp and ipc.
//
//  - NNG req -> msock device -> NNG raw rep (nng_reqrep_peer, a small libnng
//    program): the raw rep prints the backtrace exactly as it came on the
//    wire; it must be [hop word = the device's pipe id, bit 31 clear]
//    [request id, bit 31 set], and its reply must reach the NNG req.
//  - msock Req -> msock device -> nngcat / nanocat --rep.
//  - TTL: msock Req -> a chain of n msock devices (inproc between them) -> NNG
//    raw rep. With kTtl 8, 7 devices pass (the rep sees 7 hop words + the id,
//    8 words), 8 devices do not: the 8th device's front drops the request and
//    counts it in stats().dropped.
//  - a survey device and a pub/sub forwarder between nngcat and nanocat.
// The req/rep cases run both device roles: listening on both sides (the peers
// dial) or dialing both sides (the peers listen).
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "msock/msock.h"
#include "tests/interop/interop_util.h"
#include "tests/interop/pattern_util.h"
#include "tests/interop/peer_case.h"

#ifndef MSOCK_NNG_PEER_PATH
#define MSOCK_NNG_PEER_PATH ""
#endif

namespace msock::testing {
namespace {

constexpr char kNngPeer[] = MSOCK_NNG_PEER_PATH;
constexpr uint32_t kLastWord = 0x80000000u;

// `nng_reqrep_peer MODE --listen|--dial URL --data DATA`.
std::vector<std::string> NngPeerArgv(const std::string& mode, bool listen,
                                     const std::string& url,
                                     const std::string& data) {
  return {kNngPeer, mode, listen ? "--listen" : "--dial", url, "--data", data};
}

// A line of `nng_reqrep_peer rep-raw`: "request BODY backtrace W1 W2 ...".
struct RawRepLine {
  std::string body;
  std::vector<uint32_t> backtrace;
};
std::optional<RawRepLine> ParseRawRepLine(const std::string& line) {
  std::vector<std::string> f = absl::StrSplit(line, ' ');
  if (f.size() < 3 || f[0] != "request" || f[2] != "backtrace")
    return std::nullopt;
  RawRepLine out;
  out.body = f[1];
  for (size_t i = 3; i < f.size(); ++i) {
    if (f[i].size() != 8) return std::nullopt;
    out.backtrace.push_back(
        static_cast<uint32_t>(std::strtoul(f[i].c_str(), nullptr, 16)));
  }
  return out;
}

std::string Words(const std::vector<uint32_t>& words) {
  std::string s;
  char buf[16];
  for (uint32_t w : words) {
    std::snprintf(buf, sizeof buf, "%s%08x", s.empty() ? "" : " ", w);
    s += buf;
  }
  return s;
}

// A device on its own thread; by default req/rep: front = raw rep (faces
// requesters), back = raw req (faces repliers). Records the id of the first
// pipe of its front (the hop word it adds to requests from that peer). The
// destructor closes both sockets, which ends Device, and joins.
class RunningDevice {
 public:
  RunningDevice(const SocketSpec& front = protocols::kRep,
                const SocketSpec& back = protocols::kReq)
      : front_(RawSocket(front)), back_(RawSocket(back)) {
    front_.OnPipeEvent([pipe = front_pipe_](const PipeEvent& e) {
      uint32_t none = 0;
      if (e.type == PipeEventType::kAdded)
        pipe->compare_exchange_strong(none, e.pipe_id);
    });
  }
  ~RunningDevice() { Stop().IgnoreError(); }

  Socket& front() { return front_; }
  Socket& back() { return back_; }
  uint32_t front_pipe() const { return front_pipe_->load(); }

  void Start() {
    thread_ = std::thread([this] { status_ = Device(front_, back_); });
  }
  // Returns Device's status.
  absl::Status Stop() {
    front_.Close();
    back_.Close();
    if (thread_.joinable()) thread_.join();
    return status_;
  }

 private:
  Socket front_;
  Socket back_;
  std::shared_ptr<std::atomic<uint32_t>> front_pipe_ =
      std::make_shared<std::atomic<uint32_t>>(0);
  std::thread thread_;
  absl::Status status_;
};

struct DeviceCase {
  Transport transport;
  bool device_listens;
};

std::string DeviceCaseName(const ::testing::TestParamInfo<DeviceCase>& info) {
  return TransportName(info.param.transport) +
         (info.param.device_listens ? "_DeviceListens" : "_PeersListen");
}

std::vector<DeviceCase> DeviceCases() {
  return {{Transport::kTcp, true},
          {Transport::kTcp, false},
          {Transport::kIpc, true},
          {Transport::kIpc, false}};
}

class NngDeviceInteropTest : public ::testing::TestWithParam<DeviceCase> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ToolAvailable(kNngPeer))
        << "nng_reqrep_peer missing (\"" << kNngPeer
        << "\"): libnng-dev was not found when configuring";
    ASSERT_FALSE(dir_.path().empty()) << "mkdtemp failed";
  }
  ScratchDir dir_;
};

// NNG req -> msock device -> NNG raw rep; the backtrace is checked on the wire.
TEST_P(NngDeviceInteropTest, BacktraceOnTheWire) {
  const DeviceCase& c = GetParam();
  RunningDevice dev;
  absl::StatusOr<std::unique_ptr<ChildProcess>> rep =
      StartPeer(dev.back(), c.transport, dir_, c.device_listens,
                [](bool listen, const std::string& url) {
                  return NngPeerArgv("rep-raw", listen, url, "pong-from-nng");
                });
  ASSERT_TRUE(rep.ok()) << rep.status();
  absl::Status up = dev.back().WaitForPeers(1, absl::Now() + kWait);
  ASSERT_TRUE(up.ok()) << up << "; stderr: " << (*rep)->err();
  dev.Start();
  absl::StatusOr<std::unique_ptr<ChildProcess>> req =
      StartPeer(dev.front(), c.transport, dir_, c.device_listens,
                [](bool listen, const std::string& url) {
                  return NngPeerArgv("req", listen, url, "ping-through-msock");
                });
  ASSERT_TRUE(req.ok()) << req.status();

  std::optional<std::string> line = (*rep)->ReadLine(kWait);
  ASSERT_TRUE(line.has_value())
      << "the NNG rep got no request; rep stderr: " << (*rep)->err()
      << "; req stderr: " << (*req)->err();
  std::optional<RawRepLine> got = ParseRawRepLine(*line);
  ASSERT_TRUE(got.has_value()) << "unparsable: " << *line;
  RecordProperty("backtrace", Words(got->backtrace));
  EXPECT_EQ(got->body, "ping-through-msock");
  ASSERT_EQ(got->backtrace.size(), 2u) << "backtrace " << Words(got->backtrace)
                                       << ": want [device hop] [request id]";
  EXPECT_EQ(got->backtrace[0] & kLastWord, 0u)
      << "hop word " << Words(got->backtrace) << " has bit 31 set";
  EXPECT_NE(got->backtrace[0], 0u);
  EXPECT_EQ(got->backtrace[0], dev.front_pipe())
      << "the hop word must be the id of the device pipe the request came on";
  EXPECT_NE(got->backtrace[1] & kLastWord, 0u)
      << "request id " << Words(got->backtrace) << " without bit 31";

  std::vector<std::string> other;
  EXPECT_TRUE(ReadUntilLine(**req, "reply pong-from-nng", kWait, &other))
      << "the NNG req got no reply; req stderr: " << (*req)->err();
  for (const std::string& l : other) ADD_FAILURE() << "req printed " << l;
  EXPECT_EQ((*req)->Wait(kWait), std::optional<int>(0))
      << "req stderr: " << (*req)->err();
  EXPECT_EQ(dev.front().stats().dropped, 0u);
  EXPECT_EQ(dev.back().stats().dropped, 0u);
  EXPECT_EQ(dev.front().stats().rejected_bad_frame, 0u);
  EXPECT_EQ(dev.back().stats().rejected_bad_frame, 0u);
  absl::Status ended = dev.Stop();
  EXPECT_TRUE(ended.ok()) << ended;
}

INSTANTIATE_TEST_SUITE_P(Roles, NngDeviceInteropTest,
                         ::testing::ValuesIn(DeviceCases()), DeviceCaseName);

// msock Req -> msock device -> nngcat / nanocat --rep. The case's listener is
// the device (kMsock: it listens on both sides).
using ToolDeviceInteropTest = PeerInteropTest;

std::string ToolDeviceCaseName(const ::testing::TestParamInfo<PeerCase>& info) {
  const PeerCase& c = info.param;
  return ToolName(c.tool) + "_" + TransportName(c.transport) +
         (c.msock_listens() ? "_DeviceListens" : "_PeersListen");
}

TEST_P(ToolDeviceInteropTest, MsockReqThroughDeviceToPeerRep) {
  const PeerCase& c = GetParam();
  RunningDevice dev;
  ChildProcess* rep =
      StartToolPeer(dev.back(), [&](bool listen, const std::string& url) {
        return Argv("rep", listen, url, {"--data", "pong-from-peer", "-Q"});
      });
  ASSERT_NE(rep, nullptr);
  ASSERT_TRUE(PeersUp(dev.back(), 1));
  dev.Start();

  // The Req side: the device's front listens and the Req dials, or the other
  // way round.
  Req req;
  if (c.msock_listens()) {
    absl::StatusOr<std::string> url =
        dev.front().Listen(MsockListenUrl(c.transport, dir_));
    ASSERT_TRUE(url.ok()) << url.status();
    ASSERT_TRUE(req.Dial(*url).ok());
  } else {
    absl::StatusOr<std::string> url =
        req.Listen(MsockListenUrl(c.transport, dir_));
    ASSERT_TRUE(url.ok()) << url.status();
    ASSERT_TRUE(dev.front().Dial(*url).ok());
  }
  for (const char* body : {"ping-1", "ping-2"}) {
    Message m(body);
    absl::StatusOr<Message> r = req.Request(m, absl::Now() + kWait);
    ASSERT_TRUE(r.ok()) << r.status() << "; " << rep->command()
                        << " stderr: " << rep->err();
    EXPECT_EQ(r->body(), "pong-from-peer");
    std::vector<std::string> other;
    EXPECT_TRUE(ReadUntilLine(*rep, Quoted(body), kWait, &other))
        << rep->command() << " did not print " << body;
    for (const std::string& l : other) ADD_FAILURE() << "rep printed " << l;
  }
  EXPECT_EQ(req.replies_matched(), 2u);
  EXPECT_EQ(req.stats().dropped, 0u);
  EXPECT_EQ(dev.front().stats().dropped, 0u);
  EXPECT_EQ(dev.back().stats().dropped, 0u);
}

INSTANTIATE_TEST_SUITE_P(Peers, ToolDeviceInteropTest,
                         ::testing::ValuesIn(AllPeerCases()),
                         ToolDeviceCaseName);

// The other device kinds between the two tools, one on each side:
//  - survey: peer surveyor -> raw respondent | raw surveyor -> other peer
//    respondent; the surveyor prints the answer that came back through msock;
//  - pub/sub forwarder: peer pub -> raw sub | raw pub -> other peer sub
//    (subscribed to "news:"); the sub prints the forwarded message.
// The front side surveyor / pub dials the device, the respondent / sub side
// listens (and the device dials it) over the test's transport.
struct MixedDeviceCase {
  Tool front_tool;  // the surveyor / pub; the other tool is the other end
  Transport transport;
};

Tool Other(Tool t) {
  return t == Tool::kNngcat ? Tool::kNanocat : Tool::kNngcat;
}

std::string MixedDeviceCaseName(
    const ::testing::TestParamInfo<MixedDeviceCase>& info) {
  return ToolName(info.param.front_tool) + "To" +
         ToolName(Other(info.param.front_tool)) + "_" +
         TransportName(info.param.transport);
}

class MixedDeviceInteropTest
    : public ::testing::TestWithParam<MixedDeviceCase> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ToolAvailable(kNngcat)) << kNngcat << " missing";
    ASSERT_TRUE(ToolAvailable(kNanocat)) << kNanocat << " missing";
    ASSERT_FALSE(dir_.path().empty()) << "mkdtemp failed";
  }
  ScratchDir dir_;
};

TEST_P(MixedDeviceInteropTest, SurveyDevice) {
  const MixedDeviceCase& c = GetParam();
  RunningDevice dev(protocols::kRespondent, protocols::kSurveyor);
  absl::StatusOr<std::unique_ptr<ChildProcess>> resp =
      StartPeer(dev.back(), c.transport, dir_, /*msock_listens=*/false,
                [&](bool listen, const std::string& url) {
                  return ToolArgv(Other(c.front_tool), "respondent", listen,
                                  url, {"--data", "yes-via-msock", "-Q"});
                });
  ASSERT_TRUE(resp.ok()) << resp.status();
  absl::Status up = dev.back().WaitForPeers(1, absl::Now() + kWait);
  ASSERT_TRUE(up.ok()) << up << "; stderr: " << (*resp)->err();
  dev.Start();
  // Surveys sent before both legs are up are lost: the surveyor repeats.
  absl::StatusOr<std::unique_ptr<ChildProcess>> surveyor =
      StartPeer(dev.front(), c.transport, dir_, /*msock_listens=*/true,
                [&](bool listen, const std::string& url) {
                  return ToolArgv(c.front_tool, "surveyor", listen, url,
                                  {"--data", "who-via-msock?", "--interval",
                                   RepeatInterval(c.front_tool), "-Q"});
                });
  ASSERT_TRUE(surveyor.ok()) << surveyor.status();
  std::vector<std::string> other;
  EXPECT_TRUE(ReadUntilLine(**surveyor, Quoted("yes-via-msock"), kWait, &other))
      << (*surveyor)->command()
      << " got no answer; stderr: " << (*surveyor)->err()
      << "; respondent stderr: " << (*resp)->err();
  for (const std::string& l : other) ADD_FAILURE() << "surveyor printed " << l;
  std::optional<std::string> asked = (*resp)->ReadLine(kWait);
  EXPECT_EQ(asked, std::optional<std::string>(Quoted("who-via-msock?")));
  EXPECT_EQ(dev.front().stats().rejected_bad_frame, 0u);
  EXPECT_EQ(dev.back().stats().rejected_bad_frame, 0u);
}

TEST_P(MixedDeviceInteropTest, PubSubForwarder) {
  const MixedDeviceCase& c = GetParam();
  RunningDevice dev(protocols::kSub, protocols::kPub);
  absl::StatusOr<std::unique_ptr<ChildProcess>> sub =
      StartPeer(dev.back(), c.transport, dir_, /*msock_listens=*/false,
                [&](bool listen, const std::string& url) {
                  return ToolArgv(Other(c.front_tool), "sub", listen, url,
                                  {"--subscribe", "news:", "-Q"});
                });
  ASSERT_TRUE(sub.ok()) << sub.status();
  absl::Status up = dev.back().WaitForPeers(1, absl::Now() + kWait);
  ASSERT_TRUE(up.ok()) << up << "; stderr: " << (*sub)->err();
  dev.Start();
  absl::StatusOr<std::unique_ptr<ChildProcess>> pub =
      StartPeer(dev.front(), c.transport, dir_, /*msock_listens=*/true,
                [&](bool listen, const std::string& url) {
                  return ToolArgv(c.front_tool, "pub", listen, url,
                                  {"--data", "news:via-msock", "--interval",
                                   RepeatInterval(c.front_tool)});
                });
  ASSERT_TRUE(pub.ok()) << pub.status();
  std::vector<std::string> other;
  EXPECT_TRUE(ReadUntilLine(**sub, Quoted("news:via-msock"), kWait, &other))
      << (*sub)->command() << " got nothing; stderr: " << (*sub)->err()
      << "; pub stderr: " << (*pub)->err();
  for (const std::string& l : other) ADD_FAILURE() << "sub printed " << l;
  EXPECT_EQ(dev.back().stats().dropped, 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Peers, MixedDeviceInteropTest,
    ::testing::Values(MixedDeviceCase{Tool::kNngcat, Transport::kTcp},
                      MixedDeviceCase{Tool::kNngcat, Transport::kIpc},
                      MixedDeviceCase{Tool::kNanocat, Transport::kTcp},
                      MixedDeviceCase{Tool::kNanocat, Transport::kIpc}),
    MixedDeviceCaseName);

// msock Req -> n msock devices (inproc between them) -> NNG raw rep.
class TtlChainInteropTest : public ::testing::TestWithParam<Transport> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ToolAvailable(kNngPeer))
        << "nng_reqrep_peer missing (\"" << kNngPeer
        << "\"): libnng-dev was not found when configuring";
    ASSERT_FALSE(dir_.path().empty()) << "mkdtemp failed";
  }

  // Builds and starts the chain: req_ dials device 0 over tcp, device i's back
  // dials device i+1's front over inproc, the last back dials the NNG raw rep
  // (over the test's transport). Waits until every link is up.
  void BuildChain(int n) {
    static std::atomic<int> chain_counter{0};
    const std::string prefix = "inproc://ttl-chain-" +
                               std::to_string(chain_counter.fetch_add(1)) + "-";
    absl::StatusOr<ListeningPeer> lp =
        StartListeningPeer(GetParam(), dir_, [](const std::string& url) {
          return NngPeerArgv("rep-raw", true, url, "pong-from-nng");
        });
    ASSERT_TRUE(lp.ok()) << lp.status();
    rep_ = std::move(lp->child);
    for (int i = 0; i < n; ++i) {
      devices_.push_back(std::make_unique<RunningDevice>());
      RunningDevice& d = *devices_.back();
      ASSERT_TRUE(d.front().Set(opt::kTtl, 8).ok());
      ASSERT_TRUE(d.back().Set(opt::kTtl, 8).ok());
      absl::StatusOr<std::string> url = d.front().Listen(
          i == 0 ? "tcp://127.0.0.1:0" : prefix + std::to_string(i));
      ASSERT_TRUE(url.ok()) << url.status();
      if (i == 0) {
        ASSERT_TRUE(req_.Dial(*url).ok());
      } else {
        ASSERT_TRUE(devices_[i - 1]->back().Dial(*url).ok());
      }
    }
    ASSERT_TRUE(devices_.back()->back().Dial(lp->url).ok());
    for (auto& d : devices_) {
      for (Socket* s : {&d->front(), &d->back()}) {
        absl::Status up = s->WaitForPeers(1, absl::Now() + kWait);
        ASSERT_TRUE(up.ok()) << up << "; rep stderr: " << rep_->err();
      }
      d->Start();
    }
    ASSERT_TRUE(req_.WaitForPeers(1, absl::Now() + kWait).ok());
    req_.SetResendInterval(absl::InfiniteDuration());  // exactly one request
  }

  ScratchDir dir_;
  std::unique_ptr<ChildProcess> rep_;
  std::vector<std::unique_ptr<RunningDevice>> devices_;
  Req req_;
};

TEST_P(TtlChainInteropTest, SevenDevicesPass) {
  constexpr int kDevices = 7;
  BuildChain(kDevices);
  if (HasFatalFailure()) return;
  Message m("ttl-probe");
  absl::StatusOr<Message> r = req_.Request(m, absl::Now() + kWait);
  ASSERT_TRUE(r.ok()) << r.status() << "; rep stderr: " << rep_->err();
  EXPECT_EQ(r->body(), "pong-from-nng");

  std::optional<std::string> line = rep_->ReadLine(kWait);
  ASSERT_TRUE(line.has_value()) << "rep stderr: " << rep_->err();
  std::optional<RawRepLine> got = ParseRawRepLine(*line);
  ASSERT_TRUE(got.has_value()) << "unparsable: " << *line;
  RecordProperty("backtrace", Words(got->backtrace));
  EXPECT_EQ(got->body, "ttl-probe");
  // The nearest hop first: device 6's pipe from device 5, ..., device 0's
  // pipe from the Req, then the request id.
  ASSERT_EQ(got->backtrace.size(), kDevices + 1u) << Words(got->backtrace);
  for (int i = 0; i < kDevices; ++i) {
    EXPECT_EQ(got->backtrace[i], devices_[kDevices - 1 - i]->front_pipe())
        << "word " << i << " of " << Words(got->backtrace);
    EXPECT_EQ(got->backtrace[i] & kLastWord, 0u) << "word " << i;
  }
  EXPECT_NE(got->backtrace[kDevices] & kLastWord, 0u)
      << "request id of " << Words(got->backtrace);
  for (int i = 0; i < kDevices; ++i)
    EXPECT_EQ(devices_[i]->front().stats().dropped, 0u) << "device " << i;
}

TEST_P(TtlChainInteropTest, EightDevicesDropAtTheLast) {
  constexpr int kDevices = 8;
  BuildChain(kDevices);
  if (HasFatalFailure()) return;
  absl::Status result;
  std::thread requester([&] {
    Message m("ttl-probe");
    result = req_.Request(m, absl::Now() + kWait).status();
  });
  Socket& last = devices_.back()->front();
  EXPECT_TRUE(WaitUntil([&] { return last.stats().dropped >= 1; }))
      << "the 8th device did not drop the 9-word request";
  req_.Close();  // wakes the Request with kCancelled
  requester.join();
  EXPECT_TRUE(absl::IsCancelled(result)) << result;
  EXPECT_EQ(last.stats().dropped, 1u);
  for (int i = 0; i + 1 < kDevices; ++i)
    EXPECT_EQ(devices_[i]->front().stats().dropped, 0u) << "device " << i;
  EXPECT_EQ(devices_.back()->back().stats().messages_out, 0u)
      << "the 8th device forwarded the request";
  EXPECT_EQ(rep_->pending_out(), "") << "the NNG rep got the request";
}

INSTANTIATE_TEST_SUITE_P(LastLeg, TtlChainInteropTest,
                         ::testing::Values(Transport::kTcp, Transport::kIpc),
                         [](const ::testing::TestParamInfo<Transport>& info) {
                           return TransportName(info.param);
                         });

}  // namespace
}  // namespace msock::testing
