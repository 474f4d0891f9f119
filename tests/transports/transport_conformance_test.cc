// The transport conformance suite: the same behaviour checked over inproc, ipc
// tcp, ws and wss (binding, dialing, ordering, large and empty messages,
// reconnection, pipe removal, back-pressure, the receive size limit and address
// conflicts).
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "msock/options.h"
#include "msock/protocols/recipes.h"
#include "msock/socket.h"
#include "msock/url.h"
#include "tests/support/test_certs.h"
#include "tests/support/test_support.h"

namespace msock {
namespace {

using test::Deadline;
using test::EventLog;
using test::ListenUrlFor;
using test::RecvString;
using test::SendString;
using test::WaitUntil;

std::string Pattern(size_t size, int seed) {
  std::string s(size, '\0');
  for (size_t i = 0; i < size; ++i)
    s[i] = static_cast<char>((i * 31 + seed) % 251);
  return s;
}

int BodyIndex(const Message& m) {
  int v = -1;
  if (!absl::SimpleAtoi(std::string(m.body().substr(0, m.body().find(' '))),
                        &v))
    return -1;
  return v;
}

class TransportTest : public ::testing::TestWithParam<std::string> {
 protected:
  const std::string& scheme() const { return GetParam(); }
  bool stream() const { return scheme() != "inproc"; }

  // wss: every socket shows and checks certificates of the test CA.
  void Prepare(Socket& s) {
    if (scheme() == "wss") test::UseTestTls(s);
  }

  static void FastRedial(Socket& s) {
    ASSERT_TRUE(s.Set(opt::kReconnectMin, absl::Milliseconds(10)).ok());
    ASSERT_TRUE(s.Set(opt::kReconnectMax, absl::Milliseconds(200)).ok());
  }

  // Listens `listener` on a fresh address of this transport; returns the bound
  // URL.
  std::string ListenOn(Socket& listener) {
    absl::StatusOr<std::string> url = listener.Listen(ListenUrlFor(scheme()));
    EXPECT_TRUE(url.ok()) << url.status();
    return url.ok() ? *url : std::string("inproc://listen-failed");
  }

  // Listens on `listener`, dials from `dialer` and waits until both see the
  // pipe.
  std::string Connect(Socket& listener, Socket& dialer) {
    std::string url = ListenOn(listener);
    FastRedial(dialer);
    EXPECT_TRUE(dialer.Dial(url).ok());
    EXPECT_TRUE(dialer.WaitForPeers(1, Deadline(10)).ok());
    EXPECT_TRUE(listener.WaitForPeers(1, Deadline(10)).ok());
    return url;
  }

  // An address of this transport nobody listens on (tcp: a port just released).
  std::string UnusedUrl() {
    if (scheme() != "tcp" && scheme() != "ws" && scheme() != "wss") {
      return ListenUrlFor(scheme());
    }
    Socket tmp(protocols::kPull);
    Prepare(tmp);
    std::string url = ListenOn(tmp);
    tmp.Close();
    return url;
  }
};

TEST_P(TransportTest, ListenReturnsBoundUrl) {
  Socket pull(protocols::kPull);
  Prepare(pull);
  std::string requested = ListenUrlFor(scheme());
  absl::StatusOr<std::string> url = pull.Listen(requested);
  ASSERT_TRUE(url.ok()) << url.status();
  absl::StatusOr<Url> u = ParseUrl(*url);
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->scheme, scheme());
  if (scheme() == "tcp" || scheme() == "ws" || scheme() == "wss") {
    EXPECT_EQ(u->host, "127.0.0.1");
    EXPECT_NE(u->port, 0);
    if (scheme() != "tcp") {
      EXPECT_EQ(u->path, "/msock");
    }
  } else {
    EXPECT_EQ(*url, requested);
  }
}

TEST_P(TransportTest, DialAndWaitForPeers) {
  Socket pull(protocols::kPull);
  Prepare(pull);
  Socket push(protocols::kPush);
  Prepare(push);
  EXPECT_EQ(pull.pipe_count(), 0);
  Connect(pull, push);
  EXPECT_EQ(pull.pipe_count(), 1);
  EXPECT_EQ(push.pipe_count(), 1);
  EXPECT_EQ(pull.stats().pipes_opened, 1u);
  EXPECT_EQ(push.stats().pipes_opened, 1u);
}

TEST_P(TransportTest, SendRecvOneMessage) {
  Socket pull(protocols::kPull);
  Prepare(pull);
  Socket push(protocols::kPush);
  Prepare(push);
  Connect(pull, push);
  ASSERT_TRUE(SendString(push, "hello over " + scheme(), Deadline(5)).ok());
  absl::StatusOr<std::string> got = RecvString(pull, Deadline(5));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "hello over " + scheme());
}

