// The durable queue end to end, part 2: delivery. Per-node order, the
// in-flight window, redelivery after a timeout, a reconnect and a server
// restart (never after an Ack), dead letters after max_attempts, Nack and
// Term, expiry, the idempotent re-post and single-node messages.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "msock/protocols/queue.h"
#include "tests/protocols/queue_test_util.h"

namespace msock {
namespace {

using test::Deadline;
using test::WaitUntil;

absl::Time Soon() { return absl::Now() + absl::Milliseconds(300); }

PostOptions NoSelf() {
  PostOptions o;
  o.no_self = true;
  return o;
}

class QueueDeliveryTest : public test::QueueFixture {
 protected:
  // Whether `c`'s user has `id` among its dead letters.
  static bool IsDead(QueueClient& c, uint64_t id) {
    absl::StatusOr<std::vector<QueueMessage>> dead =
        c.DeadLetters(Deadline(10));
    if (!dead.ok()) return false;
    for (const QueueMessage& m : *dead) {
      if (m.id == id) return true;
    }
    return false;
  }
};

// Two senders alternate 50 posts; the node gets them in id order (with a
// window of 8, so several are in flight at once).
TEST_P(QueueDeliveryTest, EntriesArriveInIdOrder) {
  ASSERT_TRUE(Start());
  QueueClient& alice = NewNode("alice", "a1");
  QueueClient& carol = NewNode("carol", "c1");
  QueueClientOptions w8;
  w8.window = 8;
  QueueClient& bob = NewNode("bob", "b1", w8);
  std::vector<uint64_t> ids;
  for (int i = 0; i < 50; ++i) {
    QueueClient& from = i % 2 == 0 ? alice : carol;
    absl::StatusOr<PostResult> r =
        from.Post({"bob"}, std::to_string(i), Deadline(10), NoSelf());
    ASSERT_TRUE(r.ok()) << r.status();
    if (!ids.empty()) {
      EXPECT_GT(r->id, ids.back());
    }
    ids.push_back(r->id);
  }
  for (int i = 0; i < 50; ++i) {
    absl::StatusOr<QueueMessage> m = bob.Receive(Deadline(10));
    ASSERT_TRUE(m.ok()) << i << ": " << m.status();
    EXPECT_EQ(m->id, ids[i]);
    EXPECT_EQ(m->body, std::to_string(i));
    EXPECT_EQ(m->from_user, i % 2 == 0 ? "alice" : "carol");
    ASSERT_TRUE(bob.Ack(m->id, Deadline(10)).ok());
  }
  EXPECT_TRUE(PendingIds(bob).empty());
}

TEST_P(QueueDeliveryTest, WindowOfOneHoldsTheNextUntilTheAck) {
  ASSERT_TRUE(Start());
  QueueClient& alice = NewNode("alice", "a1");
  QueueClient& bob = NewNode("bob", "b1");  // window 1
  ASSERT_TRUE(alice.Post({"bob"}, "first", Deadline(10), NoSelf()).ok());
  ASSERT_TRUE(alice.Post({"bob"}, "second", Deadline(10), NoSelf()).ok());
  absl::StatusOr<QueueMessage> m = bob.Receive(Deadline(10));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->body, "first");
  EXPECT_EQ(bob.Receive(Soon()).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(PendingIds(bob).size(), 2u);  // seen, not consumed
  ASSERT_TRUE(bob.Ack(m->id, Deadline(10)).ok());
  m = bob.Receive(Deadline(10));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->body, "second");
}

TEST_P(QueueDeliveryTest, WindowOfFourSendsFourWithoutAcks) {
  ASSERT_TRUE(Start());
  QueueClient& alice = NewNode("alice", "a1");
  QueueClientOptions w4;
  w4.window = 4;
  QueueClient& bob = NewNode("bob", "b1", w4);
  std::vector<uint64_t> ids;
  for (int i = 0; i < 6; ++i) {
    absl::StatusOr<PostResult> r =
        alice.Post({"bob"}, std::to_string(i), Deadline(10), NoSelf());
    ASSERT_TRUE(r.ok()) << r.status();
    ids.push_back(r->id);
  }
  for (int i = 0; i < 4; ++i) {
    absl::StatusOr<QueueMessage> m = bob.Receive(Deadline(10));
    ASSERT_TRUE(m.ok()) << i << ": " << m.status();
    EXPECT_EQ(m->id, ids[i]);
  }
  EXPECT_EQ(bob.Receive(Soon()).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  ASSERT_TRUE(bob.Ack(ids[0], Deadline(10)).ok());
  absl::StatusOr<QueueMessage> m = bob.Receive(Deadline(10));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->id, ids[4]);
}

TEST_P(QueueDeliveryTest, ReceiveManyTakesAWindowAndOneAckClearsIt) {
  ASSERT_TRUE(Start());
  QueueClient& alice = NewNode("alice", "a1");
  QueueClientOptions w4;
  w4.window = 4;
  QueueClient& bob = NewNode("bob", "b1", w4);
  std::vector<uint64_t> ids;
  for (int i = 0; i < 6; ++i) {
    absl::StatusOr<PostResult> r =
        alice.Post({"bob"}, std::to_string(i), Deadline(10), NoSelf());
    ASSERT_TRUE(r.ok()) << r.status();
    ids.push_back(r->id);
  }
  std::vector<uint64_t> got;
  while (got.size() < 4) {
    absl::StatusOr<std::vector<QueueMessage>> batch =
        bob.ReceiveMany(10, Deadline(10));
    ASSERT_TRUE(batch.ok()) << batch.status();
    ASSERT_FALSE(batch->empty());
    for (const QueueMessage& m : *batch) got.push_back(m.id);
  }
  EXPECT_EQ(got, std::vector<uint64_t>(ids.begin(), ids.begin() + 4));
  EXPECT_EQ(bob.ReceiveMany(10, Soon()).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  ASSERT_TRUE(bob.Ack(got, Deadline(10)).ok());
  // Durable at once: only the two not delivered yet are left.
  absl::StatusOr<std::vector<uint64_t>> pending = bob.Pending(Deadline(10));
  ASSERT_TRUE(pending.ok()) << pending.status();
  EXPECT_EQ(*pending, std::vector<uint64_t>(ids.begin() + 4, ids.end()));
  EXPECT_TRUE(bob.Ack(std::vector<uint64_t>{}, Deadline(10)).ok());
  EXPECT_EQ(bob.Ack(std::vector<uint64_t>(4097, ids[4]), Deadline(10)).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bob.ReceiveMany(0, Deadline(10)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_P(QueueDeliveryTest, ServerCapsTheWindow) {
  QueueServerOptions o = NoSync();
  o.max_window = 2;
  ASSERT_TRUE(Start(o));
  QueueClient& alice = NewNode("alice", "a1");
  QueueClientOptions w4;
  w4.window = 4;
  QueueClient& bob = NewNode("bob", "b1", w4);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(
        alice.Post({"bob"}, std::to_string(i), Deadline(10), NoSelf()).ok());
  }
  EXPECT_TRUE(bob.Receive(Deadline(10)).ok());
  EXPECT_TRUE(bob.Receive(Deadline(10)).ok());
  EXPECT_EQ(bob.Receive(Soon()).status().code(),
            absl::StatusCode::kDeadlineExceeded);
}

TEST_P(QueueDeliveryTest, UnackedEntryComesAgainAfterTheAckTimeout) {
  QueueServerOptions o = NoSync();
  o.ack_timeout = absl::Milliseconds(200);
  ASSERT_TRUE(Start(o));
  QueueClient& alice = NewNode("alice", "a1");
  QueueClient& bob = NewNode("bob", "b1");
  absl::StatusOr<PostResult> r =
      alice.Post({"bob"}, "again", Deadline(10), NoSelf());
  ASSERT_TRUE(r.ok()) << r.status();
  absl::StatusOr<QueueMessage> m = bob.Receive(Deadline(10));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->attempt, 1u);
  const absl::Time first = absl::Now();
  m = bob.Receive(Deadline(10));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->id, r->id);
  EXPECT_EQ(m->attempt, 2u);
  EXPECT_GE(absl::Now() - first, absl::Milliseconds(150));
  ASSERT_TRUE(bob.Ack(m->id, Deadline(10)).ok());
  // Acked: not again, neither after more timeouts nor before later entries.
  EXPECT_EQ(bob.Receive(absl::Now() + absl::Milliseconds(600)).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  ExpectNotBefore(alice, "bob", bob, r->id, "marker");
  EXPECT_GE(server().stats().redeliveries, 1u);
}

TEST_P(QueueDeliveryTest, UnackedEntryComesAgainToTheNextLogin) {
  ASSERT_TRUE(Start());  // ack_timeout 10 s: only the reconnect redelivers
  QueueClient& alice = NewNode("alice", "a1");
  QueueClient& gone = NewNode("bob", "b1");
  absl::StatusOr<PostResult> r =
      alice.Post({"bob"}, "unacked", Deadline(10), NoSelf());
  ASSERT_TRUE(r.ok()) << r.status();
  absl::StatusOr<QueueMessage> m = gone.Receive(Deadline(10));
  ASSERT_TRUE(m.ok()) << m.status();
  gone.Close();
  QueueClient& bob = LoginAs("bob", "b1");
  m = bob.Receive(Deadline(10));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->id, r->id);
  EXPECT_EQ(m->body, "unacked");
  EXPECT_GT(m->attempt, 1u);
  ASSERT_TRUE(bob.Ack(m->id, Deadline(10)).ok());
  bob.Close();
  QueueClient& again = LoginAs("bob", "b1");
  ExpectNotBefore(alice, "bob", again, r->id, "marker");
}

// With fsync on: acked entries stay gone after a restart, unacked ones come
// again, and ids keep increasing.
TEST_P(QueueDeliveryTest, RestartKeepsExactlyTheUnackedEntries) {
  ASSERT_TRUE(Start(QueueServerOptions()));
  std::vector<uint64_t> ids;
  {
    QueueClient& alice = NewNode("alice", "a1");
    QueueClient& bob = NewNode("bob", "b1");
    for (const char* body : {"m1", "m2", "m3"}) {
      absl::StatusOr<PostResult> r =
          alice.Post({"bob"}, body, Deadline(10), NoSelf());
      ASSERT_TRUE(r.ok()) << r.status();
      ids.push_back(r->id);
    }
    absl::StatusOr<QueueMessage> m = bob.Receive(Deadline(10));
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_EQ(m->id, ids[0]);
    ASSERT_TRUE(bob.Ack(m->id, Deadline(10)).ok());
    m = bob.Receive(Deadline(10));  // m2: delivered, never acked
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_EQ(m->id, ids[1]);
  }
  ASSERT_TRUE(Restart());  // the references above are gone with the clients
  QueueClient& bob = LoginAs("bob", "b1");
  EXPECT_EQ(PendingIds(bob), (std::vector<uint64_t>{ids[1], ids[2]}));
  absl::StatusOr<QueueMessage> m = bob.Receive(Deadline(10));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->id, ids[1]);
  EXPECT_EQ(m->body, "m2");
  EXPECT_GT(m->attempt, 1u);
  ASSERT_TRUE(bob.Ack(m->id, Deadline(10)).ok());
  m = bob.Receive(Deadline(10));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->id, ids[2]);
  EXPECT_EQ(m->attempt, 1u);
  ASSERT_TRUE(bob.Ack(m->id, Deadline(10)).ok());
  EXPECT_TRUE(PendingIds(bob).empty());
  QueueClient& alice = LoginAs("alice", "a1");
  absl::StatusOr<PostResult> r =
      alice.Post({"bob"}, "m4", Deadline(10), NoSelf());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_GT(r->id, ids[2]);
  m = bob.Receive(Deadline(10));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->id, r->id);
}

