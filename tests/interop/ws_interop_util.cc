// tests/interop/ws_interop_util.cc: helpers of the ws:// interop tests (see
// ws_interop_util.h).
#include "tests/interop/ws_interop_util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <random>

#include "absl/strings/str_format.h"

namespace msock::testing {

int UrlPort(const std::string& url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos) return -1;
  const size_t host_start = scheme + 3;
  const size_t path = url.find('/', host_start);
  const std::string authority = url.substr(
      host_start, path == std::string::npos ? path : path - host_start);
  const size_t colon = authority.rfind(':');
  if (colon == std::string::npos) return -1;
  return std::atoi(authority.c_str() + colon + 1);
}

std::string TcpOfWs(const std::string& ws_url) {
  return "tcp://127.0.0.1:" + std::to_string(UrlPort(ws_url));
}

std::string WithPort(const std::string& url, int port) {
  const size_t host_start = url.find("://") + 3;
  const size_t path = url.find('/', host_start);
  const size_t colon = url.rfind(':', path);
  return url.substr(0, colon + 1) + std::to_string(port) +
         (path == std::string::npos ? "" : url.substr(path));
}

absl::StatusOr<WsListeningPeer> StartListeningWsPeer(
    Tool tool, const std::string& path,
    const std::function<std::vector<std::string>(const std::string& url)>&
        argv_for) {
  std::string last_error;
  for (int attempt = 0; attempt < 5; ++attempt) {
    const int port = PickFreeTcpPort();
    if (port <= 0) return absl::UnavailableError("no free tcp port");
    WsListeningPeer peer;
    const std::string base = "ws://127.0.0.1:" + std::to_string(port);
    if (tool == Tool::kNanocat) {
      peer.listen_url = base;  // a path is EINVAL for nanocat --bind
      peer.dial_url = base + "/";
    } else {
      peer.listen_url = base + path;
      peer.dial_url = peer.listen_url;
    }
    absl::StatusOr<std::unique_ptr<ChildProcess>> child =
        ChildProcess::Start(argv_for(peer.listen_url));
    if (!child.ok()) return child.status();
    peer.child = *std::move(child);
    const std::string tcp = TcpOfWs(peer.listen_url);
    bool up =
        WaitUntil([&] { return peer.child->Exited() || IsListening(tcp); });
    if (up && !peer.child->Exited()) return peer;
    last_error = peer.child->command() +
                 (up ? " exited early: " : " never listened: ") +
                 peer.child->err();
  }
  return absl::UnavailableError("could not start a listening ws peer: " +
                                last_error);
}

absl::StatusOr<std::unique_ptr<ChildProcess>> StartWsPeer(
    Socket& sock, Tool tool, bool msock_listens, const std::string& path,
    const PeerArgvFn& argv_for) {
  if (msock_listens) {
    absl::StatusOr<std::string> url = sock.Listen("ws://127.0.0.1:0" + path);
    if (!url.ok()) return url.status();
    return ChildProcess::Start(argv_for(false, *url));
  }
  absl::StatusOr<WsListeningPeer> lp = StartListeningWsPeer(
      tool, path, [&](const std::string& url) { return argv_for(true, url); });
  if (!lp.ok()) return lp.status();
  absl::Status dialed = sock.Dial(lp->dial_url);
  if (!dialed.ok()) return dialed;
  return std::move(lp->child);
}

// ---- TcpRelay ----

struct TcpRelay::Conn {
  int fd[2] = {-1, -1};    // 0: the dialer's connection, 1: to the listener
  std::string pending[2];  // bytes still to write to fd[i]
  bool eof_from[2] = {false, false};
  bool shut_to[2] = {false, false};
  std::string log[2];  // log[0]: read from fd[0] (c2s); log[1]: s2c
  bool done = false;

  void CloseBoth() {
    for (int& f : fd) {
      if (f >= 0) close(f);
      f = -1;
    }
    done = true;
  }
};