TEST_P(TransportTest, ReceivedMessageCarriesItsPipe) {
  Socket pull(protocols::kPull);
  Prepare(pull);
  EventLog log;
  pull.OnPipeEvent(log.Fn());
  Socket push(protocols::kPush);
  Prepare(push);
  Connect(pull, push);
  ASSERT_TRUE(WaitUntil([&] { return log.Count(PipeEventType::kAdded) == 1; },
                        Deadline(5)));
  ASSERT_TRUE(SendString(push, "x", Deadline(5)).ok());
  absl::StatusOr<Message> m = pull.Recv(Deadline(5));
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_EQ(m->source().size(), 1u);
  EXPECT_EQ(m->source().back(), log.Events()[0].pipe_id);
  pull.OnPipeEvent(nullptr);
}

TEST_P(TransportTest, OrderPreservedFor10000Messages) {
  constexpr int kCount = 10000;
  Socket pull(protocols::kPull);
  Prepare(pull);
  Socket push(protocols::kPush);
  Prepare(push);
  Connect(pull, push);
  std::atomic<int> send_errors{0};
  std::thread sender([&] {
    for (int i = 0; i < kCount; ++i) {
      Message m(absl::StrCat(i, " payload"));
      if (!push.Send(m, Deadline(30)).ok()) send_errors++;
    }
  });
  int next = 0;
  for (; next < kCount; ++next) {
    absl::StatusOr<Message> m = pull.Recv(Deadline(30));
    ASSERT_TRUE(m.ok()) << m.status() << " at " << next;
    ASSERT_EQ(BodyIndex(*m), next);
  }
  sender.join();
  EXPECT_EQ(send_errors.load(), 0);
  EXPECT_EQ(pull.TryRecv().status().code(), absl::StatusCode::kUnavailable);
}

TEST_P(TransportTest, LargeMessageIntact) {
  constexpr size_t kSize = 512 * 1024;
  Socket pull(protocols::kPull);
  Prepare(pull);
  ASSERT_TRUE(pull.Set(opt::kMaxRecvSize, size_t{2} << 20).ok());
  Socket push(protocols::kPush);
  Prepare(push);
  Connect(pull, push);
  const std::string body = Pattern(kSize, 7);
  Message m(body);
  ASSERT_TRUE(push.Send(m, Deadline(10)).ok());
  absl::StatusOr<Message> got = pull.Recv(Deadline(10));
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), kSize);
  EXPECT_TRUE(got->body() == body) << "large message corrupted";
  EXPECT_EQ(pull.stats().rejected_oversize, 0u);
}

