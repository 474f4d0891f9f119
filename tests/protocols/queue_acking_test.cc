// QueueServer: an ack frees its window as it arrives, before it is durable,
// and an entry whose ack is on its way is not sent again meanwhile, not even
// by a new session's load that read it before the ack committed. The store
// runs with a commit delay, so that "before it is durable" lasts long enough
// to look at; what the tests check is an order of events (the server's ack
// count when the next entry arrives), never a duration.
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "msock/protocols/queue.h"
#include "tests/protocols/queue_test_util.h"

namespace msock {
namespace {

using test::Deadline;

class QueueAckingTest : public test::QueueFixture {
 protected:
  // Each commit waits this long for more operations (every request here
  // waits for it once): the ack in question stays not durable for as long.
  static QueueServerOptions Delayed() {
    QueueServerOptions o = NoSync();
    o.commit_delay = absl::Milliseconds(400);
    return o;
  }
  static PostOptions NoSelf() {
    PostOptions o;
    o.no_self = true;
    return o;
  }
};

TEST_P(QueueAckingTest, AnAckedEntryLeavesTheWindowAsTheAckArrives) {
  ASSERT_TRUE(Start(Delayed()));
  QueueClient& alice = NewNode("alice", "a1");
  QueueClient& bob = NewNode("bob", "b1");  // window 1
  ASSERT_TRUE(alice.Post({"bob"}, "first", Deadline(10), NoSelf()).ok());
  ASSERT_TRUE(alice.Post({"bob"}, "second", Deadline(10), NoSelf()).ok());
  absl::StatusOr<QueueMessage> first = bob.Receive(Deadline(10));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->body, "first");
  absl::Status acked;
  std::thread acker([&] { acked = bob.Ack(first->id, Deadline(10)); });
  absl::StatusOr<QueueMessage> second = bob.Receive(Deadline(10));
  // Before the ack of "first" is durable (the server counts acks then).
  const uint64_t acks_then = server().stats().acks;
  acker.join();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->body, "second");
  EXPECT_EQ(acks_then, 0u);
  ASSERT_TRUE(acked.ok()) << acked;
  EXPECT_EQ(server().stats().acks, 1u);
  ASSERT_TRUE(bob.Ack(second->id, Deadline(10)).ok());
  EXPECT_TRUE(PendingIds(bob).empty());
}

TEST_P(QueueAckingTest, AnEntryAckedWhileANewSessionLoadsIsNotSentAgain) {
  ASSERT_TRUE(Start(Delayed()));
  QueueClient& alice = NewNode("alice", "a1");
  QueueClient& bob = Connect();
  const std::string secret = RegisterOn(bob, "bob", "b1");
  ASSERT_TRUE(bob.Login("bob", "b1", secret, Deadline(10)).ok());
  ASSERT_TRUE(alice.Post({"bob"}, "first", Deadline(10), NoSelf()).ok());
  absl::StatusOr<QueueMessage> first = bob.Receive(Deadline(10));
  ASSERT_TRUE(first.ok()) << first.status();
  // A new session (as after a reconnect): its load of the queue is
  // submitted as the login commits and waits for the next commit, which the
  // ack, sent at once, joins after it. The load reads "first".
  ASSERT_TRUE(bob.Login("bob", "b1", secret, Deadline(10)).ok());
  ASSERT_TRUE(bob.Ack(first->id, Deadline(10)).ok());
  ExpectNotBefore(alice, "bob", bob, first->id, "marker");
  const QueueStats st = server().stats();
  EXPECT_EQ(st.redeliveries, 0u);
  EXPECT_EQ(st.deliveries, 2u);  // "first" and "marker", once each
}

INSTANTIATE_TEST_SUITE_P(Transports, QueueAckingTest,
                         ::testing::Values("inproc", "tcp"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace msock