namespace {

constexpr size_t kMaxPending = size_t{4} << 20;

int ConnectLoopback(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TcpRelay>> TcpRelay::Start(int target_port) {
  std::unique_ptr<TcpRelay> r(new TcpRelay);
  r->target_port_ = target_port;
  r->listen_fd_ =
      socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (r->listen_fd_ < 0) return absl::UnavailableError("relay: socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (bind(r->listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) !=
          0 ||
      listen(r->listen_fd_, 16) != 0 ||
      getsockname(r->listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) !=
          0) {
    return absl::UnavailableError("relay: cannot listen on 127.0.0.1:0");
  }
  r->port_ = ntohs(addr.sin_port);
  if (pipe2(r->wake_, O_CLOEXEC | O_NONBLOCK) != 0) {
    return absl::UnavailableError("relay: pipe2");
  }
  r->thread_ = std::thread([p = r.get()] { p->Run(); });
  return r;
}

TcpRelay::~TcpRelay() {
  if (thread_.joinable()) {
    char c = 0;
    while (write(wake_[1], &c, 1) < 0 && errno == EINTR) {
    }
    thread_.join();
  }
  for (auto& c : conns_) c->CloseBoth();
  for (int fd : {listen_fd_, wake_[0], wake_[1]}) {
    if (fd >= 0) close(fd);
  }
}

void TcpRelay::Run() {
  while (true) {
    std::vector<pollfd> fds = {{wake_[0], POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    std::vector<std::pair<Conn*, int>> who;  // (conn, side) of fds[2..]
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto& c : conns_) {
        if (c->done) continue;
        for (int i = 0; i < 2; ++i) {
          short events = 0;
          if (!c->eof_from[i] && c->pending[1 - i].size() < kMaxPending)
            events |= POLLIN;
          if (!c->pending[i].empty()) events |= POLLOUT;
          // An fd with nothing to wait for is left out: a hung-up socket
          // would report POLLHUP for ever.
          fds.push_back({events != 0 ? c->fd[i] : -1, events, 0});
          who.emplace_back(c.get(), i);
        }
      }
    }
    int rc = poll(fds.data(), fds.size(), -1);
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0 || (fds[0].revents & POLLIN) != 0) return;
    if ((fds[1].revents & POLLIN) != 0) {
      while (true) {
        int in =
            accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (in < 0) break;
        int out = ConnectLoopback(target_port_);
        auto c = std::make_unique<Conn>();
        c->fd[0] = in;
        c->fd[1] = out;
        if (out < 0) c->CloseBoth();
        std::lock_guard<std::mutex> lock(mu_);
        conns_.push_back(std::move(c));
      }
    }
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t k = 0; k < who.size(); ++k) {
      auto [c, i] = who[k];
      const short ev = fds[k + 2].revents;
      if (c->done || ev == 0) continue;
      if ((ev & (POLLIN | POLLHUP | POLLERR)) != 0 && !c->eof_from[i]) {
        char buf[65536];
        ssize_t n = recv(c->fd[i], buf, sizeof buf, 0);
        if (n > 0) {
          c->pending[1 - i].append(buf, static_cast<size_t>(n));
          c->log[i].append(buf, static_cast<size_t>(n));
        } else if (n == 0) {
          c->eof_from[i] = true;
        } else if (errno != EAGAIN && errno != EINTR) {
          c->CloseBoth();  // reset: pass it on as a close
          continue;
        }
      }
      if ((ev & POLLOUT) != 0 && !c->pending[i].empty()) {
        ssize_t n = send(c->fd[i], c->pending[i].data(), c->pending[i].size(),
                         MSG_NOSIGNAL);
        if (n > 0) {
          c->pending[i].erase(0, static_cast<size_t>(n));
        } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
          c->CloseBoth();
          continue;
        }
      }
    }
    for (auto& c : conns_) {
      if (c->done) continue;
      for (int i = 0; i < 2; ++i) {
        if (c->eof_from[i] && c->pending[1 - i].empty() && !c->shut_to[1 - i]) {
          shutdown(c->fd[1 - i], SHUT_WR);
          c->shut_to[1 - i] = true;
        }
      }
      if (c->shut_to[0] && c->shut_to[1]) c->CloseBoth();
    }
  }
}

size_t TcpRelay::connections() {
  std::lock_guard<std::mutex> lock(mu_);
  return conns_.size();
}

