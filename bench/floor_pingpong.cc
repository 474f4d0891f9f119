// bench/floor_pingpong.cc: msock_floor, the round trip that no library can
// beat on this machine: two threads of one process pass a 64 B token back and
// forth, blocking each time, with no messaging library in between. Three
// kinds: a mutex + condition variable (what an inproc round trip costs: two
// thread wake-ups), a unix socketpair and a tcp connection on 127.0.0.1
// (blocking read/write: one wake-up per direction). Prints p50 / p99 in us.
//
//   msock_floor [--round-trips N] [--runs R]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kSize = 64;
constexpr int kWarmUp = 200;

struct Result {
  double p50 = 0, p99 = 0;
};

Result Percentiles(std::vector<double> us) {
  std::sort(us.begin(), us.end());
  return {us[us.size() / 2], us[us.size() * 99 / 100]};
}

// A token handed between two threads under a mutex: each side waits on the
// condition variable until it is its turn.
Result CondVar(int n) {
  std::mutex mu;
  std::condition_variable cv;
  int turn = 0;  // 0: pinger's, 1: ponger's; -1: stop
  char token[kSize] = {};
  std::thread ponger([&] {
    std::unique_lock<std::mutex> lock(mu);
    for (;;) {
      cv.wait(lock, [&] { return turn != 0; });
      if (turn < 0) return;
      token[0]++;
      turn = 0;
      cv.notify_all();
    }
  });
  std::vector<double> us;
  us.reserve(static_cast<size_t>(n));
  for (int i = 0; i < kWarmUp + n; ++i) {
    Clock::time_point t0 = Clock::now();
    std::unique_lock<std::mutex> lock(mu);
    turn = 1;
    cv.notify_all();
    cv.wait(lock, [&] { return turn == 0; });
    lock.unlock();
    if (i >= kWarmUp) {
      us.push_back(
          std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    turn = -1;
    cv.notify_all();
  }
  ponger.join();
  return Percentiles(std::move(us));
}

bool Full(int fd, char* buf, bool write_it) {
  size_t done = 0;
  while (done < kSize) {
    ssize_t r = write_it ? write(fd, buf + done, kSize - done)
                         : read(fd, buf + done, kSize - done);
    if (r <= 0) return false;
    done += static_cast<size_t>(r);
  }
  return true;
}

// Blocking ping-pong over a connected pair of stream sockets.
Result Sockets(int a, int b, int n) {
  std::thread ponger([b] {
    char buf[kSize];
    while (Full(b, buf, false) && Full(b, buf, true)) {
    }
  });
  char buf[kSize] = {};
  std::vector<double> us;
  us.reserve(static_cast<size_t>(n));
  for (int i = 0; i < kWarmUp + n; ++i) {
    Clock::time_point t0 = Clock::now();
    if (!Full(a, buf, true) || !Full(a, buf, false)) {
      std::fprintf(stderr, "msock_floor: socket ping-pong failed\n");
      std::exit(1);
    }
    if (i >= kWarmUp) {
      us.push_back(
          std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    }
  }
  shutdown(a, SHUT_RDWR);
  ponger.join();
  close(a);
  close(b);
  return Percentiles(std::move(us));
}

Result Unix(int n) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
    std::perror("socketpair");
    std::exit(1);
  }
  return Sockets(sv[0], sv[1], n);
}

Result Tcp(int n) {
  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (lfd < 0 || bind(lfd, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      listen(lfd, 1) != 0 ||
      getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::perror("tcp listen");
    std::exit(1);
  }
  int a = socket(AF_INET, SOCK_STREAM, 0);
  if (a < 0 || connect(a, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    std::perror("tcp connect");
    std::exit(1);
  }
  int b = accept(lfd, nullptr, nullptr);
  close(lfd);
  int one = 1;
  setsockopt(a, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  setsockopt(b, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return Sockets(a, b, n);
}

}  // namespace

int main(int argc, char** argv) {
  int n = 10000, runs = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--round-trips") {
      n = std::atoi(argv[i + 1]);
    } else if (a == "--runs") {
      runs = std::atoi(argv[i + 1]);
    } else {
      std::fprintf(stderr, "usage: msock_floor [--round-trips N] [--runs R]\n");
      return 2;
    }
  }
  if (n < 100 || runs < 1) {
    std::fprintf(stderr,
                 "msock_floor: need --round-trips >= 100, --runs >= 1\n");
    return 2;
  }
  struct Kind {
    const char* name;
    Result (*fn)(int);
  } kinds[] = {{"condvar (inproc floor)", CondVar},
               {"unix socketpair (ipc floor)", Unix},
               {"tcp 127.0.0.1 (tcp floor)", Tcp}};
  std::printf(
      "| round trip, 64 B, two threads, blocking | p50 us | p99 us |\n");
  std::printf("|---|---|---|\n");
  for (const Kind& k : kinds) {
    // Median over runs of each percentile.
    std::vector<double> p50, p99;
    for (int r = 0; r < runs; ++r) {
      Result res = k.fn(n);
      p50.push_back(res.p50);
      p99.push_back(res.p99);
    }
    std::sort(p50.begin(), p50.end());
    std::sort(p99.begin(), p99.end());
    std::printf("| %s | %.1f | %.1f |\n", k.name, p50[p50.size() / 2],
                p99[p99.size() / 2]);
  }
  return 0;
}
