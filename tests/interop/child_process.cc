// tests/interop/child_process.cc: posix_spawn + poll based child processes (see
// header).
#include "tests/interop/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/time/clock.h"

extern char** environ;

namespace msock::testing {
namespace {

constexpr char kSetpriv[] = "/usr/bin/setpriv";

int MillisUntil(absl::Time deadline) {
  absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  return static_cast<int>(absl::ToInt64Milliseconds(left)) + 1;
}

void CloseFd(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ChildProcess>> ChildProcess::Start(
    std::vector<std::string> argv) {
  std::unique_ptr<ChildProcess> child(new ChildProcess());
  for (const std::string& a : argv)
    child->command_ += (child->command_.empty() ? "" : " ") + a;
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0) return absl::InternalError("pipe2 failed");
  if (pipe2(err, O_CLOEXEC) != 0) {
    close(out[0]);
    close(out[1]);
    return absl::InternalError("pipe2 failed");
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  // The child starts with default SIGPIPE handling and an empty signal mask.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, pipe_only;
  sigemptyset(&none);
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &pipe_only);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  // Run it under `setpriv --pdeathsig KILL` (util-linux) when available, so
  // that it dies with the spawning thread even if the test process crashes
  // before the destructor runs.
  if (access(kSetpriv, X_OK) == 0) {
    argv.insert(argv.begin(), {kSetpriv, "--pdeathsig", "KILL", "--"});
  }
  std::vector<char*> cargv;
  for (std::string& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, cargv[0], &actions, &attr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(out[1]);
  close(err[1]);
  if (rc != 0) {
    close(out[0]);
    close(err[0]);
    return absl::InternalError("posix_spawn " + argv[0] + ": " +
                               std::strerror(rc));
  }
  child->pid_ = pid;
  child->out_fd_ = out[0];
  child->err_fd_ = err[0];
  fcntl(child->out_fd_, F_SETFL, O_NONBLOCK);
  fcntl(child->err_fd_, F_SETFL, O_NONBLOCK);
  return child;
}

ChildProcess::~ChildProcess() {
  Kill();
  CloseFd(out_fd_);
  CloseFd(err_fd_);
}

bool ChildProcess::Pump(absl::Time deadline) {
  pollfd fds[2];
  int n = 0;
  if (out_fd_ >= 0) fds[n++] = {out_fd_, POLLIN, 0};
  if (err_fd_ >= 0) fds[n++] = {err_fd_, POLLIN, 0};
  if (n == 0) return false;
  int rc = poll(fds, n, MillisUntil(deadline));
  if (rc <= 0) return true;
  for (int i = 0; i < n; ++i) {
    if (fds[i].revents == 0) continue;
    bool is_out = fds[i].fd == out_fd_;
    char buf[4096];
    ssize_t got = read(fds[i].fd, buf, sizeof buf);
    if (got > 0) {
      (is_out ? out_ : err_).append(buf, static_cast<size_t>(got));
    } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
      CloseFd(is_out ? out_fd_ : err_fd_);
    }
  }
  return true;
}

std::optional<std::string> ChildProcess::ReadLine(absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (true) {
    size_t nl = out_.find('\n');
    if (nl != std::string::npos) {
      std::string line = out_.substr(0, nl);
      out_.erase(0, nl + 1);
      return line;
    }
    if (absl::Now() >= deadline || out_fd_ < 0) return std::nullopt;
    Pump(deadline);
  }
}

std::string ChildProcess::ReadBytes(size_t n, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (out_.size() < n && absl::Now() < deadline && out_fd_ >= 0)
    Pump(deadline);
  std::string got = out_.substr(0, n);
  out_.erase(0, got.size());
  return got;
}

bool ChildProcess::Reap(bool block) {
  if (status_) return true;
  if (pid_ < 0) return true;
  int st = 0;
  pid_t r;
  do {
    r = waitpid(pid_, &st, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == pid_) {
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return true;
  }
  if (r < 0) {  // not our child any more (should not happen): stop tracking it
    status_ = -1;
    return true;
  }
  return false;
}

bool ChildProcess::Exited() { return Reap(false); }

std::optional<int> ChildProcess::Wait(absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (!Reap(false)) {
    if (absl::Now() >= deadline) return std::nullopt;
    // Drain output (the child may block on a full pipe) and re-check the exit
    // every 10 ms.
    if (out_fd_ >= 0 || err_fd_ >= 0) {
      Pump(std::min(deadline, absl::Now() + absl::Milliseconds(10)));
    } else {
      absl::SleepFor(
          absl::Milliseconds(5));  // no pipe left to wait on; poll waitpid
    }
  }
  // The child is gone: its ends of the pipes are closed, so this reads up to
  // EOF at once.
  absl::Time drain_deadline = absl::Now() + absl::Seconds(1);
  while ((out_fd_ >= 0 || err_fd_ >= 0) && absl::Now() < drain_deadline)
    Pump(drain_deadline);
  return status_;
}

void ChildProcess::Kill() {
  if (pid_ < 0 || Reap(false)) return;
  kill(pid_, SIGTERM);
  if (Wait(absl::Seconds(2))) return;
  kill(pid_, SIGKILL);
  Reap(true);  // SIGKILL cannot be ignored: this returns promptly
}

std::string ChildProcess::err() {
  Pump(absl::Now());
  return err_;
}

std::string ChildProcess::pending_out() {
  Pump(absl::Now());
  return out_;
}

}  // namespace msock::testing
