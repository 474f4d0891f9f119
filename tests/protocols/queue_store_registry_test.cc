// The queue store's registry (protocols/queue/sqlite_registry.cc): users and
// nodes with secrets, logins, aliases, lists and their notices, and the
// bounds on them; the file (one store per file, message ids across
// restarts). Messages are in queue_store_test.cc.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/protocols/queue_store_test_util.h"

namespace msock::internal::queue::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

TEST_F(QueueStoreTest, RegisterThenLogin) {
  absl::StatusOr<RegisterResult> r = Register({.user = "bob", .node = "phone"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->new_user);
  EXPECT_EQ(r->secret.size(), 64u);  // 32 random bytes, hex
  EXPECT_EQ(r->copied, 0u);
  absl::StatusOr<uint64_t> pending = Login("bob", "phone", r->secret);
  ASSERT_TRUE(pending.ok()) << pending.status();
  EXPECT_EQ(*pending, 0u);
}

TEST_F(QueueStoreTest, LoginRefusedWithOneMessageForEveryReason) {
  std::string secret = NewUser("bob", "phone");
  absl::StatusOr<uint64_t> wrong = Login("bob", "phone", secret + "0");
  absl::StatusOr<uint64_t> no_node = Login("bob", "tablet", secret);
  absl::StatusOr<uint64_t> no_user = Login("zed", "phone", secret);
  absl::StatusOr<uint64_t> empty = Login("bob", "phone", "");
  for (const auto* r : {&wrong, &no_node, &no_user, &empty}) {
    EXPECT_EQ(r->status().code(), absl::StatusCode::kPermissionDenied);
    EXPECT_EQ(r->status().message(), wrong.status().message());
  }
}

TEST_F(QueueStoreTest, SecretIsStoredOnlyAsAHash) {
  std::string secret = NewUser("bob", "phone");
  store_->Close();
  absl::StatusOr<std::unique_ptr<Db>> db = Db::Open(opts_.db_path, false);
  ASSERT_TRUE(db.ok()) << db.status();
  absl::StatusOr<Stmt> s = (*db)->Prepare("SELECT secret FROM nodes");
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_TRUE(s->Step().value_or(false));
  EXPECT_EQ(s->Text(0).size(), 64u);  // SHA-256, hex
  EXPECT_NE(s->Text(0), secret);
}

TEST_F(QueueStoreTest, RegisterOfAnExistingNodeIsRefused) {
  std::string secret = NewUser("bob", "phone");
  absl::StatusOr<RegisterResult> again = Register({.user = "bob",
                                                   .node = "phone",
                                                   .proof_node = "phone",
                                                   .proof_secret = secret});
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE(Login("bob", "phone", secret).ok());  // secret unchanged
}

TEST_F(QueueStoreTest, AddingANodeNeedsProof) {
  std::string secret = NewUser("bob", "phone");
  absl::StatusOr<RegisterResult> none = Register({.user = "bob", .node = "pc"});
  EXPECT_EQ(none.status().code(), absl::StatusCode::kAlreadyExists);
  absl::StatusOr<RegisterResult> wrong = Register({.user = "bob",
                                                   .node = "pc",
                                                   .proof_node = "phone",
                                                   .proof_secret = "x"});
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kPermissionDenied);
  absl::StatusOr<RegisterResult> no_node = Register({.user = "bob",
                                                     .node = "pc",
                                                     .proof_node = "tv",
                                                     .proof_secret = secret});
  EXPECT_EQ(no_node.status().code(), absl::StatusCode::kPermissionDenied);
  // A wrong proof does not learn whether the node exists.
  absl::StatusOr<RegisterResult> probe = Register({.user = "bob",
                                                   .node = "phone",
                                                   .proof_node = "phone",
                                                   .proof_secret = "x"});
  EXPECT_EQ(probe.status().code(), absl::StatusCode::kPermissionDenied);
  // Logged in as another user proves nothing.
  absl::StatusOr<RegisterResult> other = Register(
      {.user = "bob", .node = "pc", .logged_user = "al", .logged_node = "x"});
  EXPECT_EQ(other.status().code(), absl::StatusCode::kAlreadyExists);

  absl::StatusOr<RegisterResult> ok = Register({.user = "bob",
                                                .node = "pc",
                                                .proof_node = "phone",
                                                .proof_secret = secret});
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_FALSE(ok->new_user);
  EXPECT_NE(ok->secret, secret);
  EXPECT_TRUE(Login("bob", "pc", ok->secret).ok());
  EXPECT_FALSE(Login("bob", "pc", secret).ok());  // each node its own secret
  // A connection logged in as bob needs no proof.
  absl::StatusOr<RegisterResult> logged = Register(
      {.user = "bob", .node = "tv", .logged_user = "bob", .logged_node = "pc"});
  EXPECT_TRUE(logged.ok()) << logged.status();
}

