// bench/queue_perf_msock.cc: the msock column of the durable queue benchmark:
// a QueueServer (fsync on) over tcp on 127.0.0.1 in this process, posters
// that are users of their own (p0, p1, ...) posting to user "sink", whose one
// node receives with window 64: one thread takes what has come (ReceiveMany,
// up to 64) and acks it in one request, as the Redis consumer does.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bench/queue_perf_util.h"
#include "msock/msock.h"
#include "msock/protocols/queue.h"

namespace msock::bench {
namespace {

constexpr uint32_t kWindow = 64;

// A node logged in as `user`/`node` (registered first).
absl::Status Join(QueueClient& c, const std::string& url,
                  const std::string& user, const std::string& node) {
  absl::Status s = c.Connect(url, Soon(30));
  if (!s.ok()) return s;
  absl::StatusOr<std::string> secret = c.Register(user, node, Soon(30));
  if (!secret.ok()) return secret.status();
  return c.Login(user, node, *secret, Soon(30));
}

// The receiving node: one thread takes up to a window of entries and acks
// them with one request (Ack returns once the removal is durable).
class Receiver {
 public:
  Receiver(Context& ctx, LatencySink* sink) : sink_(sink) {
    QueueClientOptions o;
    o.window = kWindow;
    client_ = std::make_unique<QueueClient>(o, ctx);
  }
  ~Receiver() { Stop(); }

  absl::Status Start(const std::string& url) {
    absl::Status s = Join(*client_, url, "sink", "r");
    if (!s.ok()) return s;
    threads_.emplace_back([this] { Loop(); });
    return absl::OkStatus();
  }
  // Joins the threads and closes the node (before the server closes).
  void Stop() {
    stop_.store(true);
    for (std::thread& t : threads_) t.join();
    threads_.clear();
    client_->Close();
  }
  int64_t acked() const { return acked_.load(); }
  std::string error() {
    std::lock_guard<std::mutex> lock(mu_);
    return error_;
  }

 private:
  void Loop() {
    while (!stop_.load()) {
      // A short deadline so that Stop is noticed.
      absl::StatusOr<std::vector<QueueMessage>> got =
          client_->ReceiveMany(kWindow, absl::Now() + absl::Milliseconds(100));
      if (absl::IsDeadlineExceeded(got.status())) continue;
      absl::Status s = got.status();
      std::vector<uint64_t> ids;
      if (s.ok()) {
        for (const QueueMessage& m : *got) {
          if (sink_) sink_->Record(SentNs(m.body.data(), m.body.size()));
          ids.push_back(m.id);
        }
        s = client_->Ack(ids, Soon(30));
      }
      if (!s.ok()) {
        std::lock_guard<std::mutex> lock(mu_);
        if (error_.empty()) error_ = absl::StrCat("receiver: ", s.ToString());
        return;
      }
      acked_.fetch_add(static_cast<int64_t>(ids.size()));
    }
  }

  LatencySink* sink_;
  std::unique_ptr<QueueClient> client_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> acked_{0};
  std::mutex mu_;
  std::string error_;
};

QueueResult Run(const QueueCell& cell, const std::string& dir, double seconds) {
  Context server_ctx, client_ctx;
  QueueServerOptions options;
  options.db_path = dir + "/queue.db";
  options.max_window = kWindow;
  // MSOCK_QUEUE_PERF_NOFSYNC=1: the same without fsync (not durable): how
  // much of a figure is the disk's.
  options.fsync = std::getenv("MSOCK_QUEUE_PERF_NOFSYNC") == nullptr;
  absl::StatusOr<std::unique_ptr<QueueServer>> server =
      QueueServer::Open(options, server_ctx);
  QueueResult r;
  if (!server.ok()) {
    r.error = absl::StrCat("Open: ", server.status().ToString());
    return r;
  }
  absl::StatusOr<std::string> url = (*server)->Listen("tcp://127.0.0.1:0");
  if (!url.ok()) {
    r.error = absl::StrCat("Listen: ", url.status().ToString());
    return r;
  }
  LatencySink sink;
  Receiver receiver(client_ctx, cell.latency ? &sink : nullptr);
  if (absl::Status s = receiver.Start(*url); !s.ok()) {
    r.error = absl::StrCat("receiver: ", s.ToString());
    return r;
  }
  std::vector<std::unique_ptr<QueueClient>> posters;
  for (int i = 0; i < cell.clients; ++i) {
    posters.push_back(
        std::make_unique<QueueClient>(QueueClientOptions(), client_ctx));
  }
  PostOptions post_options;
  post_options.no_self = true;
  const std::vector<std::string> to = {"sink"};
  int64_t acked0 = 0, t0 = 0;
  r = RunPosters(
      cell.clients, seconds,
      [&](int i) { return Join(*posters[i], *url, absl::StrCat("p", i), "n"); },
      [&](int i) {
        return posters[i]
            ->Post(to, MakeBody(NowNs()), Soon(30), post_options)
            .status();
      },
      [&](int64_t start_ns) {
        t0 = start_ns;
        acked0 = receiver.acked();
        sink.Start(start_ns + static_cast<int64_t>(seconds * 0.1e9));
      });
  if (r.ok) {
    r.delivered_per_s = (receiver.acked() - acked0) / ((NowNs() - t0) / 1e9);
  }
  if (cell.latency) r = FinishLatency(r, sink);
  receiver.Stop();
  if (r.ok && !receiver.error().empty()) {
    r.ok = false;
    r.error = receiver.error();
  }
  for (auto& p : posters) p->Close();
  if (std::getenv("MSOCK_QUEUE_PERF_STATS") != nullptr) {
    const QueueStats st = (*server)->stats();
    std::fprintf(stderr, "msock server: %llu posts, %llu commits, %llu ops\n",
                 static_cast<unsigned long long>(st.posts),
                 static_cast<unsigned long long>(st.commits),
                 static_cast<unsigned long long>(st.committed_ops));
  }
  (*server)->Close();
  return r;
}

}  // namespace

QueuePeer MsockQueuePeer() {
  QueuePeer p;
  p.name = "msock";
  p.durability =
      "SQLite WAL, fsync'd before each post's answer (group commit), "
      "QueueServerOptions::fsync = true";
  p.run = Run;
  return p;
}

}  // namespace msock::bench
