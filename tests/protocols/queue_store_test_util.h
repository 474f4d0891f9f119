// The fixture of the queue store's tests (queue_store_test.cc,
// queue_store_registry_test.cc): a SQLite store on a scratch file, and
// synchronous faces on its asynchronous operations that wait for `done` with
// a deadline (never a sleep).
#ifndef MSOCK_TESTS_PROTOCOLS_QUEUE_STORE_TEST_UTIL_H_
#define MSOCK_TESTS_PROTOCOLS_QUEUE_STORE_TEST_UTIL_H_

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "protocols/queue/sqlite_db.h"
#include "protocols/queue/sqlite_store.h"
#include "protocols/queue/store.h"
#include "tests/protocols/queue_store_call.h"
#include "tests/support/test_support.h"

namespace msock::internal::queue::test {

inline constexpr int64_t kNow = 1'700'000'000'000;  // a fixed "now", unix ms
inline std::vector<NodeKey> Sorted(std::vector<NodeKey> v) {
  std::sort(v.begin(), v.end());
  return v;
}

class QueueStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    opts_.db_path = msock::test::Scratch().NewPath("db");
    opts_.fsync = false;  // the logic; DurableAcrossReopen syncs
    Open();
  }
  void TearDown() override {
    if (store_) store_->Close();
  }

  void Open() {
    absl::StatusOr<std::unique_ptr<QueueStore>> s = OpenSqliteStore(opts_);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
  }
  // Closes the store (what was submitted runs first) and opens the file again.
  void Reopen() {
    store_->Close();
    store_.reset();
    Open();
  }
  // Rows in `table`, counted by the store (it holds the file exclusively).
  int64_t Rows(const std::string& table) {
    auto* store = static_cast<SqliteStore*>(store_.get());
    absl::StatusOr<int64_t> n = Call<int64_t>(
        [&](auto done) { store->RowsForTest(table, std::move(done)); });
    EXPECT_TRUE(n.ok()) << n.status();
    return n.value_or(-1);
  }

  absl::StatusOr<RegisterResult> Register(RegisterRequest req) {
    if (req.now_ms == 0) req.now_ms = kNow;
    return Call<RegisterResult>(
        [&](auto done) { store_->Register(std::move(req), done); });
  }
  // Registers a new user with its first node; returns the node's secret.
  std::string NewUser(const std::string& user, const std::string& node,
                      std::vector<std::string> aliases = {}) {
    absl::StatusOr<RegisterResult> r =
        Register({.user = user, .node = node, .aliases = std::move(aliases)});
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->secret : "";
  }
  // Adds `node` to `user` with the proof of `proof_node`.
  std::string AddNode(const std::string& user, const std::string& node,
                      const std::string& proof_node,
                      const std::string& proof_secret) {
    absl::StatusOr<RegisterResult> r = Register({.user = user,
                                                 .node = node,
                                                 .proof_node = proof_node,
                                                 .proof_secret = proof_secret});
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->secret : "";
  }
  absl::StatusOr<uint64_t> Login(const std::string& user,
                                 const std::string& node,
                                 const std::string& secret) {
    return Call<uint64_t>([&](auto done) {
      store_->Login({user, node}, secret, kNow, done);
    });
  }
  absl::StatusOr<PostOutcome> Post(PostRequest req) {
    if (req.now_ms == 0) req.now_ms = kNow;
    return Call<PostOutcome>(
        [&](auto done) { store_->Post(std::move(req), done); });
  }
  // A post from `from` to `to` that must succeed.
  PostOutcome MustPost(const NodeKey& from, std::vector<std::string> to,
                       std::string body = "hi") {
    absl::StatusOr<PostOutcome> r = Post({.from_user = from.first,
                                          .from_node = from.second,
                                          .to = std::move(to),
                                          .body = std::move(body)});
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? std::move(*r) : PostOutcome();
  }
  absl::StatusOr<AckOutcome> Ack(const NodeKey& node,
                                 std::vector<uint64_t> ids) {
    return Call<AckOutcome>(
        [&](auto done) { store_->Ack(node, std::move(ids), done); });
  }
  absl::StatusOr<LoadResult> Load(const NodeKey& node, uint64_t after,
                                  size_t limit, int64_t now_ms = kNow) {
    return Call<LoadResult>(
        [&](auto done) { store_->Load(node, after, limit, now_ms, done); });
  }
  // The ids in `node`'s queue, oldest first (empty on errors, which fail).
  std::vector<uint64_t> Pending(const NodeKey& node) {
    absl::StatusOr<std::vector<uint64_t>> r = Call<std::vector<uint64_t>>(
        [&](auto done) { store_->Pending(node, 0, done); });
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : std::vector<uint64_t>();
  }
  absl::StatusOr<ListOutcome> EditList(const std::string& user,
                                       const std::string& list,
                                       const std::string& op,
                                       const std::string& member) {
    return Call<ListOutcome>([&](auto done) {
      store_->EditList(user, list, op, member, kNow, done);
    });
  }

  QueueServerOptions opts_;
  std::unique_ptr<QueueStore> store_;
};

}  // namespace msock::internal::queue::test

#endif  // MSOCK_TESTS_PROTOCOLS_QUEUE_STORE_TEST_UTIL_H_
