// PendingTable (protocols/pending_table.h), the table of requests waiting for
// answers behind req, surveyor and the rooms acks: id allocation, uniqueness
// and wrap-around, matching, late and unknown answers, per-peer bookkeeping,
// deadline waits, and Close waking every waiter.
#include "protocols/pending_table.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "gtest/gtest.h"
#include "tests/support/test_support.h"

namespace msock::internal {
namespace {

using test::Deadline;
using Table = PendingTable<std::string>;

// A visitor that stores `answer` and finishes the entry.
auto Answer(std::string answer) {
  return [answer](std::string& slot) {
    slot = answer;
    return Visit::kDone;
  };
}

TEST(PendingTableTest, SpIdsCarryTheHighBitAndAreUnique) {
  Table table(IdSpace::kSp);
  absl::flat_hash_set<uint32_t> seen;
  for (int i = 0; i < 1000; ++i) {
    absl::StatusOr<uint32_t> id = table.Add(0, "");
    ASSERT_TRUE(id.ok()) << id.status();
    EXPECT_NE(*id & 0x80000000u, 0u) << *id;
    EXPECT_TRUE(seen.insert(*id).second) << "repeated id " << *id;
  }
  EXPECT_EQ(table.size(), 1000u);
}

TEST(PendingTableTest, SpIdsCountUpAndWrapWithin31Bits) {
  Table table(IdSpace::kSp);
  table.SetNextId(0x7ffffffe);
  EXPECT_EQ(*table.Add(0, ""), 0xfffffffeu);
  EXPECT_EQ(*table.Add(0, ""), 0xffffffffu);
  EXPECT_EQ(*table.Add(0, ""), 0x80000000u);  // wrapped, high bit kept
  EXPECT_EQ(*table.Add(0, ""), 0x80000001u);
}

TEST(PendingTableTest, NonZeroIdsStartAtOneAndSkipZeroOnWrap) {
  Table table(IdSpace::kNonZero);
  EXPECT_EQ(*table.Add(0, ""), 1u);
  EXPECT_EQ(*table.Add(0, ""), 2u);
  table.SetNextId(0xffffffffu);
  EXPECT_EQ(*table.Add(0, ""), 0xffffffffu);
  EXPECT_EQ(*table.Add(0, ""), 3u);  // 0 skipped; 1 and 2 still pending
}

TEST(PendingTableTest, WrapSkipsIdsStillPendingAndReusesFreedOnes) {
  Table table(IdSpace::kSp);
  table.SetNextId(5);
  const uint32_t a = *table.Add(0, "");
  const uint32_t b = *table.Add(0, "");
  EXPECT_EQ(a, 0x80000005u);
  table.Remove(a);
  table.SetNextId(5);               // the counter came round again
  EXPECT_EQ(*table.Add(0, ""), a);  // freed: reused
  table.SetNextId(6);
  const uint32_t c = *table.Add(0, "");
  EXPECT_NE(c, b);  // b is still pending
  EXPECT_EQ(c, 0x80000007u);
}

TEST(PendingTableTest, MatchHandsTheAnswerToTheWaiter) {
  Table table(IdSpace::kSp);
  const uint32_t id = *table.Add(0, "");
  std::thread answerer([&] { EXPECT_TRUE(table.Match(id, Answer("pong"))); });
  EXPECT_EQ(table.Wait(id, Deadline(10)), WaitResult::kReady);
  answerer.join();
  std::optional<std::string> got = table.Remove(id);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, "pong");
  EXPECT_EQ(table.matched(), 1u);
  EXPECT_EQ(table.late(), 0u);
  EXPECT_EQ(table.size(), 0u);
}

TEST(PendingTableTest, MatchInsideADeferWakesScopeWakesWhenTheScopeCloses) {
  // As a receive filter answers under the socket's lock (SocketCore::Deliver).
  Table table(IdSpace::kSp);
  const uint32_t id = *table.Add(0, "");
  std::atomic<int> result{-1};
  std::thread waiter(
      [&] { result = static_cast<int>(table.Wait(id, Deadline(10))); });
  {
    DeferWakes outer;
    {
      DeferWakes inner;
      EXPECT_TRUE(table.Match(id, Answer("pong")));
      EXPECT_EQ(DeferWakes::queued(), 1u);
    }
    EXPECT_EQ(DeferWakes::queued(), 1u);  // only the outermost scope wakes
  }
  EXPECT_EQ(DeferWakes::queued(), 0u);
  waiter.join();
  EXPECT_EQ(result.load(), static_cast<int>(WaitResult::kReady));
  EXPECT_EQ(*table.Remove(id), "pong");
}

TEST(PendingTableTest, ADeferredWakeOutlivesTheEntryItWakes) {
  // The waiter sees the answer and removes its entry before the deferred wake
  // runs (under ASan this would catch a wake on a freed entry).
  Table table(IdSpace::kSp);
  const uint32_t id = *table.Add(0, "");
  {
    DeferWakes defer;
    EXPECT_TRUE(table.Match(id, Answer("pong")));
    EXPECT_EQ(table.Wait(id, Deadline(10)), WaitResult::kReady);
    EXPECT_EQ(*table.Remove(id), "pong");
    EXPECT_EQ(table.size(), 0u);
    EXPECT_EQ(DeferWakes::queued(), 1u);
  }
  EXPECT_EQ(DeferWakes::queued(), 0u);
}

TEST(PendingTableTest, UnknownIdIsLate) {
  Table table(IdSpace::kSp);
  EXPECT_FALSE(table.Match(0x80001234u, Answer("x")));
  EXPECT_EQ(table.late(), 1u);
  EXPECT_EQ(table.matched(), 0u);
}

TEST(PendingTableTest, AnswerAfterRemoveIsLate) {
  Table table(IdSpace::kSp);
  const uint32_t id = *table.Add(0, "");
  EXPECT_EQ(table.Wait(id, absl::InfinitePast()), WaitResult::kTimedOut);
  table.Remove(id);
  EXPECT_FALSE(table.Match(id, Answer("late")));
  EXPECT_EQ(table.late(), 1u);
}

TEST(PendingTableTest, SecondAnswerToADoneEntryIsLate) {
  Table table(IdSpace::kSp);
  const uint32_t id = *table.Add(0, "");
  EXPECT_TRUE(table.Match(id, Answer("first")));
  EXPECT_FALSE(table.Match(id, Answer("second")));
  EXPECT_EQ(*table.Remove(id), "first");
  EXPECT_EQ(table.matched(), 1u);
  EXPECT_EQ(table.late(), 1u);
}

TEST(PendingTableTest, KeepLetsSeveralAnswersInSkipRefuses) {
  PendingTable<std::vector<std::string>> table(IdSpace::kSp);
  const uint32_t id = *table.Add(0, {});
  auto add = [](std::string a) {
    return [a](std::vector<std::string>& v) {
      if (v.size() >= 2) return Visit::kSkip;  // full
      v.push_back(a);
      return Visit::kKeep;
    };
  };
  EXPECT_TRUE(table.Match(id, add("a")));
  EXPECT_TRUE(table.Match(id, add("b")));
  EXPECT_FALSE(table.Match(id, add("c")));
  EXPECT_EQ(
      table.Wait(id, Deadline(10),
                 [](const std::vector<std::string>& v) { return !v.empty(); }),
      WaitResult::kReady);
  EXPECT_EQ(table.Remove(id)->size(), 2u);
  EXPECT_EQ(table.matched(), 2u);
  EXPECT_EQ(table.late(), 1u);
}

TEST(PendingTableTest, MatchFromAnotherPeerIsLate) {
  Table table(IdSpace::kNonZero);
  const uint32_t id = *table.Add(7, "");
  EXPECT_FALSE(table.MatchFrom(8, id, Answer("x")));
  EXPECT_TRUE(table.MatchFrom(7, id, Answer("y")));
  EXPECT_EQ(*table.Remove(id), "y");
  EXPECT_EQ(table.late(), 1u);
}

TEST(PendingTableTest, WaitTimesOutAtTheDeadline) {
  Table table(IdSpace::kSp);
  const uint32_t id = *table.Add(0, "");
  const absl::Time start = absl::Now();
  EXPECT_EQ(table.Wait(id, start + absl::Milliseconds(50)),
            WaitResult::kTimedOut);
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(50));
  EXPECT_EQ(table.size(), 1u);  // still there: the caller removes it
}

