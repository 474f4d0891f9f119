// bench/queue_perf.cc: msock_queue_perf, the durable queue beside Redis
// Streams and mosquitto on one machine, in one run: durable posts per second
// with 1, 8 and 64 clients posting sequentially (each waits for its post's
// answer), and post -> delivered latency (p50 / p99) with one poster. Each
// measurement starts a fresh server with its data in a scratch directory
// (mkdtemp under /tmp, removed at the end); runs are interleaved and the
// Markdown table gives medians. See bench/README.md (msock_queue_perf).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "bench/queue_perf_util.h"

namespace msock::bench {
QueuePeer MsockQueuePeer();
#ifdef MSOCK_BENCH_HAVE_REDIS
QueuePeer RedisQueuePeer();
#endif
#ifdef MSOCK_BENCH_HAVE_MOSQUITTO
QueuePeer MosquittoQueuePeer();
#endif
}  // namespace msock::bench

namespace {

using msock::bench::QueueCell;
using msock::bench::QueuePeer;
using msock::bench::QueueResult;

struct Config {
  int runs = 3;
  double seconds = 3;
  std::vector<int> clients = {1, 8, 64};
  std::vector<std::string> peers = {"msock", "redis", "mosquitto"};
};

void Usage() {
  std::fprintf(
      stderr,
      "usage: msock_queue_perf [--runs N] [--seconds S] [--clients 1,8,64]\n"
      "                        [--peers msock,redis,mosquitto] [--quick]\n"
      "  --runs N      runs per cell, interleaved; the table shows medians "
      "(3)\n"
      "  --seconds S   posting time per measurement (3)\n"
      "  --clients L   posting clients of the posts/s rows (1,8,64)\n"
      "  --peers L     which columns to measure (all)\n"
      "  --quick       smoke test: 1 run, 0.5 s, 1 and 8 clients\n");
}

bool Parse(int argc, char** argv, Config* cfg) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--quick") {
      cfg->runs = 1;
      cfg->seconds = 0.5;
      cfg->clients = {1, 8};
    } else if (a == "--runs" && has_value) {
      cfg->runs = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--seconds" && has_value) {
      cfg->seconds = std::max(0.1, std::atof(argv[++i]));
    } else if (a == "--clients" && has_value) {
      cfg->clients.clear();
      for (absl::string_view c : absl::StrSplit(argv[++i], ',')) {
        const int n = std::atoi(std::string(c).c_str());
        if (n > 0) cfg->clients.push_back(n);
      }
    } else if (a == "--peers" && has_value) {
      cfg->peers = absl::StrSplit(argv[++i], ',', absl::SkipEmpty());
    } else {
      Usage();
      return false;
    }
  }
  return true;
}

bool Wanted(const Config& cfg, const std::string& key) {
  return std::find(cfg.peers.begin(), cfg.peers.end(), key) != cfg.peers.end();
}

std::vector<QueuePeer> Peers(const Config& cfg) {
  std::vector<QueuePeer> peers;
  peers.push_back(msock::bench::MsockQueuePeer());
#ifdef MSOCK_BENCH_HAVE_REDIS
  peers.push_back(msock::bench::RedisQueuePeer());
#else
  peers.push_back({.name = "Redis Streams",
                   .unavailable = "built without hiredis (libhiredis-dev)"});
#endif
#ifdef MSOCK_BENCH_HAVE_MOSQUITTO
  peers.push_back(msock::bench::MosquittoQueuePeer());
#else
  peers.push_back(
      {.name = "mosquitto", .unavailable = "built without libmosquitto-dev"});
#endif
  const char* keys[] = {"msock", "redis", "mosquitto"};
  for (size_t i = 0; i < peers.size(); ++i) {
    if (peers[i].unavailable.empty() && !Wanted(cfg, keys[i])) {
      peers[i].unavailable = "not asked for (--peers)";
    }
  }
  return peers;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2]
                      : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

std::string CellName(const QueueCell& c) {
  return c.latency ? "latency" : absl::StrCat("posts/", c.clients);
}

// Results of every run: [cell][peer] -> one per successful run.
struct Collected {
  std::vector<std::vector<std::vector<QueueResult>>> ok;
  std::vector<std::string> notes;
};

std::string Fmt(double v) {
  if (v >= 100) return absl::StrFormat("%.0f", v);
  return absl::StrFormat("%.1f", v);
}

// One table row: the value of each peer and msock / each other peer.
void Row(const std::string& label, const std::vector<QueuePeer>& peers,
         const std::vector<std::vector<QueueResult>>& cell,
         double (*pick)(const QueueResult&), bool ratios) {
  std::vector<double> med(peers.size(), -1);
  std::string line = absl::StrCat("| ", label, " |");
  for (size_t p = 0; p < peers.size(); ++p) {
    std::vector<double> v;
    for (const QueueResult& r : cell[p]) v.push_back(pick(r));
    if (!v.empty()) med[p] = Median(v);
    const char* none = peers[p].unavailable.empty() ? "failed" : "n/a";
    absl::StrAppend(&line, " ", v.empty() ? none : Fmt(med[p]), " |");
  }
  for (size_t p = 1; p < peers.size(); ++p) {
    if (ratios && med[0] > 0 && med[p] > 0) {
      absl::StrAppend(&line, absl::StrFormat(" %.2fx |", med[0] / med[p]));
    } else {
      absl::StrAppend(&line, " - |");
    }
  }
  std::printf("%s\n", line.c_str());
}

