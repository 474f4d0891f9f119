// Req / Rep over every transport (inproc, ipc, tcp): request/reply, many
// requests in flight from several threads, out-of-order replies, deadlines,
// resending, late replies, and the Rep's backtrace handling checked with a raw
// req Socket speaking the wire format.
#include "msock/protocols/reqrep.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "msock/msock.h"
#include "tests/support/marry.h"
#include "tests/support/test_support.h"

namespace msock {
namespace {

using test::Deadline;
using test::EventLog;
using test::ListenUrlFor;
using test::WaitUntil;

class ReqRepTest : public ::testing::TestWithParam<std::string> {
 protected:
  const std::string& transport() const { return GetParam(); }

  // Listens with `rep`, dials with `req`, waits until both see the pipe.
  void Connect(Req& req, Rep& rep) {
    absl::StatusOr<std::string> url =
        test::Marry(rep, req, transport(), Deadline(10));
    ASSERT_TRUE(url.ok()) << url.status();
  }

  // A raw req socket (no request ids, no matching) dialed to `rep` and
  // connected.
  std::unique_ptr<Socket> RawReq(Rep& rep, EventLog* log = nullptr) {
    auto raw = std::make_unique<Socket>(protocols::kReq);
    if (log != nullptr) raw->OnPipeEvent(log->Fn());
    absl::StatusOr<std::string> url =
        test::Marry(rep, *raw, transport(), Deadline(10));
    EXPECT_TRUE(url.ok()) << url.status();
    return raw;
  }

  static absl::Status SendWords(Socket& raw, const std::vector<uint32_t>& words,
                                std::string_view body) {
    Message m(body);
    for (uint32_t w : words) m.header().push_back(w);
    return raw.Send(m, Deadline(5));
  }
};

TEST_P(ReqRepTest, OneRequestOneReply) {
  Rep rep;
  Req req;
  Connect(req, rep);
  std::thread server([&] {
    absl::StatusOr<Message> q = rep.Recv(Deadline(10));
    ASSERT_TRUE(q.ok()) << q.status();
    EXPECT_EQ(q->body(), "ping");
    ASSERT_EQ(q->header().size(), 1u);
    EXPECT_NE(q->header()[0] & 0x80000000u, 0u);
    EXPECT_FALSE(q->source().empty());
    Message answer("pong");
    EXPECT_TRUE(rep.Reply(*q, answer, Deadline(10)).ok());
    EXPECT_TRUE(answer.empty());
  });
  Message ping("ping");
  absl::StatusOr<Message> r = req.Request(ping, Deadline(10));
  server.join();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body(), "pong");
  EXPECT_TRUE(r->header().empty());
  EXPECT_TRUE(ping.empty());
  EXPECT_EQ(req.replies_matched(), 1u);
}

TEST_P(ReqRepTest, ManyThreadsManyRequestsInFlight) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 50;
  Rep rep;
  Req req;
  Connect(req, rep);
  std::atomic<bool> stop{false};
  std::vector<std::thread> servers;
  for (int s = 0; s < 2; ++s) {
    servers.emplace_back([&] {
      while (!stop.load()) {
        absl::StatusOr<Message> q = rep.Recv(Deadline(0.05));
        if (!q.ok()) continue;
        Message answer(absl::StrCat("re:", std::string(q->body())));
        rep.Reply(*q, answer, Deadline(10)).IgnoreError();
      }
    });
  }
  std::atomic<int> good{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < kThreads; ++t) {
    clients.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string body = absl::StrCat("t", t, "-", i);
        Message m(body);
        absl::StatusOr<Message> r = req.Request(m, Deadline(20));
        if (!r.ok()) {
          ADD_FAILURE() << body << ": " << r.status();
          return;
        }
        if (r->body() == "re:" + body) {
          ++good;
        } else {
          ADD_FAILURE() << body << " got " << r->body();
        }
      }
    });
  }
  for (auto& c : clients) c.join();
  stop = true;
  for (auto& s : servers) s.join();
  EXPECT_EQ(good.load(), kThreads * kPerThread);
  EXPECT_EQ(req.replies_matched(),
            static_cast<uint64_t>(kThreads * kPerThread));
  // Nothing unmatched: matched replies are not counted as dropped.
  EXPECT_EQ(req.stats().dropped, 0u);
}

