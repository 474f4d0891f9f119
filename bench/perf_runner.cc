// bench/perf_runner.cc: one measurement in a forked child under a watchdog.
// The child publishes its result in MAP_SHARED memory before tearing down, so a
// library that hangs in close still yields its numbers; a hang or crash before
// the result costs only that measurement.
#include "bench/perf_runner.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <thread>
#include <vector>

namespace msock::bench {

int PickFreeTcpPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

const char* TestName(Test test) {
  switch (test) {
    case Test::kThroughput:
      return "throughput";
    case Test::kLatency:
      return "latency";
    case Test::kReqRep:
      return "reqrep";
    case Test::kFanout:
      return "fanout";
    case Test::kFanoutBlock:
      return "fanout-block";
  }
  return "?";
}

namespace {

void PinToOneCpu() {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(0, &set);
  sched_setaffinity(0, sizeof(set), &set);
}

// The listening side: receiver, echo, replier or publisher.
void ListenSide(Peer& peer, Test test, const SideArgs& args) {
  switch (test) {
    case Test::kThroughput:
      return peer.Receiver(args);
    case Test::kLatency:
      return peer.Echo(args);
    case Test::kReqRep:
      return peer.Replier(args);
    case Test::kFanout:
    case Test::kFanoutBlock:
      return peer.Publisher(args);
  }
}

// A dialing side: sender, ping, requester or subscriber `index`.
void DialSide(Peer& peer, Test test, SideArgs args, int index) {
  args.index = index;
  switch (test) {
    case Test::kThroughput:
      return peer.Sender(args);
    case Test::kLatency:
      return peer.Ping(args);
    case Test::kReqRep:
      return peer.Requester(args);
    case Test::kFanout:
    case Test::kFanoutBlock:
      return peer.Subscriber(args);
  }
}

int Dialers(Test test) { return IsFanout(test) ? kSubscribers : 1; }

// Runs every side of one measurement in this process, as threads.
void RunThreads(const Library& lib, Test test, const SideArgs& args) {
  std::unique_ptr<Peer> peer = lib.make();
  std::thread listener([&] { ListenSide(*peer, test, args); });
  std::vector<std::thread> dialers;
  for (int i = 1; i < Dialers(test); ++i) {
    dialers.emplace_back([&, i] { DialSide(*peer, test, args, i); });
  }
  DialSide(*peer, test, args, 0);
  for (std::thread& t : dialers) t.join();
  listener.join();
  peer.reset();
}

// Starts a process (a child of this one, dying with it) that runs `side` and
// exits. Its pid, or -1 with a failure recorded.
template <typename Side>
pid_t Spawn(const SideArgs& args, Side&& side) {
  pid_t pid = fork();
  if (pid < 0) {
    args.rv->Fail(std::string("fork: ") + std::strerror(errno));
    return -1;
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    side();
    _exit(0);
  }
  return pid;
}

// Body of a measurement child: never returns.
[[noreturn]] void RunChild(const Library& lib, Test test, const SideArgs& args,
                           bool procs) {
  if (!procs || args.transport == Transport::kInproc) {
    RunThreads(lib, test, args);
    _exit(0);
  }
  // Processes: grandchildren listen and run dialers 1.., this process runs
  // dialer 0.
  std::vector<pid_t> others;
  others.push_back(Spawn(args, [&] { ListenSide(*lib.make(), test, args); }));
  for (int i = 1; i < Dialers(test); ++i) {
    others.push_back(
        Spawn(args, [&] { DialSide(*lib.make(), test, args, i); }));
  }
  if (std::find(others.begin(), others.end(), -1) != others.end()) _exit(1);
  DialSide(*lib.make(), test, args, 0);
  // The supervisor kills the whole process group if this hangs.
  for (pid_t pid : others) waitpid(pid, nullptr, 0);
  _exit(0);
}

double ResultDeadlineSeconds(const SideArgs& args) {
  return kSetupSeconds + args.time_limit + 2 * kStallSeconds + 5;
}

void ReadResult(const Rendezvous& rv, Test test, Sample* s) {
  if (rv.has_failed()) {
    s->ok = false;
    s->error = rv.error;
    return;
  }
  s->ok = true;
  s->note = rv.note;
  if (test == Test::kThroughput) {
    s->messages = rv.messages;
    s->capped = rv.time_capped;
    s->rate =
        rv.seconds > 0 && rv.messages > 1 ? (rv.messages - 1) / rv.seconds : 0;
    if (s->rate <= 0) {
      s->ok = false;
      s->error =
          "too few messages to time (" + std::to_string(rv.messages) + ")";
    }
  } else if (IsFanout(test)) {
    s->messages = rv.messages;
    s->capped = rv.time_capped;
    s->rate = rv.seconds > 0 ? rv.messages / rv.seconds : 0;
    s->sent = rv.sent;
    s->send_rate = rv.send_seconds > 0 ? rv.sent / rv.send_seconds : 0;
    s->lost = rv.sent * kSubscribers - rv.messages;
    s->counted = rv.lib_dropped;
    s->sentinels = rv.sentinels;
    if (rv.sent == 0) {
      s->ok = false;
      s->error = "the publisher sent nothing";
    }
  } else {
    s->round_trips = rv.round_trips;
    s->p50 = rv.p50_us;
    s->p99 = rv.p99_us;
  }
}

volatile pid_t g_child_group = 0;

void OnSignal(int sig) {
  pid_t g = g_child_group;
  if (g > 0) kill(-g, SIGKILL);
  signal(sig, SIG_DFL);
  raise(sig);
}

// Reaps every finished child, including orphaned grandchildren (we are a
// subreaper).
void ReapAll() {
  while (waitpid(-1, nullptr, WNOHANG) > 0) {
  }
}

Sample MeasureForked(const Library& lib, Test test, SideArgs args,
                     const RunMode& opt) {
  Sample s;
  void* mem = mmap(nullptr, sizeof(Rendezvous), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) {
    s.error = "mmap failed";
    return s;
  }
  Rendezvous* rv = new (mem) Rendezvous();
  args.rv = rv;
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) {
    s.error = std::string("fork: ") + std::strerror(errno);
    munmap(mem, sizeof(Rendezvous));
    return s;
  }
  if (pid == 0) {
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (opt.pin) PinToOneCpu();
    RunChild(lib, test, args, opt.procs);
  }
  setpgid(pid, pid);
  g_child_group = pid;

