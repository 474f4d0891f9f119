// bench/perf_memory.cc: msock_memory, the memory side of issue 5.
//
//   msock_memory idle [--conns N] [--libs msock,nng]
//     Resident memory per idle tcp connection: a server process (this binary,
//     re-run as `serve LIB`) listens with a pull socket; this process opens N
//     plain TCP connections that send the SP header of a push peer and read
//     the server's, so every one is a live pipe on the server. The server's
//     VmRSS before and after, divided by N, is the cost of one connection in
//     user space (kernel socket buffers are not in RSS). All N connections
//     are served by one loop (msock: the Context's I/O thread).
//   msock_memory slow [--seconds S] [--queue N]
//     Memory under a slow consumer: a push process sends 64 B messages over
//     tcp as fast as it can for S seconds (default 60) to a pull process that
//     takes one message per 100 us. Both processes' VmRSS is sampled every
//     second; after a 5 s warm-up the spread (max-min)/min must stay small
//     because every queue is bounded (the sender blocks, nothing grows).
//
// Prints one Markdown table. Linux only (/proc/self/status).
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "msock/msock.h"

#ifdef MSOCK_BENCH_HAVE_NNG
#include <nng/nng.h>
#include <nng/protocol/pipeline0/pull.h>
#endif

extern char** environ;

namespace {

long RssKib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

// A child process running this binary with `args`, its stdin and stdout
// connected to us.
struct Child {
  pid_t pid = -1;
  FILE* to = nullptr;
  FILE* from = nullptr;

  static Child Start(const char* self, std::vector<std::string> args) {
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0) std::abort();
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addclose(&fa, in[1]);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    std::vector<char*> argv{const_cast<char*>(self)};
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    Child c;
    if (posix_spawn(&c.pid, self, &fa, nullptr, argv.data(), environ) != 0) {
      std::perror("posix_spawn");
      std::exit(1);
    }
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(out[1]);
    c.to = fdopen(in[1], "w");
    c.from = fdopen(out[0], "r");
    return c;
  }
  // Sends a command line and returns the answer line ("" if the child died).
  std::string Ask(const std::string& cmd) {
    std::fprintf(to, "%s\n", cmd.c_str());
    std::fflush(to);
    return ReadLine();
  }
  std::string ReadLine() {
    char buf[256];
    if (std::fgets(buf, sizeof(buf), from) == nullptr) return "";
    std::string s(buf);
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    return s;
  }
  void Finish() {
    if (to) std::fclose(to);
    if (from) std::fclose(from);
    int status;
    if (pid > 0) waitpid(pid, &status, 0);
  }
};

// ---- the server side (a child process) ----

// Answers "rss" with "<VmRSS KiB> <pipes>" until stdin closes.
template <typename PipeCount>
void ServeCommands(PipeCount pipes) {
  char buf[64];
  while (std::fgets(buf, sizeof(buf), stdin) != nullptr) {
    std::printf("%ld %d\n", RssKib(), pipes());
    std::fflush(stdout);
  }
}

int Serve(const std::string& lib) {
  if (lib == "msock") {
    msock::Pull pull;
    absl::StatusOr<std::string> url = pull.Listen("tcp://127.0.0.1:0");
    if (!url.ok()) return 1;
    std::printf("%s\n", url->substr(url->rfind(':') + 1).c_str());
    std::fflush(stdout);
    ServeCommands([&] { return pull.socket().pipe_count(); });
    return 0;
  }
#ifdef MSOCK_BENCH_HAVE_NNG
  if (lib == "nng") {
    nng_socket s;
    nng_listener l;
    if (nng_pull0_open(&s) != 0 ||
        nng_listener_create(&l, s, "tcp://127.0.0.1:0") != 0 ||
        nng_listener_start(l, 0) != 0) {
      return 1;
    }
    int port = 0;
    nng_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port);
    std::printf("%d\n", port);
    std::fflush(stdout);
    ServeCommands([] { return -1; });  // NNG does not say
    nng_close(s);
    return 0;
  }
#endif
  return 2;
}

// ---- idle connections ----

// Opens a connection that completes the SP handshake as a push (0x50) peer.
int OpenSpConnection(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    close(fd);
    return -1;
  }
  const unsigned char hello[8] = {0, 'S', 'P', 0, 0, 0x50, 0, 0};
  if (write(fd, hello, 8) != 8) {
    close(fd);
    return -1;
  }
  return fd;
}

bool ReadHello(int fd) {
  unsigned char got[8];
  size_t n = 0;
  while (n < 8) {
    ssize_t r = read(fd, got + n, 8 - n);
    if (r <= 0) return false;
    n += static_cast<size_t>(r);
  }
  return got[1] == 'S' && got[2] == 'P';
}

