// Delivery-attempt counts: AttemptBuffer alone (first attempts held, later
// ones due at once, acks drop what is held), and the store around it (a
// held count is seen by a load, written at close, and lost only when acked).
#include <chrono>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "protocols/queue/attempt_buffer.h"
#include "tests/protocols/queue_store_test_util.h"

namespace msock::internal::queue::test {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using Clock = AttemptBuffer::Clock;

const NodeKey kPhone{"bob", "phone"}, kLaptop{"bob", "laptop"};

std::vector<uint64_t> Ids(const std::vector<AttemptBuffer::Record>& rs) {
  std::vector<uint64_t> out;
  for (const AttemptBuffer::Record& r : rs) out.push_back(r.id);
  return out;
}

TEST(AttemptBufferTest, AFirstAttemptIsDueOnlyAfterTheHold) {
  AttemptBuffer b;
  const Clock::time_point t0 = Clock::now();
  ASSERT_TRUE(b.Add(kPhone, 7, 1, t0));
  EXPECT_TRUE(b.Held(kPhone, 7));
  EXPECT_FALSE(b.Held(kLaptop, 7));  // another node's entry of the same id
  EXPECT_EQ(b.due(), 0u);
  EXPECT_THAT(b.TakeDue(t0 + AttemptBuffer::kHold / 2, false), IsEmpty());
  std::vector<AttemptBuffer::Record> due =
      b.TakeDue(t0 + AttemptBuffer::kHold, false);
  ASSERT_THAT(Ids(due), ElementsAre(7u));
  EXPECT_EQ(due[0].node, kPhone);
  EXPECT_EQ(due[0].attempts, 1u);
  EXPECT_FALSE(b.Held(kPhone, 7));
  EXPECT_TRUE(b.empty());
}

TEST(AttemptBufferTest, AnAckedFirstAttemptIsNeverWritten) {
  AttemptBuffer b;
  const Clock::time_point t0 = Clock::now();
  ASSERT_TRUE(b.Add(kPhone, 7, 1, t0));
  ASSERT_TRUE(b.Add(kPhone, 8, 1, t0));
  ASSERT_TRUE(b.Add(kLaptop, 7, 1, t0));
  b.Drop(kPhone, {7});
  EXPECT_THAT(Ids(b.TakeDue(t0, true)), ElementsAre(8u, 7u));  // laptop's 7
  EXPECT_TRUE(b.empty());
}

TEST(AttemptBufferTest, ALaterAttemptIsDueAtOnceAndSupersedesTheHeldOne) {
  AttemptBuffer b;
  const Clock::time_point t0 = Clock::now();
  ASSERT_TRUE(b.Add(kPhone, 7, 1, t0));
  ASSERT_TRUE(b.Add(kPhone, 7, 2, t0));
  EXPECT_EQ(b.due(), 1u);
  EXPECT_FALSE(b.Held(kPhone, 7));
  std::vector<AttemptBuffer::Record> due = b.TakeDue(t0, true);
  ASSERT_EQ(due.size(), 1u);  // not the 1 after the 2
  EXPECT_EQ(due[0].attempts, 2u);
}

TEST(AttemptBufferTest, RecordsBeyondTheBoundAreDropped) {
  AttemptBuffer b;
  const Clock::time_point t0 = Clock::now();
  for (size_t i = 0; i < AttemptBuffer::kMax; ++i) {
    ASSERT_TRUE(b.Add(kPhone, i, i % 2 == 0 ? 1 : 2, t0));
  }
  EXPECT_FALSE(b.Add(kPhone, AttemptBuffer::kMax, 1, t0));
  EXPECT_FALSE(b.Add(kPhone, AttemptBuffer::kMax, 3, t0));
  EXPECT_EQ(b.TakeDue(t0, true).size(), AttemptBuffer::kMax);
  EXPECT_TRUE(b.Add(kPhone, AttemptBuffer::kMax, 1, t0));  // room again
}

class QueueAttemptsTest : public QueueStoreTest {
 protected:
  void SetUp() override {
    QueueStoreTest::SetUp();
    NewUser("al", "a1");
    NewUser("bob", "b1");
  }
  uint32_t AttemptsOf(uint64_t id) {
    absl::StatusOr<LoadResult> l = Load(kB1, id - 1, 1);
    EXPECT_TRUE(l.ok()) << l.status();
    if (!l.ok() || l->entries.size() != 1 || l->entries[0].msg->id != id) {
      ADD_FAILURE() << "entry " << id << " not loaded";
      return 0;
    }
    return l->entries[0].attempts;
  }
  const NodeKey kA1{"al", "a1"}, kB1{"bob", "b1"};
};

TEST_F(QueueAttemptsTest, AHeldFirstAttemptCountsInALoadAndIsWrittenAtClose) {
  const uint64_t id = MustPost(kA1, {"bob"}).id;
  store_->Attempt(kB1, id, 1);  // held (a new session loads it at once)
  EXPECT_EQ(AttemptsOf(id), 1u);
  Reopen();  // the held count is written as the store closes
  EXPECT_EQ(AttemptsOf(id), 1u);
  store_->Attempt(kB1, id, 2);
  EXPECT_EQ(AttemptsOf(id), 2u);
}

TEST_F(QueueAttemptsTest, AnAckDropsOnlyItsOwnHeldAttempts) {
  const uint64_t first = MustPost(kA1, {"bob"}).id;
  const uint64_t second = MustPost(kA1, {"bob"}).id;
  store_->Attempt(kB1, first, 1);
  store_->Attempt(kB1, second, 1);
  absl::StatusOr<AckOutcome> a = Ack(kB1, {first});
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_THAT(a->removed, ElementsAre(first));
  EXPECT_EQ(AttemptsOf(second), 1u);
  Reopen();
  EXPECT_EQ(Pending(kB1), std::vector<uint64_t>{second});
  EXPECT_EQ(AttemptsOf(second), 1u);
}

}  // namespace
}  // namespace msock::internal::queue::test
