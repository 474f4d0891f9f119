// bench/rooms_perf.cc: the rooms protocol measured beside its plain SP
// counterparts, over tcp on 127.0.0.1, all in one process (server side and
// clients on two separate I/O loops):
//   - fan-out: Hub::ToRoom of 64 B events to a room of 10, 100 and 1,000
//     clients, against Pub::Send to as many Subs; messages delivered per second
//     (summed over the receivers) and the share lost to full queues (both drop
//     the newest message for a full receiver, none blocks);
//   - round trip: RoomsClient::Emit -> hub handler -> ack, against
//     Req::Request -> Rep::Reply; p50 / p99 in microseconds.
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

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "bench/rooms_bench_util.h"
#include "msock/msock.h"

namespace {

struct Config {
  int runs = 5;
  double seconds = 1.5;  // timed phase of each fan-out cell
  int round_trips = 5000;
  std::vector<int> sizes = {10, 100, 1000};
};

struct FanOut {
  bool ok = false;
  double rate = 0;  // delivered messages per second
  double lost = 0;  // share of sent x receivers not delivered
};

struct Rtt {
  bool ok = false;
  double p50 = 0, p99 = 0;  // microseconds
};

int64_t NowNs() { return absl::GetCurrentTimeNanos(); }

absl::Time Soon(double s = 10) { return absl::Now() + absl::Seconds(s); }

// What one receiver saw.
struct Counter {
  std::atomic<int64_t> ticks{0};
  std::atomic<int64_t> last_ns{0};
  std::atomic<bool> warm{false};
  std::atomic<bool> end{false};
};

bool WaitAll(const std::vector<std::unique_ptr<Counter>>& cs,
             std::atomic<bool> Counter::*flag, double seconds) {
  const absl::Time deadline = Soon(seconds);
  for (const auto& c : cs) {
    while (!((*c).*flag).load(std::memory_order_acquire)) {
      if (absl::Now() > deadline) return false;
      absl::SleepFor(absl::Milliseconds(1));
    }
  }
  return true;
}

FanOut Summarize(const std::vector<std::unique_ptr<Counter>>& cs, int64_t sent,
                 int64_t start_ns) {
  FanOut r;
  int64_t delivered = 0, last = start_ns;
  for (const auto& c : cs) {
    delivered += c->ticks.load();
    last = std::max(last, c->last_ns.load());
  }
  const double total = static_cast<double>(sent) * cs.size();
  r.ok = delivered > 0;
  r.rate = delivered / ((last - start_ns) / 1e9);
  r.lost = total > 0 ? (total - delivered) / total : 0;
  return r;
}

FanOut RoomsFanOut(int n, const Config& cfg) {
  msock::Context server_ctx, client_ctx;
  msock::Hub hub(msock::HubOptions(), server_ctx);
  absl::StatusOr<std::string> url = hub.Listen("tcp://127.0.0.1:0");
  if (!url.ok()) return {};
  std::vector<std::unique_ptr<Counter>> cs;
  std::vector<std::unique_ptr<msock::RoomsClient>> clients;
  for (int i = 0; i < n; ++i) {
    cs.push_back(std::make_unique<Counter>());
    Counter* c = cs.back().get();
    auto client = std::make_unique<msock::RoomsClient>(
        msock::RoomsClientOptions(), client_ctx);
    client->On("tick",
               [c](const msock::RoomEvent&) -> absl::StatusOr<std::string> {
                 c->ticks.fetch_add(1, std::memory_order_relaxed);
                 c->last_ns.store(NowNs(), std::memory_order_relaxed);
                 return std::string();
               });
    client->On("warm",
               [c](const msock::RoomEvent&) -> absl::StatusOr<std::string> {
                 c->warm.store(true, std::memory_order_release);
                 return std::string();
               });
    client->On("end",
               [c](const msock::RoomEvent&) -> absl::StatusOr<std::string> {
                 c->end.store(true, std::memory_order_release);
                 return std::string();
               });
    if (!client->Dial(*url).ok()) return {};
    clients.push_back(std::move(client));
  }
  if (!msock::bench::JoinAll(clients, "bench")) return {};
  // Every member has a warm-up event before timing starts.
  const absl::Time warm_deadline = Soon(30);
  while (!WaitAll(cs, &Counter::warm, 0.05)) {
    if (absl::Now() > warm_deadline) return {};
    hub.ToRoom("bench", "warm", "").IgnoreError();
  }
  const std::string payload(64, 'x');
  int64_t sent = 0;
  const int64_t start = NowNs();
  const absl::Time stop = absl::Now() + absl::Seconds(cfg.seconds);
  while ((sent & 63) != 0 || absl::Now() < stop) {
    if (!hub.ToRoom("bench", "tick", payload).ok()) return {};
    ++sent;
  }
  // The end marker goes after the ticks on every connection, waiting for room.
  for (const auto& c : clients) {
    hub.Send(c->id(), "end", "", Soon(5)).IgnoreError();
  }
  if (!WaitAll(cs, &Counter::end, 20)) return {};
  FanOut r = Summarize(cs, sent, start);
  clients.clear();
  return r;
}

FanOut PubSubFanOut(int n, const Config& cfg) {
  msock::Context server_ctx, client_ctx;
  msock::Pub pub(server_ctx);
  absl::StatusOr<std::string> url = pub.Listen("tcp://127.0.0.1:0");
  if (!url.ok()) return {};
  std::vector<std::unique_ptr<Counter>> cs;
  std::vector<std::unique_ptr<msock::Sub>> subs;
  std::vector<std::thread> readers;
  for (int i = 0; i < n; ++i) {
    cs.push_back(std::make_unique<Counter>());
    subs.push_back(std::make_unique<msock::Sub>(client_ctx));
    subs.back()->Subscribe("");
    if (!subs.back()->Dial(*url).ok()) return {};
  }
  for (int i = 0; i < n; ++i) {
    readers.emplace_back([&, i] {
      Counter& c = *cs[i];
      for (;;) {
        absl::StatusOr<msock::Message> m =
            subs[i]->Recv(absl::Now() + absl::Milliseconds(250));
        if (!m.ok()) {
          if (absl::IsDeadlineExceeded(m.status())) continue;
          return;  // closed
        }
        const char first = m->empty() ? 0 : m->data()[0];
        if (first == 't') {
          c.ticks.fetch_add(1, std::memory_order_relaxed);
          c.last_ns.store(NowNs(), std::memory_order_relaxed);
        } else if (first == 'w') {
          c.warm.store(true, std::memory_order_release);
        } else if (first == 'e') {
          c.end.store(true, std::memory_order_release);
          return;
        }
      }
    });
  }
  auto send = [&](char first, size_t size) {
    msock::Message m(std::string(size, first));
    return pub.Send(m, absl::Now() + absl::Milliseconds(250));
  };
  bool ok = pub.WaitForPeers(n, Soon(60)).ok();
  const absl::Time warm_deadline = Soon(30);
  while (ok && !WaitAll(cs, &Counter::warm, 0.05)) {
    ok = absl::Now() <= warm_deadline;
    send('w', 1).IgnoreError();
  }
  int64_t sent = 0;
  const int64_t start = NowNs();
  if (ok) {
    const absl::Time stop = absl::Now() + absl::Seconds(cfg.seconds);
    while ((sent & 63) != 0 || absl::Now() < stop) {
      std::string bytes(64, 't');
      msock::Message m(bytes);
      if (!pub.Send(m, absl::Now() + absl::Milliseconds(250)).ok()) break;
      ++sent;
    }
    // End markers may be dropped by a full queue: repeat until all stopped.
    const absl::Time end_deadline = Soon(20);
    while (!WaitAll(cs, &Counter::end, 0.002) && absl::Now() < end_deadline) {
      send('e', 1).IgnoreError();
    }
  }
  FanOut r = Summarize(cs, sent, start);
  r.ok = ok && WaitAll(cs, &Counter::end, 0);
  for (auto& s : subs) s->Close();
  for (auto& t : readers) t.join();
  return r;
}

Rtt Percentiles(std::vector<double> us) {
  Rtt r;
  if (us.empty()) return r;
  std::sort(us.begin(), us.end());
  r.ok = true;
  r.p50 = us[us.size() / 2];
  r.p99 = us[std::min(us.size() - 1, us.size() * 99 / 100)];
  return r;
}

Rtt RoomsRoundTrip(const Config& cfg) {
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
  for (int i = -100; i < cfg.round_trips; ++i) {
    const int64_t t0 = NowNs();
    if (!client.Emit("echo", payload, Soon(5)).ok()) return {};
    if (i >= 0) us.push_back((NowNs() - t0) / 1e3);
  }
  return Percentiles(std::move(us));
}

Rtt ReqRepRoundTrip(const Config& cfg) {
  msock::Context server_ctx, client_ctx;
  msock::Rep rep(server_ctx);
  absl::StatusOr<std::string> url = rep.Listen("tcp://127.0.0.1:0");
  if (!url.ok()) return {};
  std::thread server([&] {
    for (;;) {
      absl::StatusOr<msock::Message> q = rep.Recv(absl::InfiniteFuture());
      if (!q.ok()) return;
      msock::Message a = q->Clone();
      rep.Reply(*q, a, Soon(5)).IgnoreError();
    }
  });
  msock::Req req(client_ctx);
  Rtt r;
  if (req.Dial(*url).ok() && req.WaitForPeers(1, Soon()).ok()) {
    std::vector<double> us;
    bool ok = true;
    for (int i = -100; ok && i < cfg.round_trips; ++i) {
      msock::Message m(std::string(64, 'x'));
      const int64_t t0 = NowNs();
      ok = req.Request(m, Soon(5)).ok();
      if (i >= 0) us.push_back((NowNs() - t0) / 1e3);
    }
    if (ok) r = Percentiles(std::move(us));
  }
  rep.Close();
  server.join();
  return r;
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

void Usage() {
  std::fprintf(stderr,
               "usage: msock_rooms_perf [--runs N] [--seconds S] "
               "[--round-trips N] [--sizes 10,100,1000] [--quick]\n");
}

}  // namespace

int main(int argc, char** argv) {
  Config cfg;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has = i + 1 < argc;
    if (a == "--runs" && has) {
      cfg.runs = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--seconds" && has) {
      cfg.seconds = std::atof(argv[++i]);
    } else if (a == "--round-trips" && has) {
      cfg.round_trips = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--sizes" && has) {
      cfg.sizes.clear();
      for (const char* p = argv[++i]; *p != '\0';) {
        cfg.sizes.push_back(std::max(1, std::atoi(p)));
        const char* comma = std::strchr(p, ',');
        p = comma == nullptr ? p + std::strlen(p) : comma + 1;
      }
    } else if (a == "--quick") {
      cfg.runs = 1;
      cfg.seconds = 0.2;
      cfg.round_trips = 200;
      cfg.sizes = {10, 100};
    } else {
      Usage();
      return 2;
    }
  }
  const size_t cells = cfg.sizes.size();
  std::vector<std::vector<double>> rooms_rate(cells), rooms_lost(cells),
      pub_rate(cells), pub_lost(cells);
  std::vector<double> rooms_p50, rooms_p99, req_p50, req_p99;
  int failures = 0;
  for (int run = 0; run < cfg.runs; ++run) {
    for (size_t c = 0; c < cells; ++c) {
      const int n = cfg.sizes[c];
      FanOut r = RoomsFanOut(n, cfg);
      FanOut p = PubSubFanOut(n, cfg);
      std::fprintf(stderr,
                   "run %d fan-out %d: rooms %s/s lost %.1f%%%s, pub/sub %s/s "
                   "lost %.1f%%%s\n",
                   run + 1, n, Rate(r.rate).c_str(), 100 * r.lost,
                   r.ok ? "" : " FAILED", Rate(p.rate).c_str(), 100 * p.lost,
                   p.ok ? "" : " FAILED");
      failures += !r.ok + !p.ok;
      if (r.ok)
        rooms_rate[c].push_back(r.rate), rooms_lost[c].push_back(r.lost);
      if (p.ok) pub_rate[c].push_back(p.rate), pub_lost[c].push_back(p.lost);
    }
    Rtt r = RoomsRoundTrip(cfg);
    Rtt q = ReqRepRoundTrip(cfg);
    std::fprintf(stderr,
                 "run %d round trip: rooms %.1f / %.1f us%s, req/rep %.1f / "
                 "%.1f us%s\n",
                 run + 1, r.p50, r.p99, r.ok ? "" : " FAILED", q.p50, q.p99,
                 q.ok ? "" : " FAILED");
    failures += !r.ok + !q.ok;
    if (r.ok) rooms_p50.push_back(r.p50), rooms_p99.push_back(r.p99);
    if (q.ok) req_p50.push_back(q.p50), req_p99.push_back(q.p99);
  }
  std::printf(
      "| tcp, 64 B, median of %d runs | rooms (Hub / RoomsClient) | reference "
      "(Pub/Sub, Req/Rep) | rooms / reference |\n|---|---|---|---|\n",
      cfg.runs);
  for (size_t c = 0; c < cells; ++c) {
    const double r = Median(rooms_rate[c]), p = Median(pub_rate[c]);
    std::printf(
        "| fan-out to %d: delivered msgs/s (lost) | %s (%.1f%%) | %s "
        "(%.1f%%) | %.2fx |\n",
        cfg.sizes[c], Rate(r).c_str(), 100 * Median(rooms_lost[c]),
        Rate(p).c_str(), 100 * Median(pub_lost[c]), p > 0 ? r / p : 0);
  }
  const double rp = Median(rooms_p50), qp = Median(req_p50);
  std::printf(
      "| event -> ack round trip p50 / p99 (us) | %.1f / %.1f | %.1f / %.1f | "
      "%.2fx |\n",
      rp, Median(rooms_p99), qp, Median(req_p99), qp > 0 ? rp / qp : 0);
  if (failures > 0)
    std::printf("\n%d measurement(s) failed (see stderr)\n", failures);
  return failures > 0 ? 1 : 0;
}
