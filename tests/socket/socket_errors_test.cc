// msock::Socket error contract (msock/socket.h, msock/status.h): one test per
// error case, named after it. Blocked calls are released by Close with
// kCancelled; failed sends leave the message with the caller.
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "msock/options.h"
#include "msock/protocols/recipes.h"
#include "msock/socket.h"
#include "tests/support/test_support.h"

namespace msock {
namespace {

using test::Deadline;
using test::WaitUntil;

// Runs `call` on its own thread; lets the test check that it is still blocked
// and collect the status it returned.
class BlockedCall {
 public:
  explicit BlockedCall(std::function<absl::Status()> call)
      : thread_([this, call = std::move(call)] {
          entered_ = true;
          absl::Status s = call();
          {
            std::lock_guard<std::mutex> lock(mu_);
            status_ = s;
          }
          returned_ = true;
        }) {}
  ~BlockedCall() {
    if (thread_.joinable()) thread_.join();
  }

  // True once the thread has entered the call and the call has not returned for
  // `settle` (a bounded poll: the call cannot finish by itself, so it is
  // blocked).
  bool IsBlocked(absl::Duration settle = absl::Milliseconds(100)) {
    if (!WaitUntil([&] { return entered_.load(); }, Deadline(10))) return false;
    return !WaitUntil([&] { return returned_.load(); }, absl::Now() + settle);
  }
  // Waits (bounded) for the call to return and gives its status.
  absl::Status Finish() {
    if (!WaitUntil([&] { return returned_.load(); }, Deadline(10))) {
      return absl::InternalError("blocked call did not return within 10 s");
    }
    thread_.join();
    std::lock_guard<std::mutex> lock(mu_);
    return status_;
  }