TEST_P(QueueDeliveryTest, AttemptsExhaustedGoToTheDeadLetters) {
  QueueServerOptions o = NoSync();
  o.ack_timeout = absl::Milliseconds(200);
  o.max_backoff = absl::Milliseconds(200);
  o.max_attempts = 2;
  ASSERT_TRUE(Start(o));
  QueueClient& alice = NewNode("alice", "a1");
  QueueClient& bob = NewNode("bob", "b1");
  QueueClient& bob2 = NewNode("bob", "b2");  // acks its copy at once
  absl::StatusOr<PostResult> r =
      alice.Post({"bob"}, "doomed", Deadline(10), NoSelf());
  ASSERT_TRUE(r.ok()) << r.status();
  absl::StatusOr<QueueMessage> copy = bob2.Receive(Deadline(10));
  ASSERT_TRUE(copy.ok()) << copy.status();
  ASSERT_TRUE(bob2.Ack(copy->id, Deadline(10)).ok());
  for (uint32_t attempt : {1u, 2u}) {
    absl::StatusOr<QueueMessage> m = bob.Receive(Deadline(10));
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_EQ(m->id, r->id);
    EXPECT_EQ(m->attempt, attempt);
  }
  EXPECT_TRUE(WaitUntil([&] { return IsDead(bob, r->id); }, Deadline(10)));
  // The user's other node is told (the spec's scenario 11); the entry itself
  // does not come to b1 a third time, and its queue goes on.
  absl::StatusOr<QueueMessage> notice = ReceiveUntil(
      bob2, [](const QueueMessage& m) { return m.kind == "dead"; },
      Deadline(10));
  ASSERT_TRUE(notice.ok()) << notice.status();
  EXPECT_NE(notice->meta.find("\"b1\""), std::string::npos) << notice->meta;
  ASSERT_TRUE(bob2.Ack(notice->id, Deadline(10)).ok());
  EXPECT_EQ(server().stats().dead, 1u);
  ExpectNotBefore(alice, "bob", bob, r->id, "next");

  absl::StatusOr<std::vector<QueueMessage>> dead =
      bob.DeadLetters(Deadline(10), /*purge=*/true);
  ASSERT_TRUE(dead.ok()) << dead.status();
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ((*dead)[0].id, r->id);
  EXPECT_EQ((*dead)[0].body, "doomed");
  dead = bob.DeadLetters(Deadline(10));
  ASSERT_TRUE(dead.ok()) << dead.status();
  EXPECT_TRUE(dead->empty());
}

