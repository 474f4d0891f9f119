// The durable queue end to end, part 1: a post reaching every node of the
// recipient and the sender's other nodes over every transport; registration,
// login and the register hook; addresses (users, aliases, lists); bad input
// refused with the connection kept (bounds, names, a malformed payload);
// counters; a second login taking a node over. Delivery (order, windows,
// redelivery, restarts, dead letters, expiry, dedupe) is in
// queue_delivery_test.cc.
#include "msock/protocols/queue.h"

#include <algorithm>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/protocols/queue_test_util.h"

namespace msock {
namespace {

using test::Deadline;
using test::WaitUntil;

bool HasErrorAbout(const PostResult& r, const std::string& name) {
  return std::any_of(
      r.errors.begin(), r.errors.end(),
      [&](const std::string& e) { return e.find(name) != std::string::npos; });
}

class QueueTransportTest : public test::QueueFixture {};

// alice (a1, a2) posts to bob (b1, b2): both of bob's nodes and a2 get it,
// a1 does not; with no_self a2 does not either.
TEST_P(QueueTransportTest, PostReachesTheRecipientAndTheSendersOtherNodes) {
  ASSERT_TRUE(Start(QueueServerOptions()));  // fsync on
  QueueClient& a1 = NewNode("alice", "a1");
  QueueClient& a2 = NewNode("alice", "a2");
  QueueClient& b1 = NewNode("bob", "b1");
  QueueClient& b2 = NewNode("bob", "b2");
  const std::string body("\0\xff binary \x01", 12);
  PostOptions opts;
  opts.meta = R"({"subject":"hi"})";
  opts.ttl = absl::Hours(1);
  const absl::Time before = absl::Now();
  absl::StatusOr<PostResult> r = a1.Post({"bob"}, body, Deadline(10), opts);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_GT(r->id, 0u);
  EXPECT_FALSE(r->duplicate);
  EXPECT_TRUE(r->errors.empty());
  EXPECT_EQ(r->nodes, 3u);  // b1, b2, a2
  for (QueueClient* c : {&b1, &b2, &a2}) {
    absl::StatusOr<QueueMessage> m = c->Receive(Deadline(10));
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_EQ(m->id, r->id);
    EXPECT_EQ(m->from_user, "alice");
    EXPECT_EQ(m->from_node, "a1");
    EXPECT_EQ(m->body, body);
    EXPECT_EQ(m->meta, opts.meta);
    EXPECT_EQ(m->to, std::vector<std::string>{"bob"});
    EXPECT_EQ(m->attempt, 1u);
    EXPECT_FALSE(m->single_node);
    EXPECT_EQ(m->kind, "");
    EXPECT_GE(m->posted, before - absl::Seconds(1));
    EXPECT_LE(m->posted, absl::Now() + absl::Seconds(1));
    EXPECT_GE(m->expires, m->posted + absl::Minutes(59));
    EXPECT_LE(m->expires, m->posted + absl::Minutes(61));
    EXPECT_TRUE(c->Ack(m->id, Deadline(10)).ok());
  }
  // The sending node got no copy: its first entry is bob's later marker.
  ExpectNotBefore(b1, "alice", a1, r->id, "marker-1");

  PostOptions no_self;
  no_self.no_self = true;
  r = a1.Post({"bob"}, "quiet", Deadline(10), no_self);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->nodes, 2u);
  for (QueueClient* c : {&b1, &b2}) {
    absl::StatusOr<QueueMessage> m = ReceiveBody(*c, "quiet", Deadline(10));
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_TRUE(c->Ack(m->id, Deadline(10)).ok());
  }
  ExpectNotBefore(b1, "alice", a2, r->id, "marker-2");
  EXPECT_EQ(b1.rooms().rooms_stats().reconnects, 0u);
}

INSTANTIATE_TEST_SUITE_P(AllTransports, QueueTransportTest,
                         ::testing::Values("inproc", "ipc", "tcp", "ws", "wss"),
                         [](const auto& info) { return info.param; });

class QueueTest : public test::QueueFixture {};

TEST_P(QueueTest, RegisterGivesASecretThatLogsIn) {
  ASSERT_TRUE(Start());
  QueueClient& c = Connect();
  absl::StatusOr<std::string> secret = c.Register("alice", "a1", Deadline(10));
  ASSERT_TRUE(secret.ok()) << secret.status();
  EXPECT_FALSE(secret->empty());
  EXPECT_TRUE(c.Login("alice", "a1", *secret, Deadline(10)).ok());

  QueueClient& other = Connect();
  EXPECT_EQ(other.Login("alice", "a1", *secret + "x", Deadline(10)).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(other.Login("alice", "nope", *secret, Deadline(10)).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(other.Login("nobody", "a1", *secret, Deadline(10)).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(server().stats().refused_logins, 3u);
  // Not logged in: no post.
  EXPECT_EQ(other.Post({"alice"}, "x", Deadline(10)).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // An existing user needs proof; an existing node is never registered again.
  EXPECT_EQ(other.Register("alice", "a2", Deadline(10)).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(other.Register("alice", "a1", Deadline(10), {}, "a1", *secret)
                .status()
                .code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(other.Register("alice", "a2", Deadline(10), {}, "a1", "wrong")
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
  absl::StatusOr<std::string> second =
      other.Register("alice", "a2", Deadline(10), {}, "a1", *secret);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_NE(*second, *secret);
  EXPECT_TRUE(other.Login("alice", "a2", *second, Deadline(10)).ok());
  // A connection logged in as the user adds a node without proof.
  absl::StatusOr<std::string> third = c.Register("alice", "a3", Deadline(10));
  ASSERT_TRUE(third.ok()) << third.status();
  QueueClient& a3 = Connect();
  EXPECT_TRUE(a3.Login("alice", "a3", *third, Deadline(10)).ok());
  // Each secret belongs to its node only.
  EXPECT_EQ(Connect().Login("alice", "a3", *secret, Deadline(10)).code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_P(QueueTest, RegisterHookSeesEachRegistrationAndCanRefuse) {
  ASSERT_TRUE(Start());
  std::mutex& mu = mu_;
  std::vector<QueueRegistration>& seen = registrations_;
  server().OnRegister([&](const QueueRegistration& reg) {
    std::lock_guard<std::mutex> lock(mu);
    seen.push_back(reg);
    if (reg.user == "mallory") {
      return absl::PermissionDeniedError("no mallory here");
    }
    return absl::OkStatus();
  });
  QueueClient& c = Connect();
  absl::StatusOr<std::string> refused =
      c.Register("mallory", "m1", Deadline(10));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(refused.status().message().find("no mallory here"),
            std::string::npos)
      << refused.status();
  NewNode("alice", "a1");
  NewNode("alice", "a2");
  {
    std::lock_guard<std::mutex> lock(mu);
    ASSERT_EQ(seen.size(), 3u);
    EXPECT_EQ(seen[1].user, "alice");
    EXPECT_EQ(seen[1].node, "a1");
    EXPECT_TRUE(seen[1].new_user);
    EXPECT_FALSE(seen[1].client.empty());
    EXPECT_EQ(seen[2].node, "a2");
    EXPECT_FALSE(seen[2].new_user);
  }
  // The refused user was not created: it registers once the hook allows.
  EXPECT_EQ(c.Login("mallory", "m1", "", Deadline(10)).code(),
            absl::StatusCode::kPermissionDenied);
  server().OnRegister(
      [](const QueueRegistration&) { return absl::OkStatus(); });
  EXPECT_TRUE(c.Register("mallory", "m1", Deadline(10)).ok());
}

TEST_P(QueueTest, PostToOwnUserReachesEveryOwnNode) {
  ASSERT_TRUE(Start());
  QueueClient& a1 = NewNode("alice", "a1");
  QueueClient& a2 = NewNode("alice", "a2");
  absl::StatusOr<PostResult> r = a1.Post({"alice"}, "note", Deadline(10));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->nodes, 2u);
  for (QueueClient* c : {&a1, &a2}) {
    absl::StatusOr<QueueMessage> m = c->Receive(Deadline(10));
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_EQ(m->id, r->id);
    EXPECT_EQ(m->body, "note");
  }
}

TEST_P(QueueTest, AliasesReachTheirOwner) {
  ASSERT_TRUE(Start());
  QueueClient& alice = NewNode("alice", "a1");
  QueueClient& bob = NewNode("bob", "b1", {}, {"bobby"});
  QueueClient& carol = NewNode("carol", "c1");
  absl::StatusOr<std::vector<std::string>> accepted =
      carol.SetAliases({"bobby", "cc"}, Deadline(10));
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  EXPECT_EQ(*accepted, std::vector<std::string>{"cc"});  // bobby is taken

  absl::StatusOr<PostResult> r =
      alice.Post({"@bobby", "@ghost"}, "via alias", Deadline(10));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->nodes, 1u);
  ASSERT_EQ(r->errors.size(), 1u);
  EXPECT_TRUE(HasErrorAbout(*r, "ghost")) << r->errors[0];
  absl::StatusOr<QueueMessage> m = bob.Receive(Deadline(10));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->body, "via alias");
  ASSERT_FALSE(m->to.empty());
  EXPECT_EQ(m->to[0], "@bobby");  // as alice wrote it
  EXPECT_TRUE(bob.Ack(m->id, Deadline(10)).ok());
  ExpectNotBefore(alice, "carol", carol, r->id, "marker-c");

  r = alice.Post({"@cc"}, "to carol", Deadline(10));
  ASSERT_TRUE(r.ok()) << r.status();
  m = carol.Receive(Deadline(10));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->body, "to carol");
}

TEST_P(QueueTest, ListsReachTheirMembersWhoSeeEveryChange) {
  ASSERT_TRUE(Start());
  QueueClient& alice = NewNode("alice", "a1");
  QueueClient& bob = NewNode("bob", "b1");
  QueueClient& carol = NewNode("carol", "c1");
  QueueClient& dave = NewNode("dave", "d1");
  ASSERT_TRUE(alice.ListAdd("team", "alice", Deadline(10)).ok());
  ASSERT_TRUE(alice.ListAdd("team", "bob", Deadline(10)).ok());
  ASSERT_TRUE(alice.ListAdd("team", "carol", Deadline(10)).ok());
  absl::StatusOr<std::vector<std::string>> members =
      alice.ListMembers("team", Deadline(10));
  ASSERT_TRUE(members.ok()) << members.status();
  std::sort(members->begin(), members->end());
  EXPECT_EQ(*members, (std::vector<std::string>{"alice", "bob", "carol"}));
  // Not a member: dave may not edit it.
  EXPECT_FALSE(dave.ListAdd("team", "dave", Deadline(10)).ok());

  absl::StatusOr<PostResult> r =
      alice.Post({"#team"}, "hello team", Deadline(10));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->errors.empty());
  for (QueueClient* c : {&bob, &carol}) {
    std::vector<QueueMessage> skipped;
    absl::StatusOr<QueueMessage> m =
        ReceiveBody(*c, "hello team", Deadline(10), &skipped);
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_EQ(m->id, r->id);
    EXPECT_EQ(m->to, std::vector<std::string>{"#team"});
    EXPECT_TRUE(c->Ack(m->id, Deadline(10)).ok());
    // Every entry before it is a list change, the last one adding carol.
    ASSERT_FALSE(skipped.empty());
    for (const QueueMessage& s : skipped) EXPECT_EQ(s.kind, "list") << s.body;
    const QueueMessage& last = skipped.back();
    EXPECT_NE(last.meta.find("\"team\""), std::string::npos) << last.meta;
    EXPECT_NE(last.meta.find("\"carol\""), std::string::npos) << last.meta;
    EXPECT_NE(last.meta.find("\"add\""), std::string::npos) << last.meta;
  }
  ExpectNotBefore(alice, "dave", dave, r->id, "marker-d");

  ASSERT_TRUE(alice.ListRemove("team", "carol", Deadline(10)).ok());
  members = alice.ListMembers("team", Deadline(10));
  ASSERT_TRUE(members.ok()) << members.status();
  std::sort(members->begin(), members->end());
  EXPECT_EQ(*members, (std::vector<std::string>{"alice", "bob"}));
  r = alice.Post({"#team"}, "without carol", Deadline(10));
  ASSERT_TRUE(r.ok()) << r.status();
  std::vector<QueueMessage> skipped;
  absl::StatusOr<QueueMessage> m =
      ReceiveBody(bob, "without carol", Deadline(10), &skipped);
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_EQ(skipped.size(), 1u);  // the removal, one entry
  EXPECT_EQ(skipped[0].kind, "list");
  EXPECT_NE(skipped[0].meta.find("\"remove\""), std::string::npos);
  EXPECT_NE(skipped[0].meta.find("\"carol\""), std::string::npos);
  ExpectNotBefore(alice, "carol", carol, r->id, "marker-c");

  // A list left empty is gone: a post to it reports the list.
  ASSERT_TRUE(alice.ListRemove("team", "bob", Deadline(10)).ok());
  ASSERT_TRUE(alice.ListRemove("team", "alice", Deadline(10)).ok());
  r = alice.Post({"#team", "bob"}, "after", Deadline(10));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(HasErrorAbout(*r, "team"));
}

TEST_P(QueueTest, BadAddressesAreReportedAndTheRestDelivered) {
  ASSERT_TRUE(Start());
  QueueClient& alice = NewNode("alice", "a1");
  QueueClient& bob = NewNode("bob", "b1");
  absl::StatusOr<PostResult> r =
      alice.Post({"nobody", "bob"}, "partial", Deadline(10));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->nodes, 1u);
  ASSERT_EQ(r->errors.size(), 1u);
  EXPECT_TRUE(HasErrorAbout(*r, "nobody")) << r->errors[0];
  absl::StatusOr<QueueMessage> m = bob.Receive(Deadline(10));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->body, "partial");
  // Nothing addressed at all, and no self-sync.
  PostOptions no_self;
  no_self.no_self = true;
  EXPECT_EQ(alice.Post({}, "nowhere", Deadline(10), no_self).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_GE(server().stats().refused_posts, 1u);
  EXPECT_TRUE(alice.Post({"bob"}, "still here", Deadline(10)).ok());
}

TEST_P(QueueTest, BoundsAreRefusedAndTheConnectionKept) {
  QueueServerOptions o = NoSync();
  o.max_body = 64;
  o.max_meta = 16;
  o.max_recipients = 3;
  ASSERT_TRUE(Start(o));
  QueueClient& alice = NewNode("alice", "a1");
  QueueClient& bob = NewNode("bob", "b1");
  EXPECT_EQ(
      alice.Post({"bob"}, std::string(65, 'x'), Deadline(10)).status().code(),
      absl::StatusCode::kResourceExhausted);
  PostOptions big_meta;
  big_meta.meta = std::string(17, 'm');
  EXPECT_EQ(alice.Post({"bob"}, "x", Deadline(10), big_meta).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(
      alice.Post({"bob", "b", "c", "d"}, "x", Deadline(10)).status().code(),
      absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(server().stats().refused_posts, 3u);
  // At the bounds: accepted, on the same connection.
  PostOptions meta;
  meta.meta = std::string(16, 'm');
  absl::StatusOr<PostResult> r =
      alice.Post({"bob"}, std::string(64, 'y'), Deadline(10), meta);
  ASSERT_TRUE(r.ok()) << r.status();
  absl::StatusOr<QueueMessage> m = bob.Receive(Deadline(10));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->id, r->id);
  EXPECT_EQ(m->body, std::string(64, 'y'));
  EXPECT_EQ(alice.rooms().rooms_stats().reconnects, 0u);
}

TEST_P(QueueTest, FullQueueSkipsThatNodeOnly) {
  QueueServerOptions o = NoSync();
  o.max_queue = 3;
  ASSERT_TRUE(Start(o));
  QueueClient& alice = NewNode("alice", "a1");
  QueueClient& bob = NewNode("bob", "b1");
  QueueClient& carol = NewNode("carol", "c1");
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<PostResult> r =
        alice.Post({"bob"}, "fill " + std::to_string(i), Deadline(10));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->nodes, 1u);
  }
  absl::StatusOr<PostResult> r =
      alice.Post({"bob", "carol"}, "one too many", Deadline(10));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->nodes, 1u);  // carol only
  ASSERT_EQ(r->errors.size(), 1u);
  EXPECT_TRUE(HasErrorAbout(*r, "bob")) << r->errors[0];
  EXPECT_EQ(server().stats().full_queues, 1u);
  absl::StatusOr<QueueMessage> m = carol.Receive(Deadline(10));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->body, "one too many");
  EXPECT_EQ(PendingIds(bob).size(), 3u);
  // An ack makes room again.
  m = bob.Receive(Deadline(10));
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_TRUE(bob.Ack(m->id, Deadline(10)).ok());
  r = alice.Post({"bob"}, "fits", Deadline(10));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->nodes, 1u);
  EXPECT_TRUE(r->errors.empty());
}