// Stream pipes write to an idle pipe from the sending thread and hand what
// the kernel does not take at once to the loop, which also batches streams.
// A ping-pong leaves the pipe idle before every send; the 3 MiB messages
// overflow the socket buffer mid-write; the bursts after each reply are
// streams. Everything must arrive whole and in order.
TEST_P(TransportTest, IdleWritesLargeWritesAndBurstsKeepOrder) {
  constexpr int kRounds = 30;
  constexpr int kBurst = 50;
  const std::string sizes[] = {Pattern(1, 1), Pattern(100 * 1024, 2),
                               Pattern(3 << 20, 3)};
  Socket a(protocols::kPair0);
  Prepare(a);
  Socket b(protocols::kPair0);
  Prepare(b);
  ASSERT_TRUE(a.Set(opt::kMaxRecvSize, size_t{4} << 20).ok());
  ASSERT_TRUE(b.Set(opt::kMaxRecvSize, size_t{4} << 20).ok());
  Connect(a, b);
  std::thread echo([&] {
    for (int i = 0; i < kRounds; ++i) {
      absl::StatusOr<Message> m = b.Recv(Deadline(30));
      if (!m.ok()) return;
      Message back = std::move(*m);
      if (!b.Send(back, Deadline(30)).ok()) return;
      for (int j = 0; j < kBurst; ++j) {
        if (!SendString(b, absl::StrCat(j, " burst"), Deadline(30)).ok())
          return;
      }
    }
  });
  for (int i = 0; i < kRounds; ++i) {
    const std::string& body = sizes[i % 3];
    Message m(body);
    ASSERT_TRUE(a.Send(m, Deadline(30)).ok()) << "round " << i;
    absl::StatusOr<Message> got = a.Recv(Deadline(30));
    ASSERT_TRUE(got.ok()) << got.status() << " round " << i;
    ASSERT_EQ(got->size(), body.size()) << "round " << i;
    ASSERT_TRUE(got->body() == body) << "round " << i << ": corrupted";
    for (int j = 0; j < kBurst; ++j) {
      absl::StatusOr<std::string> s = RecvString(a, Deadline(30));
      ASSERT_TRUE(s.ok()) << s.status() << " round " << i;
      ASSERT_EQ(*s, absl::StrCat(j, " burst")) << "round " << i;
    }
  }
  echo.join();
  EXPECT_EQ(a.stats().rejected_bad_frame + b.stats().rejected_bad_frame, 0u);
}

TEST_P(TransportTest, ManySmallMessagesBothWaysAtOnce) {
  constexpr int kCount = 20000;
  Socket a(protocols::kPair0);
  Prepare(a);
  Socket b(protocols::kPair0);
  Prepare(b);
  Connect(a, b);
  std::atomic<int> errors{0};
  auto send_all = [&](Socket* s, const char* tag) {
    for (int i = 0; i < kCount; ++i) {
      Message m(absl::StrCat(i, " ", tag));
      if (!s->Send(m, Deadline(30)).ok()) {
        errors++;
        return;
      }
    }
  };
  auto recv_all = [&](Socket* s, const char* tag) {
    for (int i = 0; i < kCount; ++i) {
      absl::StatusOr<Message> m = s->Recv(Deadline(30));
      if (!m.ok() || BodyIndex(*m) != i ||
          m->body() != absl::StrCat(i, " ", tag)) {
        errors++;
        return;
      }
    }
  };
  std::thread t1(send_all, &a, "a->b");
  std::thread t2(send_all, &b, "b->a");
  std::thread t3(recv_all, &b, "a->b");
  std::thread t4(recv_all, &a, "b->a");
  t1.join();
  t2.join();
  t3.join();
  t4.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(a.stats().messages_out, static_cast<uint64_t>(kCount));
  EXPECT_EQ(a.stats().messages_in, static_cast<uint64_t>(kCount));
  EXPECT_EQ(b.stats().messages_out, static_cast<uint64_t>(kCount));
  EXPECT_EQ(b.stats().messages_in, static_cast<uint64_t>(kCount));
}

TEST_P(TransportTest, EmptyMessage) {
  Socket pull(protocols::kPull);
  Prepare(pull);
  Socket push(protocols::kPush);
  Prepare(push);
  Connect(pull, push);
  Message empty;
  ASSERT_TRUE(push.Send(empty, Deadline(5)).ok());
  ASSERT_TRUE(SendString(push, "after-empty", Deadline(5)).ok());
  absl::StatusOr<Message> got = pull.Recv(Deadline(5));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->size(), 0u);
  EXPECT_TRUE(got->header().empty());
  absl::StatusOr<std::string> next = RecvString(pull, Deadline(5));
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(*next, "after-empty");
}

