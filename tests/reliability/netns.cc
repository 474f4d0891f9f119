// NetnsLink and NewContextIn: namespaces, veth, cut and heal through `ip` and
// `tc`, and a Context created from inside a namespace.
#include "tests/reliability/netns.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace msock::test {
namespace {

constexpr char kPrefix[] = "msrel-";

// Classic BPF "ret #2": TC_ACT_SHOT for every IPv4 packet. ARP still passes,
// as it would to a router of a real network whose far side went dark: with
// ARP cut too, a pending connect() fails with EHOSTUNREACH after ~3 s of
// failed neighbour resolution instead of hanging.
constexpr char kDropAll[] = "protocol ip bpf da bytecode '1,6 0 0 2,'";

// Deletes the namespaces of earlier runs whose process has exited (a test
// killed before its destructor ran).
void DeleteStale() {
  std::string out;
  if (RunCommand("ip netns list", &out) != 0) return;
  for (absl::string_view line : absl::StrSplit(out, '\n')) {
    std::string name(line.substr(0, line.find(' ')));
    absl::string_view rest = name;
    if (!absl::ConsumePrefix(&rest, kPrefix)) continue;
    int pid = 0;
    if (!absl::SimpleAtoi(rest.substr(0, rest.find('-')), &pid)) continue;
    if (pid == getpid() || kill(pid, 0) == 0) continue;
    RunCommand(absl::StrCat("ip netns delete ", name));
  }
}

}  // namespace

int RunCommand(const std::string& cmd, std::string* out) {
  FILE* f = popen((cmd + " 2>&1").c_str(), "r");
  if (f == nullptr) return -1;
  char buf[512];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
    if (out != nullptr) out->append(buf, n);
  }
  int rc = pclose(f);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

absl::StatusOr<std::unique_ptr<NetnsLink>> NetnsLink::Create() {
  if (geteuid() != 0) {
    return absl::UnavailableError("network namespaces need root");
  }
  std::string out;
  if (RunCommand("ip -V", &out) != 0) {
    return absl::UnavailableError("no `ip` command (iproute2)");
  }
  DeleteStale();
  std::unique_ptr<NetnsLink> link(new NetnsLink);
  static int serial = 0;
  std::string base = absl::StrCat(kPrefix, getpid(), "-", serial++);
  for (int side = 0; side < 2; ++side) {
    link->ns_[side] = absl::StrCat(base, side == 0 ? "-a" : "-b");
    link->dev_[side] = absl::StrCat("msrel", side == 0 ? "a" : "b");
  }
  const std::string& a = link->ns_[0];
  const std::string& b = link->ns_[1];
  std::vector<std::string> steps = {
      absl::StrCat("ip netns add ", a),
      absl::StrCat("ip netns add ", b),
      // Made inside the namespaces: no name can clash with another run's.
      absl::StrCat("ip -n ", a, " link add ", link->dev_[0], " type veth peer ",
                   "name ", link->dev_[1], " netns ", b),
  };
  for (int side = 0; side < 2; ++side) {
    const std::string& ns = link->ns_[side];
    const std::string& dev = link->dev_[side];
    steps.push_back(absl::StrCat("ip -n ", ns, " addr add ", link->addr(side),
                                 "/30 dev ", dev));
    steps.push_back(absl::StrCat("ip -n ", ns, " link set ", dev, " up"));
    steps.push_back(absl::StrCat("ip -n ", ns, " link set lo up"));
  }
  for (const std::string& step : steps) {
    out.clear();
    if (RunCommand(step, &out) != 0) {
      // The destructor deletes whatever was made.
      return absl::UnavailableError(
          absl::StrCat("cannot make namespaces: `", step, "`: ", out));
    }
  }
  // Prefer a silent drop (tc); fall back to blackhole routes.
  link->method_ = "tc-bpf-drop";
  for (int side = 0; side < 2; ++side) {
    std::string cmd =
        absl::StrCat("ip netns exec ", link->ns_[side], " tc qdisc add dev ",
                     link->dev_[side], " clsact");
    if (RunCommand(cmd) != 0) link->method_ = "blackhole-route";
  }
  if (link->method_ == "tc-bpf-drop") {
    // Probe that the filter can be installed, then remove it.
    if (link->Cut().ok()) {
      if (absl::Status s = link->Heal(); !s.ok()) return s;
    } else {
      link->Heal().IgnoreError();
      link->method_ = "blackhole-route";
    }
  }
  return link;
}

NetnsLink::~NetnsLink() {
  for (const std::string& ns : ns_) {
    if (!ns.empty()) RunCommand(absl::StrCat("ip netns delete ", ns));
  }
}

std::string NetnsLink::addr(int side) const {
  return side == 0 ? "10.213.0.1" : "10.213.0.2";
}

absl::Status NetnsLink::Cut() {
  for (int side = 0; side < 2; ++side) {
    std::string cmd =
        method_ == "tc-bpf-drop"
            ? absl::StrCat("ip netns exec ", ns_[side], " tc filter add dev ",
                           dev_[side], " ingress ", kDropAll)
            : absl::StrCat("ip -n ", ns_[side], " route add blackhole ",
                           addr(1 - side), "/32");
    std::string out;
    if (RunCommand(cmd, &out) != 0) {
      return absl::InternalError(absl::StrCat("`", cmd, "`: ", out));
    }
  }
  cut_ = true;
  return absl::OkStatus();
}

absl::Status NetnsLink::Heal() {
  absl::Status status;
  for (int side = 0; side < 2; ++side) {
    std::string cmd =
        method_ == "tc-bpf-drop"
            ? absl::StrCat("ip netns exec ", ns_[side], " tc filter del dev ",
                           dev_[side], " ingress")
            : absl::StrCat("ip -n ", ns_[side], " route del blackhole ",
                           addr(1 - side), "/32");
    std::string out;
    if (RunCommand(cmd, &out) != 0 && status.ok()) {
      status = absl::InternalError(absl::StrCat("`", cmd, "`: ", out));
    }
  }
  cut_ = false;
  return status;
}

std::unique_ptr<Context> NewContextIn(const std::string& ns,
                                      std::string* error) {
  std::unique_ptr<Context> ctx;
  // A thread of its own: setns changes only the calling thread's namespace,
  // and the loop thread the Context starts inherits it.
  std::thread helper([&] {
    std::string path = absl::StrCat("/var/run/netns/", ns);
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      *error = absl::StrCat("open ", path, ": errno ", errno);
      return;
    }
    if (setns(fd, CLONE_NEWNET) != 0) {
      *error = absl::StrCat("setns ", path, ": errno ", errno);
      close(fd);
      return;
    }
    close(fd);
    ctx = std::make_unique<Context>();
  });
  helper.join();
  return ctx;
}

}  // namespace msock::test
