// bench/rooms_bench_util.h: what the rooms-based benchmarks (rooms_perf,
// topics_perf) share: waiting until many dialed clients are welcomed and in
// one room, from 8 threads so that 1,000 clients join quickly.
#ifndef MSOCK_BENCH_ROOMS_BENCH_UTIL_H_
#define MSOCK_BENCH_ROOMS_BENCH_UTIL_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "msock/protocols/rooms.h"

namespace msock::bench {

// True once every client is connected and in `room` (60 s each at most).
inline bool JoinAll(const std::vector<std::unique_ptr<RoomsClient>>& clients,
                    const std::string& room) {
  std::atomic<int> failed{0};
  std::vector<std::thread> joiners;
  const size_t n = clients.size();
  for (size_t t = 0; t < 8; ++t) {
    joiners.emplace_back([&, t] {
      for (size_t i = t; i < n; i += 8) {
        const absl::Time deadline = absl::Now() + absl::Seconds(60);
        if (!clients[i]->WaitConnected(deadline).ok() ||
            !clients[i]->Join(room, deadline).ok()) {
          failed++;
        }
      }
    });
  }
  for (auto& t : joiners) t.join();
  return failed.load() == 0;
}

}  // namespace msock::bench

#endif  // MSOCK_BENCH_ROOMS_BENCH_UTIL_H_