TEST_P(QueueDeliveryTest, NackRedeliversAfterItsDelay) {
  ASSERT_TRUE(Start());  // ack_timeout 10 s: only the nack redelivers
  QueueClient& alice = NewNode("alice", "a1");
  QueueClient& bob = NewNode("bob", "b1");
  absl::StatusOr<PostResult> r =
      alice.Post({"bob"}, "later", Deadline(10), NoSelf());
  ASSERT_TRUE(r.ok()) << r.status();
  absl::StatusOr<QueueMessage> m = bob.Receive(Deadline(10));
  ASSERT_TRUE(m.ok()) << m.status();
  const absl::Time nacked = absl::Now();
  ASSERT_TRUE(bob.Nack(m->id, absl::Milliseconds(300), Deadline(10)).ok());
  m = bob.Receive(Deadline(10));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->id, r->id);
  EXPECT_EQ(m->attempt, 2u);
  EXPECT_GE(absl::Now() - nacked, absl::Milliseconds(250));
  ASSERT_TRUE(bob.Ack(m->id, Deadline(10)).ok());
  EXPECT_TRUE(PendingIds(bob).empty());
  EXPECT_EQ(server().stats().redeliveries, 1u);
}

TEST_P(QueueDeliveryTest, TermSendsToTheDeadLettersAtOnce) {
  ASSERT_TRUE(Start());
  QueueClient& alice = NewNode("alice", "a1");
  QueueClient& bob = NewNode("bob", "b1");
  absl::StatusOr<PostResult> r =
      alice.Post({"bob"}, "poison", Deadline(10), NoSelf());
  ASSERT_TRUE(r.ok()) << r.status();
  absl::StatusOr<QueueMessage> m = bob.Receive(Deadline(10));
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_TRUE(bob.Term(m->id, Deadline(10)).ok());
  EXPECT_TRUE(IsDead(bob, r->id));
  EXPECT_FALSE(Contains(PendingIds(bob), r->id));
  ExpectNotBefore(alice, "bob", bob, r->id, "after poison");
  EXPECT_EQ(server().stats().dead, 1u);
}

