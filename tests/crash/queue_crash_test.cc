// tests/crash/queue_crash_test.cc: kill -9 of `msock queue serve` in the
// middle of traffic, then a restart on the same store (spec durable-queue
// §6, §7, §12).
//
// Per trial: posting threads (one QueueClient each, its own user) post to
// random subsets of the receiving users (two nodes each), each post with a
// client id of its own, retried with that id until answered; receiving
// threads record every delivery and ack it. At a random instant (seeded) the
// server gets SIGKILL and is restarted on the same port and file; the clients
// reconnect and log in again by themselves. Checks: every answered post
// reaches every node of its recipients (lost = 0), no entry comes again to a
// node after its Ack returned OK, no post is stored twice, every post is
// answered in the end. Prints one line per trial and a summary.
//
//   msock_queue_crash_test [--trials N] [--seed S] [--cli PATH] [--posts N]
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "msock/options.h"
#include "msock/protocols/queue.h"
#include "tests/interop/child_process.h"
#include "tests/support/test_support.h"

#ifndef MSOCK_CLI_PATH
#error "MSOCK_CLI_PATH must name the built msock binary"
#endif

namespace msock::testing {
namespace {

constexpr int kPosters = 3;
constexpr int kReceivers = 2;  // users, each with kNodes nodes
constexpr char kNodes[][2] = {"a", "b"};
constexpr absl::Duration kOpTimeout = absl::Seconds(2);
constexpr absl::Duration kTrialLimit = absl::Seconds(40);

struct Config {
  int trials = 20;
  uint64_t seed = 0;
  int posts = 25;  // per poster and trial
  std::string cli = MSOCK_CLI_PATH;
};

struct Totals {
  uint64_t answered = 0, retries = 0, deliveries = 0, redeliveries = 0;
  uint64_t lost = 0, after_ack = 0, stored_twice = 0, unanswered = 0;
};

// What the clients saw, shared by their threads.
struct Observed {
  std::mutex mu;
  std::condition_variable cv;
  // Answered posts: id -> nodes ("user/node") it must reach.
  std::map<uint64_t, std::vector<std::string>> posts;
  std::map<std::string, std::set<uint64_t>> delivered;  // node -> ids
  std::map<std::string, std::set<uint64_t>> acked;      // node -> ids
  std::map<std::string, std::set<uint64_t>> by_body;    // body -> ids
  Totals t;
};

// The server as a child process.
class Server {
 public:
  // Starts `msock queue serve` on `listen`; on success url() is the bound URL.
  absl::Status Start(const Config& c, const std::string& listen,
                     const std::string& db) {
    absl::StatusOr<std::unique_ptr<ChildProcess>> child =
        ChildProcess::Start({c.cli, "queue", "serve", "--listen", listen,
                             "--db", db, "--ack-timeout", "60"});
    if (!child.ok()) return child.status();
    proc_ = *std::move(child);
    std::optional<std::string> line = proc_->ReadLine(absl::Seconds(10));
    if (!line.has_value()) {
      return absl::UnavailableError(
          absl::StrCat("serve did not start: ", proc_->err()));
    }
    url_ = *line;
    return absl::OkStatus();
  }
  void Crash() {
    kill(proc_->pid(), SIGKILL);
    proc_->Wait(absl::Seconds(10));
  }
  // Ends it with SIGTERM; false if it did not exit 0.
  bool Stop() {
    proc_->Kill();
    return proc_->Wait(absl::Seconds(10)) == 0;
  }
  const std::string& url() const { return url_; }
  std::string err() { return proc_->err(); }

