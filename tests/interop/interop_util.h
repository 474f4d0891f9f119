// tests/interop/interop_util.h: shared helpers of the interop tests against
// nngcat / nanocat.
//
// Scratch directories for ipc paths, free tcp ports for peers that listen,
// starting a listening peer (retrying with a new port if it could not bind),
// bounded condition waits and raw POSIX sockets for byte-level checks.
#ifndef MSOCK_TESTS_INTEROP_INTEROP_UTIL_H_
#define MSOCK_TESTS_INTEROP_INTEROP_UTIL_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/interop/child_process.h"
#include "tests/support/test_support.h"

namespace msock::testing {

inline constexpr char kNngcat[] = "/usr/bin/nngcat";
inline constexpr char kNanocat[] = "/usr/bin/nanocat";
// Bound on every wait of these tests.
inline constexpr absl::Duration kWait = absl::Seconds(10);

// True if `path` exists and is executable. Tests ASSERT it: a missing peer is a
// failure.
bool ToolAvailable(const char* path);

// kWs: only for the ws suites, through StartWsPeer (ws_interop_util.h); the
// URL helpers here know tcp and ipc.
enum class Transport { kTcp, kIpc, kWs };
std::string TransportName(Transport t);

// A fresh scratch directory (test::ScratchDir: made with mkdtemp, removed with
// its files on destruction), with named paths and files.
class ScratchDir {
 public:
  const std::string& path() const { return dir_.path(); }
  // A new unique file path in the directory ("<dir>/<stem><n>").
  std::string NewPath(const std::string& stem);
  // Writes `contents` to a new file; returns its path.
  std::string WriteFile(const std::string& stem, const std::string& contents);

 private:
  test::ScratchDir dir_;
  int counter_ = 0;
};

// A URL for msock to listen on: tcp://127.0.0.1:0 or ipc://<scratch>/<n>.sock.
std::string MsockListenUrl(Transport t, ScratchDir& dir);
// A URL for a peer to listen on: tcp with a port that was free a moment ago, or
// a new ipc path.
std::string PeerListenUrl(Transport t, ScratchDir& dir);
// A currently unused loopback tcp port (bind to port 0, read it, close).
int PickFreeTcpPort();

// Starts a peer that listens on a URL made by PeerListenUrl, and waits until it
// listens (IsListening). If the peer exits first (say the port was taken in the
// meantime), retries with a new URL, up to 5 times. `argv_for` builds the
// command line for a URL.
struct ListeningPeer {
  std::unique_ptr<ChildProcess> child;
  std::string url;
};
absl::StatusOr<ListeningPeer> StartListeningPeer(
    Transport t, ScratchDir& dir,
    const std::function<std::vector<std::string>(const std::string& url)>&
        argv_for);

// Polls `condition` (every 5 ms) until it holds or `timeout` passes; returns
// its last value.
bool WaitUntil(const std::function<bool()>& condition,
               absl::Duration timeout = kWait);

// Reads lines of `child` until one equals `want`; false on timeout. Lines
// before it are kept in *skipped (if given) for failure messages.
bool ReadUntilLine(ChildProcess& child, const std::string& want,
                   absl::Duration timeout,
                   std::vector<std::string>* skipped = nullptr);

// How nngcat / nanocat print a plain-text body with -Q ("body" in double
// quotes).
inline std::string Quoted(const std::string& body) {
  return "\"" + body + "\"";
}

// --- raw sockets (tcp://127.0.0.1:P or ipc:///path)
// ------------------------------------- A connected, blocking stream socket, or
// -1.
int ConnectRaw(const std::string& url);
// True if some process listens on `url` (loopback tcp port or ipc path), read
// from /proc/net/{tcp,unix} without connecting.
bool IsListening(const std::string& url);
bool WriteAll(int fd, const std::string& bytes);
// Exactly `n` bytes, or what arrived before `timeout` / EOF (shorter string).
std::string ReadExactly(int fd, size_t n, absl::Duration timeout);
// True if the peer closed the connection (EOF or reset) within `timeout`.
bool WaitForEof(int fd, absl::Duration timeout);

// Bytes as lowercase hex pairs separated by spaces, for readable assertion
// messages.
std::string Hex(const std::string& bytes);

}  // namespace msock::testing

#endif  // MSOCK_TESTS_INTEROP_INTEROP_UTIL_H_
