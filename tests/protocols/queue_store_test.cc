// The queue store's messages (protocols/queue/sqlite_messages.cc and
// sqlite_upkeep.cc): addressing, self-sync, dedupe, acks, single-node
// entries, loads, bounds, dead letters, expiry and cleanup; and the store
// itself: group commit, order of `done`, durability across a reopen.
#include <pthread.h>

#include <atomic>
#include <future>
#include <mutex>
#include <string>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/protocols/queue_store_test_util.h"

namespace msock::internal::queue::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const NodeKey kA1{"al", "a1"}, kA2{"al", "a2"};
const NodeKey kB1{"bob", "b1"}, kB2{"bob", "b2"};
const NodeKey kC1{"cy", "c1"};

// al (a1, a2), bob (b1, b2, alias "bobby"), cy (c1); list "team": al, cy.
class QueueStorePostTest : public QueueStoreTest {
 protected:
  void SetUp() override {
    QueueStoreTest::SetUp();
    AddNode("al", "a2", "a1", NewUser("al", "a1"));
    AddNode("bob", "b2", "b1", NewUser("bob", "b1", {"bobby"}));
    NewUser("cy", "c1");
    ASSERT_TRUE(EditList("al", "team", "add", "cy").ok());
  }
  std::vector<NodeKey> NodesOfPost(PostRequest req) {
    absl::StatusOr<PostOutcome> r = Post(std::move(req));
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? Sorted(r->fanout.nodes) : std::vector<NodeKey>();
  }
  void MixedOps();
};

TEST_F(QueueStorePostTest, AddressesReachTheRightNodes) {
  using V = std::vector<NodeKey>;
  // A user: every node, and the sender's other nodes (self-sync).
  EXPECT_EQ(NodesOfPost({.from_user = "al", .from_node = "a1", .to = {"bob"}}),
            (V{kA2, kB1, kB2}));
  EXPECT_EQ(NodesOfPost({.from_user = "al",
                         .from_node = "a1",
                         .to = {"bob"},
                         .no_self = true}),
            (V{kB1, kB2}));
  EXPECT_EQ(
      NodesOfPost({.from_user = "al", .from_node = "a1", .to = {"@bobby"}}),
      (V{kA2, kB1, kB2}));
  // A list: the other members, plus self-sync.
  EXPECT_EQ(
      NodesOfPost({.from_user = "al", .from_node = "a1", .to = {"#team"}}),
      (V{kA2, kC1}));
  // One's own id: every own node, the sending one too.
  EXPECT_EQ(NodesOfPost({.from_user = "al", .from_node = "a1", .to = {"al"}}),
            (V{kA1, kA2}));
  // Reached several ways: one entry per node.
  EXPECT_EQ(NodesOfPost({.from_user = "al",
                         .from_node = "a1",
                         .to = {"bob", "@bobby", "#team", "cy"}}),
            (V{kA2, kB1, kB2, kC1}));
}

TEST_F(QueueStorePostTest, UnknownRecipientsAreReportedOthersDelivered) {
  absl::StatusOr<PostOutcome> r =
      Post({.from_user = "al",
            .from_node = "a1",
            .to = {"nobody", "bob", "@none", "#none"}});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->errors,
              ElementsAre("nobody: no such user", "@none: no such alias",
                          "#none: no such list"));
  EXPECT_EQ(Sorted(r->fanout.nodes), (std::vector<NodeKey>{kA2, kB1, kB2}));
  r = Post({.from_user = "bob", .from_node = "b1", .to = {"#team"}});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->errors, ElementsAre("#team: not a member"));
  EXPECT_EQ(r->fanout.nodes, (std::vector<NodeKey>{kB2}));  // self-sync
}

TEST_F(QueueStorePostTest, NoRecipientsAtAll) {
  // Empty `to`, a sender with one node: nothing to store, no error.
  absl::StatusOr<PostOutcome> r =
      Post({.from_user = "cy", .from_node = "c1", .to = {}});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->id, 0u);
  r = Post({.from_user = "al", .from_node = "a1", .to = {}, .no_self = true});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  r = Post({.from_user = "al",
            .from_node = "a1",
            .to = {"nobody"},
            .no_self = true});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("nobody: no such user"));
  r = Post({.from_user = "al", .from_node = "a1", .to = {"bob", "@"}});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(QueueStorePostTest, RepostWithTheSameClientIdIsStoredOnce) {
  PostRequest req{.from_user = "al",
                  .from_node = "a1",
                  .to = {"bob"},
                  .body = "once",
                  .client_id = "c-1"};
  absl::StatusOr<PostOutcome> first = Post(req);
  absl::StatusOr<PostOutcome> again = Post(req);
  ASSERT_TRUE(first.ok() && again.ok());
  EXPECT_FALSE(first->duplicate);
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->id, first->id);
  EXPECT_THAT(again->fanout.nodes, IsEmpty());
  EXPECT_THAT(Pending(kB1), ElementsAre(first->id));
  // The key is per user.
  req.from_user = "bob";
  req.from_node = "b1";
  absl::StatusOr<PostOutcome> other = Post(req);
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->duplicate);
  EXPECT_EQ(Rows("messages"), 3);  // the list notice and the two posts
}