TEST_F(QueueStoreTest, NewNodeGetsTheSourceNodesBacklog) {
  std::string phone = NewUser("bob", "phone");
  NewUser("al", "a");
  uint64_t first = MustPost({"al", "a"}, {"bob"}).id;
  uint64_t second = MustPost({"al", "a"}, {"bob"}).id;
  ASSERT_TRUE(Ack({"bob", "phone"}, {first}).ok());
  absl::StatusOr<RegisterResult> r = Register({.user = "bob",
                                               .node = "pc",
                                               .proof_node = "phone",
                                               .proof_secret = phone});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->copied, 1u);  // acknowledged entries are not copied
  EXPECT_THAT(Pending({"bob", "pc"}), ElementsAre(second));
  uint64_t third = MustPost({"al", "a"}, {"bob"}).id;
  EXPECT_THAT(Pending({"bob", "pc"}), ElementsAre(second, third));
}

TEST_F(QueueStoreTest, NamesAreChecked) {
  for (std::string bad : {std::string(), std::string("@x"), std::string("#x"),
                          std::string("a\nb"), std::string(200, 'u')}) {
    absl::StatusOr<RegisterResult> r = Register({.user = bad, .node = "n"});
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  absl::StatusOr<RegisterResult> r = Register({.user = "u", .node = ""});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(QueueStoreTest, MaxNodesPerUser) {
  opts_.max_nodes = 2;
  Reopen();
  std::string secret = NewUser("bob", "n1");
  AddNode("bob", "n2", "n1", secret);
  absl::StatusOr<RegisterResult> third = Register({.user = "bob",
                                                   .node = "n3",
                                                   .proof_node = "n1",
                                                   .proof_secret = secret});
  EXPECT_EQ(third.status().code(), absl::StatusCode::kResourceExhausted);
}

TEST_F(QueueStoreTest, AliasesTakenByAnotherUserAreRefused) {
  absl::StatusOr<RegisterResult> bob =
      Register({.user = "bob", .node = "b", .aliases = {"bobby", "b2", ""}});
  ASSERT_TRUE(bob.ok()) << bob.status();
  EXPECT_THAT(bob->aliases, ElementsAre("bobby", "b2"));
  absl::StatusOr<RegisterResult> al =
      Register({.user = "al", .node = "a", .aliases = {"bobby", "al"}});
  ASSERT_TRUE(al.ok()) << al.status();
  EXPECT_THAT(al->aliases, ElementsAre("al"));

  absl::StatusOr<std::vector<std::string>> set =
      Call<std::vector<std::string>>([&](auto done) {
        store_->SetAliases("al", {"b2", "ally", "ally"}, done);
      });
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_THAT(*set, ElementsAre("ally"));  // "al" was replaced, "b2" taken
  // bob releases "bobby" by replacing his aliases; al can take it then.
  set = Call<std::vector<std::string>>(
      [&](auto done) { store_->SetAliases("bob", {"b2"}, done); });
  ASSERT_TRUE(set.ok()) << set.status();
  set = Call<std::vector<std::string>>(
      [&](auto done) { store_->SetAliases("al", {"bobby"}, done); });
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_THAT(*set, ElementsAre("bobby"));

  opts_.max_aliases = 1;
  Reopen();
  set = Call<std::vector<std::string>>([&](auto done) {
    store_->SetAliases("al", {"x", "y"}, done);
  });
  EXPECT_EQ(set.status().code(), absl::StatusCode::kResourceExhausted);
}

TEST_F(QueueStoreTest, ListAddCreatesThenOnlyMembersEdit) {
  NewUser("al", "a");
  NewUser("bob", "b1");
  NewUser("cy", "c");
  absl::StatusOr<ListOutcome> add = EditList("al", "team", "add", "bob");
  ASSERT_TRUE(add.ok()) << add.status();
  EXPECT_THAT(add->members, ElementsAre("al", "bob"));  // the creator too
  ASSERT_NE(add->notice.msg, nullptr);
  EXPECT_EQ(add->notice.msg->kind, "list");
  EXPECT_EQ(add->notice.msg->meta,
            R"({"list":"team","op":"add","member":"bob","by":"al"})");
  EXPECT_THAT(add->notice.msg->to, ElementsAre("#team"));
  EXPECT_EQ(Sorted(add->notice.nodes),
            (std::vector<NodeKey>{{"al", "a"}, {"bob", "b1"}}));
  EXPECT_THAT(Pending({"bob", "b1"}), ElementsAre(add->notice.msg->id));

  EXPECT_EQ(EditList("cy", "team", "add", "cy").status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(EditList("cy", "team", "get", "").status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(EditList("al", "team", "add", "nobody").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(EditList("al", "team", "rename", "cy").status().code(),
            absl::StatusCode::kInvalidArgument);
  absl::StatusOr<ListOutcome> get = EditList("bob", "#team", "get", "");
  ASSERT_TRUE(get.ok()) << get.status();  // "#team": as in an address
  EXPECT_THAT(get->members, ElementsAre("al", "bob"));
  EXPECT_THAT(get->notice.nodes, IsEmpty());
  // Adding a member again changes nothing and tells nobody.
  absl::StatusOr<ListOutcome> again = EditList("bob", "team", "add", "al");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_THAT(again->notice.nodes, IsEmpty());
}

TEST_F(QueueStoreTest, ListRemoveTellsTheRemovedAndDeletesAnEmptyList) {
  NewUser("al", "a");
  NewUser("bob", "b1");
  ASSERT_TRUE(EditList("al", "team", "add", "bob").ok());
  absl::StatusOr<ListOutcome> rm = EditList("bob", "team", "remove", "al");
  ASSERT_TRUE(rm.ok()) << rm.status();
  EXPECT_THAT(rm->members, ElementsAre("bob"));
  EXPECT_EQ(Sorted(rm->notice.nodes),
            (std::vector<NodeKey>{{"al", "a"}, {"bob", "b1"}}));
  EXPECT_THAT(rm->notice.msg->meta, HasSubstr(R"("op":"remove")"));
  EXPECT_EQ(EditList("al", "team", "remove", "bob").status().code(),
            absl::StatusCode::kPermissionDenied);  // no longer a member
  EXPECT_EQ(EditList("bob", "team", "remove", "al").status().code(),
            absl::StatusCode::kNotFound);
  rm = EditList("bob", "team", "remove", "bob");
  ASSERT_TRUE(rm.ok()) << rm.status();
  EXPECT_THAT(rm->members, IsEmpty());
  EXPECT_EQ(EditList("bob", "team", "get", "").status().code(),
            absl::StatusCode::kNotFound);
  absl::StatusOr<PostOutcome> p =
      Post({.from_user = "bob", .from_node = "b1", .to = {"#team"}});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(p->errors, ElementsAre("#team: no such list"));
}

TEST_F(QueueStoreTest, MaxListMembers) {
  opts_.max_list_members = 2;
  Reopen();
  NewUser("al", "a");
  NewUser("bob", "b");
  NewUser("cy", "c");
  ASSERT_TRUE(EditList("al", "team", "add", "bob").ok());
  EXPECT_EQ(EditList("al", "team", "add", "cy").status().code(),
            absl::StatusCode::kResourceExhausted);
}

TEST_F(QueueStoreTest, RegistryIsDurableAcrossReopen) {
  opts_.fsync = true;
  Reopen();
  std::string secret = NewUser("bob", "phone", {"bobby"});
  NewUser("al", "a");
  ASSERT_TRUE(EditList("al", "team", "add", "bob").ok());
  Reopen();
  EXPECT_TRUE(Login("bob", "phone", secret).ok());
  absl::StatusOr<ListOutcome> get = EditList("al", "team", "get", "");
  ASSERT_TRUE(get.ok()) << get.status();
  EXPECT_THAT(get->members, ElementsAre("al", "bob"));
  PostOutcome p = MustPost({"al", "a"}, {"@bobby"});
  EXPECT_EQ(p.fanout.nodes, (std::vector<NodeKey>{{"bob", "phone"}}));
}

// A second store on a file in use is refused with a status that says so, the
// first goes on unharmed, and its Close lets another store open the file.
TEST_F(QueueStoreTest, OneStorePerFile) {
  std::string secret = NewUser("bob", "phone");
  absl::StatusOr<std::unique_ptr<QueueStore>> second = OpenSqliteStore(opts_);
  ASSERT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(second.status().message(), HasSubstr(opts_.db_path));
  EXPECT_THAT(second.status().message(), HasSubstr("in use"));
  // The refused attempt left the first store's file and locks alone.
  NewUser("al", "a");
  EXPECT_EQ(Rows("users"), 2);
  store_->Close();  // not destroyed yet: closing is enough
  absl::StatusOr<std::unique_ptr<QueueStore>> next = OpenSqliteStore(opts_);
  ASSERT_TRUE(next.ok()) << next.status();
  store_->Close();
  store_ = std::move(*next);
  EXPECT_TRUE(Login("bob", "phone", secret).ok());
}

// Ids are reserved in blocks (one row per block, not per post): past a
// block's end, and after a restart with every message gone, they still grow.
TEST_F(QueueStoreTest, IdsGrowPastABlockAndAcrossRestarts) {
  NewUser("al", "a");
  NewUser("bob", "b");
  const NodeKey al{"al", "a"}, bob{"bob", "b"};
  uint64_t last = 0;
  for (int i = 0; i < 1100; ++i) {  // SqliteStore::kIdBlock is 1024
    const uint64_t id = MustPost(al, {"bob"}).id;
    ASSERT_GT(id, last);
    last = id;
    ASSERT_TRUE(Ack(bob, {id}).ok());
  }
  EXPECT_EQ(Rows("messages"), 0);
  Reopen();
  EXPECT_GT(MustPost(al, {"bob"}).id, last);
}

// A file made before the id blocks (messages.id AUTOINCREMENT): its ids
// carry on above its sqlite_sequence, even with no message left.
TEST_F(QueueStoreTest, IdsOfAnOlderFileCarryOn) {
  NewUser("al", "a");
  NewUser("bob", "b");
  store_->Close();
  store_.reset();
  {
    absl::StatusOr<std::unique_ptr<Db>> db = Db::Open(opts_.db_path, false);
    ASSERT_TRUE(db.ok()) << db.status();
    ASSERT_TRUE((*db)
                    ->Exec("DROP TABLE meta;"
                           "CREATE TABLE old(id INTEGER PRIMARY KEY "
                           "AUTOINCREMENT);"
                           "INSERT INTO sqlite_sequence VALUES('messages', "
                           "5000);")
                    .ok());
  }
  Open();
  EXPECT_GT(MustPost({"al", "a"}, {"bob"}).id, 5000u);
}

}  // namespace
}  // namespace msock::internal::queue::test