void Idle(const char* self, int conns, const std::vector<std::string>& libs) {
  std::printf(
      "| library | connections | RSS before (KiB) | RSS after (KiB) | per "
      "connection (bytes) |\n|---|---|---|---|---|\n");
  for (const std::string& lib : libs) {
    Child server = Child::Start(self, {"serve", lib});
    const int port = std::atoi(server.ReadLine().c_str());
    if (port <= 0) {
      std::printf("| %s | - | server failed | | |\n", lib.c_str());
      server.Finish();
      continue;
    }
    long before = std::atol(server.Ask("rss").c_str());
    std::vector<int> fds;
    fds.reserve(static_cast<size_t>(conns));
    // Connect in batches and read the answers, so the listen backlog never
    // overflows.
    int failed = 0;
    for (int i = 0; i < conns; i += 256) {
      std::vector<int> batch;
      for (int j = i; j < std::min(conns, i + 256); ++j) {
        int fd = OpenSpConnection(port);
        if (fd < 0) {
          ++failed;
          continue;
        }
        batch.push_back(fd);
      }
      for (int fd : batch) {
        if (!ReadHello(fd)) ++failed;
        fds.push_back(fd);
      }
    }
    std::string after_line;
    for (int tries = 0; tries < 50; ++tries) {
      after_line = server.Ask("rss");
      const int pipes = std::atoi(after_line.c_str() + after_line.find(' '));
      if (pipes < 0 || pipes >= conns - failed) break;
      absl::SleepFor(absl::Milliseconds(100));
    }
    const long after = std::atol(after_line.c_str());
    const double per = fds.empty() ? 0
                                   : (after - before) * 1024.0 /
                                         static_cast<double>(fds.size());
    std::printf("| %s | %zu%s | %ld | %ld | %.0f |\n", lib.c_str(), fds.size(),
                failed ? " (some failed)" : "", before, after, per);
    std::fflush(stdout);
    for (int fd : fds) close(fd);
    server.Finish();
  }
}

// ---- slow consumer ----

int SlowPull(int queue) {
  msock::Pull pull;
  (void)pull.Set(msock::opt::kRecvQueueMessages, static_cast<size_t>(queue));
  absl::StatusOr<std::string> url = pull.Listen("tcp://127.0.0.1:0");
  if (!url.ok()) return 1;
  std::printf("%s\n", url->c_str());
  std::fflush(stdout);
  std::thread reader([&] {
    for (;;) {
      absl::StatusOr<msock::Message> m =
          pull.Recv(absl::Now() + absl::Seconds(5));
      if (!m.ok()) return;
      absl::SleepFor(absl::Microseconds(100));
    }
  });
  ServeCommands([] { return 0; });
  pull.Close();
  reader.join();
  return 0;
}

void Slow(const char* self, int seconds, int queue) {
  Child server = Child::Start(self, {"serve-slow", std::to_string(queue)});
  const std::string url = server.ReadLine();
  msock::Push push;
  if (!push.Dial(url).ok()) return;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> sent{0};
  std::thread sender([&] {
    const std::string body(64, 'x');
    while (!stop.load()) {
      msock::Message m(body);
      if (push.Send(m, absl::Now() + absl::Milliseconds(100)).ok()) ++sent;
    }
  });
  std::vector<long> srv, cli;
  for (int s = 0; s < seconds; ++s) {
    absl::SleepFor(absl::Seconds(1));
    srv.push_back(std::atol(server.Ask("rss").c_str()));
    cli.push_back(RssKib());
  }
  stop = true;
  sender.join();
  push.Close();
  server.Finish();
  auto spread = [](const std::vector<long>& v) {
    if (v.size() <= 5) return std::string("-");
    auto [lo, hi] = std::minmax_element(v.begin() + 5, v.end());
    char buf[96];
    std::snprintf(buf, sizeof(buf), "%ld..%ld KiB (%.1f%%)", *lo, *hi,
                  100.0 * (*hi - *lo) / static_cast<double>(*lo));
    return std::string(buf);
  };
  std::printf(
      "| side | RSS after warm-up, min..max (spread) |\n|---|---|\n"
      "| consumer (1 msg / 100 us) | %s |\n| producer (never pauses; "
      "back-pressure let %.1fk msgs/s through) | %s |\n",
      spread(srv).c_str(), sent.load() / 1000.0 / seconds, spread(cli).c_str());
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "serve" && argc > 2) return Serve(argv[2]);
  if (mode == "serve-slow" && argc > 2) return SlowPull(std::atoi(argv[2]));
  signal(SIGPIPE, SIG_IGN);
  int conns = 10000, seconds = 60, queue = 4096;
  std::vector<std::string> libs = {"msock"};
#ifdef MSOCK_BENCH_HAVE_NNG
  libs.push_back("nng");
#endif
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string o = argv[i];
    if (o == "--conns") conns = std::atoi(argv[i + 1]);
    if (o == "--seconds") seconds = std::atoi(argv[i + 1]);
    if (o == "--queue") queue = std::atoi(argv[i + 1]);
    if (o == "--libs") {
      libs.clear();
      std::string v = argv[i + 1];
      for (size_t at = 0; at <= v.size();) {
        size_t comma = v.find(',', at);
        if (comma == std::string::npos) comma = v.size();
        libs.push_back(v.substr(at, comma - at));
        at = comma + 1;
      }
    }
  }
  rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  if (mode == "idle") {
    Idle("/proc/self/exe", conns, libs);
  } else if (mode == "slow") {
    Slow("/proc/self/exe", seconds, queue);
  } else {
    std::fprintf(stderr,
                 "usage: msock_memory idle [--conns N] [--libs msock,nng]\n"
                 "       msock_memory slow [--seconds S] [--queue N]\n");
    return 2;
  }
  return 0;
}
