// bench/topics_perf.cc: topics (and services) measured beside the rooms
// primitives they are built on, over tcp on 127.0.0.1, all in one process
// (hub and clients on two separate I/O loops):
//   - fan-out latency: TopicHost::Apply of one int change -> applied at every
//     subscriber (the last one's change callback), with 1, 100 and 1,000
//     subscribers, against Hub::ToRoom of an event of the same size -> handled
//     by every member; p50 / p99 in microseconds;
//   - sustained: changes applied per second with 100 subscribers, and the
//     updates delivered per second (summed over the subscribers);
//   - round trip: ServicesClient::Call of a client-provided service beside
//     RoomsClient::Emit -> hub handler -> ack (when services are built in).
// Prints a Markdown table of medians over --runs runs. See bench/README.md.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "msock/msock.h"
#include "msock/protocols/topics.h"

namespace {

struct Config {
  int runs = 3;
  int rounds = 300;      // fan-out changes per cell
  double seconds = 1.5;  // sustained phase
  std::vector<int> sizes = {1, 100, 1000};
};

struct Rtt {
  bool ok = false;
  double p50 = 0, p99 = 0;  // microseconds
};

int64_t NowNs() { return absl::GetCurrentTimeNanos(); }
absl::Time Soon(double s = 30) { return absl::Now() + absl::Seconds(s); }

Rtt Percentiles(std::vector<double> us) {
  Rtt r;
  if (us.empty()) return r;
  std::sort(us.begin(), us.end());
  r.ok = true;
  r.p50 = us[us.size() / 2];
  r.p99 = us[std::min(us.size() - 1, us.size() * 99 / 100)];
  return r;
}

// Arrivals of one round, and when the last one came.
struct Arrivals {
  std::atomic<int64_t> count{0};
  std::atomic<int64_t> target{0};
  std::atomic<int64_t> done_ns{0};
  void Hit() {
    if (count.fetch_add(1) + 1 == target.load()) done_ns.store(NowNs());
  }
  // Starts a round of `n` arrivals; returns false if the last timed out.
  bool Wait(absl::Time deadline) {
    while (done_ns.load() == 0) {
      if (absl::Now() > deadline) return false;
      std::this_thread::yield();
    }
    return true;
  }
  void Next(int64_t n) {
    done_ns.store(0);
    target.store(count.load() + n);
  }
};

// A hub with `n` connected clients, each with a topics replica of "n".
struct Setup {
  msock::Context server_ctx, client_ctx;
  msock::Hub hub{msock::HubOptions(), server_ctx};
  msock::TopicHost host{hub};
  std::vector<std::unique_ptr<msock::RoomsClient>> clients;
  std::vector<std::unique_ptr<msock::TopicsClient>> replicas;