 private:
  std::atomic<bool> entered_{false};
  std::atomic<bool> returned_{false};
  std::mutex mu_;  // not absl::Mutex: ThreadSanitizer cannot see Debian's
                   // prebuilt Abseil
  absl::Status status_;
  std::thread thread_;
};

TEST(SocketErrorsTest, SendAfterCloseIsFailedPrecondition) {
  Socket push(protocols::kPush);
  push.Close();
  Message m("late");
  EXPECT_EQ(push.Send(m, Deadline(1)).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(push.TrySend(m).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(m.body(), "late");
}

TEST(SocketErrorsTest, RecvAfterCloseIsFailedPrecondition) {
  Socket pull(protocols::kPull);
  pull.Close();
  EXPECT_EQ(pull.Recv(Deadline(1)).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(pull.TryRecv().status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(SocketErrorsTest, DialAfterCloseIsFailedPrecondition) {
  Socket push(protocols::kPush);
  push.Close();
  EXPECT_EQ(push.Dial("tcp://127.0.0.1:1").code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(SocketErrorsTest, ListenAfterCloseIsFailedPrecondition) {
  Socket pull(protocols::kPull);
  pull.Close();
  EXPECT_EQ(pull.Listen("tcp://127.0.0.1:0").status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(SocketErrorsTest, SetAfterCloseIsFailedPrecondition) {
  Socket pull(protocols::kPull);
  pull.Close();
  EXPECT_EQ(pull.Set(opt::kRecvTimeout, absl::Seconds(1)).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(pull.Set(opt::kTtl, 4).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(pull.Set(opt::kMaxRecvSize, size_t{10}).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(SocketErrorsTest, CloseIsIdempotent) {
  Socket pull(protocols::kPull);
  ASSERT_TRUE(pull.Listen(test::UniqueInprocUrl()).ok());
  pull.Close();
  pull.Close();
  EXPECT_EQ(pull.pipe_count(), 0);
}

TEST(SocketErrorsTest, CloseWakesBlockedRecvWithCancelled) {
  Socket pull(protocols::kPull);
  BlockedCall call([&] { return pull.Recv(absl::InfiniteFuture()).status(); });
  ASSERT_TRUE(call.IsBlocked());
  pull.Close();
  EXPECT_EQ(call.Finish().code(), absl::StatusCode::kCancelled);
}

TEST(SocketErrorsTest, CloseWakesBlockedSendWithCancelled) {
  Socket push(protocols::kPush);  // no peer: Send blocks
  Message m("kept");
  BlockedCall call([&] { return push.Send(m, absl::InfiniteFuture()); });
  ASSERT_TRUE(call.IsBlocked());
  push.Close();
  EXPECT_EQ(call.Finish().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(m.body(), "kept")
      << "a cancelled Send must leave the message with the caller";
}

TEST(SocketErrorsTest, CloseWakesBlockedWaitForPeersWithCancelled) {
  Socket pull(protocols::kPull);
  BlockedCall call(
      [&] { return pull.WaitForPeers(1, absl::InfiniteFuture()); });
  ASSERT_TRUE(call.IsBlocked());
  pull.Close();
  EXPECT_EQ(call.Finish().code(), absl::StatusCode::kCancelled);
}

TEST(SocketErrorsTest, CloseWakesEveryBlockedReceiver) {
  Socket pull(protocols::kPull);
  BlockedCall a([&] { return pull.Recv(absl::InfiniteFuture()).status(); });
  BlockedCall b([&] { return pull.Recv(absl::InfiniteFuture()).status(); });
  ASSERT_TRUE(a.IsBlocked());
  ASSERT_TRUE(b.IsBlocked());
  pull.Close();
  EXPECT_EQ(a.Finish().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(b.Finish().code(), absl::StatusCode::kCancelled);
}

TEST(SocketErrorsTest, RecvDeadlineExceeded) {
  Socket pull(protocols::kPull);
  absl::Time start = absl::Now();
  EXPECT_EQ(pull.Recv(start + absl::Milliseconds(50)).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  absl::Duration took = absl::Now() - start;
  EXPECT_GE(took, absl::Milliseconds(45));
  EXPECT_LT(took, absl::Seconds(5));
}

TEST(SocketErrorsTest, RecvTimeoutOptionIsTheDefaultDeadline) {
  Socket pull(protocols::kPull);
  ASSERT_TRUE(pull.Set(opt::kRecvTimeout, absl::Milliseconds(50)).ok());
  absl::Time start = absl::Now();
  EXPECT_EQ(pull.Recv().status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(45));
}

TEST(SocketErrorsTest, TryRecvEmptyIsUnavailable) {
  Socket pull(protocols::kPull);
  EXPECT_EQ(pull.TryRecv().status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(pull.Recv(absl::InfinitePast()).status().code(),
            absl::StatusCode::kUnavailable);
}

TEST(SocketErrorsTest, TrySendNoPeerIsUnavailable) {
  Socket push(protocols::kPush);
  Message m("nobody");
  EXPECT_EQ(push.TrySend(m).code(), absl::StatusCode::kUnavailable);
}

TEST(SocketErrorsTest, SendDeadlineExceededNoPeer) {
  Socket push(protocols::kPush);
  Message m("nobody");
  absl::Time start = absl::Now();
  EXPECT_EQ(push.Send(m, start + absl::Milliseconds(50)).code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(45));
}

TEST(SocketErrorsTest, SendTimeoutOptionIsTheDefaultDeadline) {
  Socket push(protocols::kPush);
  ASSERT_TRUE(push.Set(opt::kSendTimeout, absl::Milliseconds(50)).ok());
  Message m("nobody");
  EXPECT_EQ(push.Send(m).code(), absl::StatusCode::kDeadlineExceeded);
}

TEST(SocketErrorsTest, FailedSendLeavesMessageWithCaller) {
  Socket push(protocols::kPush);
  Message m("payload");
  m.header().push_back(42);
  const char* data = m.data();
  EXPECT_FALSE(push.TrySend(m).ok());
  EXPECT_FALSE(push.Send(m, absl::Now() + absl::Milliseconds(10)).ok());
  EXPECT_EQ(m.body(), "payload");
  EXPECT_EQ(m.data(), data);
  ASSERT_EQ(m.header().size(), 1u);
  EXPECT_EQ(m.header()[0], 42u);
}

TEST(SocketErrorsTest, SuccessfulSendTakesMessage) {
  Socket pull(protocols::kPull);
  absl::StatusOr<std::string> url = pull.Listen(test::UniqueInprocUrl());
  ASSERT_TRUE(url.ok()) << url.status();
  Socket push(protocols::kPush);
  ASSERT_TRUE(push.Dial(*url).ok());
  ASSERT_TRUE(push.WaitForPeers(1, Deadline(10)).ok());
  Message m("taken");
  ASSERT_TRUE(push.Send(m, Deadline(5)).ok());
  EXPECT_TRUE(m.empty());
  EXPECT_TRUE(m.header().empty());
}

TEST(SocketErrorsTest, DialBadUrlIsInvalidArgument) {
  Socket push(protocols::kPush);
  EXPECT_EQ(push.Dial("not a url").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(push.Dial("tcp://127.0.0.1").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(push.Dial("tcp://127.0.0.1:70000").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(push.Dial("ipc://").code(), absl::StatusCode::kInvalidArgument);
}

TEST(SocketErrorsTest, DialUnknownSchemeIsInvalidArgument) {
  Socket push(protocols::kPush);
  EXPECT_EQ(push.Dial("carrier-pigeon://home:1").code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(SocketErrorsTest, ListenUnknownSchemeIsInvalidArgument) {
  Socket pull(protocols::kPull);
  EXPECT_EQ(pull.Listen("udp://127.0.0.1:0").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(SocketErrorsTest, ListenBadUrlIsInvalidArgument) {
  Socket pull(protocols::kPull);
  EXPECT_EQ(pull.Listen("127.0.0.1:0").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(pull.Listen("tcp://127.0.0.1:x").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(SocketErrorsTest, ListenAddressInUseIsAlreadyExists) {
  Socket first(protocols::kPull);
  absl::StatusOr<std::string> url = first.Listen("tcp://127.0.0.1:0");
  ASSERT_TRUE(url.ok()) << url.status();
  Socket second(protocols::kPull);
  EXPECT_EQ(second.Listen(*url).status().code(),
            absl::StatusCode::kAlreadyExists);
}

TEST(SocketErrorsTest, SetBadOptionValueIsInvalidArgument) {
  Socket s(protocols::kPair0);
  const absl::Duration minus = absl::Milliseconds(-1);
  EXPECT_EQ(s.Set(opt::kSendQueueMessages, size_t{0}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.Set(opt::kRecvQueueMessages, size_t{0}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.Set(opt::kSendQueueBytes, size_t{0}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.Set(opt::kRecvQueueBytes, size_t{0}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.Set(opt::kSendTimeout, minus).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.Set(opt::kRecvTimeout, minus).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.Set(opt::kReconnectMin, minus).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.Set(opt::kReconnectMax, minus).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.Set(opt::kHandshakeTimeout, minus).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.Set(opt::kLinger, minus).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.Set(opt::kTtl, 0).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.Set(opt::kTtl, 16).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.Set(opt::kTtl, -1).code(), absl::StatusCode::kInvalidArgument);
  // A refused value leaves the option as it was.
  EXPECT_EQ(s.Get(opt::kTtl), 8);
  EXPECT_EQ(s.Get(opt::kSendQueueMessages), size_t{1024});
  EXPECT_EQ(s.Get(opt::kLinger), absl::Seconds(1));
}

TEST(SocketErrorsTest, OptionDefaultsAndRoundTrip) {
  Socket s(protocols::kPair1);
  const SocketOptions d;
  EXPECT_EQ(s.Get(opt::kSendTimeout), d.send_timeout);
  EXPECT_EQ(s.Get(opt::kRecvTimeout), d.recv_timeout);
  EXPECT_EQ(s.Get(opt::kSendQueueMessages), d.send_queue_messages);
  EXPECT_EQ(s.Get(opt::kSendQueueBytes), d.send_queue_bytes);
  EXPECT_EQ(s.Get(opt::kRecvQueueMessages), d.recv_queue_messages);
  EXPECT_EQ(s.Get(opt::kRecvQueueBytes), d.recv_queue_bytes);
  EXPECT_EQ(s.Get(opt::kMaxRecvSize), d.max_recv_size);
  EXPECT_EQ(s.Get(opt::kReconnectMin), d.reconnect_min);
  EXPECT_EQ(s.Get(opt::kReconnectMax), d.reconnect_max);
  EXPECT_EQ(s.Get(opt::kTtl), d.ttl);
  EXPECT_EQ(s.Get(opt::kHandshakeTimeout), d.handshake_timeout);
  EXPECT_EQ(s.Get(opt::kLinger), d.linger);

  ASSERT_TRUE(s.Set(opt::kTtl, 1).ok());
  EXPECT_EQ(s.Get(opt::kTtl), 1);
  ASSERT_TRUE(s.Set(opt::kTtl, 15).ok());
  EXPECT_EQ(s.Get(opt::kTtl), 15);
  ASSERT_TRUE(s.Set(opt::kMaxRecvSize, size_t{0}).ok());  // 0 = no limit
  EXPECT_EQ(s.Get(opt::kMaxRecvSize), size_t{0});
  ASSERT_TRUE(s.Set(opt::kRecvTimeout, absl::ZeroDuration()).ok());
  EXPECT_EQ(s.Get(opt::kRecvTimeout), absl::ZeroDuration());
  ASSERT_TRUE(s.Set(opt::kSendTimeout, absl::InfiniteDuration()).ok());
  EXPECT_EQ(s.Get(opt::kSendTimeout), absl::InfiniteDuration());
  ASSERT_TRUE(s.Set(opt::kSendQueueMessages, size_t{1}).ok());
  EXPECT_EQ(s.Get(opt::kSendQueueMessages), size_t{1});
}

// Every option reads back what was set, and no other option moves: a Get of
// one key once returned another option's value.
TEST(SocketErrorsTest, EveryOptionRoundTripsAlone) {
  Socket s(protocols::kPair1);
  const SocketOptions d;
  ASSERT_TRUE(s.Set(opt::kRecvSpin, absl::Microseconds(7)).ok());
  ASSERT_TRUE(s.Set(opt::kWsPingInterval, absl::Seconds(3)).ok());
  ASSERT_TRUE(s.Set(opt::kWsText, true).ok());
  ASSERT_TRUE(s.Set(opt::kTlsVerifyPeer, false).ok());
  ASSERT_TRUE(s.Set(opt::kTlsServerName, "example.test").ok());
  ASSERT_TRUE(s.Set(opt::kTlsCa, "ca.pem").ok());
  ASSERT_TRUE(s.Set(opt::kOverflow, Overflow::kDropOldest).ok());
  EXPECT_EQ(s.Get(opt::kRecvSpin), absl::Microseconds(7));
  EXPECT_EQ(s.Get(opt::kWsPingInterval), absl::Seconds(3));
  EXPECT_TRUE(s.Get(opt::kWsText));
  EXPECT_FALSE(s.Get(opt::kTlsVerifyPeer));
  EXPECT_EQ(s.Get(opt::kTlsServerName), "example.test");
  EXPECT_EQ(s.Get(opt::kTlsCa), "ca.pem");
  EXPECT_EQ(s.Get(opt::kTlsCert), "");
  EXPECT_EQ(s.Get(opt::kTlsKey), "");
  EXPECT_EQ(s.Get(opt::kOverflow), Overflow::kDropOldest);
  EXPECT_EQ(s.Get(opt::kLinger), d.linger);
  EXPECT_EQ(s.Get(opt::kHandshakeTimeout), d.handshake_timeout);
  EXPECT_EQ(s.Get(opt::kMaxRecvSize), d.max_recv_size);
}

TEST(SocketErrorsTest, RefusedOptionNamesItselfAndTheReason) {
  Socket s(protocols::kPair1);
  absl::Status st = s.Set(opt::kTtl, 16);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "option ttl must be in 1..15");
  st = s.Set(opt::kSendQueueBytes, size_t{0});
  EXPECT_EQ(st.message(), "option send-queue-bytes must be at least 1");
  st = s.Set(opt::kOverflow, static_cast<Overflow>(42));
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  // A key the library does not know (no field) is refused, and reads as T{}.
  constexpr OptionKey<int> kMadeUp{99, "made-up", nullptr};
  st = s.Set(kMadeUp, 1);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "unknown option made-up");
  EXPECT_EQ(s.Get(kMadeUp), 0);
}

TEST(SocketErrorsTest, PushRecvIsFailedPrecondition) {
  Socket push(protocols::kPush);
  EXPECT_EQ(push.Recv(absl::InfinitePast()).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(push.Recv(Deadline(1)).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(SocketErrorsTest, PullSendIsFailedPrecondition) {
  Socket pull(protocols::kPull);
  Message m("no");
  EXPECT_EQ(pull.Send(m, Deadline(1)).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(m.body(), "no");
}

TEST(SocketErrorsTest, WaitForPeersDeadlineExceeded) {
  Socket pull(protocols::kPull);
  EXPECT_EQ(pull.WaitForPeers(1, absl::Now() + absl::Milliseconds(30)).code(),
            absl::StatusCode::kDeadlineExceeded);
}

TEST(SocketErrorsTest, DialUnreachableReturnsOkAndKeepsTrying) {
  Socket tmp(protocols::kPull);
  absl::StatusOr<std::string> url = tmp.Listen("tcp://127.0.0.1:0");
  ASSERT_TRUE(url.ok());
  tmp.Close();  // the port is now refused
  Socket push(protocols::kPush);
  EXPECT_TRUE(push.Dial(*url).ok());
  EXPECT_EQ(push.WaitForPeers(1, absl::Now() + absl::Milliseconds(100)).code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(push.pipe_count(), 0);
}

}  // namespace
}  // namespace msock
