// bench/perf_runner.h: runs one measurement of one library (both sides, as two
// threads or two processes) in a forked child under a watchdog, and returns
// what it measured or why it failed. Used by perf_main.cc.
#ifndef MSOCK_BENCH_PERF_RUNNER_H_
#define MSOCK_BENCH_PERF_RUNNER_H_

#include <cstdint>
#include <string>

#include "bench/perf_harness.h"

namespace msock::bench {

enum class Test {
  kThroughput,   // push/pull stream
  kLatency,      // pair0 ping-pong
  kReqRep,       // req/rep round trips
  kFanout,       // pub/sub, 1 publisher -> kSubscribers subscribers
  kFanoutBlock,  // the same with a publisher that blocks on a full queue
};

// The test's name in cell names and the table: "throughput", "fanout-block".
const char* TestName(Test test);
inline bool IsFanout(Test t) {
  return t == Test::kFanout || t == Test::kFanoutBlock;
}

// How measurements are run.
struct RunMode {
  bool procs = false;        // ipc/tcp: receiver in a separate process
  bool pin = false;          // pin the measurement to CPU 0
  bool inline_mode = false;  // no fork: in this process (a hang exits)
};

// After a result, the child must have torn everything down (closed sockets,
// ended the library) within this time, or it is killed and the teardown
// reported as hung.
inline constexpr double kTeardownSeconds = 5.0;

// The outcome of one measurement.
struct Sample {
  bool ok = false;
  std::string error;  // why !ok
  std::string note;   // an anomaly the measurement noticed (not a failure)
  bool teardown_hung = false;
  // Throughput.
  double rate = 0;  // msgs/s
  int64_t messages = 0;
  bool capped = false;  // stopped by the time limit, not the count
  // Latency and req/rep.
  double p50 = 0, p99 = 0;  // microseconds
  int64_t round_trips = 0;
  // Fan-out: `rate` is delivered msgs/s (summed over the subscribers),
  // `messages` what they received, `capped` as for throughput.
  int64_t sent = 0;      // timed messages the publisher sent
  double send_rate = 0;  // sent per second
  int64_t lost = 0;      // sent * kSubscribers - messages
  int64_t counted = -1;  // drops the library counted; -1: it has no counter
  int sentinels = 0;     // subscribers that stopped at the end marker
};

// Ignores SIGPIPE, makes SIGINT/SIGTERM kill the running measurement too, and
// makes this process the reaper of orphaned grandchildren. Call once.
void InitRunner();

// Measures `test` for `lib` with `args` (args.rv is set here). Never hangs:
// bounded by the watchdog (or, in inline mode, exits the program on a hang).
Sample Measure(const Library& lib, Test test, SideArgs args,
               const RunMode& mode);

}  // namespace msock::bench

#endif  // MSOCK_BENCH_PERF_RUNNER_H_