TEST_P(TransportTest, RedialsWhenListenerComesBack) {
  auto first = std::make_unique<Socket>(protocols::kPull);
  Prepare(*first);
  Socket push(protocols::kPush);
  Prepare(push);
  std::string url = Connect(*first, push);
  ASSERT_TRUE(SendString(push, "one", Deadline(5)).ok());
  ASSERT_EQ(RecvString(*first, Deadline(5)).value_or("?"), "one");

  first->Close();
  first.reset();
  ASSERT_TRUE(WaitUntil([&] { return push.pipe_count() == 0; }, Deadline(10)))
      << "dialer still has a pipe after the listener closed";

  Socket second(protocols::kPull);
  Prepare(second);
  absl::StatusOr<std::string> again = second.Listen(url);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, url);
  ASSERT_TRUE(push.WaitForPeers(1, Deadline(10)).ok())
      << "dialer did not re-dial";
  ASSERT_TRUE(SendString(push, "two", Deadline(5)).ok());
  absl::StatusOr<std::string> got = RecvString(second, Deadline(5));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "two");
}

TEST_P(TransportTest, DialBeforeListen) {
  std::string url = UnusedUrl();
  Socket push(protocols::kPush);
  Prepare(push);
  FastRedial(push);
  ASSERT_TRUE(push.Dial(url).ok());
  EXPECT_EQ(push.WaitForPeers(1, absl::Now() + absl::Milliseconds(50)).code(),
            absl::StatusCode::kDeadlineExceeded);
  Socket pull(protocols::kPull);
  Prepare(pull);
  absl::StatusOr<std::string> bound = pull.Listen(url);
  ASSERT_TRUE(bound.ok()) << bound.status();
  ASSERT_TRUE(push.WaitForPeers(1, Deadline(10)).ok())
      << "background re-dial never connected";
  ASSERT_TRUE(SendString(push, "late", Deadline(5)).ok());
  EXPECT_EQ(RecvString(pull, Deadline(5)).value_or("?"), "late");
}

TEST_P(TransportTest, ClosingPeerRemovesPipe) {
  EventLog log;
  Socket pull(protocols::kPull);
  Prepare(pull);
  pull.OnPipeEvent(log.Fn());
  auto push = std::make_unique<Socket>(protocols::kPush);
  Prepare(*push);
  Connect(pull, *push);
  ASSERT_TRUE(WaitUntil([&] { return log.Count(PipeEventType::kAdded) == 1; },
                        Deadline(5)));
  push->Close();
  ASSERT_TRUE(WaitUntil(
      [&] {
        return pull.pipe_count() == 0 &&
               log.Count(PipeEventType::kRemoved) == 1;
      },
      Deadline(10)))
      << "pipe_count=" << pull.pipe_count()
      << " removed=" << log.Count(PipeEventType::kRemoved);
  std::vector<PipeEvent> events = log.Events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type, PipeEventType::kAdded);
  EXPECT_EQ(events[1].type, PipeEventType::kRemoved);
  EXPECT_NE(events[0].pipe_id, 0u);
  EXPECT_EQ(events[0].pipe_id, events[1].pipe_id);
  EXPECT_EQ(pull.stats().pipes_closed, 1u);
  pull.OnPipeEvent(nullptr);
}

