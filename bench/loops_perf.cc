// bench/loops_perf.cc: msock_loops, the aggregate throughput of independent
// push/pull pairs over tcp on 127.0.0.1 on a Context with 1, 2, ... I/O loops
// (Context(io_threads)): each pair has a sending and a receiving thread and
// moves --messages messages of --size bytes; the rate is every message of
// every pair over the time until the last one arrived. Runs interleave the loop
// counts; prints the median of --runs runs per count and its ratio to one loop.
//
//   msock_loops [--pairs 8] [--loops 1,2] [--messages 200000] [--size 64]
//               [--runs 5]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "msock/msock.h"

namespace {

struct Config {
  int pairs = 8;
  std::vector<int> loops = {1, 2};
  int messages = 200000;
  size_t size = 64;
  int runs = 5;
};

absl::Time Soon() { return absl::Now() + absl::Seconds(30); }

// One run: messages/s summed over the pairs, or a negative value on failure.
double Run(const Config& cfg, int loops) {
  msock::Context ctx(loops);
  std::vector<std::unique_ptr<msock::Pull>> pulls;
  std::vector<std::unique_ptr<msock::Push>> pushes;
  for (int i = 0; i < cfg.pairs; ++i) {
    // Made in turn so that, with two loops, each pair has an end on each.
    pulls.push_back(std::make_unique<msock::Pull>(ctx));
    pushes.push_back(std::make_unique<msock::Push>(ctx));
    absl::StatusOr<std::string> url = pulls.back()->Listen("tcp://127.0.0.1:0");
    if (!url.ok() || !pushes.back()->Dial(*url).ok() ||
        !pushes.back()->WaitForPeers(1, Soon()).ok()) {
      std::fprintf(stderr, "msock_loops: pair %d did not connect\n", i);
      return -1;
    }
  }
  const std::string body(cfg.size, 'x');
  std::vector<std::thread> threads;
  std::vector<int> failed(static_cast<size_t>(cfg.pairs), 0);
  const absl::Time start = absl::Now();
  for (int i = 0; i < cfg.pairs; ++i) {
    threads.emplace_back([&, i] {
      for (int n = 0; n < cfg.messages; ++n) {
        msock::Message m(body);
        if (!pushes[static_cast<size_t>(i)]->Send(m, Soon()).ok()) {
          failed[static_cast<size_t>(i)] = 1;
          return;
        }
      }
    });
  }
  std::vector<absl::Time> last(static_cast<size_t>(cfg.pairs));
  std::vector<std::thread> receivers;
  for (int i = 0; i < cfg.pairs; ++i) {
    receivers.emplace_back([&, i] {
      for (int n = 0; n < cfg.messages; ++n) {
        if (!pulls[static_cast<size_t>(i)]->Recv(Soon()).ok()) {
          failed[static_cast<size_t>(i)] = 1;
          return;
        }
      }
      last[static_cast<size_t>(i)] = absl::Now();
    });
  }
  for (auto& t : threads) t.join();
  for (auto& t : receivers) t.join();
  if (std::count(failed.begin(), failed.end(), 1) > 0) {
    std::fprintf(stderr, "msock_loops: a pair failed (%d loops)\n", loops);
    return -1;
  }
  const absl::Time end = *std::max_element(last.begin(), last.end());
  return static_cast<double>(cfg.pairs) * cfg.messages /
         absl::ToDoubleSeconds(end - start);
}

bool ParseArgs(int argc, char** argv, Config* cfg) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
    bool ok = value != nullptr;
    if (arg == "--pairs") {
      ok = ok && absl::SimpleAtoi(value, &cfg->pairs) && cfg->pairs > 0;
    } else if (arg == "--messages") {
      ok = ok && absl::SimpleAtoi(value, &cfg->messages) && cfg->messages > 0;
    } else if (arg == "--size") {
      ok = ok && absl::SimpleAtoi(value, &cfg->size);
    } else if (arg == "--runs") {
      ok = ok && absl::SimpleAtoi(value, &cfg->runs) && cfg->runs > 0;
    } else if (arg == "--loops") {
      cfg->loops.clear();
      for (absl::string_view part : absl::StrSplit(value ? value : "", ',')) {
        int n = 0;
        ok = ok && absl::SimpleAtoi(part, &n) && n > 0;
        cfg->loops.push_back(n);
      }
    } else {
      ok = false;
    }
    if (!ok) {
      std::fprintf(stderr,
                   "usage: msock_loops [--pairs N] [--loops 1,2] "
                   "[--messages N] [--size B] [--runs R]\n");
      return false;
    }
    ++i;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Config cfg;
  if (!ParseArgs(argc, argv, &cfg)) return 2;
  std::vector<std::vector<double>> rates(cfg.loops.size());
  for (int r = 0; r < cfg.runs; ++r) {
    for (size_t l = 0; l < cfg.loops.size(); ++l) {
      const double rate = Run(cfg, cfg.loops[l]);
      if (rate < 0) return 1;
      rates[l].push_back(rate);
    }
  }
  std::printf(
      "%d push/pull pairs over tcp, %zu B, %d messages each, "
      "median of %d runs\n\n",
      cfg.pairs, cfg.size, cfg.messages, cfg.runs);
  std::printf("| loops | msgs/s | vs 1 loop |\n|---|---|---|\n");
  double base = 0;
  for (size_t l = 0; l < cfg.loops.size(); ++l) {
    std::vector<double>& v = rates[l];
    std::sort(v.begin(), v.end());
    const double median = v[v.size() / 2];
    if (l == 0) base = median;
    std::printf("| %d | %.0f | %.2fx |\n", cfg.loops[l], median, median / base);
  }
  return 0;
}