 private:
  std::unique_ptr<ChildProcess> proc_;
  std::string url_;
};

std::unique_ptr<QueueClient> NewClient(const std::string& url,
                                       absl::Time deadline, absl::Status* st) {
  auto c = std::make_unique<QueueClient>();
  // Back quickly after the restart.
  c->rooms().Set(opt::kReconnectMin, absl::Milliseconds(10)).IgnoreError();
  c->rooms().Set(opt::kReconnectMax, absl::Milliseconds(100)).IgnoreError();
  *st = c->Connect(url, deadline);
  return c;
}

// A client logged in as user/node, trying again until `end` while the server
// is down (it may be killed during the login itself, and restarted).
std::unique_ptr<QueueClient> LoggedIn(const std::string& url,
                                      const std::string& user,
                                      const std::string& node,
                                      const std::string& secret, absl::Time end,
                                      absl::Status* st) {
  std::unique_ptr<QueueClient> c;
  for (;;) {
    if (c == nullptr) {
      c = NewClient(url, std::min(end, absl::Now() + kOpTimeout), st);
      if (!st->ok()) c.reset();
    }
    if (c != nullptr) {
      *st =
          c->Login(user, node, secret, std::min(end, absl::Now() + kOpTimeout));
      if (st->ok()) return c;
    }
    const bool transient =
        absl::IsUnavailable(*st) || absl::IsDeadlineExceeded(*st);
    if (!transient || absl::Now() >= end) {
      if (c == nullptr) c = std::make_unique<QueueClient>();
      return c;
    }
    if (c != nullptr) {
      c->rooms()
          .WaitConnected(std::min(end, absl::Now() + kOpTimeout))
          .IgnoreError();
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
}

void PostAll(const Config& cfg, int trial, int poster, uint64_t seed,
             const std::string& url, const std::string& secret, absl::Time end,
             Observed& obs) {
  std::mt19937_64 rng(seed);
  absl::Status st;
  const std::string user = absl::StrCat("p", poster);
  std::unique_ptr<QueueClient> c = LoggedIn(url, user, "n", secret, end, &st);
  if (!st.ok()) {
    std::fprintf(stderr, "poster %d: %s\n", poster, st.ToString().c_str());
    std::lock_guard<std::mutex> lock(obs.mu);
    obs.t.unanswered += cfg.posts;
    return;
  }
  for (int k = 0; k < cfg.posts; ++k) {
    std::vector<std::string> to, nodes;
    const int mask = 1 + static_cast<int>(rng() % ((1 << kReceivers) - 1));
    for (int r = 0; r < kReceivers; ++r) {
      if ((mask & (1 << r)) == 0) continue;
      to.push_back(absl::StrCat("r", r));
      for (const char* n : kNodes)
        nodes.push_back(absl::StrCat("r", r, "/", n));
    }
    const std::string body = absl::StrCat("t", trial, "-p", poster, "-", k);
    PostOptions options;
    options.client_id = body;
    options.no_self = true;
    absl::StatusOr<PostResult> r =
        c->Post(to, body, absl::Now() + kOpTimeout, options);
    uint64_t retries = 0;
    while (!r.ok() && absl::Now() < end &&
           !absl::IsInvalidArgument(r.status())) {
      ++retries;
      // The answer was lost (or the client is reconnecting): the same client
      // id again. The pause keeps a client not yet logged in from spinning.
      c->rooms()
          .WaitConnected(std::min(end, absl::Now() + kOpTimeout))
          .IgnoreError();
      absl::SleepFor(absl::Milliseconds(5));
      r = c->Post(to, body, std::min(end, absl::Now() + kOpTimeout), options);
    }
    std::lock_guard<std::mutex> lock(obs.mu);
    obs.t.retries += retries;
    if (!r.ok()) {
      std::fprintf(stderr, "post %s never answered: %s\n", body.c_str(),
                   r.status().ToString().c_str());
      ++obs.t.unanswered;
      continue;
    }
    ++obs.t.answered;
    obs.posts[r->id] = std::move(nodes);
    obs.cv.notify_all();
  }
  c->Close();
}

void ReceiveUntil(const std::string& user, const std::string& node,
                  const std::string& secret, const std::string& url,
                  absl::Time end, std::atomic<bool>& stop, Observed& obs) {
  const std::string who = absl::StrCat(user, "/", node);
  absl::Status st;
  std::unique_ptr<QueueClient> c = LoggedIn(url, user, node, secret, end, &st);
  if (!st.ok()) {
    std::fprintf(stderr, "%s: %s\n", who.c_str(), st.ToString().c_str());
    return;
  }
  while (!stop && absl::Now() < end) {
    absl::StatusOr<QueueMessage> m =
        c->Receive(absl::Now() + absl::Milliseconds(100));
    if (!m.ok()) {
      // Nothing yet; or reconnecting: wait for it rather than spin.
      if (!absl::IsDeadlineExceeded(m.status())) {
        c->rooms()
            .WaitConnected(absl::Now() + absl::Milliseconds(100))
            .IgnoreError();
      }
      continue;
    }
    {
      std::lock_guard<std::mutex> lock(obs.mu);
      ++obs.t.deliveries;
      if (!obs.delivered[who].insert(m->id).second || m->attempt > 1) {
        ++obs.t.redeliveries;
      }
      if (obs.acked[who].count(m->id) != 0) {
        ++obs.t.after_ack;
        std::fprintf(stderr, "%s: id %llu (%s) delivered again after its ack\n",
                     who.c_str(), static_cast<unsigned long long>(m->id),
                     m->body.c_str());
      }
      obs.by_body[m->body].insert(m->id);
      obs.cv.notify_all();
    }
    if (c->Ack(m->id, absl::Now() + kOpTimeout).ok()) {
      std::lock_guard<std::mutex> lock(obs.mu);
      obs.acked[who].insert(m->id);
    }
  }
  c->Close();
}

// Every answered post delivered to each of its nodes? (obs.mu held)
uint64_t Missing(const Observed& obs) {
  uint64_t missing = 0;
  for (const auto& [id, nodes] : obs.posts) {
    for (const std::string& n : nodes) {
      auto it = obs.delivered.find(n);
      if (it == obs.delivered.end() || it->second.count(id) == 0) ++missing;
    }
  }
  return missing;
}

// One trial; false on a setup failure (message printed).
bool RunTrial(const Config& cfg, int trial, Totals& sum) {
  const absl::Time start = absl::Now();
  const absl::Time end = start + kTrialLimit;
  const uint64_t seed = cfg.seed + static_cast<uint64_t>(trial);
  std::mt19937_64 rng(seed);
  test::ScratchDir dir;
  const std::string db = dir.path() + "/queue.db";
  Server server;
  absl::Status st = server.Start(cfg, "tcp://127.0.0.1:0", db);
  if (!st.ok()) {
    std::fprintf(stderr, "trial %d: %s\n", trial, st.ToString().c_str());
    return false;
  }
  const std::string url = server.url();

  // Users: p0.. (one node "n" each) post; r0.. (nodes a, b) receive.
  std::map<std::string, std::string> secrets;  // "user/node" -> secret
  std::unique_ptr<QueueClient> admin = NewClient(url, end, &st);
  for (int p = 0; p < kPosters && st.ok(); ++p) {
    absl::StatusOr<std::string> s =
        admin->Register(absl::StrCat("p", p), "n", absl::Now() + kOpTimeout);
    st = s.status();
    if (s.ok()) secrets[absl::StrCat("p", p, "/n")] = *s;
  }
  for (int r = 0; r < kReceivers && st.ok(); ++r) {
    const std::string user = absl::StrCat("r", r);
    absl::StatusOr<std::string> a =
        admin->Register(user, "a", absl::Now() + kOpTimeout);
    absl::StatusOr<std::string> b =
        a.ok()
            ? admin->Register(user, "b", absl::Now() + kOpTimeout, {}, "a", *a)
            : a;
    st = b.status();
    if (b.ok()) {
      secrets[user + "/a"] = *a;
      secrets[user + "/b"] = *b;
    }
  }
  admin->Close();
  if (!st.ok()) {
    std::fprintf(stderr, "trial %d: register: %s\n", trial,
                 st.ToString().c_str());
    return false;
  }

  Observed obs;
  std::atomic<bool> stop{false};
  std::vector<std::thread> receivers, posters;
  for (int r = 0; r < kReceivers; ++r) {
    for (const char* n : kNodes) {
      const std::string user = absl::StrCat("r", r);
      receivers.emplace_back(ReceiveUntil, user, std::string(n),
                             secrets[user + "/" + n], url, end, std::ref(stop),
                             std::ref(obs));
    }
  }
  for (int p = 0; p < kPosters; ++p) {
    posters.emplace_back(PostAll, std::cref(cfg), trial, p, rng(), url,
                         secrets[absl::StrCat("p", p, "/n")], end,
                         std::ref(obs));
  }
  // The crash: once a random number of posts have been answered (a quarter
  // of the trials after the last one, while deliveries and acks go on), plus
  // up to 3 ms.
  const uint64_t total = static_cast<uint64_t>(kPosters) * cfg.posts;
  const uint64_t kill_after = rng() % (total + total / 3);
  const absl::Duration jitter = absl::Microseconds(rng() % 3000);
  uint64_t answered_before = 0;
  {
    std::unique_lock<std::mutex> lock(obs.mu);
    // Woken at each answer and delivery.
    obs.cv.wait_until(lock, absl::ToChronoTime(end), [&] {
      return obs.t.answered + obs.t.unanswered >= std::min(kill_after, total);
    });
    const absl::Time kill_at = absl::Now() + jitter;
    while (absl::Now() < kill_at) {
      obs.cv.wait_for(lock, absl::ToChronoMicroseconds(kill_at - absl::Now()));
    }
    answered_before = obs.t.answered;
  }
  server.Crash();
  // Same port (the clients re-dial it), same file; a second try should the
  // port not be free at once.
  st = server.Start(cfg, url, db);
  if (!st.ok()) st = server.Start(cfg, url, db);
  if (!st.ok()) {
    std::fprintf(stderr, "trial %d: restart: %s\n", trial,
                 st.ToString().c_str());
    stop = true;
    for (std::thread& t : posters) t.join();
    for (std::thread& t : receivers) t.join();
    return false;
  }
  for (std::thread& t : posters) t.join();
  {
    std::unique_lock<std::mutex> lock(obs.mu);
    obs.cv.wait_until(lock, absl::ToChronoTime(end),
                      [&] { return Missing(obs) == 0; });
    obs.t.lost = Missing(obs);
  }
  stop = true;
  for (std::thread& t : receivers) t.join();
  const bool stopped = server.Stop();
  for (const auto& [body, ids] : obs.by_body) {
    if (ids.size() > 1) {
      ++obs.t.stored_twice;
      std::fprintf(stderr, "post %s stored %zu times\n", body.c_str(),
                   ids.size());
    }
  }
  const Totals& t = obs.t;
  std::printf(
      "trial %d seed %llu: killed after %llu answers + %lld us (%llu "
      "answered before); posts "
      "answered %llu (retries %llu, unanswered %llu), deliveries %llu "
      "(redeliveries %llu), lost %llu, after ack %llu, stored twice %llu; "
      "%.2f s%s\n",
      trial, static_cast<unsigned long long>(seed),
      static_cast<unsigned long long>(std::min(kill_after, total)),
      static_cast<long long>(absl::ToInt64Microseconds(jitter)),
      static_cast<unsigned long long>(answered_before),
      static_cast<unsigned long long>(t.answered),
      static_cast<unsigned long long>(t.retries),
      static_cast<unsigned long long>(t.unanswered),
      static_cast<unsigned long long>(t.deliveries),
      static_cast<unsigned long long>(t.redeliveries),
      static_cast<unsigned long long>(t.lost),
      static_cast<unsigned long long>(t.after_ack),
      static_cast<unsigned long long>(t.stored_twice),
      absl::ToDoubleSeconds(absl::Now() - start),
      stopped ? "" : " (serve did not stop cleanly)");
  std::fflush(stdout);
  sum.answered += t.answered;
  sum.retries += t.retries;
  sum.unanswered += t.unanswered;
  sum.deliveries += t.deliveries;
  sum.redeliveries += t.redeliveries;
  sum.lost += t.lost;
  sum.after_ack += t.after_ack;
  sum.stored_twice += t.stored_twice;
  return stopped;
}

bool ParseArgs(int argc, char** argv, Config& cfg) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
    bool ok = v != nullptr;
    if (a == "--trials") {
      ok = ok && absl::SimpleAtoi(v, &cfg.trials) && cfg.trials > 0;
    } else if (a == "--seed") {
      ok = ok && absl::SimpleAtoi(v, &cfg.seed);
    } else if (a == "--posts") {
      ok = ok && absl::SimpleAtoi(v, &cfg.posts) && cfg.posts > 0;
    } else if (a == "--cli") {
      if (ok) cfg.cli = v;
    } else {
      ok = false;
    }
    if (!ok) {
      std::fprintf(stderr,
                   "usage: %s [--trials N] [--seed S] [--posts N] [--cli "
                   "PATH]\n",
                   argv[0]);
      return false;
    }
    ++i;
  }
  return true;
}

}  // namespace
}  // namespace msock::testing

