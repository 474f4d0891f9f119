// tests/interop/ws_interop_util.h: helpers of the ws:// interop tests against
// nngcat / nanocat (sp-wire.md §5 and §7).
//
// ws URLs for peers that listen (a port that was free a moment ago; nanocat
// listeners take no path, so they bind ws://127.0.0.1:P and are dialed at
// ws://127.0.0.1:P/), starting such a peer and waiting until its port listens,
// a logging TCP relay to put between two peers (it records both byte streams,
// so a test can check the HTTP status a real peer got, or how a message was cut
// into frames), and a small parser of those recorded streams.
#ifndef MSOCK_TESTS_INTEROP_WS_INTEROP_UTIL_H_
#define MSOCK_TESTS_INTEROP_WS_INTEROP_UTIL_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "tests/interop/child_process.h"
#include "tests/interop/interop_util.h"
#include "tests/interop/pattern_util.h"

namespace msock::testing {

// The port of a "ws://host:port/path" or "tcp://host:port" URL, or -1.
int UrlPort(const std::string& url);
// "tcp://127.0.0.1:P" for the port of a ws URL (for IsListening / ConnectRaw).
std::string TcpOfWs(const std::string& ws_url);
// `url` with its port replaced by `port` (keeps the path).
std::string WithPort(const std::string& url, int port);

// A peer tool listening on ws.
struct WsListeningPeer {
  std::unique_ptr<ChildProcess> child;
  std::string listen_url;  // what the peer was told to listen on
  std::string dial_url;    // what a dialer uses to reach it
};

// Starts `tool` listening on ws://127.0.0.1:P`path` (nanocat: on
// ws://127.0.0.1:P, dialed at ws://127.0.0.1:P/ since a nanomsg ws listener
// takes no path, sp-wire §5.1) and waits until its port listens. Retries with a
// new port (up to 5 times) if the peer exits first. `argv_for` builds the
// command line for a listen URL.
absl::StatusOr<WsListeningPeer> StartListeningWsPeer(
    Tool tool, const std::string& path,
    const std::function<std::vector<std::string>(const std::string& url)>&
        argv_for);

// Connects `sock` and a peer over ws. With msock_listens, `sock` listens on
// ws://127.0.0.1:0`path` and the peer, started with argv_for(false, url),
// dials the bound URL; otherwise the peer listens (StartListeningWsPeer) and
// `sock` dials it. Does not wait for the pipe.
absl::StatusOr<std::unique_ptr<ChildProcess>> StartWsPeer(
    Socket& sock, Tool tool, bool msock_listens, const std::string& path,
    const PeerArgvFn& argv_for);

// A logging TCP relay on 127.0.0.1:0 forwarding every connection to
// 127.0.0.1:target_port, and recording the bytes of each direction. One
// thread, non-blocking sockets; half-closes are passed on. The destructor
// stops the thread and closes everything.
class TcpRelay {
 public:
  static absl::StatusOr<std::unique_ptr<TcpRelay>> Start(int target_port);
  TcpRelay(const TcpRelay&) = delete;
  TcpRelay& operator=(const TcpRelay&) = delete;
  ~TcpRelay();

  int port() const { return port_; }
  // Connections accepted so far.
  size_t connections();
  // Bytes connection `i` (in accept order) carried so far from the dialer to
  // the listener (c2s) and back (s2c); empty if there is no such connection.
  std::string c2s(size_t i);
  std::string s2c(size_t i);
  // True once connection `i` is closed in both directions.
  bool finished(size_t i);

 private:
  struct Conn;
  TcpRelay() = default;
  void Run();

  int port_ = -1;
  int target_port_ = -1;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};  // the destructor writes to wake_[1]
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Conn>> conns_;  // guarded by mu_
};

// ---- reading recorded ws streams ----

// The HTTP head at the start of `stream` (through the blank line), or empty if
// it is not complete.
std::string HttpHeadOf(std::string_view stream);
// The status line of an HTTP response head ("HTTP/1.1 101 Switching
// Protocols"), or empty.
std::string StatusLine(std::string_view stream);

struct WsFrame {
  bool fin = false;
  int opcode = 0;
  bool masked = false;
  uint64_t length = 0;  // payload bytes
};
// The frames of the bytes after the HTTP head of `stream` (a last incomplete
// frame is left out). Payloads are skipped, not unmasked.
std::vector<WsFrame> WsFramesOf(std::string_view stream);
// The payloads of the data messages of `stream` (after its HTTP head):
// binary / continuation frames reassembled and unmasked.
std::vector<std::string> WsMessagesOf(std::string_view stream);
// "82 len=65536 masked, 00 len=... FIN" etc. for failure messages.
std::string DescribeFrames(const std::vector<WsFrame>& frames);

// `n` pseudo-random bytes (all 256 byte values occur), the same for a seed.
std::string RandomBytes(size_t n, uint32_t seed);
// The index of the first differing byte of a and b (or the shorter size) with
// a little context, for failure messages of large bodies.
std::string FirstDifference(std::string_view a, std::string_view b);

}  // namespace msock::testing

#endif  // MSOCK_TESTS_INTEROP_WS_INTEROP_UTIL_H_