void PrintTable(const Config& cfg, const std::vector<QueuePeer>& peers,
                const std::vector<QueueCell>& cells, const Collected& c) {
  std::printf(
      "\n## Durable queue: msock beside Redis Streams and mosquitto\n\n");
  std::printf(
      "tcp on 127.0.0.1, 64-byte bodies, medians of %d run(s), %.1f s per "
      "measurement; a fresh server and data directory for each.\n\n",
      cfg.runs, cfg.seconds);
  std::string head = "| |", sep = "|---|";
  for (const QueuePeer& p : peers) {
    absl::StrAppend(&head, " ", p.name, " |");
    absl::StrAppend(&sep, "---|");
  }
  for (size_t p = 1; p < peers.size(); ++p) {
    absl::StrAppend(&head, " msock/", peers[p].name, " |");
    absl::StrAppend(&sep, "---|");
  }
  std::printf("%s\n%s\n", head.c_str(), sep.c_str());
  for (size_t i = 0; i < cells.size(); ++i) {
    if (cells[i].latency) {
      Row(
          "post -> delivered p50 (us), 1 poster", peers, c.ok[i],
          [](const QueueResult& r) { return r.p50_us; }, true);
      Row(
          "post -> delivered p99 (us), 1 poster", peers, c.ok[i],
          [](const QueueResult& r) { return r.p99_us; }, true);
    } else {
      Row(
          absl::StrCat("durable posts/s, ", cells[i].clients,
                       cells[i].clients == 1 ? " client" : " clients"),
          peers, c.ok[i], [](const QueueResult& r) { return r.posts_per_s; },
          true);
    }
  }
  for (size_t i = 0; i < cells.size(); ++i) {
    if (cells[i].latency) continue;
    Row(
        absl::StrCat("(receiver: taken and acked/s, ", cells[i].clients,
                     cells[i].clients == 1 ? " client)" : " clients)"),
        peers, c.ok[i], [](const QueueResult& r) { return r.delivered_per_s; },
        false);
  }
  std::printf(
      "\nposts/s: > 1x means msock is faster; latency: < 1x means msock is "
      "faster.\n\nDurability (what an answer to a post means):\n");
  for (const QueuePeer& p : peers) {
    std::printf("- %s: %s\n", p.name.c_str(),
                p.unavailable.empty()
                    ? p.durability.c_str()
                    : absl::StrCat("not measured: ", p.unavailable).c_str());
  }
  if (!c.notes.empty()) {
    std::printf("\nNotes:\n");
    for (const std::string& n : c.notes) std::printf("- %s\n", n.c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  Config cfg;
  if (!Parse(argc, argv, &cfg)) return 2;
  std::vector<QueuePeer> peers = Peers(cfg);
  std::vector<QueueCell> cells;
  for (int n : cfg.clients) cells.push_back({.latency = false, .clients = n});
  cells.push_back({.latency = true, .clients = 1});

  char tmpl[] = "/tmp/msock-queue-perf-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  const std::string scratch = tmpl;
  Collected c;
  c.ok.assign(cells.size(),
              std::vector<std::vector<QueueResult>>(peers.size()));
  bool msock_failed = false;
  for (int run = 0; run < cfg.runs; ++run) {
    for (size_t i = 0; i < cells.size(); ++i) {
      for (size_t k = 0; k < peers.size(); ++k) {
        const size_t p = (k + run) % peers.size();  // rotate the order
        if (!peers[p].unavailable.empty()) continue;
        const std::string dir = absl::StrCat(scratch, "/", run, "-", i, "-", p);
        std::filesystem::create_directories(dir);
        QueueResult r = peers[p].run(cells[i], dir, cfg.seconds);
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
        const std::string what = absl::StrCat(
            "run ", run + 1, " ", CellName(cells[i]), " ", peers[p].name);
        if (!r.ok) {
          std::fprintf(stderr, "%s: FAILED: %s\n", what.c_str(),
                       r.error.c_str());
          c.notes.push_back(absl::StrCat(what, " failed: ", r.error));
          if (p == 0) msock_failed = true;
          continue;
        }
        if (cells[i].latency) {
          std::fprintf(stderr,
                       "%s: p50 %.0f us, p99 %.0f us (%lld samples, %.0f "
                       "posts/s)\n",
                       what.c_str(), r.p50_us, r.p99_us,
                       static_cast<long long>(r.samples), r.posts_per_s);
        } else {
          std::fprintf(stderr, "%s: %.0f posts/s, receiver %.0f/s\n",
                       what.c_str(), r.posts_per_s, r.delivered_per_s);
        }
        c.ok[i][p].push_back(r);
      }
    }
  }
  std::error_code ec;
  std::filesystem::remove_all(scratch, ec);
  PrintTable(cfg, peers, cells, c);
  return msock_failed ? 1 : 0;
}