TEST(PendingTableTest, WaitWithAPastDeadlineReturnsAtOnce) {
  Table table(IdSpace::kSp);
  const uint32_t id = *table.Add(0, "");
  EXPECT_EQ(table.Wait(id, absl::InfinitePast()), WaitResult::kTimedOut);
  EXPECT_TRUE(table.Match(id, Answer("x")));
  // A ready entry wins over a passed deadline.
  EXPECT_EQ(table.Wait(id, absl::InfinitePast()), WaitResult::kReady);
}

TEST(PendingTableTest, WaitForAnUnknownIdIsGone) {
  Table table(IdSpace::kSp);
  EXPECT_EQ(table.Wait(0x80000001u, Deadline(10)), WaitResult::kGone);
}

TEST(PendingTableTest, CloseWakesEveryWaiter) {
  Table table(IdSpace::kSp);
  constexpr int kWaiters = 8;
  std::vector<uint32_t> ids;
  for (int i = 0; i < kWaiters; ++i) ids.push_back(*table.Add(0, ""));
  std::atomic<int> closed{0};
  std::vector<std::thread> waiters;
  for (uint32_t id : ids) {
    waiters.emplace_back([&table, &closed, id] {
      if (table.Wait(id, Deadline(30)) == WaitResult::kClosed) ++closed;
    });
  }
  const absl::Time start = absl::Now();
  table.Close();
  for (std::thread& t : waiters) t.join();
  EXPECT_EQ(closed.load(), kWaiters);
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));  // not by the deadline
  absl::StatusOr<uint32_t> late = table.Add(0, "");
  EXPECT_TRUE(absl::IsFailedPrecondition(late.status())) << late.status();
  EXPECT_TRUE(table.closed());
}

