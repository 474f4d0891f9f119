// Helpers of the durable queue tests: a fixture running a QueueServer on a
// fresh SQLite file per test, listening on the transport under test (the
// parameter), and the nodes that talk to it (connect, register, log in).
// "Did not get it" checks use a later marker instead of a sleep: a node's
// entries come in queue order, so once an entry queued later has arrived, an
// earlier one that was not seen never will be.
#ifndef MSOCK_TESTS_PROTOCOLS_QUEUE_TEST_UTIL_H_
#define MSOCK_TESTS_PROTOCOLS_QUEUE_TEST_UTIL_H_

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "msock/msock.h"
#include "msock/protocols/queue.h"
#include "tests/support/test_certs.h"
#include "tests/support/test_support.h"

namespace msock::test {

class QueueFixture : public ::testing::TestWithParam<std::string> {
 protected:
  void TearDown() override {
    clients_.clear();  // before the server they talk to
    if (server_ != nullptr) server_->Close();
    server_.reset();
  }

  // Options of the logic tests: no fsync (each file keeps one test with it).
  static QueueServerOptions NoSync() {
    QueueServerOptions o;
    o.fsync = false;
    return o;
  }

  // Opens the server on this test's database and listens on the transport
  // under test. Use as ASSERT_TRUE(Start(...)).
  bool Start(QueueServerOptions options = NoSync()) {
    options.db_path = db_path_;
    options_ = options;
    absl::StatusOr<std::unique_ptr<QueueServer>> s = QueueServer::Open(options);
    if (!s.ok()) {
      ADD_FAILURE() << "QueueServer::Open: " << s.status();
      return false;
    }
    server_ = std::move(*s);
    if (tls()) UseTestTls(server_->hub().socket());
    absl::StatusOr<std::string> url = server_->Listen(ListenUrlFor(GetParam()));
    if (!url.ok()) {
      ADD_FAILURE() << "QueueServer::Listen: " << url.status();
      return false;
    }
    url_ = *url;
    return true;
  }
  // Closes every client and the server, then opens the server again on the
  // same file with the same options (at a new URL).
  bool Restart() {
    clients_.clear();
    server_->Close();
    server_.reset();
    return Start(options_);
  }
  QueueServer& server() { return *server_; }