// An entry whose TTL passes while it waits behind an unacked one is removed
// without being delivered.
TEST_P(QueueDeliveryTest, ExpiredEntryIsRemovedUndelivered) {
  QueueServerOptions o = NoSync();
  o.cleanup_interval = absl::Milliseconds(20);
  o.max_ttl = absl::Hours(1);
  ASSERT_TRUE(Start(o));
  QueueClient& alice = NewNode("alice", "a1");
  QueueClient& bob = NewNode("bob", "b1");  // window 1
  ASSERT_TRUE(alice.Post({"bob"}, "blocker", Deadline(10), NoSelf()).ok());
  absl::StatusOr<QueueMessage> blocker = bob.Receive(Deadline(10));
  ASSERT_TRUE(blocker.ok()) << blocker.status();
  // No TTL given: the server's maximum.
  EXPECT_GE(blocker->expires, blocker->posted + absl::Minutes(59));
  EXPECT_LE(blocker->expires, blocker->posted + absl::Minutes(61));
  PostOptions brief = NoSelf();
  brief.ttl = absl::Milliseconds(20);
  absl::StatusOr<PostResult> r =
      alice.Post({"bob"}, "short-lived", Deadline(10), brief);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(WaitUntil([&] { return !Contains(PendingIds(bob), r->id); },
                        Deadline(10)));
  EXPECT_TRUE(
      WaitUntil([&] { return server().stats().expired == 1; }, Deadline(10)));
  ASSERT_TRUE(bob.Ack(blocker->id, Deadline(10)).ok());
  ExpectNotBefore(alice, "bob", bob, r->id, "marker");
}