  bool Start(int n, Arrivals* arrivals, bool topics) {
    if (!host.Create("n", msock::TopicType::kInt).ok()) return false;
    absl::StatusOr<std::string> url = hub.Listen("tcp://127.0.0.1:0");
    if (!url.ok()) return false;
    for (int i = 0; i < n; ++i) {
      auto c = std::make_unique<msock::RoomsClient>(msock::RoomsClientOptions(),
                                                    client_ctx);
      c->On("tick",
            [arrivals](const msock::RoomEvent&) -> absl::StatusOr<std::string> {
              arrivals->Hit();
              return std::string();
            });
      if (!c->Dial(*url).ok()) return false;
      clients.push_back(std::move(c));
    }
    std::atomic<int> failed{0};
    std::vector<std::thread> joiners;
    for (int t = 0; t < 8; ++t) {
      joiners.emplace_back([&, t] {
        for (int i = t; i < n; i += 8) {
          if (!clients[i]->WaitConnected(Soon(60)).ok() ||
              !clients[i]->Join("bench", Soon(60)).ok()) {
            failed++;
          }
        }
      });
    }
    for (auto& t : joiners) t.join();
    if (failed.load() > 0) return false;
    if (!topics) return true;
    for (int i = 0; i < n; ++i) {
      replicas.push_back(std::make_unique<msock::TopicsClient>(*clients[i]));
      replicas.back()->OnChange("n", [arrivals](const msock::TopicEvent& ev) {
        if (ev.kind == msock::TopicEvent::Kind::kApplied) arrivals->Hit();
      });
      if (!replicas.back()->Subscribe("n", Soon(60)).ok()) return false;
    }
    return true;
  }
};

// One change at a time: from Apply (or ToRoom) to the last subscriber.
Rtt FanOutLatency(int n, const Config& cfg, bool topics, size_t* bytes) {
  Arrivals arrivals;
  Setup s;
  if (!s.Start(n, &arrivals, topics)) return {};
  // The reference event carries as many bytes as one topic update.
  const std::string update =
      R"({"topic":"n","version":"100","action":"0_100","changes":[{"topic":"n","type":"add","value":1}]})";
  *bytes = update.size();
  std::vector<double> us;
  for (int i = -20; i < cfg.rounds; ++i) {
    arrivals.Next(n);
    const int64_t t0 = NowNs();
    bool ok = topics ? s.host.Apply({msock::changes::Add("n", 1)}).ok()
                     : s.hub.ToRoom("bench", "tick", update).ok();
    if (!ok || !arrivals.Wait(Soon(10))) return {};
    if (i >= 0) us.push_back((arrivals.done_ns.load() - t0) / 1e3);
  }
  return Percentiles(std::move(us));
}

struct Sustained {
  bool ok = false;
  double changes = 0, delivered = 0;  // per second
};

Sustained SustainedChanges(int n, const Config& cfg) {
  Arrivals arrivals;
  Setup s;
  if (!s.Start(n, &arrivals, true)) {
    std::fprintf(stderr, "sustained: setup failed\n");
    return {};
  }
  int64_t applied = 0;
  const int64_t t0 = NowNs();
  const absl::Time stop = absl::Now() + absl::Seconds(cfg.seconds);
  while (absl::Now() < stop) {
    absl::StatusOr<std::vector<uint64_t>> v =
        s.host.Apply({msock::changes::Add("n", 1)});
    if (!v.ok()) {
      std::fprintf(stderr, "sustained: %s\n", v.status().ToString().c_str());
      return {};
    }
    ++applied;
  }
  const int64_t t1 = NowNs();
  // Every replica ends at the hub's version (coalesced by resyncs if some
  // updates were dropped on the way).
  const uint64_t final_version = s.host.Version("n").value_or(0);
  for (auto& r : s.replicas) {
    while (r->Version("n").value_or(0) != final_version) {
      if (absl::Now() > stop + absl::Seconds(30)) {
        std::fprintf(
            stderr, "sustained: a replica stays at %llu, not %llu\n",
            static_cast<unsigned long long>(r->Version("n").value_or(0)),
            static_cast<unsigned long long>(final_version));
        return {};
      }
      std::this_thread::yield();
    }
  }
  const int64_t t2 = NowNs();
  Sustained out;
  out.ok = true;
  out.changes = applied / ((t1 - t0) / 1e9);
  out.delivered = arrivals.count.load() / ((t2 - t0) / 1e9);
  return out;
}

Rtt EventRoundTrip(const Config& cfg) {
  msock::Context server_ctx, client_ctx;
  msock::Hub hub(msock::HubOptions(), server_ctx);
  hub.On("echo", [](const msock::RoomEvent& ev) -> absl::StatusOr<std::string> {
    return ev.payload;
  });
  absl::StatusOr<std::string> url = hub.Listen("tcp://127.0.0.1:0");
  if (!url.ok()) return {};
  msock::RoomsClient client(msock::RoomsClientOptions(), client_ctx);
  if (!client.Connect(*url, Soon()).ok()) return {};
  const std::string payload(64, 'x');
  std::vector<double> us;
  for (int i = -100; i < cfg.rounds * 10; ++i) {
    const int64_t t0 = NowNs();
    if (!client.Emit("echo", payload, Soon(5)).ok()) return {};
    if (i >= 0) us.push_back((NowNs() - t0) / 1e3);
  }
  return Percentiles(std::move(us));
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::string Rate(double r) {
  if (r >= 1e6) return absl::StrFormat("%.2fM", r / 1e6);
  return absl::StrFormat("%.0fk", r / 1e3);
}

}  // namespace

int main(int argc, char** argv) {
  Config cfg;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has = i + 1 < argc;
    if (a == "--runs" && has) {
      cfg.runs = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--rounds" && has) {
      cfg.rounds = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--quick") {
      cfg.runs = 1;
      cfg.rounds = 30;
      cfg.seconds = 0.2;
      cfg.sizes = {1, 10};
    } else {
      std::fprintf(stderr,
                   "usage: msock_topics_perf [--runs N] [--rounds N] "
                   "[--quick]\n");
      return 2;
    }
  }
  const size_t cells = cfg.sizes.size();
  std::vector<std::vector<double>> t50(cells), t99(cells), r50(cells),
      r99(cells);
  std::vector<double> changes, delivered, ev50, ev99;
  size_t bytes = 0;
  int failures = 0;
  for (int run = 0; run < cfg.runs; ++run) {
    for (size_t c = 0; c < cells; ++c) {
      const int n = cfg.sizes[c];
      Rtt t = FanOutLatency(n, cfg, true, &bytes);
      Rtt r = FanOutLatency(n, cfg, false, &bytes);
      std::fprintf(stderr,
                   "run %d fan-out %d: topic %.0f / %.0f us%s, ToRoom %.0f / "
                   "%.0f us%s\n",
                   run + 1, n, t.p50, t.p99, t.ok ? "" : " FAILED", r.p50,
                   r.p99, r.ok ? "" : " FAILED");
      failures += !t.ok + !r.ok;
      if (t.ok) t50[c].push_back(t.p50), t99[c].push_back(t.p99);
      if (r.ok) r50[c].push_back(r.p50), r99[c].push_back(r.p99);
    }
    Sustained s = SustainedChanges(std::min(100, cfg.sizes.back()), cfg);
    Rtt e = EventRoundTrip(cfg);
    std::fprintf(stderr,
                 "run %d: sustained %s changes/s, %s delivered/s%s; event->ack "
                 "%.1f / %.1f us%s\n",
                 run + 1, Rate(s.changes).c_str(), Rate(s.delivered).c_str(),
                 s.ok ? "" : " FAILED", e.p50, e.p99, e.ok ? "" : " FAILED");
    failures += !s.ok + !e.ok;
    if (s.ok) changes.push_back(s.changes), delivered.push_back(s.delivered);
    if (e.ok) ev50.push_back(e.p50), ev99.push_back(e.p99);
  }
  std::printf(
      "| tcp, median of %d runs | topics | reference (rooms, %zu B events) | "
      "topics / reference |\n|---|---|---|---|\n",
      cfg.runs, bytes);
  for (size_t c = 0; c < cells; ++c) {
    const double t = Median(t50[c]), r = Median(r50[c]);
    std::printf(
        "| change -> applied at all %d subscribers, p50 / p99 (us) | %.0f / "
        "%.0f | ToRoom: %.0f / %.0f | %.2fx |\n",
        cfg.sizes[c], t, Median(t99[c]), r, Median(r99[c]), r > 0 ? t / r : 0);
  }
  std::printf(
      "| sustained, %d subscribers: changes/s (updates delivered/s) | %s (%s) "
      "| | |\n",
      std::min(100, cfg.sizes.back()), Rate(Median(changes)).c_str(),
      Rate(Median(delivered)).c_str());
  std::printf("| event -> ack round trip p50 / p99 (us) | | %.1f / %.1f | |\n",
              Median(ev50), Median(ev99));
  if (failures > 0)
    std::printf("\n%d measurement(s) failed (see stderr)\n", failures);
  return failures > 0 ? 1 : 0;
}
