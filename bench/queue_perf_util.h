// bench/queue_perf_util.h: what the durable queue benchmark (queue_perf.cc)
// shares between its peers (msock, Redis Streams, mosquitto): results, the
// posting loop run by N client threads, latency samples, 64-byte bodies that
// carry their send time, and a server started as a child process.
#ifndef MSOCK_BENCH_QUEUE_PERF_UTIL_H_
#define MSOCK_BENCH_QUEUE_PERF_UTIL_H_

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace msock::bench {

// One measurement: posts/s (posting cells) or post -> delivered latency.
struct QueueResult {
  bool ok = false;
  double posts_per_s = 0;
  double delivered_per_s = 0;  // what the receiver took (and acked) meanwhile
  double p50_us = 0, p99_us = 0;
  int64_t samples = 0;
  std::string error;  // why it failed (ok == false)
};

// What a peer measures: `clients` sequential posters for `seconds`
// (latency == false), or one poster and the latency to its receiver.
struct QueueCell {
  bool latency = false;
  int clients = 1;
};

// A peer of the table: `run` starts a fresh server with its data in `dir`
// (an empty directory), measures one cell and stops it.
struct QueuePeer {
  std::string name;
  std::string durability;   // one line for the output and the README
  std::string unavailable;  // non-empty: not measured, and why
  std::function<QueueResult(const QueueCell& cell, const std::string& dir,
                            double seconds)>
      run;
};

inline constexpr size_t kBodySize = 64;
int64_t NowNs();
absl::Time Soon(double seconds = 10);
// A 64-byte body whose first 8 bytes are `sent_ns`; SentNs reads it back
// (0 if the body is too short).
std::string MakeBody(int64_t sent_ns);
int64_t SentNs(const void* data, size_t size);

// A port on 127.0.0.1 that was free a moment ago (0 on error).
int FreePort();
// The first executable found: each name on PATH, then each absolute path.
std::string FindProgram(const std::vector<std::string>& names);

// Latency samples of one cell: posts sent before `from_ns` (warm-up) are not
// counted. Thread-safe.
class LatencySink {
 public:
  void Start(int64_t from_ns);
  void Record(int64_t sent_ns);  // a delivery of a body made by MakeBody
  // Waits until `n` deliveries (warm-up included) were recorded.
  bool WaitFor(int64_t n, absl::Time deadline);
  int64_t received();
  QueueResult Percentiles();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int64_t from_ns_ = 0;
  int64_t received_ = 0;
  std::vector<double> us_;
};

// Ends a latency cell: waits (30 s at most) until every post counted in
// `posting` was delivered, then returns the percentiles (with the rates of
// `posting`).
QueueResult FinishLatency(const QueueResult& posting, LatencySink& sink);

// Runs `clients` threads: each runs setup(i) (connect, log in), waits until
// all are set up, then calls post(i) in a loop for `seconds`. Returns the
// posts answered within the timed window per second; the first error of any
// thread fails the run. `started(t0_ns)` runs once when the posting starts.
QueueResult RunPosters(int clients, double seconds,
                       const std::function<absl::Status(int)>& setup,
                       const std::function<absl::Status(int)>& post,
                       const std::function<void(int64_t)>& started = {});

// A server in a child process (killed with the parent), its stdout and
// stderr read by a thread. Start returns once `ready` appeared in its output.
class ServerProcess {
 public:
  ServerProcess() = default;
  ~ServerProcess();  // Stop()
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Call from the main thread: the child dies when the thread that forked it
  // exits (PR_SET_PDEATHSIG).
  absl::Status Start(const std::vector<std::string>& argv,
                     const std::string& ready, absl::Duration timeout);
  void Stop();           // SIGKILL and reap; idempotent
  std::string output();  // what it printed so far (the last 4 KiB)

 private:
  void Drain();
  pid_t pid_ = -1;
  int fd_ = -1;
  std::thread reader_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::string out_;
  std::string ready_;
  bool seen_ready_ = false, eof_ = false;
};

}  // namespace msock::bench

#endif  // MSOCK_BENCH_QUEUE_PERF_UTIL_H_