TEST_P(ReqRepTest, OutOfOrderReplies) {
  Rep rep;
  Req req;
  Connect(req, rep);
  absl::StatusOr<Message> r1, r2;
  std::thread c1([&] {
    Message m("first");
    r1 = req.Request(m, Deadline(10));
  });
  absl::StatusOr<Message> q1 = rep.Recv(Deadline(10));
  ASSERT_TRUE(q1.ok()) << q1.status();
  std::thread c2([&] {
    Message m("second");
    r2 = req.Request(m, Deadline(10));
  });
  absl::StatusOr<Message> q2 = rep.Recv(Deadline(10));
  ASSERT_TRUE(q2.ok()) << q2.status();
  EXPECT_EQ(q1->body(), "first");
  EXPECT_EQ(q2->body(), "second");
  EXPECT_NE(q1->header(), q2->header());
  Message a2("answer-second");
  ASSERT_TRUE(rep.Reply(*q2, a2, Deadline(10)).ok());
  c2.join();
  ASSERT_TRUE(r2.ok()) << r2.status();
  EXPECT_EQ(r2->body(), "answer-second");
  Message a1("answer-first");
  ASSERT_TRUE(rep.Reply(*q1, a1, Deadline(10)).ok());
  c1.join();
  ASSERT_TRUE(r1.ok()) << r1.status();
  EXPECT_EQ(r1->body(), "answer-first");
}

TEST_P(ReqRepTest, DeadlineWithoutPeerKeepsMessage) {
  Req req;
  Message m("lonely");
  absl::Time start = absl::Now();
  absl::StatusOr<Message> r =
      req.Request(m, absl::Now() + absl::Milliseconds(200));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded)
      << r.status();
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(150));
  EXPECT_EQ(m.body(), "lonely");
  EXPECT_TRUE(m.header().empty());
}

TEST_P(ReqRepTest, DeadlineWithSilentRepKeepsMessage) {
  Rep rep;
  Req req;
  Connect(req, rep);
  Message m("unanswered");
  absl::StatusOr<Message> r =
      req.Request(m, absl::Now() + absl::Milliseconds(200));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded)
      << r.status();
  EXPECT_EQ(m.body(), "unanswered");
  EXPECT_TRUE(m.header().empty());
  absl::StatusOr<Message> q =
      rep.Recv(Deadline(5));  // it was sent all the same
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->body(), "unanswered");
}

TEST_P(ReqRepTest, ResendsSameRequest) {
  Rep rep;
  Req req;
  req.SetResendInterval(absl::Milliseconds(100));
  EXPECT_EQ(req.resend_interval(), absl::Milliseconds(100));
  Connect(req, rep);
  absl::StatusOr<Message> r;
  std::thread client([&] {
    Message m("again");
    r = req.Request(m, Deadline(10));
  });
  absl::StatusOr<Message> first = rep.Recv(Deadline(10));
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<Message> second =
      rep.Recv(Deadline(10));  // not answered: resent
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->body(), "again");
  EXPECT_EQ(second->header(), first->header());  // same id
  Message answer("done");
  ASSERT_TRUE(rep.Reply(*second, answer, Deadline(10)).ok());
  client.join();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body(), "done");
}

TEST_P(ReqRepTest, NoResendWithinInterval) {
  Rep rep;
  Req req;  // default interval 60 s
  Connect(req, rep);
  absl::StatusOr<Message> r;
  std::thread client([&] {
    Message m("once");
    r = req.Request(m, absl::Now() + absl::Milliseconds(400));
  });
  absl::StatusOr<Message> first = rep.Recv(Deadline(10));
  ASSERT_TRUE(first.ok()) << first.status();
  client.join();
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(rep.TryRecv().status().code(), absl::StatusCode::kUnavailable);
}

TEST_P(ReqRepTest, LateReplyIsDroppedAndDoesNotDisturbNextRequest) {
  Rep rep;
  Req req;
  Connect(req, rep);
  Message m("slow");
  absl::StatusOr<Message> r =
      req.Request(m, absl::Now() + absl::Milliseconds(200));
  ASSERT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded)
      << r.status();
  absl::StatusOr<Message> q = rep.Recv(Deadline(10));
  ASSERT_TRUE(q.ok()) << q.status();
  Message late("late");
  ASSERT_TRUE(rep.Reply(*q, late, Deadline(10)).ok());
  // The late reply is dropped and counted; only unmatched replies count.
  auto unmatched = [&] { return req.stats().dropped; };
  EXPECT_TRUE(WaitUntil([&] { return unmatched() >= 1; }, Deadline(10)));
  EXPECT_EQ(req.replies_matched(), 0u);

  std::thread server([&] {
    absl::StatusOr<Message> q2 = rep.Recv(Deadline(10));
    ASSERT_TRUE(q2.ok()) << q2.status();
    EXPECT_EQ(q2->body(), "next");
    EXPECT_NE(q2->header(), q->header());
    Message answer("fresh");
    EXPECT_TRUE(rep.Reply(*q2, answer, Deadline(10)).ok());
  });
  Message next("next");
  absl::StatusOr<Message> r2 = req.Request(next, Deadline(10));
  server.join();
  ASSERT_TRUE(r2.ok()) << r2.status();
  EXPECT_EQ(r2->body(), "fresh");
  EXPECT_EQ(req.replies_matched(), 1u);
  EXPECT_EQ(unmatched(), 1u);
}

