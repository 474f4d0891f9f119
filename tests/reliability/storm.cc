// msock_storm: a connection storm against one rooms hub. Forks --procs client
// processes (before any msock thread exists), each making --clients
// RoomsClients; when all are made, the parent starts the hub and tells every
// process the URL at once; each dials all its clients together and waits for
// every welcome. Prints the time from "go" until the hub knew every client
// and until the last process saw its last welcome; exits 0 only if all were
// welcomed before --deadline (no other timing is asserted).
//   msock_storm [--procs 5] [--clients 2000] [--transport tcp|ipc|ws]
//               [--deadline 120]
// RLIMIT_NOFILE is raised to its hard limit in every process.
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "msock/msock.h"
#include "msock/protocols/rooms.h"

namespace {

struct Flags {
  int procs = 5;
  int clients = 2000;
  std::string transport = "tcp";
  double deadline_s = 120;
};

bool ParseFlags(int argc, char** argv, Flags* f) {
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    bool ok = true;
    if (k == "--procs") {
      ok = absl::SimpleAtoi(v, &f->procs) && f->procs > 0;
    } else if (k == "--clients") {
      ok = absl::SimpleAtoi(v, &f->clients) && f->clients > 0;
    } else if (k == "--transport") {
      f->transport = v;
    } else if (k == "--deadline") {
      ok = absl::SimpleAtod(v, &f->deadline_s) && f->deadline_s > 0;
    } else {
      ok = false;
    }
    if (!ok) return false;
  }
  return argc % 2 == 1;
}

void RaiseFdLimit() {
  rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

bool WriteAll(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    ssize_t n = write(fd, s.data() + done, s.size() - done);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// Reads one '\n'-terminated line (without it); "" on EOF.
std::string ReadLine(int fd) {
  std::string line;
  char c;
  while (read(fd, &c, 1) == 1 && c != '\n') line.push_back(c);
  return line;
}

// A client process: make the clients, say "ready", read the URL, dial them
// all, wait for every welcome, report "<welcomed> <ms>", then hold the
// connections until the parent closes the pipe.
int ChildMain(const Flags& f, int in_fd, int out_fd) {
  RaiseFdLimit();
  {
    std::vector<std::unique_ptr<msock::RoomsClient>> clients;
    clients.reserve(f.clients);
    for (int i = 0; i < f.clients; ++i) {
      clients.push_back(std::make_unique<msock::RoomsClient>());
      // Storm traffic is one dial each: keep re-dials quick if refused.
      clients.back()
          ->Set(msock::opt::kReconnectMax, absl::Seconds(1))
          .IgnoreError();
    }
    if (!WriteAll(out_fd, "ready\n")) return 1;
    std::string url = ReadLine(in_fd);
    if (url.empty()) return 1;
    const absl::Time go = absl::Now();
    const absl::Time deadline = go + absl::Seconds(f.deadline_s);
    for (auto& c : clients) {
      if (!c->Dial(url).ok()) return 1;
    }
    int welcomed = 0;
    for (auto& c : clients) {
      if (c->WaitConnected(deadline).ok()) ++welcomed;
    }
    const double ms = absl::ToDoubleMilliseconds(absl::Now() - go);
    if (!WriteAll(out_fd, absl::StrCat(welcomed, " ", ms, "\n"))) return 1;
    ReadLine(in_fd);  // until the parent is done
    for (auto& c : clients) c->Close();
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Flags f;
  if (!ParseFlags(argc, argv, &f)) {
    std::fprintf(stderr,
                 "usage: msock_storm [--procs N] [--clients N] "
                 "[--transport tcp|ipc|ws] [--deadline SECONDS]\n");
    return 2;
  }
  RaiseFdLimit();
  rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  struct Child {
    pid_t pid;
    int to, from;
  };
  std::vector<Child> children;
  // Fork first: no msock thread may exist in a forked process.
  for (int p = 0; p < f.procs; ++p) {
    int down[2], up[2];
    if (pipe(down) != 0 || pipe(up) != 0) return 1;
    pid_t pid = fork();
    if (pid < 0) return 1;
    if (pid == 0) {
      close(down[1]);
      close(up[0]);
      for (const Child& c : children) {
        close(c.to);
        close(c.from);
      }
      _exit(ChildMain(f, down[0], up[1]));
    }
    close(down[0]);
    close(up[1]);
    children.push_back({pid, down[1], up[0]});
  }
  int status = 0;
  for (const Child& c : children) {
    if (ReadLine(c.from) != "ready") status = 1;
  }
  const int total = f.procs * f.clients;
  std::string url;
  absl::Time go;
  double hub_s = -1, last_welcome_ms = 0;
  int welcomed = 0;
  {
    msock::Hub hub;
    std::string listen =
        f.transport == "ipc"
            ? absl::StrCat("ipc:///tmp/msock-storm-", getpid(), ".sock")
        : f.transport == "ws" ? "ws://127.0.0.1:0/storm"
                              : "tcp://127.0.0.1:0";
    absl::StatusOr<std::string> bound = hub.Listen(listen);
    if (!bound.ok()) {
      std::fprintf(stderr, "listen: %s\n", bound.status().ToString().c_str());
      status = 1;
    } else {
      go = absl::Now();
      for (const Child& c : children) WriteAll(c.to, *bound + "\n");
      const absl::Time deadline = go + absl::Seconds(f.deadline_s);
      while (absl::Now() < deadline &&
             static_cast<int>(hub.Clients().size()) < total) {
        absl::SleepFor(absl::Milliseconds(5));  // polling a count, bounded
      }
      if (static_cast<int>(hub.Clients().size()) == total) {
        hub_s = absl::ToDoubleSeconds(absl::Now() - go);
      }
      for (const Child& c : children) {
        std::string line = ReadLine(c.from);
        int n = 0;
        double ms = 0;
        if (std::sscanf(line.c_str(), "%d %lf", &n, &ms) != 2) status = 1;
        welcomed += n;
        last_welcome_ms = std::max(last_welcome_ms, ms);
      }
      msock::SocketStats s = hub.stats();
      std::printf(
          "storm: %d clients (%d procs x %d) over %s, fd limit %llu: "
          "%d welcomed; hub knew all after %.3f s; last welcome seen after "
          "%.3f s; hub pipes opened %llu, refused %llu\n",
          total, f.procs, f.clients, f.transport.c_str(),
          static_cast<unsigned long long>(rl.rlim_cur), welcomed, hub_s,
          last_welcome_ms / 1000,
          static_cast<unsigned long long>(s.pipes_opened),
          static_cast<unsigned long long>(s.rejected_pipe_limit +
                                          s.rejected_handshake_timeout));
      std::fflush(stdout);
    }
    for (const Child& c : children) close(c.to);  // children close and exit
    for (const Child& c : children) {
      int ws = 0;
      waitpid(c.pid, &ws, 0);
      if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0) status = 1;
      close(c.from);
    }
  }
  if (welcomed != total || hub_s < 0) status = 1;
  return status;
}