TEST_F(QueueStorePostTest, AckRemovesAndARepeatIsANoOp) {
  uint64_t id = MustPost(kA1, {"bob"}).id;
  absl::StatusOr<AckOutcome> ack = Ack(kB1, {id});
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_THAT(ack->removed, ElementsAre(id));
  EXPECT_THAT(ack->taken, IsEmpty());
  ack = Ack(kB1, {id, id + 1000});
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_THAT(ack->removed, IsEmpty());
  EXPECT_THAT(Pending(kB1), IsEmpty());
  EXPECT_THAT(Pending(kB2), ElementsAre(id));  // other nodes keep theirs
}

TEST_F(QueueStorePostTest, OneBodyKeptWhileAnyEntryRefersToIt) {
  uint64_t id = MustPost(kA1, {"bob"}, std::string(1000, 'x')).id;
  EXPECT_EQ(Rows("messages"), 2);  // the list notice and this post
  ASSERT_TRUE(Ack(kB1, {id}).ok());
  ASSERT_TRUE(Ack(kB2, {id}).ok());
  EXPECT_EQ(Rows("messages"), 2);  // a2 (self-sync) still holds it
  ASSERT_TRUE(Ack(kA2, {id}).ok());
  EXPECT_EQ(Rows("messages"), 1);
}

TEST_F(QueueStorePostTest, SingleNodeEntryTakenByOneNodeLeavesTheOthers) {
  absl::StatusOr<PostOutcome> r = Post({.from_user = "al",
                                        .from_node = "a1",
                                        .to = {"bob"},
                                        .single_node = true});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Sorted(r->fanout.nodes), (std::vector<NodeKey>{kB1, kB2}));
  EXPECT_TRUE(r->fanout.msg->single_node);
  absl::StatusOr<AckOutcome> ack = Ack(kB2, {r->id});
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_THAT(ack->taken, ElementsAre(r->id));
  EXPECT_THAT(Pending(kB1), IsEmpty());
  EXPECT_EQ(Rows("messages"), 1);  // only the list notice is left
}

TEST_F(QueueStorePostTest, LoadInOrderAfterAnIdAndWithALimit) {
  std::vector<uint64_t> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(MustPost(kA1, {"bob"}, "m" + std::to_string(i)).id);
  }
  store_->Attempt(kB1, ids[0], 3);  // no answer; later ops see it
  absl::StatusOr<LoadResult> l = Load(kB1, 0, 3);
  ASSERT_TRUE(l.ok()) << l.status();
  ASSERT_EQ(l->entries.size(), 3u);
  EXPECT_TRUE(l->more);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(l->entries[i].msg->id, ids[i]);
    EXPECT_EQ(l->entries[i].msg->body, "m" + std::to_string(i));
    EXPECT_EQ(l->entries[i].msg->from_user, "al");
    EXPECT_EQ(l->entries[i].msg->from_node, "a1");
    EXPECT_THAT(l->entries[i].msg->to, ElementsAre("bob"));
  }
  EXPECT_EQ(l->entries[0].attempts, 3u);
  EXPECT_EQ(l->entries[1].attempts, 0u);
  l = Load(kB1, ids[2], 3);
  ASSERT_TRUE(l.ok()) << l.status();
  ASSERT_EQ(l->entries.size(), 2u);
  EXPECT_EQ(l->entries[0].msg->id, ids[3]);
  EXPECT_EQ(l->entries[1].msg->id, ids[4]);
  EXPECT_FALSE(l->more);
}

TEST_F(QueueStorePostTest, ToListWithSeveralAddressesRoundTrips) {
  uint64_t id = MustPost(kA1, {"bob", "@bobby", "#team"}).id;
  absl::StatusOr<LoadResult> l = Load(kB1, id - 1, 1);
  ASSERT_TRUE(l.ok()) << l.status();
  ASSERT_EQ(l->entries.size(), 1u);
  EXPECT_THAT(l->entries[0].msg->to, ElementsAre("bob", "@bobby", "#team"));
}

