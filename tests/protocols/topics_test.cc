// Topics over a real hub: snapshot then changes, previews confirmed or rolled
// back, atomic actions across topics, validators, access rules and bad input
// refused with the connection kept, the topic list, removal, and a seeded
// convergence run (several clients, random concurrent changes, every replica
// ends equal to the hub's) over inproc, tcp and ws.
#include "msock/protocols/topics.h"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "google/protobuf/struct.pb.h"
#include "gtest/gtest.h"
#include "msock/protocols/inspector.h"
#include "tests/protocols/rooms_test_util.h"

namespace msock {
namespace {

using test::Deadline;
using test::ListenUrlFor;
using test::WaitUntil;

struct Peer {
  std::unique_ptr<test::TestClient> conn;
  std::unique_ptr<TopicsClient> topics;
};

class TopicsTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    host_ = std::make_unique<TopicHost>(hub_);
    absl::StatusOr<std::string> url = hub_.Listen(ListenUrlFor(GetParam()));
    ASSERT_TRUE(url.ok()) << url.status();
    url_ = *url;
  }
  void TearDown() override {
    peers_.clear();
    host_.reset();
  }
  Peer& NewPeer() {
    auto p = std::make_unique<Peer>();
    p->conn = test::ConnectClient(url_);
    p->topics = std::make_unique<TopicsClient>(*p->conn->client);
    peers_.push_back(std::move(p));
    return *peers_.back();
  }
  // Waits until `p`'s replica of `topic` equals the hub's value and has no
  // action in flight.
  bool Converged(Peer& p, const std::string& topic) {
    return WaitUntil(
        [&] {
          return p.topics->pending() == 0 &&
                 p.topics->Value(topic).value_or("?") ==
                     host_->Value(topic).value_or("!") &&
                 p.topics->Version(topic).value_or(0) ==
                     host_->Version(topic).value_or(1);
        },
        Deadline(10));
  }

  // What callbacks record: declared before the peers, so that it outlives
  // any callback still running when they go.
  std::mutex mu_;
  std::vector<TopicEvent> seen_;
  std::atomic<int> count_{0};
  Hub hub_;
  std::unique_ptr<TopicHost> host_;
  std::string url_;
  std::vector<std::unique_ptr<Peer>> peers_;
};

TEST_P(TopicsTest, SubscribeGetsSnapshotThenEveryChange) {
  ASSERT_TRUE(host_->Create("n", TopicType::kInt, "5").ok());
  Peer& a = NewPeer();
  Peer& b = NewPeer();
  ASSERT_TRUE(a.topics->Subscribe("n", Deadline(5)).ok());
  ASSERT_TRUE(b.topics->Subscribe("n", Deadline(5)).ok());
  EXPECT_EQ(a.topics->Value("n").value(), "5");
  ASSERT_TRUE(a.topics->Apply({changes::Add("n", 3)}, Deadline(5)).ok());
  EXPECT_EQ(host_->Value("n").value(), "8");
  EXPECT_EQ(host_->Version("n").value(), 1u);
  EXPECT_TRUE(Converged(a, "n"));
  EXPECT_TRUE(Converged(b, "n"));
  ASSERT_TRUE(host_->Apply({changes::Set("n", "1")}).ok());
  EXPECT_TRUE(Converged(b, "n"));
  EXPECT_EQ(b.topics->Value("n").value(), "1");
}

TEST_P(TopicsTest, ValidatorRefusalRollsBackWithItsStatus) {
  ASSERT_TRUE(host_->Create("todo", TopicType::kList).ok());
  ASSERT_TRUE(host_
                  ->Validate("todo",
                             [](const TopicProposal& p) {
                               return p.change_json.find("forbidden") ==
                                              std::string::npos
                                          ? absl::OkStatus()
                                          : absl::PermissionDeniedError(
                                                "no forbidden items");
                             })
                  .ok());
  Peer& a = NewPeer();
  ASSERT_TRUE(a.topics->Subscribe("todo", Deadline(5)).ok());
  std::mutex& mu = mu_;
  std::vector<TopicEvent>& seen = seen_;
  a.topics->OnChange("todo", [&](const TopicEvent& ev) {
    std::lock_guard<std::mutex> lock(mu);
    seen.push_back(ev);
  });
  absl::Status st = a.topics->Apply(
      {changes::ListInsert("todo", -1, "\"forbidden\"")}, Deadline(5));
  EXPECT_EQ(st.code(), absl::StatusCode::kPermissionDenied) << st;
  EXPECT_NE(st.message().find("no forbidden items"), std::string::npos) << st;
  EXPECT_EQ(a.topics->Value("todo").value(), "[]");
  {
    std::lock_guard<std::mutex> lock(mu);
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[0].kind, TopicEvent::Kind::kPreview);
    EXPECT_EQ(seen[0].value_json, R"(["forbidden"])");
    EXPECT_EQ(seen[1].kind, TopicEvent::Kind::kRolledBack);
    EXPECT_EQ(seen[1].value_json, "[]");
  }
  // The connection is kept: a valid change goes through.
  ASSERT_TRUE(
      a.topics->Apply({changes::ListInsert("todo", -1, "\"ok\"")}, Deadline(5))
          .ok());
  EXPECT_TRUE(Converged(a, "todo"));
  EXPECT_EQ(host_->stats().refused, 1u);
}

