// The admission hook (msock/peer.h) on tcp, ipc and inproc: what it sees of
// the peer, that a refused peer is closed, counted, reported as kRefused and
// never delivers a message, that a dialer refused by its own hook backs off,
// and PeerOf. (ws and wss: tests/transports/ws_admission_test.cc; the hub:
// tests/protocols/rooms_admission_test.cc.)
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "msock/msock.h"
#include "tests/support/test_support.h"

namespace msock {
namespace {

using test::Deadline;
using test::EventLog;
using test::RecvString;
using test::WaitUntil;

void FastRedial(Socket& s) {
  ASSERT_TRUE(s.Set(opt::kReconnectMin, absl::Milliseconds(20)).ok());
  ASSERT_TRUE(s.Set(opt::kReconnectMax, absl::Milliseconds(200)).ok());
}

// The first pipe id of `s` (0 if none).
uint32_t FirstPipe(Socket& s) {
  std::vector<PipeStats> p = s.pipe_stats();
  return p.empty() ? 0 : p[0].pipe_id;
}

TEST(AdmissionTest, TcpRefusesByRemoteAddressThenAdmits) {
  EventLog log;
  Socket pull(protocols::kPull);
  pull.OnPipeEvent(log.Fn());
  // Refuse every peer whose address is on the block list; empty it later.
  std::mutex mu;
  std::string blocked = "tcp://127.0.0.1:";
  std::vector<PeerInfo> seen;
  pull.SetAdmission([&](const PeerInfo& peer) -> absl::Status {
    std::lock_guard<std::mutex> lock(mu);
    seen.push_back(peer);
    if (!blocked.empty() && absl::StartsWith(peer.remote_address, blocked)) {
      return absl::PermissionDeniedError("blocked address");
    }
    return absl::OkStatus();
  });
  absl::StatusOr<std::string> url = pull.Listen("tcp://127.0.0.1:0");
  ASSERT_TRUE(url.ok()) << url.status();
  Socket push(protocols::kPush);
  FastRedial(push);
  ASSERT_TRUE(push.Dial(*url).ok());

  // Refused again and again; what push sends meanwhile never arrives.
  for (int i = 0; i < 5; ++i) {
    Message m("while refused");
    (void)push.Send(m, absl::Now() + absl::Milliseconds(50));
  }
  ASSERT_TRUE(WaitUntil([&] { return pull.stats().rejected_admission >= 3; },
                        Deadline(10)));
  EXPECT_EQ(pull.pipe_count(), 0);
  EXPECT_EQ(log.Count(PipeEventType::kAdded), 0);
  EXPECT_GE(log.Count(PipeEventType::kRefused), 3);
  EXPECT_EQ(log.FirstReason(PipeEventType::kRefused), "blocked address");
  for (const PipeEvent& ev : log.Events()) {
    if (ev.type != PipeEventType::kRefused) continue;
    EXPECT_EQ(ev.pipe_id, 0u);
    EXPECT_TRUE(absl::StartsWith(ev.remote_address, "tcp://127.0.0.1:"))
        << ev.remote_address;
    EXPECT_EQ(ev.local_address, *url);
  }
  EXPECT_EQ(pull.stats().messages_in, 0u);
  EXPECT_EQ(pull.TryRecv().status().code(), absl::StatusCode::kUnavailable);
  {
    std::lock_guard<std::mutex> lock(mu);
    ASSERT_FALSE(seen.empty());
    EXPECT_EQ(seen[0].transport, "tcp");
    EXPECT_FALSE(seen[0].dialed);
    EXPECT_EQ(seen[0].uid, -1);
    EXPECT_TRUE(seen[0].headers.empty());
    blocked.clear();
  }

  // Admitted now: the pipe comes, with what the hook saw, and traffic flows.
  ASSERT_TRUE(pull.WaitForPeers(1, Deadline(10)).ok());
  ASSERT_TRUE(push.WaitForPeers(1, Deadline(10)).ok());
  absl::StatusOr<PeerInfo> peer = pull.PeerOf(FirstPipe(pull));
  ASSERT_TRUE(peer.ok()) << peer.status();
  absl::StatusOr<PeerInfo> mine = push.PeerOf(FirstPipe(push));
  ASSERT_TRUE(mine.ok()) << mine.status();
  EXPECT_EQ(peer->transport, "tcp");
  EXPECT_EQ(peer->remote_address, mine->local_address);
  EXPECT_EQ(mine->remote_address, *url);
  EXPECT_TRUE(mine->dialed);
  Message m("admitted");
  ASSERT_TRUE(push.Send(m, Deadline(10)).ok());
  // The first message through is one push queued while refused (kToOne keeps
  // them), proving they waited rather than reached the socket earlier.
  absl::StatusOr<std::string> got = RecvString(pull, Deadline(10));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(push.stats().rejected_admission, 0u);
  EXPECT_EQ(pull.PeerOf(12345).status().code(), absl::StatusCode::kNotFound);
}

TEST(AdmissionTest, IpcAdmitsOwnUidAndRefusesAnother) {
  // The roles carry the hook too.
  Pull own;
  own.SetAdmission([](const PeerInfo& peer) -> absl::Status {
    return peer.uid == static_cast<int64_t>(getuid())
               ? absl::OkStatus()
               : absl::PermissionDeniedError("wrong uid");
  });
  absl::StatusOr<std::string> url = own.Listen(test::UniqueIpcUrl());
  ASSERT_TRUE(url.ok()) << url.status();
  Push push;
  ASSERT_TRUE(push.Dial(*url).ok());
  ASSERT_TRUE(push.Send("hello", Deadline(10)).ok());
  absl::StatusOr<Message> got = own.Recv(Deadline(10));
  ASSERT_TRUE(got.ok()) << got.status();
  absl::StatusOr<PeerInfo> peer = own.PeerOf(got->source().back());
  ASSERT_TRUE(peer.ok()) << peer.status();
  EXPECT_EQ(peer->transport, "ipc");
  EXPECT_EQ(peer->uid, static_cast<int64_t>(getuid()));
  EXPECT_EQ(peer->gid, static_cast<int64_t>(getgid()));
  EXPECT_EQ(peer->pid, static_cast<int64_t>(getpid()));
  EXPECT_EQ(own.stats().rejected_admission, 0u);
  // The dialer sees the listener's credentials (ours as well).
  absl::StatusOr<PeerInfo> mine = push.PeerOf(FirstPipe(push.socket()));
  ASSERT_TRUE(mine.ok()) << mine.status();
  EXPECT_EQ(mine->uid, static_cast<int64_t>(getuid()));

  EventLog log;
  Pull other;
  other.socket().OnPipeEvent(log.Fn());
  other.SetAdmission([](const PeerInfo& peer) -> absl::Status {
    return peer.uid == static_cast<int64_t>(getuid()) + 1
               ? absl::OkStatus()
               : absl::PermissionDeniedError("wrong uid");
  });
  absl::StatusOr<std::string> url2 = other.Listen(test::UniqueIpcUrl());
  ASSERT_TRUE(url2.ok()) << url2.status();
  Push refused;
  FastRedial(refused.socket());
  ASSERT_TRUE(refused.Dial(*url2).ok());
  Message m("never");
  (void)refused.Send(m, absl::Now() + absl::Milliseconds(100));
  ASSERT_TRUE(WaitUntil([&] { return other.stats().rejected_admission >= 2; },
                        Deadline(10)));
  EXPECT_EQ(log.FirstReason(PipeEventType::kRefused), "wrong uid");
  EXPECT_EQ(log.Count(PipeEventType::kAdded), 0);
  EXPECT_EQ(other.stats().messages_in, 0u);
  EXPECT_EQ(other.TryRecv().status().code(), absl::StatusCode::kUnavailable);
}

TEST(AdmissionTest, InprocRefusesByNameAndAThrowingHookRefuses) {
  EventLog log;
  Socket pull(protocols::kPull);
  pull.OnPipeEvent(log.Fn());
  std::atomic<int> mode{0};  // 0 refuse, 1 throw, 2 admit
  pull.SetAdmission([&](const PeerInfo& peer) -> absl::Status {
    EXPECT_EQ(peer.transport, "inproc");
    EXPECT_EQ(peer.local_address, peer.remote_address);
    if (mode == 1) throw std::runtime_error("boom");
    return mode == 2
               ? absl::OkStatus()
               : absl::PermissionDeniedError("not on " + peer.local_address);
  });
  const std::string url = test::UniqueInprocUrl();
  ASSERT_TRUE(pull.Listen(url).ok());
  EventLog dial_log;
  Socket push(protocols::kPush);
  push.OnPipeEvent(dial_log.Fn());
  FastRedial(push);
  ASSERT_TRUE(push.Dial(url).ok());
  ASSERT_TRUE(WaitUntil([&] { return pull.stats().rejected_admission >= 2; },
                        Deadline(10)));
  EXPECT_EQ(log.FirstReason(PipeEventType::kRefused), "not on " + url);
  // The dialer learns of it as a failed dial and retries.
  EXPECT_GE(dial_log.Count(PipeEventType::kDialFailed), 1);
  EXPECT_EQ(push.pipe_count(), 0);
  mode = 1;
  const uint64_t before = pull.stats().rejected_admission;
  ASSERT_TRUE(
      WaitUntil([&] { return pull.stats().rejected_admission >= before + 2; },
                Deadline(10)));
  bool threw = false;
  for (const PipeEvent& ev : log.Events()) {
    threw |= ev.reason.message() == "admission hook threw: boom";
  }
  EXPECT_TRUE(threw);
  EXPECT_EQ(pull.stats().messages_in, 0u);
  mode = 2;
  Message m("in");
  ASSERT_TRUE(push.Send(m, Deadline(10)).ok());
  absl::StatusOr<std::string> got = RecvString(pull, Deadline(10));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "in");
}

TEST(AdmissionTest, DialerRefusedByItsOwnHookBacksOff) {
  Socket pull(protocols::kPull);
  absl::StatusOr<std::string> url = pull.Listen("tcp://127.0.0.1:0");
  ASSERT_TRUE(url.ok()) << url.status();
  EventLog log;
  Socket push(protocols::kPush);
  push.OnPipeEvent(log.Fn());
  ASSERT_TRUE(push.Set(opt::kReconnectMin, absl::Milliseconds(20)).ok());
  ASSERT_TRUE(push.Set(opt::kReconnectMax, absl::Seconds(5)).ok());
  std::mutex mu;
  std::vector<absl::Time> calls;
  push.SetAdmission([&](const PeerInfo& peer) -> absl::Status {
    EXPECT_TRUE(peer.dialed);
    EXPECT_EQ(peer.remote_address, *url);
    std::lock_guard<std::mutex> lock(mu);
    calls.push_back(absl::Now());
    return absl::UnavailableError("not that server");
  });
  ASSERT_TRUE(push.Dial(*url).ok());
  ASSERT_TRUE(WaitUntil(
      [&] {
        std::lock_guard<std::mutex> lock(mu);
        return calls.size() >= 5;
      },
      Deadline(20)));
  EXPECT_EQ(push.pipe_count(), 0);
  EXPECT_GE(push.stats().rejected_admission, 5u);
  EXPECT_GE(log.Count(PipeEventType::kRefused), 5);
  EXPECT_EQ(log.Count(PipeEventType::kAdded), 0);
  // Back-off: 20, 40, 80, 160 ms between attempts (timers never fire early).
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_GE(calls[4] - calls[3], absl::Milliseconds(120));
  EXPECT_GE(calls[3] - calls[2], absl::Milliseconds(60));
}

TEST(AdmissionTest, NullHookAdmitsEveryone) {
  Socket pull(protocols::kPull);
  pull.SetAdmission(
      [](const PeerInfo&) { return absl::PermissionDeniedError("no"); });
  pull.SetAdmission(nullptr);  // back to admitting everyone
  const std::string url = test::UniqueInprocUrl();
  ASSERT_TRUE(pull.Listen(url).ok());
  Socket push(protocols::kPush);
  ASSERT_TRUE(push.Dial(url).ok());
  ASSERT_TRUE(pull.WaitForPeers(1, Deadline(10)).ok());
  EXPECT_EQ(pull.stats().rejected_admission, 0u);
}

}  // namespace
}  // namespace msock