TEST_P(TransportTest, BackPressureBoundsQueuesThenRecovers) {
  constexpr size_t kMsgSize = 16 * 1024;
  constexpr int kCap =
      4096;  // 64 MiB: far beyond every queue and socket buffer involved
  Socket pull(protocols::kPull);
  Prepare(pull);
  ASSERT_TRUE(pull.Set(opt::kRecvQueueMessages, size_t{4}).ok());
  ASSERT_TRUE(pull.Set(opt::kRecvQueueBytes, size_t{64} << 10).ok());
  Socket push(protocols::kPush);
  Prepare(push);
  ASSERT_TRUE(push.Set(opt::kSendQueueMessages, size_t{4}).ok());
  ASSERT_TRUE(push.Set(opt::kSendQueueBytes, size_t{64} << 10).ok());
  Connect(pull, push);

  int sent = 0;
  bool saw_unavailable = false;
  for (int i = 0; i < kCap && !saw_unavailable; ++i) {
    Message m(absl::StrCat(sent, " ", std::string(kMsgSize, 'b')));
    absl::Status s = push.TrySend(m);
    if (s.ok()) {
      ++sent;
    } else {
      ASSERT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
      EXPECT_FALSE(m.empty())
          << "failed TrySend must leave the message with the caller";
      saw_unavailable = true;
    }
  }
  ASSERT_TRUE(saw_unavailable) << "TrySend never reported a full queue";
  // Keep pushing with a short deadline: the queues must stop accepting at some
  // point, so that a send waits 200 ms in vain and a TrySend right after fails
  // too. A slow pipeline (sanitizers, TLS) may free a slot just after the
  // 200 ms: that message counts as sent and the loop goes on.
  bool stuck = false;
  while (sent < kCap && !stuck) {
    Message m(absl::StrCat(sent, " ", std::string(kMsgSize, 'b')));
    absl::Status s = push.Send(m, absl::Now() + absl::Milliseconds(200));
    if (!s.ok()) {
      ASSERT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded) << s;
      s = push.TrySend(m);
      if (!s.ok()) {
        ASSERT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
        stuck = true;
        continue;
      }
    }
    ++sent;
  }
  ASSERT_TRUE(stuck) << "queues grew without bound: " << sent
                     << " messages accepted";
  RecordProperty("accepted_before_blocking", sent);
  Message extra(absl::StrCat(sent, " ", std::string(kMsgSize, 'b')));

  // Drain: everything accepted arrives, in order.
  for (int i = 0; i < sent; ++i) {
    absl::StatusOr<Message> m = pull.Recv(Deadline(10));
    ASSERT_TRUE(m.ok()) << m.status() << " after " << i << " of " << sent;
    ASSERT_EQ(BodyIndex(*m), i);
  }
  // And sending works again.
  ASSERT_TRUE(push.Send(extra, Deadline(10)).ok());
  absl::StatusOr<Message> last = pull.Recv(Deadline(10));
  ASSERT_TRUE(last.ok()) << last.status();
  EXPECT_EQ(BodyIndex(*last), sent);
}