TEST_P(TopicsTest, ActionAcrossTopicsIsAllOrNothing) {
  ASSERT_TRUE(host_->Create("a", TopicType::kInt).ok());
  ASSERT_TRUE(host_->Create("s", TopicType::kSet, "[1]").ok());
  Peer& p = NewPeer();
  Peer& watcher = NewPeer();
  ASSERT_TRUE(p.topics->Subscribe("a", Deadline(5)).ok());
  ASSERT_TRUE(watcher.topics->Subscribe("a", Deadline(5)).ok());
  // The second change fails on the hub only (p does not hold "s").
  absl::Status st = p.topics->Apply(
      {changes::Add("a", 1), changes::SetAdd("s", "1")}, Deadline(5));
  EXPECT_EQ(st.code(), absl::StatusCode::kAlreadyExists) << st;
  EXPECT_NE(st.message().find("change 1"), std::string::npos) << st;
  EXPECT_EQ(host_->Value("a").value(), "0");
  EXPECT_EQ(host_->Version("a").value(), 0u);
  EXPECT_EQ(p.topics->Value("a").value(), "0");
  ASSERT_TRUE(p.topics
                  ->Apply({changes::Add("a", 1), changes::SetAdd("s", "2")},
                          Deadline(5))
                  .ok());
  EXPECT_EQ(host_->Value("s").value(), "[1,2]");
  EXPECT_TRUE(Converged(watcher, "a"));
  EXPECT_EQ(watcher.topics->Value("a").value(), "1");
}