TEST_P(ReqRepTest, CloseWakesWaitingRequest) {
  Rep rep;
  Req req;
  Connect(req, rep);
  absl::StatusOr<Message> r;
  std::thread client([&] {
    Message m("pending");
    r = req.Request(m, Deadline(30));
  });
  ASSERT_TRUE(rep.Recv(Deadline(10)).ok());  // the request is out and waiting
  absl::Time start = absl::Now();
  req.Close();
  client.join();
  EXPECT_EQ(r.status().code(), absl::StatusCode::kCancelled) << r.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
}

TEST_P(ReqRepTest, RepEchoesBacktraceVerbatim) {
  Rep rep;
  std::unique_ptr<Socket> raw = RawReq(rep);
  ASSERT_TRUE(SendWords(*raw, {5, 0x80000001u}, "hi").ok());
  absl::StatusOr<Message> q = rep.Recv(Deadline(10));
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->body(), "hi");
  EXPECT_EQ(q->header(), (HeaderWords{5, 0x80000001u}));
  Message answer("pong");
  ASSERT_TRUE(rep.Reply(*q, answer, Deadline(10)).ok());
  absl::StatusOr<Message> back = raw->Recv(Deadline(10));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(test::WireBytes(*back),
            std::string("\x00\x00\x00\x05\x80\x00\x00\x01pong", 12));
}

TEST_P(ReqRepTest, RepAcceptsEightWordsDropsNine) {
  Rep rep;
  std::unique_ptr<Socket> raw = RawReq(rep);
  ASSERT_TRUE(
      SendWords(*raw, {1, 2, 3, 4, 5, 6, 7, 8, 0x80000009u}, "nine").ok());
  EXPECT_TRUE(
      WaitUntil([&] { return rep.stats().dropped >= 1; }, Deadline(10)));
  ASSERT_TRUE(
      SendWords(*raw, {1, 2, 3, 4, 5, 6, 7, 0x80000009u}, "eight").ok());
  absl::StatusOr<Message> q = rep.Recv(Deadline(10));
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->body(), "eight");
  EXPECT_EQ(q->header().size(), 8u);
  EXPECT_EQ(rep.stats().dropped, 1u);
  EXPECT_EQ(rep.stats().rejected_bad_frame, 0u);
}

TEST_P(ReqRepTest, RepClosesPipeOnShortBody) {
  Rep rep;
  EventLog log;
  std::unique_ptr<Socket> raw = RawReq(rep, &log);
  Message m("hi");  // 2 bytes, no header word
  ASSERT_TRUE(raw->Send(m, Deadline(5)).ok());
  EXPECT_TRUE(WaitUntil([&] { return rep.stats().rejected_bad_frame >= 1; },
                        Deadline(10)));
  EXPECT_TRUE(WaitUntil([&] { return log.Count(PipeEventType::kRemoved) >= 1; },
                        Deadline(10)));
  EXPECT_EQ(rep.TryRecv().status().code(), absl::StatusCode::kUnavailable);
}

TEST_P(ReqRepTest, RepClosesPipeWithoutLastWord) {
  Rep rep;
  EventLog log;
  std::unique_ptr<Socket> raw = RawReq(rep, &log);
  ASSERT_TRUE(
      SendWords(*raw, {1}, "hi").ok());  // 00000001 'hi': no word with bit 31
  EXPECT_TRUE(WaitUntil([&] { return rep.stats().rejected_bad_frame >= 1; },
                        Deadline(10)));
  EXPECT_TRUE(WaitUntil([&] { return log.Count(PipeEventType::kRemoved) >= 1; },
                        Deadline(10)));
}