TEST_P(QueueDeliveryTest, RetryWithTheSameClientIdIsStoredOnce) {
  ASSERT_TRUE(Start());
  QueueClient& alice = NewNode("alice", "a1");
  QueueClient& bob = NewNode("bob", "b1");
  PostOptions keyed = NoSelf();
  keyed.client_id = "k-1";
  absl::StatusOr<PostResult> first =
      alice.Post({"bob"}, "once", Deadline(10), keyed);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE(first->duplicate);
  absl::StatusOr<PostResult> retry =
      alice.Post({"bob"}, "once", Deadline(10), keyed);
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_TRUE(retry->duplicate);
  EXPECT_EQ(retry->id, first->id);
  absl::StatusOr<QueueMessage> m = bob.Receive(Deadline(10));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->id, first->id);
  ASSERT_TRUE(bob.Ack(m->id, Deadline(10)).ok());
  // Nothing between it and a later post: no second copy.
  EXPECT_TRUE(ExpectNotBefore(alice, "bob", bob, first->id, "marker").empty());
  EXPECT_EQ(server().stats().posts, 2u);  // "once" and the marker
  EXPECT_EQ(server().stats().duplicates, 1u);
  // Another key is another message.
  keyed.client_id = "k-2";
  absl::StatusOr<PostResult> other =
      alice.Post({"bob"}, "once", Deadline(10), keyed);
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_FALSE(other->duplicate);
  EXPECT_GT(other->id, first->id);
}