int main(int argc, char** argv) {
  using msock::testing::Config;
  Config cfg;
  cfg.seed = static_cast<uint64_t>(absl::ToUnixMicros(absl::Now()));
  if (!msock::testing::ParseArgs(argc, argv, cfg)) return 2;
  std::printf("queue_crash: %d trials, seed %llu (rerun: --seed %llu)\n",
              cfg.trials, static_cast<unsigned long long>(cfg.seed),
              static_cast<unsigned long long>(cfg.seed));
  const absl::Time start = absl::Now();
  msock::testing::Totals sum;
  int failed = 0;
  for (int trial = 0; trial < cfg.trials; ++trial) {
    if (!msock::testing::RunTrial(cfg, trial, sum)) ++failed;
  }
  const bool ok = failed == 0 && sum.lost == 0 && sum.after_ack == 0 &&
                  sum.stored_twice == 0 && sum.unanswered == 0;
  std::printf(
      "queue_crash: trials %d, posts answered %llu, deliveries %llu, "
      "redeliveries %llu, lost %llu, re-delivered-after-ack %llu, stored "
      "twice %llu, unanswered %llu, failed trials %d, time %.1f s: %s\n",
      cfg.trials, static_cast<unsigned long long>(sum.answered),
      static_cast<unsigned long long>(sum.deliveries),
      static_cast<unsigned long long>(sum.redeliveries),
      static_cast<unsigned long long>(sum.lost),
      static_cast<unsigned long long>(sum.after_ack),
      static_cast<unsigned long long>(sum.stored_twice),
      static_cast<unsigned long long>(sum.unanswered), failed,
      absl::ToDoubleSeconds(absl::Now() - start), ok ? "PASS" : "FAIL");
  return ok ? 0 : 1;
}