TEST_P(ReqRepTest, ReplyToGonePipeIsUnavailable) {
  Rep rep;
  absl::StatusOr<Message> q;
  {
    std::unique_ptr<Socket> raw = RawReq(rep);
    ASSERT_TRUE(SendWords(*raw, {0x80000007u}, "bye").ok());
    q = rep.Recv(Deadline(10));
    ASSERT_TRUE(q.ok()) << q.status();
    raw->Close();
  }
  ASSERT_TRUE(
      WaitUntil([&] { return rep.socket().pipe_count() == 0; }, Deadline(10)));
  Message answer("nobody");
  absl::Status s = rep.Reply(*q, answer, Deadline(1));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_EQ(answer.body(), "nobody");
  EXPECT_TRUE(answer.header().empty());
  EXPECT_EQ(rep.stats().dropped, 1u);  // never a silent drop
}

TEST_P(ReqRepTest, ResendsAtOnceWhenItsRepDies) {
  // The default resend interval is 60 s: an answer within the test's deadline
  // proves the request was resent because its pipe closed.
  auto first = std::make_unique<Rep>();
  Rep second;
  Req req;
  ASSERT_TRUE(req.Set(opt::kReconnectMin, absl::Seconds(30)).ok());
  absl::StatusOr<std::string> url1 = first->Listen(ListenUrlFor(transport()));
  absl::StatusOr<std::string> url2 = second.Listen(ListenUrlFor(transport()));
  ASSERT_TRUE(url1.ok() && url2.ok());
  ASSERT_TRUE(req.Dial(*url1).ok());
  ASSERT_TRUE(req.WaitForPeers(1, Deadline(10)).ok());
  absl::StatusOr<Message> r;
  std::thread client([&] {
    Message m("important");
    r = req.Request(m, Deadline(20));
  });
  absl::StatusOr<Message> lost = first->Recv(Deadline(10));
  ASSERT_TRUE(lost.ok()) << lost.status();
  ASSERT_TRUE(req.Dial(*url2).ok());
  ASSERT_TRUE(req.WaitForPeers(2, Deadline(10)).ok());
  first.reset();  // dies without answering
  absl::StatusOr<Message> again = second.Recv(Deadline(10));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->body(), "important");
  EXPECT_EQ(again->header(), lost->header());  // the same request id
  Message answer("saved");
  ASSERT_TRUE(second.Reply(*again, answer, Deadline(10)).ok());
  client.join();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body(), "saved");
}

TEST_P(ReqRepTest, WaitsForAnotherRepWhenItsRepDies) {
  auto first = std::make_unique<Rep>();
  Req req;
  ASSERT_TRUE(req.Set(opt::kReconnectMin, absl::Seconds(30)).ok());
  absl::StatusOr<std::string> url1 = first->Listen(ListenUrlFor(transport()));
  ASSERT_TRUE(url1.ok());
  ASSERT_TRUE(req.Dial(*url1).ok());
  ASSERT_TRUE(req.WaitForPeers(1, Deadline(10)).ok());
  absl::StatusOr<Message> r;
  std::thread client([&] {
    Message m("patient");
    r = req.Request(m, Deadline(20));
  });
  ASSERT_TRUE(first->Recv(Deadline(10)).ok());
  first.reset();
  ASSERT_TRUE(
      WaitUntil([&] { return req.socket().pipe_count() == 0; }, Deadline(10)));
  Rep second;  // arrives after the first died
  absl::StatusOr<std::string> url2 = second.Listen(ListenUrlFor(transport()));
  ASSERT_TRUE(url2.ok());
  ASSERT_TRUE(req.Dial(*url2).ok());
  absl::StatusOr<Message> again = second.Recv(Deadline(10));
  ASSERT_TRUE(again.ok()) << again.status();
  Message answer("late but there");
  ASSERT_TRUE(second.Reply(*again, answer, Deadline(10)).ok());
  client.join();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body(), "late but there");
}

TEST_P(ReqRepTest, ReqRejectsWrongProtocolPeer) {
  Socket pull(protocols::kPull);
  absl::StatusOr<std::string> url = pull.Listen(ListenUrlFor(transport()));
  ASSERT_TRUE(url.ok()) << url.status();
  Req req;
  ASSERT_TRUE(req.Dial(*url).ok());
  EXPECT_TRUE(WaitUntil(
      [&] {
        return pull.stats().rejected_protocol >= 1 ||
               req.stats().rejected_protocol >= 1;
      },
      Deadline(10)));
  EXPECT_EQ(req.socket().pipe_count(), 0);
}

INSTANTIATE_TEST_SUITE_P(Transports, ReqRepTest,
                         ::testing::Values("inproc", "ipc", "tcp"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace msock
