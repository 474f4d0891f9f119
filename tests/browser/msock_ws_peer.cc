// tests/browser/msock_ws_peer.cc: msock's own peers for the browser test, on
// one ws:// port, with the test page and clients/js served over http from the
// same port (msock::StaticFiles). Same behaviour as nng_ws_peer.c:
//
//   msock_ws_peer --root REPO [--lifetime-s S]
//
// Prints "ready ws://127.0.0.1:PORT http://127.0.0.1:PORT/tests/browser/
// page.html" once everything listens, then serves until killed or for S
// seconds (default 300). Paths:
//   /rep        Rep: "echo:" + body; "drop:..." unanswered; "delay:MS:..."
//               answered after MS ms (others meanwhile).
//   /pub        Pub: "news: N", "sports: N", "weather: N" in turn, every 5 ms.
//   /pubtext    Pub with text frames: "text: {\"n\":N}".
//   /pair0, /pair1, /pair0text (text frames): "echo:" + body; "hangup"
//               closes that connection.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "msock/msock.h"

namespace {

std::atomic<bool> stop{false};

void Die(const std::string& what, const absl::Status& s) {
  std::fprintf(stderr, "msock_ws_peer: %s: %s\n", what.c_str(),
               s.ToString().c_str());
  std::exit(1);
}

std::string Listen(msock::Socket& s, const std::string& url) {
  absl::StatusOr<std::string> bound = s.Listen(url);
  if (!bound.ok()) Die("listen " + url, bound.status());
  return *bound;
}

// Replies to `delay:` requests when they are due, so others go on meanwhile.
class Delayed {
 public:
  explicit Delayed(msock::Rep& rep) : rep_(rep), thread_([this] { Run(); }) {}
  ~Delayed() {
    {
      std::lock_guard<std::mutex> l(mu_);
      done_ = true;
      cv_.notify_all();
    }
    thread_.join();
  }
  void Add(absl::Time due, msock::Message request) {
    std::lock_guard<std::mutex> l(mu_);
    due_.emplace(due, std::move(request));
    cv_.notify_all();
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> l(mu_);
    while (!done_) {
      if (due_.empty()) {
        cv_.wait(l);
        continue;
      }
      auto first = due_.begin();
      if (absl::Now() < first->first) {
        cv_.wait_for(l, absl::ToChronoNanoseconds(first->first - absl::Now()));
        continue;
      }
      msock::Message q = std::move(first->second);
      due_.erase(first);
      l.unlock();
      msock::Message a("echo:" + std::string(q.body()));
      rep_.Reply(q, a, absl::Now() + absl::Seconds(1)).IgnoreError();
      l.lock();
    }
  }

  msock::Rep& rep_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::multimap<absl::Time, msock::Message> due_;
  bool done_ = false;
  std::thread thread_;
};

void ServeRep(msock::Rep& rep) {
  Delayed delayed(rep);
  while (!stop) {
    absl::StatusOr<msock::Message> q =
        rep.Recv(absl::Now() + absl::Milliseconds(100));
    if (!q.ok()) continue;
    std::string_view body = q->body();
    if (body.substr(0, 5) == "drop:") continue;
    if (body.substr(0, 6) == "delay:") {
      int ms = std::atoi(std::string(body.substr(6)).c_str());
      delayed.Add(absl::Now() + absl::Milliseconds(std::min(ms, 10000)),
                  std::move(*q));
      continue;
    }
    msock::Message a("echo:" + std::string(body));
    rep.Reply(*q, a, absl::Now() + absl::Seconds(1)).IgnoreError();
  }
}

void Publish(msock::Pub& pub, msock::Pub& text) {
  static const char* kTopics[] = {"news: ", "sports: ", "weather: "};
  for (int n = 0; !stop; ++n) {
    msock::Message m(kTopics[n % 3] + std::to_string(n));
    pub.TrySend(m).IgnoreError();
    msock::Message t("text: {\"n\":" + std::to_string(n) + "}");
    text.TrySend(t).IgnoreError();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // the pace
  }
}

template <typename P>
void Echo(P& pair) {
  while (!stop) {
    absl::StatusOr<msock::Message> m =
        pair.Recv(absl::Now() + absl::Milliseconds(100));
    if (!m.ok()) continue;
    if (m->body() == "hangup") {
      pair.socket().ClosePipe(m->source().back());
      continue;
    }
    msock::Message a("echo:" + std::string(m->body()));
    pair.Send(a, absl::Now() + absl::Seconds(1)).IgnoreError();
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string root;
  int lifetime_s = 300;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--root") root = argv[i + 1];
    if (flag == "--lifetime-s") lifetime_s = std::atoi(argv[i + 1]);
  }
  if (root.empty()) {
    std::fprintf(stderr, "usage: msock_ws_peer --root REPO [--lifetime-s S]\n");
    return 2;
  }
  msock::Rep rep;
  std::string first = Listen(rep.socket(), "ws://127.0.0.1:0/rep");
  absl::StatusOr<msock::Url> u = msock::ParseUrl(first);
  const std::string base = "ws://127.0.0.1:" + std::to_string(u->port);
  msock::Pub pub, pubtext;
  msock::Pair0 pair0, pair0text;
  msock::Pair1 pair1;
  if (!pubtext.Set(msock::opt::kWsText, true).ok() ||
      !pair0text.Set(msock::opt::kWsText, true).ok()) {
    Die("set ws-text", absl::InternalError("refused"));
  }
  Listen(pub.socket(), base + "/pub");
  Listen(pubtext.socket(), base + "/pubtext");
  Listen(pair0.socket(), base + "/pair0");
  Listen(pair1.socket(), base + "/pair1");
  Listen(pair0text.socket(), base + "/pair0text");
  std::vector<std::unique_ptr<msock::StaticFiles>> files;
  for (const char* dir : {"clients/js", "tests/browser"}) {
    absl::StatusOr<std::unique_ptr<msock::StaticFiles>> f =
        msock::StaticFiles::Serve(base + "/" + dir, root + "/" + dir);
    if (!f.ok()) Die(std::string("serve ") + dir, f.status());
    files.push_back(std::move(*f));
  }
  std::printf("ready %s %s/tests/browser/page.html\n", base.c_str(),
              ("http" + base.substr(2)).c_str());
  std::fflush(stdout);

  std::vector<std::thread> threads;
  threads.emplace_back([&] { ServeRep(rep); });
  threads.emplace_back([&] { Publish(pub, pubtext); });
  threads.emplace_back([&] { Echo(pair0); });
  threads.emplace_back([&] { Echo(pair1); });
  threads.emplace_back([&] { Echo(pair0text); });
  std::this_thread::sleep_for(std::chrono::seconds(lifetime_s));  // bound
  stop = true;
  for (auto& t : threads) t.join();
  return 0;
}
