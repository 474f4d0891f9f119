// tests/interop/interop_util.cc: helpers of the interop tests (see
// interop_util.h).
#include "tests/interop/interop_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/time/clock.h"

namespace msock::testing {

bool ToolAvailable(const char* path) { return access(path, X_OK) == 0; }

std::string TransportName(Transport t) {
  switch (t) {
    case Transport::kTcp:
      return "tcp";
    case Transport::kIpc:
      return "ipc";
    case Transport::kWs:
      return "ws";
  }
  return "?";
}

std::string ScratchDir::NewPath(const std::string& stem) {
  return path() + "/" + stem + std::to_string(++counter_);
}

std::string ScratchDir::WriteFile(const std::string& stem,
                                  const std::string& contents) {
  std::string p = NewPath(stem);
  if (std::FILE* f = std::fopen(p.c_str(), "wb")) {
    std::fwrite(contents.data(), 1, contents.size(), f);
    std::fclose(f);
  }
  return p;
}

int PickFreeTcpPort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  int port = -1;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

std::string MsockListenUrl(Transport t, ScratchDir& dir) {
  if (t == Transport::kTcp) return "tcp://127.0.0.1:0";
  return "ipc://" + dir.NewPath("m") + ".sock";
}

std::string PeerListenUrl(Transport t, ScratchDir& dir) {
  if (t == Transport::kTcp)
    return "tcp://127.0.0.1:" + std::to_string(PickFreeTcpPort());
  return "ipc://" + dir.NewPath("p") + ".sock";
}

absl::StatusOr<ListeningPeer> StartListeningPeer(
    Transport t, ScratchDir& dir,
    const std::function<std::vector<std::string>(const std::string& url)>&
        argv_for) {
  std::string last_error;
  for (int attempt = 0; attempt < 5; ++attempt) {
    ListeningPeer peer;
    peer.url = PeerListenUrl(t, dir);
    absl::StatusOr<std::unique_ptr<ChildProcess>> child =
        ChildProcess::Start(argv_for(peer.url));
    if (!child.ok()) return child.status();
    peer.child = *std::move(child);
    bool up = WaitUntil(
        [&] { return peer.child->Exited() || IsListening(peer.url); });
    if (up && !peer.child->Exited()) return peer;
    last_error = peer.child->command() +
                 (up ? " exited early: " : " never listened: ") +
                 peer.child->err();
  }
  return absl::UnavailableError("could not start a listening peer: " +
                                last_error);
}

bool WaitUntil(const std::function<bool()>& condition, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (!condition()) {
    if (absl::Now() >= deadline) return condition();
    absl::SleepFor(absl::Milliseconds(5));
  }
  return true;
}

bool ReadUntilLine(ChildProcess& child, const std::string& want,
                   absl::Duration timeout, std::vector<std::string>* skipped) {
  absl::Time deadline = absl::Now() + timeout;
  while (true) {
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return false;
    std::optional<std::string> line = child.ReadLine(left);
    if (!line) return false;
    if (*line == want) return true;
    if (skipped != nullptr) skipped->push_back(*line);
  }
}

int ConnectRaw(const std::string& url) {
  int fd = -1;
  if (url.rfind("tcp://", 0) == 0) {
    std::string rest = url.substr(6);
    size_t colon = rest.rfind(':');
    if (colon == std::string::npos) return -1;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port =
        htons(static_cast<uint16_t>(std::atoi(rest.c_str() + colon + 1)));
    if (inet_pton(AF_INET, rest.substr(0, colon).c_str(), &addr.sin_addr) != 1)
      return -1;
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 &&
        connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      close(fd);
      fd = -1;
    }
  } else if (url.rfind("ipc://", 0) == 0) {
    std::string path = url.substr(6);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) return -1;
    std::memcpy(addr.sun_path, path.data(), path.size());
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 &&
        connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      close(fd);
      fd = -1;
    }
  }
  return fd;
}

bool IsListening(const std::string& url) {
  // Read the kernel's socket tables instead of connecting: a probe connection
  // that closes before the SP handshake can upset a peer (NNG 1.5.2's ipc
  // listener stops delivering).
  if (url.rfind("tcp://", 0) == 0) {
    int port = std::atoi(url.c_str() + url.rfind(':') + 1);
    char local[32];
    std::snprintf(local, sizeof local, ":%04X", port);
    std::ifstream in("/proc/net/tcp");
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream f(line);
      std::string slot, local_addr, remote_addr, state;
      f >> slot >> local_addr >> remote_addr >> state;
      if (state == "0A" && local_addr.size() > 5 &&
          local_addr.compare(local_addr.size() - 5, 5, local) == 0) {
        return true;
      }
    }
    return false;
  }
  if (url.rfind("ipc://", 0) == 0) {
    std::string path = url.substr(6);
    std::ifstream in("/proc/net/unix");
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream f(line);
      std::string num, refs, proto, flags, type, state, inode, sock_path;
      f >> num >> refs >> proto >> flags >> type >> state >> inode >> sock_path;
      // Flags 00010000 = __SO_ACCEPTCON: the socket is listening.
      if (sock_path == path && flags == "00010000") return true;
    }
    return false;
  }
  return false;
}

bool WriteAll(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n =
        send(fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

std::string ReadExactly(int fd, size_t n, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  std::string out;
  while (out.size() < n) {
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) break;
    pollfd p{fd, POLLIN, 0};
    int rc = poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) break;
    char buf[4096];
    ssize_t got = recv(fd, buf, std::min(sizeof buf, n - out.size()), 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    out.append(buf, static_cast<size_t>(got));
  }
  return out;
}

bool WaitForEof(int fd, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (true) {
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return false;
    pollfd p{fd, POLLIN, 0};
    int rc = poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) return false;
    char buf[256];
    ssize_t got = recv(fd, buf, sizeof buf, 0);
    if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)) return true;
  }
}

std::string Hex(const std::string& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    if (!out.empty()) out += ' ';
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

}  // namespace msock::testing