TEST_F(QueueStorePostTest, FullQueueSkipsThatNode) {
  opts_.max_queue = 2;
  Reopen();
  uint64_t first = MustPost(kA1, {"bob"}).id;
  MustPost(kA1, {"bob"});
  ASSERT_TRUE(Ack(kB2, {first}).ok());
  absl::StatusOr<PostOutcome> r = Post(
      {.from_user = "al", .from_node = "a1", .to = {"bob"}, .no_self = true});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->full, 1u);
  EXPECT_THAT(r->errors, ElementsAre("bob/b1: queue full"));
  EXPECT_EQ(r->fanout.nodes, (std::vector<NodeKey>{kB2}));
  r = Post(
      {.from_user = "al", .from_node = "a1", .to = {"bob"}, .no_self = true});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
}

TEST_F(QueueStorePostTest, DeadLettersAndPurge) {
  uint64_t id = MustPost(kA1, {"bob"}, "poison").id;
  absl::StatusOr<Fanout> f = Call<Fanout>(
      [&](auto done) { store_->Dead(kB1, id, "10 attempts", kNow, done); });
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_NE(f->msg, nullptr);
  EXPECT_EQ(f->msg->kind, "dead");
  EXPECT_THAT(f->msg->meta, HasSubstr(R"("reason":"10 attempts")"));
  EXPECT_EQ(f->nodes, (std::vector<NodeKey>{kB2}));
  EXPECT_THAT(Pending(kB1), IsEmpty());
  EXPECT_THAT(Pending(kB2), ElementsAre(id, f->msg->id));
  f = Call<Fanout>(
      [&](auto done) { store_->Dead(kB1, id, "again", kNow, done); });
  EXPECT_EQ(f.status().code(), absl::StatusCode::kNotFound);

  auto letters = [&](bool purge) {
    return Call<std::vector<DeadLetter>>(
        [&](auto done) { store_->DeadLetters("bob", purge, 0, done); });
  };
  absl::StatusOr<std::vector<DeadLetter>> d = letters(false);
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_EQ(d->size(), 1u);
  EXPECT_EQ((*d)[0].node, "b1");
  EXPECT_EQ((*d)[0].reason, "10 attempts");
  EXPECT_EQ((*d)[0].msg.body, "poison");
  EXPECT_EQ((*d)[0].msg.id, id);
  d = letters(true);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->size(), 1u);
  d = letters(false);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_THAT(*d, IsEmpty());
}

TEST_F(QueueStorePostTest, ExpiredEntriesGoOnLoadAndOnCleanup) {
  absl::StatusOr<PostOutcome> r = Post({.from_user = "al",
                                        .from_node = "a1",
                                        .to = {"bob"},
                                        .no_self = true,
                                        .expires_ms = kNow + 100});
  ASSERT_TRUE(r.ok()) << r.status();
  absl::StatusOr<LoadResult> l = Load(kB1, 0, 10, kNow + 100);
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_THAT(l->entries, IsEmpty());
  EXPECT_EQ(l->expired, 1u);
  EXPECT_THAT(Pending(kB1), IsEmpty());
  EXPECT_THAT(Pending(kB2), ElementsAre(r->id));
  absl::StatusOr<CleanupOutcome> c = Call<CleanupOutcome>(
      [&](auto done) { store_->Cleanup(kNow + 100, 0, 0, {}, done); });
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->expired, 1u);
  EXPECT_EQ(c->nodes_removed, 0u);
  EXPECT_THAT(Pending(kB2), IsEmpty());
  EXPECT_EQ(Rows("messages"), 1);  // the list notice (within its TTL)
}

TEST_F(QueueStorePostTest, TtlIsCappedByTheServersMaximum) {
  uint64_t id = MustPost(kA1, {"bob"}).id;
  absl::StatusOr<LoadResult> l = Load(kB1, id - 1, 1);
  ASSERT_TRUE(l.ok() && l->entries.size() == 1);
  EXPECT_EQ(l->entries[0].msg->expires_ms,
            kNow + absl::ToInt64Milliseconds(opts_.max_ttl));
}