// The node that takes a single-node message keeps it; a sibling that logs in
// later never gets it.
TEST_P(QueueDeliveryTest, SingleNodeMessageGoesToOneNodeOnly) {
  ASSERT_TRUE(Start());
  QueueClient& alice = NewNode("alice", "a1");
  QueueClient& b1 = NewNode("bob", "b1");
  RegisterOffline("bob", "b2");
  PostOptions single = NoSelf();
  single.single_node = true;
  absl::StatusOr<PostResult> r =
      alice.Post({"bob"}, "for one", Deadline(10), single);
  ASSERT_TRUE(r.ok()) << r.status();
  absl::StatusOr<QueueMessage> m = b1.Receive(Deadline(10));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->id, r->id);
  EXPECT_TRUE(m->single_node);
  ASSERT_TRUE(b1.Ack(m->id, Deadline(10)).ok());
  QueueClient& b2 = LoginAs("bob", "b2");
  EXPECT_TRUE(WaitUntil([&] { return !Contains(PendingIds(b2), r->id); },
                        Deadline(10)));
  ExpectNotBefore(alice, "bob", b2, r->id, "marker");
}

// Both nodes online: one of them gets it; once it acks, the other does not
// hold it any more.
TEST_P(QueueDeliveryTest, SingleNodeMessageIsTakenByTheFirstToAck) {
  ASSERT_TRUE(Start());
  QueueClient& alice = NewNode("alice", "a1");
  QueueClient& b1 = NewNode("bob", "b1");
  QueueClient& b2 = NewNode("bob", "b2");
  PostOptions single = NoSelf();
  single.single_node = true;
  absl::StatusOr<PostResult> r =
      alice.Post({"bob"}, "for one", Deadline(10), single);
  ASSERT_TRUE(r.ok()) << r.status();
  QueueClient* taker = nullptr;
  QueueClient* other = nullptr;
  const absl::Time deadline = Deadline(10);
  while (taker == nullptr && absl::Now() < deadline) {
    for (auto [c, o] : {std::pair{&b1, &b2}, std::pair{&b2, &b1}}) {
      absl::StatusOr<QueueMessage> m =
          c->Receive(absl::Now() + absl::Milliseconds(20));
      if (m.ok()) {
        EXPECT_EQ(m->id, r->id);
        ASSERT_TRUE(c->Ack(m->id, Deadline(10)).ok());
        taker = c;
        other = o;
        break;
      }
    }
  }
  ASSERT_NE(taker, nullptr) << "no node got it";
  EXPECT_TRUE(WaitUntil([&] { return !Contains(PendingIds(*other), r->id); },
                        Deadline(10)));
  EXPECT_TRUE(PendingIds(*taker).empty());
}

// One server per file: a second QueueServer on a file in use is refused
// with a status naming it; the first one's Close frees the file.
TEST(QueueServerFile, ASecondServerOnTheSameFileIsRefused) {
  test::ScratchDir dir;
  QueueServerOptions o;
  o.db_path = dir.NewPath("db");
  o.fsync = false;
  absl::StatusOr<std::unique_ptr<QueueServer>> first = QueueServer::Open(o);
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<std::unique_ptr<QueueServer>> second = QueueServer::Open(o);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(second.status().message().find(o.db_path), std::string::npos)
      << second.status();
  (*first)->Close();
  absl::StatusOr<std::unique_ptr<QueueServer>> third = QueueServer::Open(o);
  ASSERT_TRUE(third.ok()) << third.status();
  (*third)->Close();
}

INSTANTIATE_TEST_SUITE_P(Transports, QueueDeliveryTest,
                         ::testing::Values("inproc", "tcp", "ws"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace msock
