// bench/queue_perf_redis.cc: the Redis Streams column of the durable queue
// benchmark: a redis-server child (AOF, appendfsync always, no RDB), posters
// doing XADD on one connection each, and one consumer of a consumer group
// reading with XREADGROUP COUNT 64 BLOCK and acking each batch with one XACK.
#include <sys/time.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bench/queue_perf_util.h"
#include "hiredis/hiredis.h"

namespace msock::bench {
namespace {

constexpr char kStream[] = "qbench";
constexpr char kGroup[] = "g";

struct ReplyFree {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyFree>;

// One blocking connection with 10 s timeouts.
class Conn {
 public:
  ~Conn() {
    if (c_) redisFree(c_);
  }
  absl::Status Open(int port) {
    const timeval tv = {10, 0};
    c_ = redisConnectWithTimeout("127.0.0.1", port, tv);
    if (c_ == nullptr) return absl::UnavailableError("redisConnect failed");
    if (c_->err) return absl::UnavailableError(c_->errstr);
    redisSetTimeout(c_, tv);
    return absl::OkStatus();
  }
  // Runs one command; an error reply is an error.
  absl::StatusOr<Reply> Run(const std::vector<std::string>& args) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (const std::string& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    Reply r(static_cast<redisReply*>(redisCommandArgv(
        c_, static_cast<int>(argv.size()), argv.data(), lens.data())));
    if (!r)
      return absl::UnavailableError(absl::StrCat(args[0], ": ", c_->errstr));
    if (r->type == REDIS_REPLY_ERROR) {
      return absl::InternalError(
          absl::StrCat(args[0], ": ", std::string(r->str, r->len)));
    }
    return r;
  }

 private:
  redisContext* c_ = nullptr;
};

// The consumer: XREADGROUP up to 64 entries, XACK them in one command.
class Consumer {
 public:
  explicit Consumer(LatencySink* sink) : sink_(sink) {}
  ~Consumer() { Stop(); }
  absl::Status Start(int port) {
    absl::Status s = conn_.Open(port);
    if (!s.ok()) return s;
    thread_ = std::thread([this] { Loop(); });
    return absl::OkStatus();
  }
  void Stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }
  int64_t acked() const { return acked_.load(); }
  std::string error() {
    std::lock_guard<std::mutex> lock(mu_);
    return error_;
  }

 private:
  void Loop() {
    while (!stop_.load()) {
      // BLOCK 100 ms so that Stop is noticed.
      absl::StatusOr<Reply> r =
          conn_.Run({"XREADGROUP", "GROUP", kGroup, "c", "COUNT", "64", "BLOCK",
                     "100", "STREAMS", kStream, ">"});
      if (!r.ok()) return Fail(r.status());
      if ((*r)->type == REDIS_REPLY_NIL) continue;
      // [[stream, [[id, [field, value]], ...]]]
      std::vector<std::string> ack = {"XACK", kStream, kGroup};
      if ((*r)->type != REDIS_REPLY_ARRAY || (*r)->elements != 1 ||
          (*r)->element[0]->elements != 2) {
        return Fail(absl::InternalError("XREADGROUP: unexpected reply"));
      }
      const redisReply* entries = (*r)->element[0]->element[1];
      for (size_t i = 0; i < entries->elements; ++i) {
        const redisReply* e = entries->element[i];
        if (e->elements != 2 || e->element[1]->elements != 2) {
          return Fail(absl::InternalError("XREADGROUP: unexpected entry"));
        }
        const redisReply* body = e->element[1]->element[1];
        if (sink_) sink_->Record(SentNs(body->str, body->len));
        ack.emplace_back(e->element[0]->str, e->element[0]->len);
      }
      if (ack.size() == 3) continue;
      absl::StatusOr<Reply> a = conn_.Run(ack);
      if (!a.ok()) return Fail(a.status());
      acked_.fetch_add((*a)->integer);
    }
  }
  void Fail(const absl::Status& s) {
    std::lock_guard<std::mutex> lock(mu_);
    error_ = absl::StrCat("consumer: ", s.ToString());
  }

  LatencySink* sink_;
  Conn conn_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> acked_{0};
  std::mutex mu_;
  std::string error_;
};

QueueResult Run(const std::string& program, const QueueCell& cell,
                const std::string& dir, double seconds) {
  QueueResult r;
  const int port = FreePort();
  ServerProcess server;
  // --auto-aof-rewrite-percentage 0: no rewrite child (it would keep our
  // output pipe open); it does not change what is fsync'd when.
  absl::Status s = server.Start(
      {program, "--port", absl::StrCat(port), "--bind", "127.0.0.1",
       "--appendonly", "yes", "--appendfsync", "always", "--save", "",
       "--auto-aof-rewrite-percentage", "0", "--dir", dir, "--logfile", ""},
      "Ready to accept connections", absl::Seconds(10));
  if (!s.ok()) {
    r.error = s.ToString();
    return r;
  }
  Conn admin;
  s = admin.Open(port);
  if (s.ok()) {
    s = admin.Run({"XGROUP", "CREATE", kStream, kGroup, "$", "MKSTREAM"})
            .status();
  }
  LatencySink sink;
  Consumer consumer(cell.latency ? &sink : nullptr);
  if (s.ok()) s = consumer.Start(port);
  if (!s.ok()) {
    r.error = s.ToString();
    return r;
  }
  std::vector<std::unique_ptr<Conn>> posters;
  for (int i = 0; i < cell.clients; ++i) {
    posters.push_back(std::make_unique<Conn>());
  }
  int64_t acked0 = 0, t0 = 0;
  r = RunPosters(
      cell.clients, seconds, [&](int i) { return posters[i]->Open(port); },
      [&](int i) {
        absl::StatusOr<Reply> x =
            posters[i]->Run({"XADD", kStream, "*", "b", MakeBody(NowNs())});
        if (x.ok() && (*x)->type != REDIS_REPLY_STRING) {
          return absl::InternalError("XADD: no id");
        }
        return x.status();
      },
      [&](int64_t start_ns) {
        t0 = start_ns;
        acked0 = consumer.acked();
        sink.Start(start_ns + static_cast<int64_t>(seconds * 0.1e9));
      });
  if (r.ok) {
    r.delivered_per_s = (consumer.acked() - acked0) / ((NowNs() - t0) / 1e9);
  }
  if (cell.latency) r = FinishLatency(r, sink);
  consumer.Stop();
  if (r.ok && !consumer.error().empty()) {
    r.ok = false;
    r.error = consumer.error();
  }
  posters.clear();
  server.Stop();
  return r;
}

}  // namespace

QueuePeer RedisQueuePeer() {
  QueuePeer p;
  p.name = "Redis Streams";
  p.durability =
      "AOF with appendfsync always: the AOF is fsync'd before the replies "
      "of an event-loop turn are written (group commit)";
  const std::string program = FindProgram({"redis-server"});
  if (program.empty()) {
    p.unavailable = "redis-server not found on PATH";
    return p;
  }
  p.run = [program](const QueueCell& cell, const std::string& dir,
                    double seconds) {
    return Run(program, cell, dir, seconds);
  };
  return p;
}

}  // namespace msock::bench
