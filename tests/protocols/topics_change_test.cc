// Topic changes without a network: every change type and its inverse (apply
// then inverse gives back the value, seeded random values), preconditions,
// and the replica's rules (preview, confirm, rollback, rebase, gap resync).
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "protocols/topics/change.h"
#include "protocols/topics/rebase.h"
#include "protocols/topics/replica.h"

namespace msock::internal::topics {
namespace {

Value J(const std::string& json) { return ParseJson(json).value(); }

pb::Change C(const std::string& json) { return ParseChange(json).value(); }

// Applies `c` to `v` (must succeed), then its inverse: `v` must be back.
void RoundTrip(TopicType type, const std::string& value,
               const std::string& change) {
  Value v = J(value);
  const Value before = v;
  pb::Change c = C(change);
  ASSERT_TRUE(Apply(type, v, c).ok()) << value << " " << change;
  EXPECT_FALSE(Equal(v, before) && c.type() != "emit" && c.type() != "set")
      << "no effect: " << change;
  pb::Change inv = Inverse(type, c);
  ASSERT_TRUE(Apply(type, v, inv).ok()) << ToJson(inv);
  EXPECT_TRUE(Equal(v, before)) << ToJson(v) << " != " << value;
}

TEST(TopicChangeTest, EveryChangeTypeHasAnExactInverse) {
  RoundTrip(TopicType::kGeneric, R"({"a":1})", R"({"type":"set","value":[1]})");
  RoundTrip(TopicType::kBool, "false", R"({"type":"set","value":true})");
  RoundTrip(TopicType::kInt, "4", R"({"type":"add","value":-7})");
  RoundTrip(TopicType::kFloat, "0.5", R"({"type":"add","value":0.25})");
  // A sum that rounds (found by fuzz_topic_change): undone all the same.
  RoundTrip(TopicType::kFloat, "0.5", R"({"type":"add","value":2.5e101})");
  RoundTrip(TopicType::kFloat, "0.1", R"({"type":"add","value":0.2})");
  RoundTrip(TopicType::kString, R"("héllo")",
            R"({"type":"insert","position":2,"text":"XY"})");
  RoundTrip(TopicType::kString, R"("héllo")",
            R"({"type":"delete","position":1,"text":"él"})");
  RoundTrip(TopicType::kSet, R"([1,"a"])",
            R"({"type":"append","item":{"k":2}})");
  RoundTrip(TopicType::kSet, R"([1,"a"])", R"({"type":"remove","item":"a"})");
  RoundTrip(TopicType::kList, "[1,2,3]",
            R"({"type":"insert","position":-1,"item":9})");
  RoundTrip(TopicType::kList, "[1,2,3]",
            R"({"type":"insert","position":0,"item":9})");
  RoundTrip(TopicType::kList, "[1,2,3]", R"({"type":"pop","position":-1})");
  RoundTrip(TopicType::kList, "[1,2,3]",
            R"({"type":"set_at","position":1,"item":"x"})");
  RoundTrip(TopicType::kDict, R"({"a":1})",
            R"({"type":"add","key":"b","value":2})");
  RoundTrip(TopicType::kDict, R"({"a":1})", R"({"type":"pop","key":"a"})");
  RoundTrip(TopicType::kDict, R"({"a":1})",
            R"({"type":"change_value","key":"a","value":[5]})");
}

// Property: random sequences of changes on a list, undone newest first,
// give back the start value.
// Lists nested `n` levels deep, the innermost holding 1.
std::string Nested(int n) {
  return absl::StrCat(std::string(n, '['), "1", std::string(n, ']'));
}

// JSON numbers as RFC 8259 writes them: no leading zeros, a digit on both
// sides of the point, an exponent with digits.
TEST(TopicChangeTest, NumbersFollowTheJsonGrammar) {
  for (const char* good : {"0", "-0", "0.5", "10", "-12.25e+3", "1E2", "0e0"}) {
    absl::StatusOr<Value> v = ParseJson(good);
    ASSERT_TRUE(v.ok()) << good << ": " << v.status();
    EXPECT_EQ(v->kind_case(), Value::kNumberValue) << good;
  }
  EXPECT_EQ(J("-12.25e+3").number_value(), -12250);
  for (const char* bad : {"01", "-01", "00", "007.5", ".5", "1.", "1e", "+1",
                          "[1, 02]", R"({"a": 00})"}) {
    absl::StatusOr<Value> v = ParseJson(bad);
    EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(TopicChangeTest, ValuesNestedDeeperThanTheLimitAreRefused) {
  EXPECT_TRUE(CheckValue(TopicType::kGeneric, J(Nested(kMaxValueDepth))).ok());
  EXPECT_EQ(CheckValue(TopicType::kList, J(Nested(kMaxValueDepth + 1))).code(),
            absl::StatusCode::kInvalidArgument);
  // A change record holds a value of the limit; deeper text is not parsed.
  EXPECT_TRUE(ParseChange(absl::StrCat(R"({"type":"set","value":)",
                                       Nested(kMaxValueDepth), "}"))
                  .ok());
  EXPECT_FALSE(ParseJson(Nested(kMaxValueDepth + 2)).ok());

  Value v = J("[]");
  pb::Change set = C(R"({"type":"set"})");
  *set.mutable_value() = J(Nested(kMaxValueDepth + 1));
  EXPECT_EQ(Apply(TopicType::kList, v, set).code(),
            absl::StatusCode::kInvalidArgument);
  // An item goes one level down into the topic's list.
  pb::Change insert = C(R"({"type":"insert","position":0})");
  *insert.mutable_item() = J(Nested(kMaxValueDepth));
  EXPECT_EQ(Apply(TopicType::kList, v, insert).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Equal(v, J("[]")));
  *insert.mutable_item() = J(Nested(kMaxValueDepth - 1));
  ASSERT_TRUE(Apply(TopicType::kList, v, insert).ok());
  // An event's arguments go out whole.
  Value none = J("null");
  pb::Change emit = C(R"({"type":"emit"})");
  *emit.mutable_value() = J(Nested(kMaxValueDepth + 1));
  EXPECT_EQ(Apply(TopicType::kEvent, none, emit).code(),
            absl::StatusCode::kInvalidArgument);
  *emit.mutable_value() = J(Nested(kMaxValueDepth));
  EXPECT_TRUE(Apply(TopicType::kEvent, none, emit).ok());

  // What a topic may hold reaches JSON subscribers (protobuf's JSON writer
  // stops at 64 message levels).
  pb::Update update;
  *update.add_changes()->mutable_value() = v;
  pb::Update received;
  ASSERT_TRUE(DecodePayload(EncodeFor(update, true), &received).ok());
  EXPECT_TRUE(Equal(received.changes(0).value(), v));
}

TEST(TopicChangeTest, RandomListChangesUndoNewestFirst) {
  std::mt19937 rng(1234);
  for (int round = 0; round < 200; ++round) {
    Value v = J("[0,1,2]");
    const Value start = v;
    std::vector<pb::Change> done;
    for (int i = 0; i < 20; ++i) {
      const int size = v.list_value().values_size();
      pb::Change c;
      switch (rng() % 3) {
        case 0:
          c = C(R"({"type":"insert","item":7})");
          c.set_position(static_cast<int>(rng() % (size + 1)) -
                         (rng() % 2 ? size + 1 : 0));
          break;
        case 1:
          if (size == 0) continue;
          c = C(R"({"type":"pop"})");
          c.set_position(static_cast<int>(rng() % size));
          break;
        default:
          if (size == 0) continue;
          c = C(R"({"type":"set_at","item":"s"})");
          c.set_position(-1 - static_cast<int>(rng() % size));
      }
      ASSERT_TRUE(Apply(TopicType::kList, v, c).ok()) << ToJson(c);
      done.push_back(c);
    }
    for (auto it = done.rbegin(); it != done.rend(); ++it) {
      pb::Change inv = Inverse(TopicType::kList, *it);
      ASSERT_TRUE(Apply(TopicType::kList, v, inv).ok()) << ToJson(inv);
    }
    ASSERT_TRUE(Equal(v, start)) << ToJson(v);
  }
}

TEST(TopicChangeTest, PreconditionsRefuseWithTheRightCode) {
  struct Case {
    TopicType type;
    const char* value;
    const char* change;
    absl::StatusCode code;
  } cases[] = {
      {TopicType::kInt, "1", R"({"type":"add","value":0.5})",
       absl::StatusCode::kInvalidArgument},
      {TopicType::kInt, "1", R"({"type":"set","value":"x"})",
       absl::StatusCode::kInvalidArgument},
      {TopicType::kString, R"("ab")", R"({"type":"insert","position":3})",
       absl::StatusCode::kOutOfRange},
      {TopicType::kString, R"("ab")",
       R"({"type":"delete","position":0,"text":"b"})",
       absl::StatusCode::kAborted},
      {TopicType::kSet, "[1]", R"({"type":"append","item":1})",
       absl::StatusCode::kAlreadyExists},
      {TopicType::kSet, "[1]", R"({"type":"set","value":[2,2]})",
       absl::StatusCode::kInvalidArgument},
      {TopicType::kSet, "[1]", R"({"type":"remove","item":2})",
       absl::StatusCode::kNotFound},
      {TopicType::kList, "[1]", R"({"type":"insert","position":2,"item":0})",
       absl::StatusCode::kOutOfRange},
      {TopicType::kList, "[1]", R"({"type":"insert","position":-3,"item":0})",
       absl::StatusCode::kOutOfRange},
      {TopicType::kList, "[]", R"({"type":"pop","position":0})",
       absl::StatusCode::kOutOfRange},
      {TopicType::kDict, R"({"a":1})", R"({"type":"add","key":"a","value":2})",
       absl::StatusCode::kAlreadyExists},
      {TopicType::kDict, "{}", R"({"type":"pop","key":"a"})",
       absl::StatusCode::kNotFound},
      {TopicType::kEvent, "null", R"({"type":"set","value":1})",
       absl::StatusCode::kInvalidArgument},
      {TopicType::kList, "[]", R"({"type":"add","value":1})",
       absl::StatusCode::kInvalidArgument},
  };
  for (const Case& k : cases) {
    Value v = J(k.value);
    const Value before = v;
    pb::Change c = C(k.change);
    absl::Status st = Apply(k.type, v, c);
    EXPECT_EQ(st.code(), k.code) << k.change << ": " << st;
    EXPECT_TRUE(Equal(v, before)) << "a refused change changed the value";
  }
}

TEST(TopicChangeTest, ListInsertMinusOneAppendsAndRecordsThePosition) {
  Value v = J("[1,2]");
  pb::Change c = C(R"({"type":"insert","position":-1,"item":3})");
  ASSERT_TRUE(Apply(TopicType::kList, v, c).ok());
  EXPECT_EQ(ToJson(v), "[1,2,3]");
  EXPECT_EQ(c.position(), 2);
}

pb::Snapshot Snap(const std::string& topic, const std::string& type,
                  const std::string& value, uint64_t version) {
  pb::Snapshot s;
  s.set_topic(topic);
  s.set_type(type);
  *s.mutable_value() = J(value);
  s.set_version(version);
  return s;
}

pb::Update Up(const std::string& topic, uint64_t version,
              const std::string& action, const std::string& origin,
              const std::string& change) {
  pb::Update u;
  u.set_topic(topic);
  u.set_version(version);
  u.set_action(action);
  u.set_origin(origin);
  *u.add_changes() = C(change);
  u.mutable_changes(0)->set_topic(topic);
  return u;
}

pb::Action Act(const std::string& id, const std::string& topic,
               const std::string& change) {
  pb::Action a;
  a.set_id(id);
  *a.add_changes() = C(change);
  a.mutable_changes(0)->set_topic(topic);
  return a;
}

absl::Status Prev(ReplicaSet& rs, pb::Action a, ReplicaSet::Events* events) {
  return rs.Preview(a, events);
}

TEST(TopicRebaseTest, TransformsFollowTheSpecRules) {
  auto moved = [](const std::string& mine, const std::string& other) {
    pb::Change m = C(mine);
    TransformOver(m, C(other));
    return absl::StrCat(m.position(), ":", m.text());
  };
  const std::string ins5 = R"({"type":"insert","position":5,"text":"ab"})";
  // Insert over insert: shifted only by an insert strictly before it.
  EXPECT_EQ(moved(ins5, R"({"type":"insert","position":2,"text":"xyz"})"),
            "8:ab");
  EXPECT_EQ(moved(ins5, R"({"type":"insert","position":5,"text":"xyz"})"),
            "5:ab");
  // Insert over delete: before it shifts left; inside it is dropped.
  EXPECT_EQ(moved(ins5, R"({"type":"delete","position":1,"text":"éé"})"),
            "3:ab");
  EXPECT_EQ(moved(ins5, R"({"type":"delete","position":4,"text":"xyz"})"),
            "4:");
  // Delete over insert: an insert inside the range is deleted too.
  const std::string del = R"({"type":"delete","position":2,"text":"cdef"})";
  EXPECT_EQ(moved(del, R"({"type":"insert","position":4,"text":"XY"})"),
            "2:cdXYef");
  EXPECT_EQ(moved(del, R"({"type":"insert","position":1,"text":"XY"})"),
            "4:cdef");
  // Delete over delete: only what is still there.
  EXPECT_EQ(moved(del, R"({"type":"delete","position":4,"text":"efgh"})"),
            "2:cd");
  EXPECT_EQ(moved(del, R"({"type":"delete","position":0,"text":"abc"})"),
            "0:def");
  EXPECT_EQ(moved(del, R"({"type":"set","value":"new"})"), "0:");
}

// Applying two concurrent edits in either order through the transform gives
// one text (the property the hub relies on for insert / insert).
TEST(TopicRebaseTest, ConcurrentInsertsConverge) {
  std::mt19937 rng(99);
  for (int round = 0; round < 500; ++round) {
    const std::string base = "abcdefgh";
    pb::Change a = C(R"({"type":"insert","text":"XX"})");
    pb::Change b = C(R"({"type":"insert","text":"y"})");
    a.set_position(static_cast<int>(rng() % 9));
    b.set_position(static_cast<int>(rng() % 9));
    // Hub order a then b: b is moved over a.
    Value v;
    v.set_string_value(base);
    pb::Change a1 = a, b1 = b;
    ASSERT_TRUE(Apply(TopicType::kString, v, a1).ok());
    TransformOver(b1, a);
    ASSERT_TRUE(Apply(TopicType::kString, v, b1).ok());
    // Both texts are there, each where its author put it relative to base.
    EXPECT_NE(v.string_value().find("XX"), std::string::npos);
    EXPECT_NE(v.string_value().find('y'), std::string::npos);
    EXPECT_EQ(v.string_value().size(), base.size() + 3);
  }
}

TEST(TopicRebaseTest, HistoryRefusesAStaleBase) {
  StringHistory h(2);
  for (uint64_t v = 1; v <= 5; ++v) {
    h.Record(v, "other", {C(R"({"type":"insert","position":0,"text":"z"})")});
  }
  pb::Change c = C(R"({"type":"insert","position":1,"text":"q"})");
  c.set_base(1);
  EXPECT_EQ(h.Rebase(c, "me", 5).code(), absl::StatusCode::kFailedPrecondition);
  c.set_base(3);
  ASSERT_TRUE(h.Rebase(c, "me", 5).ok());
  EXPECT_EQ(c.position(), 3);  // moved over versions 4 and 5
}

TEST(TopicReplicaTest, PreviewThenEchoConfirms) {
  ReplicaSet rs;
  rs.Expect("n");
  ASSERT_TRUE(rs.OnSnapshot(Snap("n", "int", "1", 3), nullptr));
  ASSERT_TRUE(
      Prev(rs, Act("me_1", "n", R"({"type":"add","value":2})"), nullptr).ok());
  EXPECT_EQ(rs.Shown("n").value(), "3");
  EXPECT_EQ(rs.Version("n").value(), 3u);
  EXPECT_FALSE(rs.OnUpdate(
      Up("n", 4, "me_1", "me", R"({"type":"add","value":2})"), "me", nullptr));
  EXPECT_EQ(rs.Shown("n").value(), "3");  // not applied twice
  pb::Applied ok;
  (*ok.mutable_versions())["n"] = 4;
  rs.Accepted("me_1", ok, nullptr);
  EXPECT_EQ(rs.pending(), 0u);
}

TEST(TopicReplicaTest, ForeignChangeRebasesPendingPreview) {
  ReplicaSet rs;
  rs.Expect("x");
  ASSERT_TRUE(rs.OnSnapshot(Snap("x", "list", "[]", 0), nullptr));
  ASSERT_TRUE(
      Prev(rs,
           Act("me_1", "x", R"({"type":"insert","position":-1,"item":"mine"})"),
           nullptr)
          .ok());
  // Another client's insert lands first: both show, mine after it.
  EXPECT_FALSE(rs.OnUpdate(
      Up("x", 1, "b_1", "b", R"({"type":"insert","position":0,"item":"b"})"),
      "me", nullptr));
  EXPECT_EQ(rs.Shown("x").value(), R"(["b","mine"])");
  // Refused: rolled back, the foreign change stays.
  ReplicaSet::Events events;
  rs.Failed("me_1", absl::PermissionDeniedError("no"), &events);
  EXPECT_EQ(rs.Shown("x").value(), R"(["b"])");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, TopicEvent::Kind::kRolledBack);
  EXPECT_EQ(events[0].status.code(), absl::StatusCode::kPermissionDenied);
}

TEST(TopicReplicaTest, GapAsksForResyncAndSnapshotCatchesUp) {
  ReplicaSet rs;
  rs.Expect("n");
  ASSERT_TRUE(rs.OnSnapshot(Snap("n", "int", "0", 0), nullptr));
  EXPECT_TRUE(rs.OnUpdate(Up("n", 2, "a", "b", R"({"type":"add","value":1})"),
                          "me", nullptr));  // version 1 missed
  EXPECT_FALSE(rs.Ready("n"));
  EXPECT_FALSE(rs.OnUpdate(Up("n", 3, "c", "b", R"({"type":"add","value":10})"),
                           "me", nullptr));  // held
  ASSERT_TRUE(rs.OnSnapshot(Snap("n", "int", "2", 2), nullptr));
  EXPECT_EQ(rs.Shown("n").value(), "12");  // the held update applied after
  EXPECT_EQ(rs.Version("n").value(), 3u);
}

TEST(TopicReplicaTest, NoticeDuringResyncAsksAgainWhenSnapshotIsOlder) {
  ReplicaSet rs;
  rs.Expect("n");
  ASSERT_TRUE(rs.OnSnapshot(Snap("n", "int", "0", 0), nullptr));
  // A gap starts a resync; while it runs the hub's updates 3..9 are lost and
  // only a version notice for 9 arrives (no update will follow it).
  EXPECT_TRUE(rs.OnUpdate(Up("n", 2, "a", "b", R"({"type":"add","value":1})"),
                          "me", nullptr));
  pb::Update notice;
  notice.set_topic("n");
  notice.set_version(9);
  EXPECT_FALSE(rs.OnUpdate(notice, "me", nullptr));
  // The snapshot was taken at 2, before the notice: not whole, ask again.
  EXPECT_FALSE(rs.OnSnapshot(Snap("n", "int", "2", 2), nullptr));
  EXPECT_FALSE(rs.Ready("n"));
  // The next snapshot is current, and the notice is spent.
  EXPECT_TRUE(rs.OnSnapshot(Snap("n", "int", "9", 9), nullptr));
  EXPECT_EQ(rs.Version("n").value(), 9u);
  EXPECT_TRUE(rs.Ready("n"));
}

TEST(TopicReplicaTest, LocallyInvalidActionIsNotSent) {
  ReplicaSet rs;
  rs.Expect("s");
  ASSERT_TRUE(rs.OnSnapshot(Snap("s", "set", "[1]", 0), nullptr));
  EXPECT_EQ(Prev(rs, Act("me_1", "s", R"({"type":"append","item":1})"), nullptr)
                .code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(rs.pending(), 0u);
}

}  // namespace
}  // namespace msock::internal::topics
