// tests/interop/reject_interop_test.cc: msock refuses bad real peers and keeps
// working.
//
// A peer of the wrong protocol (nngcat --pull0 or nanocat --sub dialing an
// msock Pull) is refused after the header exchange, counted in
// stats().rejected_protocol and never reported as a pipe; an oversize message
// closes only the pipe it came on (rejected_oversize).
#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "msock/msock.h"
#include "tests/interop/interop_util.h"

namespace msock::testing {
namespace {

// Counts pipe events and remembers removed pipe ids. Observe() hands the socket
// a shared reference, so the counter stays valid even if an event is delivered
// late.
struct PipeCounter {
  std::atomic<int> added{0};
  std::atomic<int> removed{0};
  std::mutex mu;
  std::set<uint32_t> removed_ids;  // guarded by mu

  static std::shared_ptr<PipeCounter> Observe(Socket& s) {
    auto counter = std::make_shared<PipeCounter>();
    s.OnPipeEvent([counter](const PipeEvent& e) {
      if (e.type == PipeEventType::kAdded) {
        ++counter->added;
        return;
      }
      std::lock_guard<std::mutex> lock(counter->mu);
      counter->removed_ids.insert(e.pipe_id);
      ++counter->removed;
    });
    return counter;
  }
  bool WasRemoved(uint32_t id) {
    std::lock_guard<std::mutex> lock(mu);
    return removed_ids.count(id) != 0;
  }
};

struct WrongPeerCase {
  const char* name;
  Transport transport;
  // Command line of a peer that dials `url` with a protocol a Pull must refuse.
  std::vector<std::string> (*argv)(const std::string& url);
};

std::vector<std::string> NngcatPull(const std::string& url) {
  // --async: dial in the background and keep retrying (the synchronous dial may
  // give up).
  return {kNngcat, "--pull0", "--dial", url, "--async", "-Q"};
}
std::vector<std::string> NanocatSub(const std::string& url) {
  return {kNanocat, "--sub", "--connect", url, "-Q"};
}

class WrongProtocolTest : public ::testing::TestWithParam<WrongPeerCase> {};

TEST_P(WrongProtocolTest, RejectedCountedAndSocketStillWorks) {
  ASSERT_TRUE(ToolAvailable(kNngcat)) << "nngcat missing";
  ASSERT_TRUE(ToolAvailable(kNanocat)) << "nanocat missing";
  ScratchDir dir;
  ASSERT_FALSE(dir.path().empty());
  Pull pull;
  std::shared_ptr<PipeCounter> pipes = PipeCounter::Observe(pull.socket());
  absl::StatusOr<std::string> url =
      pull.Listen(MsockListenUrl(GetParam().transport, dir));
  ASSERT_TRUE(url.ok()) << url.status();

  absl::StatusOr<std::unique_ptr<ChildProcess>> wrong =
      ChildProcess::Start(GetParam().argv(*url));
  ASSERT_TRUE(wrong.ok()) << wrong.status();
  EXPECT_TRUE(WaitUntil([&] { return pull.stats().rejected_protocol >= 1; }))
      << "rejected_protocol stayed 0; peer stderr: " << (*wrong)->err();
  EXPECT_EQ(pipes->added.load(), 0)
      << "a wrong-protocol peer was reported as a pipe";
  EXPECT_EQ(pull.socket().pipe_count(), 0);

  // A correct peer is still served, even with the wrong one still around and
  // retrying.
  absl::StatusOr<std::unique_ptr<ChildProcess>> good = ChildProcess::Start(
      {kNngcat, "--push0", "--dial", *url, "--data", "after-reject"});
  ASSERT_TRUE(good.ok()) << good.status();
  absl::StatusOr<Message> m = pull.Recv(absl::Now() + kWait);
  ASSERT_TRUE(m.ok()) << m.status() << "; good peer stderr: " << (*good)->err();
  EXPECT_EQ(m->body(), "after-reject");
  EXPECT_GE(pipes->added.load(), 1);
}

INSTANTIATE_TEST_SUITE_P(
    Peers, WrongProtocolTest,
    ::testing::Values(
        WrongPeerCase{"NngcatPull_tcp", Transport::kTcp, NngcatPull},
        WrongPeerCase{"NngcatPull_ipc", Transport::kIpc, NngcatPull},
        WrongPeerCase{"NanocatSub_tcp", Transport::kTcp, NanocatSub},
        WrongPeerCase{"NanocatSub_ipc", Transport::kIpc, NanocatSub}),
    [](const ::testing::TestParamInfo<WrongPeerCase>& info) {
      return info.param.name;
    });

class OversizeTest : public ::testing::TestWithParam<Transport> {};

// Two pushers on one Pull limited to 1024 bytes: nanocat keeps sending a small
// message, nngcat sends 4000 bytes once. Only nngcat's pipe is closed; the
// small messages keep arriving.
TEST_P(OversizeTest, ClosesOnlyTheOffendingPipe) {
  ASSERT_TRUE(ToolAvailable(kNngcat)) << "nngcat missing";
  ASSERT_TRUE(ToolAvailable(kNanocat)) << "nanocat missing";
  ScratchDir dir;
  ASSERT_FALSE(dir.path().empty());
  Pull pull;
  std::shared_ptr<PipeCounter> pipes = PipeCounter::Observe(pull.socket());
  ASSERT_TRUE(pull.Set(opt::kMaxRecvSize, size_t{1024}).ok());
  absl::StatusOr<std::string> url =
      pull.Listen(MsockListenUrl(GetParam(), dir));
  ASSERT_TRUE(url.ok()) << url.status();

  absl::StatusOr<std::unique_ptr<ChildProcess>> small =
      ChildProcess::Start({kNanocat, "--push", "--connect", *url, "--data",
                           "small", "--interval", "0.2"});
  ASSERT_TRUE(small.ok()) << small.status();
  absl::StatusOr<Message> m = pull.Recv(absl::Now() + kWait);
  ASSERT_TRUE(m.ok()) << m.status() << "; nanocat stderr: " << (*small)->err();
  EXPECT_EQ(m->body(), "small");
  ASSERT_FALSE(m->source().empty());
  const uint32_t small_pipe = m->source().back();

  std::string big_file = dir.WriteFile("big", std::string(4000, 'B'));
  absl::StatusOr<std::unique_ptr<ChildProcess>> big = ChildProcess::Start(
      {kNngcat, "--push0", "--dial", *url, "--file", big_file});
  ASSERT_TRUE(big.ok()) << big.status();
  EXPECT_TRUE(WaitUntil([&] { return pull.stats().rejected_oversize >= 1; }))
      << "rejected_oversize stayed 0; nngcat stderr: " << (*big)->err();
  EXPECT_TRUE(WaitUntil([&] { return pipes->removed.load() >= 1; }));

  // Drain what was queued before the rejection (never the big message), then
  // see new small messages arrive on the same pipe: only nngcat's pipe was
  // closed. (nngcat may re-dial once before it exits; that pipe comes and goes
  // on its own.)
  while (true) {
    absl::StatusOr<Message> queued = pull.TryRecv();
    if (!queued.ok()) break;
    EXPECT_EQ(queued->body(), "small") << "size " << queued->size();
  }
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<Message> after = pull.Recv(absl::Now() + kWait);
    ASSERT_TRUE(after.ok()) << after.status();
    EXPECT_EQ(after->body(), "small") << "size " << after->size();
    ASSERT_FALSE(after->source().empty());
    EXPECT_EQ(after->source().back(), small_pipe);
  }
  EXPECT_FALSE(pipes->WasRemoved(small_pipe))
      << "the well-behaved pusher's pipe was closed";
}

INSTANTIATE_TEST_SUITE_P(Transports, OversizeTest,
                         ::testing::Values(Transport::kTcp, Transport::kIpc),
                         [](const ::testing::TestParamInfo<Transport>& info) {
                           return TransportName(info.param);
                         });

}  // namespace
}  // namespace msock::testing