  // A new connection, not logged in (fast re-dial, TLS for wss).
  QueueClient& Connect(const QueueClientOptions& options = {}) {
    auto c = std::make_unique<QueueClient>(options);
    EXPECT_TRUE(
        c->rooms().Set(opt::kReconnectMin, absl::Milliseconds(10)).ok());
    if (tls()) UseTestTls(c->rooms().socket());
    absl::Status st = c->Connect(url_, Deadline(10));
    EXPECT_TRUE(st.ok()) << st;
    clients_.push_back(std::move(c));
    return *clients_.back();
  }
  // Registers `node` of `user` on `c`: the user's first node, or one added
  // with the secret of the user's first node. Returns the secret ("" after
  // a failure, which is reported).
  std::string RegisterOn(QueueClient& c, const std::string& user,
                         const std::string& node,
                         std::vector<std::string> aliases = {}) {
    std::string proof_node, proof_secret;
    if (auto it = first_node_.find(user); it != first_node_.end()) {
      proof_node = it->second;
      proof_secret = secrets_[user + "/" + proof_node];
    }
    absl::StatusOr<std::string> secret = c.Register(
        user, node, Deadline(10), std::move(aliases), proof_node, proof_secret);
    EXPECT_TRUE(secret.ok()) << user << "/" << node << ": " << secret.status();
    if (!secret.ok()) return "";
    EXPECT_FALSE(secret->empty());
    first_node_.emplace(user, node);
    secrets_[user + "/" + node] = *secret;
    return *secret;
  }
  // Registers a node without logging it in (an offline device).
  void RegisterOffline(const std::string& user, const std::string& node) {
    QueueClient& c = Connect();
    RegisterOn(c, user, node);
    c.Close();
  }
  // A new connection logged in as a registered node.
  QueueClient& LoginAs(const std::string& user, const std::string& node,
                       const QueueClientOptions& options = {}) {
    QueueClient& c = Connect(options);
    absl::Status st =
        c.Login(user, node, secrets_[user + "/" + node], Deadline(10));
    EXPECT_TRUE(st.ok()) << user << "/" << node << ": " << st;
    return c;
  }
  // A new connection that registers `node` of `user` and logs in as it.
  QueueClient& NewNode(const std::string& user, const std::string& node,
                       const QueueClientOptions& options = {},
                       std::vector<std::string> aliases = {}) {
    QueueClient& c = Connect(options);
    std::string secret = RegisterOn(c, user, node, std::move(aliases));
    absl::Status st = c.Login(user, node, secret, Deadline(10));
    EXPECT_TRUE(st.ok()) << user << "/" << node << ": " << st;
    return c;
  }
  // Receives from `c`, acking every entry, until one satisfies `want` (not
  // acked: returned to the caller); the others go to `skipped`.
  static absl::StatusOr<QueueMessage> ReceiveUntil(
      QueueClient& c, const std::function<bool(const QueueMessage&)>& want,
      absl::Time deadline, std::vector<QueueMessage>* skipped = nullptr) {
    for (int i = 0; i < 1000; ++i) {
      absl::StatusOr<QueueMessage> m = c.Receive(deadline);
      if (!m.ok() || want(*m)) return m;
      if (skipped != nullptr) skipped->push_back(*m);
      absl::Status st = c.Ack(m->id, deadline);
      if (!st.ok()) return st;
    }
    return absl::ResourceExhaustedError("test: over 1000 entries skipped");
  }
  static absl::StatusOr<QueueMessage> ReceiveBody(
      QueueClient& c, const std::string& body, absl::Time deadline,
      std::vector<QueueMessage>* skipped = nullptr) {
    return ReceiveUntil(
        c, [&](const QueueMessage& m) { return m.body == body; }, deadline,
        skipped);
  }
  // Posts `marker` from `from` to `to` (without self-sync), then checks that
  // `c` gets it, acks it, and saw nothing with id `absent` on the way (entries
  // before it are acked). Returns the skipped entries.
  static std::vector<QueueMessage> ExpectNotBefore(QueueClient& from,
                                                   const std::string& to,
                                                   QueueClient& c,
                                                   uint64_t absent,
                                                   const std::string& marker) {
    std::vector<QueueMessage> skipped;
    PostOptions no_self;
    no_self.no_self = true;
    absl::StatusOr<PostResult> r =
        from.Post({to}, marker, Deadline(10), no_self);
    EXPECT_TRUE(r.ok()) << r.status();
    absl::StatusOr<QueueMessage> m =
        ReceiveBody(c, marker, Deadline(10), &skipped);
    EXPECT_TRUE(m.ok()) << marker << ": " << m.status();
    if (m.ok()) {
      EXPECT_TRUE(c.Ack(m->id, Deadline(10)).ok());
    }
    for (const QueueMessage& s : skipped) {
      EXPECT_NE(s.id, absent) << "got " << s.body << " before " << marker;
    }
    return skipped;
  }
  // The ids waiting in `c`'s queue (empty after an error, which is reported).
  static std::vector<uint64_t> PendingIds(QueueClient& c) {
    absl::StatusOr<std::vector<uint64_t>> p = c.Pending(Deadline(10));
    EXPECT_TRUE(p.ok()) << p.status();
    return p.value_or(std::vector<uint64_t>());
  }
  static bool Contains(const std::vector<uint64_t>& ids, uint64_t id) {
    return std::find(ids.begin(), ids.end(), id) != ids.end();
  }

  bool tls() const { return GetParam() == "wss"; }

  // Declaration order matters: the directory outlives the server, and what
  // hooks record outlives it too; the clients go before the server.
  ScratchDir dir_;
  const std::string db_path_ = dir_.NewPath("db");
  std::mutex mu_;
  std::vector<QueueRegistration> registrations_;
  QueueServerOptions options_;
  std::unique_ptr<QueueServer> server_;
  std::string url_;
  std::map<std::string, std::string> secrets_;     // "user/node" -> secret
  std::map<std::string, std::string> first_node_;  // user -> its first node
  std::vector<std::unique_ptr<QueueClient>> clients_;
};

}  // namespace msock::test

#endif  // MSOCK_TESTS_PROTOCOLS_QUEUE_TEST_UTIL_H_
