// bench/queue_perf_util.cc: the shared parts of the durable queue benchmark
// (see queue_perf_util.h): the posting loop, latency percentiles, free ports
// and server child processes.
#include "bench/queue_perf_util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

namespace msock::bench {

int64_t NowNs() { return absl::GetCurrentTimeNanos(); }
absl::Time Soon(double seconds) { return absl::Now() + absl::Seconds(seconds); }

std::string MakeBody(int64_t sent_ns) {
  std::string body(kBodySize, 'q');
  std::memcpy(body.data(), &sent_ns, sizeof(sent_ns));
  return body;
}

int64_t SentNs(const void* data, size_t size) {
  int64_t ns = 0;
  if (size >= sizeof(ns)) std::memcpy(&ns, data, sizeof(ns));
  return ns;
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  close(fd);
  return port;
}

std::string FindProgram(const std::vector<std::string>& names) {
  const char* path = std::getenv("PATH");
  for (const std::string& name : names) {
    if (name.starts_with("/")) {
      if (access(name.c_str(), X_OK) == 0) return name;
      continue;
    }
    for (absl::string_view dir : absl::StrSplit(path ? path : "", ':')) {
      if (dir.empty()) continue;
      std::string full = absl::StrCat(dir, "/", name);
      if (access(full.c_str(), X_OK) == 0) return full;
    }
  }
  return "";
}

void LatencySink::Start(int64_t from_ns) {
  std::lock_guard<std::mutex> lock(mu_);
  from_ns_ = from_ns;
}

void LatencySink::Record(int64_t sent_ns) {
  const int64_t now = NowNs();
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++received_;
    if (from_ns_ != 0 && sent_ns >= from_ns_) {
      us_.push_back((now - sent_ns) / 1e3);
    }
  }
  cv_.notify_all();
}

bool LatencySink::WaitFor(int64_t n, absl::Time deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  while (received_ < n) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return false;
    cv_.wait_for(lock, absl::ToChronoNanoseconds(left));
  }
  return true;
}

int64_t LatencySink::received() {
  std::lock_guard<std::mutex> lock(mu_);
  return received_;
}

QueueResult LatencySink::Percentiles() {
  std::lock_guard<std::mutex> lock(mu_);
  QueueResult r;
  if (us_.empty()) {
    r.error = "no latency sample";
    return r;
  }
  std::sort(us_.begin(), us_.end());
  r.ok = true;
  r.samples = static_cast<int64_t>(us_.size());
  r.p50_us = us_[us_.size() / 2];
  r.p99_us = us_[std::min(us_.size() - 1, us_.size() * 99 / 100)];
  return r;
}

QueueResult FinishLatency(const QueueResult& posting, LatencySink& sink) {
  if (!posting.ok) return posting;
  if (!sink.WaitFor(posting.samples, Soon(30))) {
    QueueResult r;
    r.error = absl::StrCat("only ", sink.received(), " of ", posting.samples,
                           " posts delivered");
    return r;
  }
  QueueResult r = sink.Percentiles();
  r.posts_per_s = posting.posts_per_s;
  r.delivered_per_s = posting.delivered_per_s;
  return r;
}

QueueResult RunPosters(int clients, double seconds,
                       const std::function<absl::Status(int)>& setup,
                       const std::function<absl::Status(int)>& post,
                       const std::function<void(int64_t)>& started) {
  std::mutex mu;
  std::condition_variable cv;
  int ready = 0;
  bool go = false;
  int64_t end_ns = 0;
  std::string error;
  std::atomic<bool> failed{false};
  std::vector<int64_t> counts(clients, 0);
  auto fail = [&](int i, const absl::Status& s) {
    std::lock_guard<std::mutex> lock(mu);
    if (error.empty()) error = absl::StrCat("client ", i, ": ", s.ToString());
    failed.store(true);
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back([&, i] {
      absl::Status s = setup(i);
      int64_t end;
      {
        std::unique_lock<std::mutex> lock(mu);
        ++ready;
        cv.notify_all();
        if (!s.ok()) {
          lock.unlock();
          fail(i, s);
          return;
        }
        cv.wait(lock, [&] { return go; });
        end = end_ns;
      }
      while (!failed.load() && NowNs() < end) {
        s = post(i);
        if (!s.ok()) {
          fail(i, s);
          return;
        }
        if (NowNs() <= end) ++counts[i];
      }
    });
  }
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return ready == clients; });
    const int64_t t0 = NowNs();
    if (started) started(t0);
    end_ns = t0 + static_cast<int64_t>(seconds * 1e9);
    go = true;
  }
  cv.notify_all();
  for (std::thread& t : threads) t.join();
  QueueResult r;
  if (failed.load()) {
    r.error = error;
    return r;
  }
  int64_t total = 0;
  for (int64_t c : counts) total += c;
  r.ok = true;
  r.samples = total;
  r.posts_per_s = total / seconds;
  return r;
}

ServerProcess::~ServerProcess() { Stop(); }

absl::Status ServerProcess::Start(const std::vector<std::string>& argv,
                                  const std::string& ready,
                                  absl::Duration timeout) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
  }
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.data()));
  args.push_back(nullptr);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  }
  if (pid == 0) {
    // Only async-signal-safe calls until exec.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    dup2(fds[1], STDOUT_FILENO);
    dup2(fds[1], STDERR_FILENO);
    execv(args[0], args.data());
    _exit(127);
  }
  close(fds[1]);
  pid_ = pid;
  fd_ = fds[0];
  ready_ = ready;
  reader_ = std::thread([this] { Drain(); });
  std::unique_lock<std::mutex> lock(mu_);
  const bool seen = cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                                 [this] { return seen_ready_ || eof_; });
  if (seen && seen_ready_) return absl::OkStatus();
  const std::string why = eof_ ? "exited" : "not ready in time";
  std::string tail = out_;
  absl::StripTrailingAsciiWhitespace(&tail);
  lock.unlock();
  Stop();
  return absl::UnavailableError(
      absl::StrCat(argv[0], " ", why, "; it printed: ", tail));
}

void ServerProcess::Drain() {
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fd_, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    std::lock_guard<std::mutex> lock(mu_);
    if (n <= 0) {
      eof_ = true;
      cv_.notify_all();
      return;
    }
    out_.append(buf, n);
    if (!seen_ready_ && out_.find(ready_) != std::string::npos) {
      seen_ready_ = true;
      cv_.notify_all();
    }
    if (out_.size() > 8192) out_.erase(0, out_.size() - 4096);
  }
}

void ServerProcess::Stop() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
  }
  if (reader_.joinable()) reader_.join();  // EOF once the child is gone
  if (fd_ >= 0) {
    close(fd_);
    fd_ = -1;
  }
}

std::string ServerProcess::output() {
  std::lock_guard<std::mutex> lock(mu_);
  return out_;
}

}  // namespace msock::bench