std::string TcpRelay::c2s(size_t i) {
  std::lock_guard<std::mutex> lock(mu_);
  return i < conns_.size() ? conns_[i]->log[0] : "";
}

std::string TcpRelay::s2c(size_t i) {
  std::lock_guard<std::mutex> lock(mu_);
  return i < conns_.size() ? conns_[i]->log[1] : "";
}

bool TcpRelay::finished(size_t i) {
  std::lock_guard<std::mutex> lock(mu_);
  return i < conns_.size() && conns_[i]->done;
}

// ---- recorded streams ----

std::string HttpHeadOf(std::string_view stream) {
  const size_t end = stream.find("\r\n\r\n");
  if (end == std::string_view::npos) return "";
  return std::string(stream.substr(0, end + 4));
}

std::string StatusLine(std::string_view stream) {
  const size_t eol = stream.find("\r\n");
  if (eol == std::string_view::npos || stream.substr(0, 5) != "HTTP/")
    return "";
  return std::string(stream.substr(0, eol));
}

namespace {

// Calls f(frame, payload) for every complete frame after the HTTP head.
template <typename F>
void ForEachFrame(std::string_view stream, F f) {
  const size_t head = HttpHeadOf(stream).size();
  if (head == 0) return;
  std::string_view s = stream.substr(head);
  auto byte = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
  size_t pos = 0;
  while (pos + 2 <= s.size()) {
    WsFrame fr;
    fr.fin = (byte(pos) & 0x80) != 0;
    fr.opcode = byte(pos) & 0x0f;
    fr.masked = (byte(pos + 1) & 0x80) != 0;
    uint64_t len = byte(pos + 1) & 0x7f;
    size_t hdr = 2;
    if (len == 126) {
      if (pos + 4 > s.size()) return;
      len = (uint64_t{byte(pos + 2)} << 8) | byte(pos + 3);
      hdr = 4;
    } else if (len == 127) {
      if (pos + 10 > s.size()) return;
      len = 0;
      for (size_t k = 0; k < 8; ++k) len = (len << 8) | byte(pos + 2 + k);
      hdr = 10;
    }
    const size_t mask_at = pos + hdr;
    if (fr.masked) hdr += 4;
    if (pos + hdr + len > s.size()) return;
    fr.length = len;
    std::string payload(s.substr(pos + hdr, len));
    if (fr.masked) {
      for (size_t k = 0; k < payload.size(); ++k)
        payload[k] = static_cast<char>(payload[k] ^ s[mask_at + k % 4]);
    }
    f(fr, payload);
    pos += hdr + len;
  }
}

}  // namespace

std::vector<WsFrame> WsFramesOf(std::string_view stream) {
  std::vector<WsFrame> frames;
  ForEachFrame(stream, [&](const WsFrame& f, const std::string&) {
    frames.push_back(f);
  });
  return frames;
}

std::vector<std::string> WsMessagesOf(std::string_view stream) {
  std::vector<std::string> messages;
  std::string current;
  ForEachFrame(stream, [&](const WsFrame& f, const std::string& payload) {
    if (f.opcode >= 8) return;  // control frame
    if (f.opcode != 0) current.clear();
    current += payload;
    if (f.fin) messages.push_back(std::move(current));
  });
  return messages;
}

std::string DescribeFrames(const std::vector<WsFrame>& frames) {
  std::string out;
  for (const WsFrame& f : frames) {
    if (!out.empty()) out += ", ";
    out += absl::StrFormat("[op %d len %d%s%s]", f.opcode, f.length,
                           f.fin ? " FIN" : "", f.masked ? " masked" : "");
  }
  return out.empty() ? "(no frames)" : out;
}

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(rng() & 0xff);
  return out;
}

std::string FirstDifference(std::string_view a, std::string_view b) {
  size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  if (i == a.size() && i == b.size()) return "identical";
  return absl::StrFormat(
      "sizes %d vs %d, first difference at byte %d: [%s] vs [%s]", a.size(),
      b.size(), i, Hex(std::string(a.substr(i, 16))),
      Hex(std::string(b.substr(i, 16))));
}

}  // namespace msock::testing