TEST_F(QueueStorePostTest, CleanupDropsDedupeMemoryAndIdleNodes) {
  PostRequest req{
      .from_user = "al", .from_node = "a1", .to = {"bob"}, .client_id = "k"};
  absl::StatusOr<PostOutcome> first = Post(req);
  ASSERT_TRUE(first.ok());
  // Everything was seen at kNow; b1 and a1 are kept by being active.
  absl::StatusOr<CleanupOutcome> c = Call<CleanupOutcome>([&](auto done) {
    store_->Cleanup(kNow + 10, kNow + 1, kNow + 1, {kB1, kA1}, done);
  });
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->nodes_removed, 3u);  // a2, b2, c1 (and with c1, user cy)
  absl::StatusOr<PostOutcome> again = Post(req);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->duplicate);  // forgotten: a new message
  EXPECT_NE(again->id, first->id);
  EXPECT_EQ(again->fanout.nodes, (std::vector<NodeKey>{kB1}));
  EXPECT_EQ(Rows("users"), 2);
  absl::StatusOr<ListOutcome> team = EditList("al", "team", "get", "");
  ASSERT_TRUE(team.ok()) << team.status();
  EXPECT_THAT(team->members, ElementsAre("al"));
}

TEST_F(QueueStorePostTest, PostsSeeUsersAndNodesRegisteredSinceTheLastPost) {
  // Posts read users and nodes through a cache: a registration since the
  // last post must show in the next one.
  PostRequest req{.from_user = "al", .from_node = "a1", .to = {"dan"}};
  req.no_self = true;
  EXPECT_FALSE(Post(req).ok());  // no such user (yet)
  const std::string secret = NewUser("dan", "d1");
  absl::StatusOr<PostOutcome> one = Post(req);
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(one->fanout.nodes, (std::vector<NodeKey>{{"dan", "d1"}}));
  AddNode("dan", "d2", "d1", secret);
  absl::StatusOr<PostOutcome> two = Post(req);
  ASSERT_TRUE(two.ok()) << two.status();
  EXPECT_EQ(Sorted(two->fanout.nodes),
            (std::vector<NodeKey>{{"dan", "d1"}, {"dan", "d2"}}));
}

TEST_F(QueueStorePostTest, ManyOpsSubmittedTogetherShareCommits) {
  // The writer gathers a batch for up to commit_delay after its first task
  // (answers run on another thread, so nothing else can hold it back): the
  // ops below, submitted within milliseconds, share one transaction, or two
  // on a machine too slow to queue them within the delay.
  opts_.commit_delay = absl::Seconds(1);
  Reopen();
  const StoreStats before = store_->stats();
  constexpr int kOps = 50;
  absl::Notification submitted;
  std::promise<void> all_done;
  std::atomic<int> left{kOps + 1};
  auto count = [&] {
    if (--left == 0) all_done.set_value();
  };
  // The first op's answer waits until all are submitted: it must not hold
  // back the others' commit.
  store_->Post(
      {.from_user = "al", .from_node = "a1", .to = {"bob"}, .now_ms = kNow},
      [&](absl::StatusOr<PostOutcome> r) {
        EXPECT_TRUE(r.ok()) << r.status();
        EXPECT_TRUE(
            submitted.WaitForNotificationWithTimeout(absl::Seconds(10)));
        count();
      });
  for (int i = 0; i < kOps; ++i) {
    store_->Post(
        {.from_user = "al", .from_node = "a1", .to = {"cy"}, .now_ms = kNow},
        [&](absl::StatusOr<PostOutcome> r) {
          EXPECT_TRUE(r.ok()) << r.status();
          count();
        });
  }
  submitted.Notify();
  ASSERT_EQ(all_done.get_future().wait_for(kAnswerWithin),
            std::future_status::ready);
  const StoreStats after = store_->stats();
  EXPECT_EQ(after.ops - before.ops, kOps + 1u);
  EXPECT_GE(after.commits - before.commits, 1u);
  EXPECT_LE(after.commits - before.commits, 2u);
  EXPECT_EQ(Pending(kC1).size(), kOps + 1u);  // + the list notice
}