TEST_P(TopicsTest, BadInputIsRefusedAndTheConnectionKept) {
  ASSERT_TRUE(host_->Create("n", TopicType::kInt).ok());
  Peer& p = NewPeer();
  EXPECT_EQ(p.topics->Subscribe("nope", Deadline(5)).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(p.topics->Apply({changes::Add("nope", 1)}, Deadline(5)).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(p.topics->Apply({changes::ListPop("n", 0)}, Deadline(5)).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      p.topics->Apply({changes::Set("n", "\"text\"")}, Deadline(5)).code(),
      absl::StatusCode::kInvalidArgument);
  const std::string big(300 * 1024, 'x');
  ASSERT_TRUE(host_->Create("g", TopicType::kGeneric).ok());
  EXPECT_EQ(p.topics->Apply({changes::Set("g", "\"" + big + "\"")}, Deadline(5))
                .code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(
      p.topics->Apply({changes::DictAdd("_sys/topics", "x", "{}")}, Deadline(5))
          .code(),
      absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(p.topics->Create("mine", TopicType::kInt, Deadline(5)).code(),
            absl::StatusCode::kPermissionDenied);
  absl::StatusOr<std::string> junk =
      p.conn->client->Emit("_topics/action", "{not json", Deadline(5));
  EXPECT_EQ(junk.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(p.topics->Apply({changes::Add("n", 2)}, Deadline(5)).ok());
  EXPECT_EQ(host_->Value("n").value(), "2");
  EXPECT_EQ(p.conn->client->rooms_stats().reconnects, 0u);
}

TEST_P(TopicsTest, TopicListShowsCreationsAndRemovalEndsSubscriptions) {
  Peer& p = NewPeer();
  ASSERT_TRUE(p.topics->Subscribe("_sys/topics", Deadline(5)).ok());
  ASSERT_TRUE(host_->Create("t", TopicType::kString, "\"hi\"").ok());
  ASSERT_TRUE(WaitUntil(
      [&] {
        return p.topics->Value("_sys/topics").value_or("") ==
               R"({"t":{"type":"string"}})";
      },
      Deadline(5)));
  ASSERT_TRUE(p.topics->Subscribe("t", Deadline(5)).ok());
  ASSERT_TRUE(host_->Remove("t").ok());
  EXPECT_TRUE(
      WaitUntil([&] { return !p.topics->Value("t").ok(); }, Deadline(5)));
  EXPECT_TRUE(WaitUntil(
      [&] { return p.topics->Value("_sys/topics").value_or("") == "{}"; },
      Deadline(5)));
  EXPECT_EQ(
      p.topics->Apply({changes::InsertText("t", 0, "x")}, Deadline(5)).code(),
      absl::StatusCode::kNotFound);
}

TEST_P(TopicsTest, ClientsCreateTopicsWhenTheHubAllows) {
  host_.reset();
  TopicHostOptions opts;
  opts.allow_client_topics = true;
  host_ = std::make_unique<TopicHost>(hub_, opts);
  Peer& p = NewPeer();
  ASSERT_TRUE(p.topics->Create("board", TopicType::kDict, Deadline(5)).ok());
  EXPECT_EQ(p.topics->Create("board", TopicType::kDict, Deadline(5)).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(p.topics->Fetch("board", Deadline(5)).value_or(""), "{}");
  ASSERT_TRUE(p.topics->Remove("board", Deadline(5)).ok());
  EXPECT_EQ(p.topics->Fetch("board", Deadline(5)).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_P(TopicsTest, StringEditsMadeOnAnOldVersionAreRebased) {
  ASSERT_TRUE(host_->Create("doc", TopicType::kString, "\"hello\"").ok());
  Peer& a = NewPeer();
  Peer& b = NewPeer();
  ASSERT_TRUE(a.topics->Subscribe("doc", Deadline(5)).ok());
  ASSERT_TRUE(
      a.topics->Apply({changes::InsertText("doc", 5, " world")}, Deadline(5))
          .ok());
  // b still thinks the text is "hello" (version 0): its edits are moved.
  auto raw = [&](const std::string& change) {
    return b.conn->client
        ->Emit("_topics/action",
               R"({"id":"b1","changes":[{"topic":"doc",)" + change + "}]}",
               Deadline(5))
        .status();
  };
  ASSERT_TRUE(
      raw(R"("type":"insert","position":5,"text":"!!","base":"0")").ok());
  EXPECT_EQ(host_->Value("doc").value(), "\"hello!! world\"");
  ASSERT_TRUE(
      raw(R"("type":"delete","position":0,"text":"he","base":"0")").ok());
  EXPECT_EQ(host_->Value("doc").value(), "\"llo!! world\"");
  EXPECT_TRUE(Converged(a, "doc"));
}

TEST_P(TopicsTest, CoalescedTopicSendsFewerMergedUpdates) {
  TopicOptions opts;
  opts.coalesce = absl::Milliseconds(50);
  ASSERT_TRUE(host_->Create("pos", TopicType::kInt, "", opts).ok());
  Peer& p = NewPeer();
  ASSERT_TRUE(p.topics->Subscribe("pos", Deadline(5)).ok());
  std::atomic<int>& applied = count_;
  p.topics->OnChange("pos", [&](const TopicEvent& ev) {
    if (ev.kind == TopicEvent::Kind::kApplied) applied++;
  });
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(host_->Apply({changes::Add("pos", 1)}).ok());
  }
  ASSERT_TRUE(host_->Apply({changes::Set("pos", "1000")}).ok());
  ASSERT_TRUE(host_->Apply({changes::Add("pos", 1)}).ok());
  EXPECT_TRUE(Converged(p, "pos"));
  EXPECT_EQ(p.topics->Value("pos").value(), "1001");
  EXPECT_EQ(p.topics->Version("pos").value(), 102u);
  EXPECT_LT(applied.load(), 20);  // 102 versions in a handful of updates
  // A late subscriber's snapshot equals what the first one holds.
  Peer& late = NewPeer();
  ASSERT_TRUE(late.topics->Subscribe("pos", Deadline(5)).ok());
  EXPECT_EQ(late.topics->Value("pos").value(), "1001");
  // A long burst goes out in bounded pieces (at most 1024 changes held).
  for (int i = 0; i < 3; ++i) {
    std::vector<Change> burst(1000, changes::Add("pos", 1));
    ASSERT_TRUE(host_->Apply(burst).ok());
  }
  EXPECT_TRUE(Converged(p, "pos"));
  EXPECT_EQ(p.topics->Value("pos").value(), "4001");
}

// Several clients make random concurrent changes to a counter, a list and a
// set; every replica ends equal to the hub's.
TEST_P(TopicsTest, RandomConcurrentChangesConverge) {
  ASSERT_TRUE(host_->Create("count", TopicType::kInt).ok());
  ASSERT_TRUE(host_->Create("list", TopicType::kList).ok());
  ASSERT_TRUE(host_->Create("tags", TopicType::kSet).ok());
  const std::vector<std::string> names = {"count", "list", "tags"};
  constexpr int kClients = 8;
  constexpr int kActions = 250;
  for (int i = 0; i < kClients; ++i) {
    Peer& p = NewPeer();
    for (const auto& n : names)
      ASSERT_TRUE(p.topics->Subscribe(n, Deadline(5)).ok());
  }
  std::vector<std::thread> threads;
  std::atomic<int> accepted{0}, answered{0};
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      std::mt19937 rng(777 + i);
      TopicsClient& t = *peers_[i]->topics;
      for (int k = 0; k < kActions; ++k) {
        std::vector<Change> action;
        switch (rng() % 4) {
          case 0:
            action = {changes::Add("count", static_cast<int>(rng() % 9) - 4)};
            break;
          case 1:
            action = {changes::ListInsert("list", -1, std::to_string(k))};
            break;
          case 2:
            action = {changes::ListPop("list", 0), changes::Add("count", 1)};
            break;
          default:
            action = {changes::SetAdd("tags", std::to_string(rng() % 10))};
        }
        // Up to 8 actions in flight per client, so that previews pile up
        // and foreign changes rebase them. Some are refused (pop of an
        // empty list, a tag present): fine.
        ASSERT_TRUE(WaitUntil([&] { return t.pending() < 8; }, Deadline(10)));
        absl::Status sent =
            t.ApplyAsync(action, Deadline(10), [&](absl::Status v) {
              if (v.ok()) accepted++;
              answered++;
            });
        if (!sent.ok()) answered++;  // refused locally (preview)
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_TRUE(WaitUntil([&] { return answered.load() == kClients * kActions; },
                        Deadline(20)));
  EXPECT_GT(accepted.load(), kClients * kActions / 4);
  for (auto& p : peers_) {
    for (const auto& n : names) EXPECT_TRUE(Converged(*p, n)) << n;
  }
}

TEST_P(TopicsTest, ReplicaResyncsAfterReconnecting) {
  ASSERT_TRUE(host_->Create("n", TopicType::kInt).ok());
  Peer& p = NewPeer();
  ASSERT_TRUE(p.topics->Subscribe("n", Deadline(5)).ok());
  const uint32_t pipe = hub_.PipeOf(p.conn->id).value();
  hub_.socket().ClosePipe(pipe);
  // Changed while the client is away (or coming back): it catches up.
  ASSERT_TRUE(host_->Apply({changes::Add("n", 7)}).ok());
  ASSERT_TRUE(
      WaitUntil([&] { return p.conn->client->rooms_stats().reconnects >= 1; },
                Deadline(10)));
  EXPECT_TRUE(Converged(p, "n"));
  EXPECT_EQ(p.topics->Value("n").value(), "7");
  // Subscribed again on the hub: later changes arrive as updates.
  ASSERT_TRUE(host_->Apply({changes::Add("n", 1)}).ok());
  EXPECT_TRUE(Converged(p, "n"));
  EXPECT_EQ(p.topics->Value("n").value(), "8");
}

TEST_P(TopicsTest, InspectorMirrorsClientsRoomsAndSubscriptions) {
  InspectorOptions opts;
  opts.interval = absl::Milliseconds(10);
  opts.services_json = [] { return std::string(R"({"echo":["c9"]})"); };
  HubInspector inspector(hub_, *host_, opts);
  ASSERT_TRUE(host_->Create("board", TopicType::kList).ok());
  Peer& p = NewPeer();
  ASSERT_TRUE(p.conn->client->Join("lobby", Deadline(5)).ok());
  ASSERT_TRUE(p.topics->Subscribe("board", Deadline(5)).ok());
  const std::string want =
      R"({")" + p.conn->id + R"(":{"rooms":["/lobby"],"topics":["board"]}})";
  EXPECT_TRUE(WaitUntil(
      [&] { return host_->Value("_sys/clients").value_or("") == want; },
      Deadline(10)))
      << host_->Value("_sys/clients").value_or("none");
  EXPECT_EQ(host_->Value("_sys/services").value_or(""), R"({"echo":["c9"]})");
  // A client may watch it, not change it.
  ASSERT_TRUE(p.topics->Subscribe("_sys/clients", Deadline(5)).ok());
  EXPECT_EQ(
      p.topics->Apply({changes::Set("_sys/clients", "{}")}, Deadline(5)).code(),
      absl::StatusCode::kPermissionDenied);
}

TEST_P(TopicsTest, GenericTopicsCarryBytesAndProtobufMessages) {
  ASSERT_TRUE(host_->Create("blob", TopicType::kGeneric).ok());
  Peer& p = NewPeer();
  ASSERT_TRUE(p.topics->Subscribe("blob", Deadline(5)).ok());
  const std::string bytes("\x00\xff\x10 raw", 8);
  ASSERT_TRUE(
      p.topics->Apply({changes::Set("blob", BytesJson(bytes))}, Deadline(5))
          .ok());
  EXPECT_EQ(BytesFromJson(host_->Value("blob").value()).value(), bytes);
  // A protobuf message as its JSON mapping (google.protobuf.Struct here).
  google::protobuf::Struct msg;
  (*msg.mutable_fields())["x"].set_number_value(3);
  ASSERT_TRUE(
      p.topics->Apply({changes::Set("blob", ProtoJson(msg))}, Deadline(5))
          .ok());
  google::protobuf::Struct back;
  ASSERT_TRUE(ProtoFromJson(p.topics->Value("blob").value(), &back).ok());
  EXPECT_EQ(back.fields().at("x").number_value(), 3);
  EXPECT_FALSE(BytesFromJson("12").ok());
}

// A subscriber too slow for the flow: its queue at the hub fills and it
// misses updates, the last one included. Once it has room again the hub tells
// it the topic's version; it sees the gap, resyncs and ends with the value.
TEST_P(TopicsTest, SubscriberWhoseQueueFilledCatchesUpWithTheLastValue) {
  ASSERT_TRUE(hub_.socket().Set(opt::kSendQueueMessages, size_t{4}).ok());
  ASSERT_TRUE(host_->Create("n", TopicType::kInt, "0").ok());
  // The gate of the slow subscriber's handler (below); declared first so that
  // it outlives the subscriber, whose callbacks use it until it is closed.
  std::mutex gate_mu;
  std::condition_variable gate_cv;
  bool open = false;
  auto release = [&] {
    std::lock_guard<std::mutex> lock(gate_mu);
    open = true;
    gate_cv.notify_all();
  };
  RoomsClientOptions small;
  small.queue_limit = 4;
  auto slow = std::make_unique<Peer>();
  slow->conn =
      test::ConnectClient(url_, small, Context::Default(), [](RoomsClient& c) {
        ASSERT_TRUE(c.Set(opt::kRecvQueueMessages, size_t{4}).ok());
      });
  slow->topics = std::make_unique<TopicsClient>(*slow->conn->client);
  ASSERT_TRUE(slow->topics->Subscribe("n", Deadline(5)).ok());
  // Its first update blocks its handler thread until the gate opens (at the
  // latest when the test ends, before `slow` is closed).
  slow->topics->OnChange("n", [&](const TopicEvent&) {
    std::unique_lock<std::mutex> lock(gate_mu);
    gate_cv.wait(lock, [&] { return open; });
  });
  absl::Cleanup opener = release;
  // Changes until one copy is dropped: the subscriber misses that one, the
  // last.
  const uint64_t dropped = hub_.stats().dropped;
  int applied = 0;
  while (hub_.stats().dropped == dropped && applied < 1000000) {
    ASSERT_TRUE(host_->Apply({changes::Add("n", 1)}).ok());
    ++applied;
  }
  release();
  ASSERT_GT(hub_.stats().dropped, dropped) << applied << " changes";
  EXPECT_EQ(host_->Value("n").value(), std::to_string(applied));
  EXPECT_TRUE(Converged(*slow, "n"))
      << slow->topics->Value("n").value_or("?") << " at version "
      << slow->topics->Version("n").value_or(0) << ", hub "
      << host_->Value("n").value_or("?");
}

INSTANTIATE_TEST_SUITE_P(Transports, TopicsTest,
                         ::testing::Values("inproc", "tcp", "ws"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace msock