TEST(PendingTableTest, CloseVisitorFinishesPendingEntries) {
  Table table(IdSpace::kNonZero);
  const uint32_t answered = *table.Add(1, "");
  const uint32_t waiting = *table.Add(1, "");
  const uint32_t async = *table.Add(2, "");
  ASSERT_TRUE(table.Match(answered, Answer("ok")));
  std::vector<uint32_t> visited;
  table.Close([&](uint32_t id, std::string& slot) {
    visited.push_back(id);
    slot = "cancelled";
    return id == async ? Visit::kErase : Visit::kDone;
  });
  EXPECT_EQ(visited.size(), 2u);  // not the one already answered
  EXPECT_EQ(table.Wait(waiting, Deadline(10)), WaitResult::kReady);
  EXPECT_EQ(*table.Remove(waiting), "cancelled");
  EXPECT_EQ(*table.Remove(answered), "ok");
  EXPECT_EQ(table.Wait(async, Deadline(10)), WaitResult::kGone);
  EXPECT_EQ(table.size(), 0u);
}

TEST(PendingTableTest, PerPeerLimitCountsOnlyPendingEntries) {
  Table table(IdSpace::kNonZero, /*per_peer_limit=*/2);
  const uint32_t a = *table.Add(1, "");
  ASSERT_TRUE(table.Add(1, "").ok());
  absl::StatusOr<uint32_t> over = table.Add(1, "");
  EXPECT_TRUE(absl::IsResourceExhausted(over.status())) << over.status();
  EXPECT_TRUE(table.Add(2, "").ok());        // another peer has its own budget
  EXPECT_TRUE(table.Add(0, "").ok());        // no peer: unbounded
  ASSERT_TRUE(table.Match(a, Answer("x")));  // done: no longer counted
  EXPECT_TRUE(table.Add(1, "").ok());
}

TEST(PendingTableTest, ForPeerVisitsThatPeersPendingEntries) {
  Table table(IdSpace::kSp);
  const uint32_t a = *table.Add(0, "");
  const uint32_t b = *table.Add(0, "");
  const uint32_t c = *table.Add(0, "");
  table.SetPeer(a, 5);
  table.SetPeer(b, 5);
  table.SetPeer(c, 6);
  table.SetPeer(b, 6);  // resent on another pipe
  ASSERT_TRUE(table.Match(c, Answer("done")));
  std::vector<uint32_t> on5, on6;
  table.ForPeer(5, [&](uint32_t id, std::string&) {
    on5.push_back(id);
    return Visit::kKeep;
  });
  table.ForPeer(6, [&](uint32_t id, std::string& slot) {
    on6.push_back(id);
    slot = "peer gone";
    return Visit::kDone;
  });
  EXPECT_EQ(on5, std::vector<uint32_t>{a});
  EXPECT_EQ(on6, std::vector<uint32_t>{b});  // c is done: not visited
  EXPECT_EQ(table.Wait(b, Deadline(10)), WaitResult::kReady);
  EXPECT_EQ(*table.Remove(b), "peer gone");
}

TEST(PendingTableTest, UpdateEraseRemovesTheEntry) {
  Table table(IdSpace::kSp);
  const uint32_t id = *table.Add(3, "timer");
  std::string taken;
  EXPECT_TRUE(table.Update(id, [&](std::string& slot) {
    taken = std::move(slot);
    return Visit::kErase;
  }));
  EXPECT_EQ(taken, "timer");
  EXPECT_EQ(table.size(), 0u);
  EXPECT_FALSE(table.Update(id, [](std::string&) { return Visit::kKeep; }));
  EXPECT_FALSE(table.Remove(id).has_value());
}

TEST(PendingTableTest, ManyThreadsAskAndAnswerConcurrently) {
  PendingTable<int> table(IdSpace::kSp);
  constexpr int kThreads = 4;
  constexpr int kEach = 200;
  std::atomic<int> ok{0};
  std::vector<std::thread> askers;
  for (int t = 0; t < kThreads; ++t) {
    askers.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const uint32_t id = *table.Add(0, 0);
        const int want = t * kEach + i;
        std::thread answerer([&table, id, want] {
          table.Match(id, [want](int& v) {
            v = want;
            return Visit::kDone;
          });
        });
        if (table.Wait(id, Deadline(30)) == WaitResult::kReady &&
            *table.Remove(id) == want) {
          ++ok;
        }
        answerer.join();
      }
    });
  }
  for (std::thread& t : askers) t.join();
  EXPECT_EQ(ok.load(), kThreads * kEach);
  EXPECT_EQ(table.matched(), static_cast<uint64_t>(kThreads * kEach));
  EXPECT_EQ(table.size(), 0u);
}

}  // namespace
}  // namespace msock::internal