// Posts (a quarter of which fail), failed logins and reads, submitted
// together: answered in submission order, each failure alone.
void QueueStorePostTest::MixedOps() {
  std::mutex mu;
  std::vector<int> order;
  std::promise<void> last;
  constexpr int kOps = 40;
  for (int i = 0; i < kOps; ++i) {
    auto note = [&, i] {
      std::lock_guard<std::mutex> lock(mu);
      order.push_back(i);
      if (i == kOps - 1) last.set_value();
    };
    switch (i % 4) {
      case 0:
        store_->Post({.from_user = "al",
                      .from_node = "a1",
                      .to = {"cy"},
                      .now_ms = kNow},
                     [note](absl::StatusOr<PostOutcome> r) {
                       EXPECT_TRUE(r.ok()) << r.status();
                       note();
                     });
        break;
      case 1:  // fails: rolled back alone
        store_->Post({.from_user = "al",
                      .from_node = "a1",
                      .to = {},
                      .no_self = true,
                      .now_ms = kNow},
                     [note](absl::StatusOr<PostOutcome> r) {
                       EXPECT_FALSE(r.ok());
                       note();
                     });
        break;
      case 2:
        store_->Login(kC1, "wrong", kNow, [note](absl::StatusOr<uint64_t> r) {
          EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied);
          note();
        });
        break;
      default:
        store_->Pending(kC1, 0,
                        [note](absl::StatusOr<std::vector<uint64_t>> r) {
                          EXPECT_TRUE(r.ok()) << r.status();
                          note();
                        });
    }
  }
  ASSERT_EQ(last.get_future().wait_for(kAnswerWithin),
            std::future_status::ready);
  std::vector<int> want(kOps);
  for (int i = 0; i < kOps; ++i) want[i] = i;
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(order, want);
  EXPECT_EQ(Pending(kC1).size(), kOps / 4 + 1u);  // + the list notice
}

TEST_F(QueueStorePostTest, DoneRunsInSubmissionOrderAndAFailureIsAlone) {
  MixedOps();
}

TEST_F(QueueStorePostTest, AnIdleWriterAnswersOnItsOwnThread) {
  // Nothing else waits for the writer: it makes the `done` call itself, with
  // no hand-over to the completer thread (a thread wake-up less per commit).
  absl::StatusOr<std::string> thread = Call<std::string>([&](auto done) {
    store_->Post(
        {.from_user = "al", .from_node = "a1", .to = {"cy"}, .now_ms = kNow},
        [done](absl::StatusOr<PostOutcome> r) {
          EXPECT_TRUE(r.ok()) << r.status();
          char name[16] = {};
          pthread_getname_np(pthread_self(), name, sizeof(name));
          done(std::string(name));
        });
  });
  ASSERT_TRUE(thread.ok()) << thread.status();
  EXPECT_EQ(*thread, "msock-qwrite");
}

TEST_F(QueueStorePostTest, AFailureInOneBatchLeavesTheOthersCommitted) {
  // All 40 ops in one or two transactions: the failed posts are undone alone
  // (the batch runs again with a savepoint around each op).
  opts_.commit_delay = absl::Seconds(1);
  Reopen();
  const StoreStats before = store_->stats();
  MixedOps();
  const StoreStats after = store_->stats();
  EXPECT_GE(after.commits - before.commits, 1u);
  EXPECT_LE(after.commits - before.commits, 2u);
}

TEST_F(QueueStorePostTest, QueuesAndDedupeAreDurableAcrossReopen) {
  opts_.fsync = true;
  Reopen();
  PostRequest req{.from_user = "al",
                  .from_node = "a1",
                  .to = {"bob"},
                  .body = "kept",
                  .client_id = "k"};
  absl::StatusOr<PostOutcome> first = Post(req);
  ASSERT_TRUE(first.ok()) << first.status();
  Reopen();
  absl::StatusOr<LoadResult> l = Load(kB1, 0, 10);
  ASSERT_TRUE(l.ok()) << l.status();
  ASSERT_EQ(l->entries.size(), 1u);
  EXPECT_EQ(l->entries[0].msg->body, "kept");
  absl::StatusOr<PostOutcome> again = Post(req);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->id, first->id);
  // Ids never go down, even after the newest message is gone.
  ASSERT_TRUE(Ack(kB1, {first->id}).ok());
  ASSERT_TRUE(Ack(kB2, {first->id}).ok());
  ASSERT_TRUE(Ack(kA2, {first->id}).ok());
  Reopen();
  EXPECT_GT(MustPost(kA1, {"bob"}).id, first->id);
}

TEST_F(QueueStorePostTest, ClosedStoreRefuses) {
  store_->Close();
  absl::StatusOr<std::vector<uint64_t>> r = Call<std::vector<uint64_t>>(
      [&](auto done) { store_->Pending(kB1, 0, done); });
  EXPECT_EQ(r.status().code(), absl::StatusCode::kCancelled);
}

}  // namespace
}  // namespace msock::internal::queue::test