TEST_P(QueueTest, BadNamesAndTooManyNodesAreRefused) {
  QueueServerOptions o = NoSync();
  o.max_name = 8;
  o.max_nodes = 2;
  ASSERT_TRUE(Start(o));
  QueueClient& c = Connect();
  EXPECT_EQ(c.Register("abcdefghi", "n", Deadline(10)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(c.Register("alice", "abcdefghi", Deadline(10)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(c.Register("", "n", Deadline(10)).status().code(),
            absl::StatusCode::kInvalidArgument);
  QueueClient& alice = NewNode("abcdefgh", "a1");  // exactly max_name
  NewNode("abcdefgh", "a2");
  EXPECT_EQ(alice.Register("abcdefgh", "a3", Deadline(10)).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(alice.ListAdd("abcdefghi", "abcdefgh", Deadline(10)).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(alice.ListAdd("abcdefgh", "abcdefgh", Deadline(10)).ok());
  EXPECT_EQ(alice.rooms().rooms_stats().reconnects, 0u);
}

TEST_P(QueueTest, MalformedPayloadIsRefusedAndCounted) {
  ASSERT_TRUE(Start());
  QueueClient& alice = NewNode("alice", "a1");
  QueueClient& bob = NewNode("bob", "b1");
  // Field 1 (length-delimited) says 5 bytes; 2 follow.
  const std::string truncated(
      "\x0a\x05"
      "ab",
      4);
  absl::StatusOr<std::string> answer =
      alice.rooms().Emit("_q/post", truncated, Deadline(10));
  EXPECT_EQ(answer.status().code(), absl::StatusCode::kInvalidArgument)
      << answer.status();
  EXPECT_TRUE(
      WaitUntil([&] { return server().stats().malformed == 1; }, Deadline(5)))
      << server().stats().malformed;
  answer = alice.rooms().Emit("_q/ack", truncated, Deadline(10));
  EXPECT_EQ(answer.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(
      WaitUntil([&] { return server().stats().malformed == 2; }, Deadline(5)));
  EXPECT_EQ(server().stats().posts, 0u);
  // The connection is kept and still logged in.
  absl::StatusOr<PostResult> r = alice.Post({"bob"}, "fine", Deadline(10));
  ASSERT_TRUE(r.ok()) << r.status();
  absl::StatusOr<QueueMessage> m = bob.Receive(Deadline(10));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->body, "fine");
  EXPECT_EQ(alice.rooms().rooms_stats().reconnects, 0u);
}

TEST_P(QueueTest, StatsCountPostsDeliveriesRedeliveriesAndAcks) {
  ASSERT_TRUE(Start());
  QueueClient& alice = NewNode("alice", "a1");
  QueueClient& bob = NewNode("bob", "b1");
  PostOptions no_self;
  no_self.no_self = true;
  ASSERT_TRUE(alice.Post({"bob"}, "one", Deadline(10), no_self).ok());
  ASSERT_TRUE(alice.Post({"bob"}, "two", Deadline(10), no_self).ok());
  absl::StatusOr<QueueMessage> m = bob.Receive(Deadline(10));
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_TRUE(bob.Nack(m->id, absl::ZeroDuration(), Deadline(10)).ok());
  m = bob.Receive(Deadline(10));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->body, "one");
  EXPECT_EQ(m->attempt, 2u);
  ASSERT_TRUE(bob.Ack(m->id, Deadline(10)).ok());
  m = bob.Receive(Deadline(10));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->body, "two");
  ASSERT_TRUE(bob.Ack(m->id, Deadline(10)).ok());
  EXPECT_TRUE(WaitUntil(
      [&] {
        QueueStats s = server().stats();
        return s.acks == 2 && s.deliveries == 3 && s.redeliveries == 1;
      },
      Deadline(5)));
  QueueStats s = server().stats();
  EXPECT_EQ(s.posts, 2u);
  EXPECT_EQ(s.duplicates, 0u);
  EXPECT_EQ(s.deliveries, 3u);
  EXPECT_EQ(s.redeliveries, 1u);
  EXPECT_EQ(s.acks, 2u);
  EXPECT_EQ(s.dead, 0u);
  EXPECT_EQ(s.refused_logins, 0u);
  EXPECT_EQ(s.malformed, 0u);
  EXPECT_GE(s.commits, 1u);
  EXPECT_GE(s.committed_ops, s.commits);
  EXPECT_GE(s.committed_ops, 4u);  // two posts, two acks
}

// A second login of the same node takes it over: the older connection gets
// nothing more, and does not log back in by itself.
TEST_P(QueueTest, SecondLoginTakesTheNodeOver) {
  ASSERT_TRUE(Start());
  QueueClient& alice = NewNode("alice", "a1");
  QueueClient& first = NewNode("bob", "b1");
  QueueClient& second = LoginAs("bob", "b1");
  PostOptions no_self;
  no_self.no_self = true;
  for (const std::string body : {"after takeover", "still second"}) {
    absl::StatusOr<PostResult> r =
        alice.Post({"bob"}, body, Deadline(10), no_self);
    ASSERT_TRUE(r.ok()) << r.status();
    absl::StatusOr<QueueMessage> m = second.Receive(Deadline(10));
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_EQ(m->id, r->id);
    EXPECT_EQ(m->body, body);
    EXPECT_TRUE(second.Ack(m->id, Deadline(10)).ok());
    EXPECT_FALSE(first.Receive(absl::Now() + absl::Milliseconds(300)).ok());
  }
}

INSTANTIATE_TEST_SUITE_P(Transports, QueueTest,
                         ::testing::Values("inproc", "tcp", "ws"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace msock
