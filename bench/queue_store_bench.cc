// bench/queue_store_bench.cc: Google Benchmark of the durable queue's store
// alone (protocols/queue/sqlite_store.h), without fsync or network: what the
// writer thread spends per post and per ack (SQL, group commit, completion).
// Each iteration submits 64 posts from one node to another, waits for their
// answers, records a first delivery attempt of each (as the server does when
// it sends them), then acks the 64 in one operation, as the queue bench's
// receiver does.
//   build/bench/msock_queue_store_bench
#include <benchmark/benchmark.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <future>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "msock/protocols/queue.h"
#include "protocols/queue/sqlite_store.h"
#include "tests/protocols/queue_store_call.h"

namespace msock {
namespace {

namespace q = internal::queue;
constexpr int kBatch = 64;

void BM_QueueStorePostAck(benchmark::State& state) {
  char dir[] = "/tmp/msock-store-bench-XXXXXX";
  if (mkdtemp(dir) == nullptr) {
    state.SkipWithError("mkdtemp failed");
    return;
  }
  QueueServerOptions o;
  o.db_path = std::string(dir) + "/q.db";
  o.fsync = false;
  absl::StatusOr<std::unique_ptr<q::QueueStore>> opened = q::OpenSqliteStore(o);
  if (!opened.ok()) {
    state.SkipWithError(opened.status().ToString().c_str());
    return;
  }
  q::QueueStore& store = **opened;
  for (const char* user : {"al", "bob"}) {
    q::RegisterRequest reg;
    reg.user = user;
    reg.node = "n";
    absl::StatusOr<q::RegisterResult> r = q::test::Call<q::RegisterResult>(
        [&](auto done) { store.Register(reg, done); });
    if (!r.ok()) {
      state.SkipWithError(r.status().ToString().c_str());
      break;
    }
  }
  const q::NodeKey bob{"bob", "n"};
  q::PostRequest post;
  post.from_user = "al";
  post.from_node = "n";
  post.to = {"bob"};
  post.body = std::string(64, 'x');
  post.now_ms = 1;
  std::vector<uint64_t> ids(kBatch);
  for (auto _ : state) {
    std::promise<void> all;
    int left = kBatch;  // the answers come in order, on one thread
    for (int i = 0; i < kBatch; ++i) {
      store.Post(post, [&, i](absl::StatusOr<q::PostOutcome> r) {
        ids[i] = r.ok() ? r->id : 0;
        if (--left == 0) all.set_value();
      });
    }
    all.get_future().wait();
    // Delivered once each (the server records every delivery's attempt).
    for (uint64_t id : ids) store.Attempt(bob, id, 1);
    absl::StatusOr<q::AckOutcome> acked = q::test::Call<q::AckOutcome>(
        [&](auto done) { store.Ack(bob, ids, done); });
    if (!acked.ok() || acked->removed.size() != ids.size()) {
      state.SkipWithError("posts or their ack failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  store.Close();
  opened->reset();
  for (const char* f : {"/q.db", "/q.db-wal", "/q.db-lock"}) {
    unlink((std::string(dir) + f).c_str());
  }
  rmdir(dir);
}
BENCHMARK(BM_QueueStorePostAck)->UseRealTime();

}  // namespace
}  // namespace msock

BENCHMARK_MAIN();