  Clock::time_point start = Clock::now();
  bool exited = false;
  int status = 0;
  auto poll_exit = [&] {
    if (!exited && waitpid(pid, &status, WNOHANG) == pid) exited = true;
    return exited;
  };
  bool have_result = false;
  for (;;) {
    if (rv->result_ready.load(std::memory_order_acquire)) {
      have_result = true;
      break;
    }
    if (poll_exit()) break;
    if (SecondsSince(start) > ResultDeadlineSeconds(args)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (have_result) {
    ReadResult(*rv, test, &s);
    Clock::time_point t = Clock::now();
    while (!poll_exit() && SecondsSince(t) < kTeardownSeconds) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    if (!exited) s.teardown_hung = true;
  } else if (exited) {
    s.error = WIFSIGNALED(status)
                  ? std::string("crashed: ") + strsignal(WTERMSIG(status))
                  : "exited with status " +
                        std::to_string(WEXITSTATUS(status)) + ", no result";
  } else {
    s.error = "hung: no result after " +
              std::to_string(static_cast<int>(SecondsSince(start))) + " s";
  }
  if (!exited) {
    kill(-pid, SIGKILL);
    waitpid(pid, &status, 0);
  } else {
    kill(-pid, SIGKILL);  // a grandchild may still be tearing down
  }
  g_child_group = 0;
  ReapAll();
  rv->~Rendezvous();
  munmap(mem, sizeof(Rendezvous));
  return s;
}

// --inline: both sides in this process (for debuggers and profilers); a hang
// ends the program.
Sample MeasureInline(const Library& lib, Test test, SideArgs args) {
  Sample s;
  Rendezvous rv;
  args.rv = &rv;
  std::atomic<int> done{0};
  double limit = ResultDeadlineSeconds(args) + kTeardownSeconds;
  std::thread watchdog([&] {
    Clock::time_point start = Clock::now();
    while (!done.load()) {
      if (SecondsSince(start) > limit) {
        std::fprintf(stderr, "msock_perf: %s hung (--inline): exiting\n",
                     lib.key);
        _exit(2);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  RunThreads(lib, test, args);
  done.store(1);
  watchdog.join();
  ReadResult(rv, test, &s);
  return s;
}

}  // namespace

void InitRunner() {
  signal(SIGPIPE, SIG_IGN);
  signal(SIGINT, OnSignal);
  signal(SIGTERM, OnSignal);
  prctl(PR_SET_CHILD_SUBREAPER, 1);
}

Sample Measure(const Library& lib, Test test, SideArgs args,
               const RunMode& mode) {
  if (mode.inline_mode && mode.pin) PinToOneCpu();  // this whole process
  return mode.inline_mode ? MeasureInline(lib, test, std::move(args))
                          : MeasureForked(lib, test, std::move(args), mode);
}

}  // namespace msock::bench