TEST_P(TransportTest, OversizeMessageClosesOnlyThatPipe) {
  if (!stream())
    GTEST_SKIP() << "size limit is checked by the stream decoder (tcp/ipc)";
  EventLog pull_log, big_log, small_log;
  Socket pull(protocols::kPull);
  Prepare(pull);
  ASSERT_TRUE(pull.Set(opt::kMaxRecvSize, size_t{1024}).ok());
  pull.OnPipeEvent(pull_log.Fn());
  std::string url = ListenOn(pull);
  Socket big(protocols::kPush);
  Prepare(big);
  Socket small(protocols::kPush);
  Prepare(small);
  big.OnPipeEvent(big_log.Fn());
  small.OnPipeEvent(small_log.Fn());
  FastRedial(big);
  FastRedial(small);
  ASSERT_TRUE(small.Dial(url).ok());
  ASSERT_TRUE(small.WaitForPeers(1, Deadline(10)).ok());
  ASSERT_TRUE(big.Dial(url).ok());
  ASSERT_TRUE(big.WaitForPeers(1, Deadline(10)).ok());
  ASSERT_TRUE(pull.WaitForPeers(2, Deadline(10)).ok());

  ASSERT_TRUE(SendString(small, "before", Deadline(5)).ok());
  EXPECT_EQ(RecvString(pull, Deadline(5)).value_or("?"), "before");

  Message huge(std::string(1025, 'H'));
  ASSERT_TRUE(big.Send(huge, Deadline(5)).ok());
  ASSERT_TRUE(WaitUntil([&] { return pull.stats().rejected_oversize >= 1; },
                        Deadline(10)))
      << "oversize message not rejected";
  EXPECT_EQ(pull.stats().rejected_oversize, 1u);
  ASSERT_TRUE(
      WaitUntil([&] { return big_log.Count(PipeEventType::kRemoved) >= 1; },
                Deadline(10)))
      << "the sender of the oversize message kept its pipe";

  ASSERT_TRUE(SendString(small, "after", Deadline(5)).ok());
  absl::StatusOr<Message> got = pull.Recv(Deadline(5));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->body(), "after");
  EXPECT_EQ(small_log.Count(PipeEventType::kRemoved), 0)
      << "the other pipe was closed too";
  EXPECT_EQ(small.pipe_count(), 1);
  EXPECT_EQ(pull_log.Count(PipeEventType::kRemoved), 1);

  // Exactly the limit is fine once the big sender has re-dialed.
  ASSERT_TRUE(big.WaitForPeers(1, Deadline(10)).ok());
  ASSERT_TRUE(WaitUntil([&] { return pull.pipe_count() == 2; }, Deadline(10)));
  Message at_limit(std::string(1024, 'L'));
  ASSERT_TRUE(big.Send(at_limit, Deadline(5)).ok());
  absl::StatusOr<Message> limit_msg = pull.Recv(Deadline(5));
  ASSERT_TRUE(limit_msg.ok()) << limit_msg.status();
  EXPECT_EQ(limit_msg->size(), 1024u);
  EXPECT_EQ(pull.stats().rejected_oversize, 1u);
  pull.OnPipeEvent(nullptr);
  big.OnPipeEvent(nullptr);
  small.OnPipeEvent(nullptr);
}

TEST_P(TransportTest, ListenTwiceOnLiveAddressIsAlreadyExists) {
  Socket first(protocols::kPull);
  Prepare(first);
  std::string url = ListenOn(first);
  Socket second(protocols::kPull);
  Prepare(second);
  absl::StatusOr<std::string> again = second.Listen(url);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists)
      << again.status();
  // The same socket listening twice on one address is refused too.
  EXPECT_EQ(first.Listen(url).status().code(),
            absl::StatusCode::kAlreadyExists);
  // The failed attempts did not disturb the live listener.
  Socket push(protocols::kPush);
  Prepare(push);
  FastRedial(push);
  ASSERT_TRUE(push.Dial(url).ok());
  ASSERT_TRUE(push.WaitForPeers(1, Deadline(10)).ok());
  ASSERT_TRUE(SendString(push, "still here", Deadline(5)).ok());
  EXPECT_EQ(RecvString(first, Deadline(5)).value_or("?"), "still here");
}

INSTANTIATE_TEST_SUITE_P(AllTransports, TransportTest,
                         ::testing::Values("inproc", "ipc", "tcp", "ws", "wss"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

// ipc only: a socket file left behind by a dead process is replaced on listen.
TEST(IpcTransportTest, StaleSocketFileIsReplaced) {
  std::string path = test::Scratch().NewPath("sock");
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(path.size(), sizeof(addr.sun_path));
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  close(fd);  // the file stays: a stale socket nobody answers on
  ASSERT_EQ(access(path.c_str(), F_OK), 0);

  Socket pull(protocols::kPull);
  absl::StatusOr<std::string> url = pull.Listen("ipc://" + path);
  ASSERT_TRUE(url.ok()) << url.status();
  Socket push(protocols::kPush);
  ASSERT_TRUE(push.Dial(*url).ok());
  ASSERT_TRUE(push.WaitForPeers(1, Deadline(10)).ok());
  ASSERT_TRUE(SendString(push, "fresh", Deadline(5)).ok());
  EXPECT_EQ(RecvString(pull, Deadline(5)).value_or("?"), "fresh");
}

}  // namespace
}  // namespace msock
