// tests/interop/pattern_util.h: nngcat / nanocat command lines and connecting
// a peer, for the pattern interop tests (pubsub, bus, survey, device).
//
// Both tools take the same protocol flags (--pub, --sub, --bus, --surveyor,
// --respondent, --req, --rep); they differ in how they listen and dial
// (nngcat --listen / --dial, nanocat --bind / --connect) and in intervals
// (nngcat: whole seconds only, sp-wire.md §7).
#ifndef MSOCK_TESTS_INTEROP_PATTERN_UTIL_H_
#define MSOCK_TESTS_INTEROP_PATTERN_UTIL_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "msock/socket.h"
#include "tests/interop/interop_util.h"

namespace msock::testing {

enum class Tool { kNngcat, kNanocat };

inline const char* ToolPath(Tool t) {
  return t == Tool::kNngcat ? kNngcat : kNanocat;
}
inline std::string ToolName(Tool t) {
  return t == Tool::kNngcat ? "Nngcat" : "Nanocat";
}

// `tool --<proto> --listen|--dial url extra...` (nanocat: --bind|--connect).
inline std::vector<std::string> ToolArgv(
    Tool tool, const std::string& proto, bool listen, const std::string& url,
    const std::vector<std::string>& extra) {
  const bool nng = tool == Tool::kNngcat;
  std::vector<std::string> argv = {
      ToolPath(tool), "--" + proto,
      listen ? (nng ? "--listen" : "--bind") : (nng ? "--dial" : "--connect"),
      url};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

// The shortest repeat interval each tool accepts well: nngcat takes whole
// seconds only; nanocat takes fractions.
inline std::string RepeatInterval(Tool t) {
  return t == Tool::kNngcat ? "1" : "0.3";
}

// Connects `sock` and a peer process. With msock_listens, `sock` listens on a
// fresh URL of transport `t` and the peer, started with argv_for(false, url),
// dials it; otherwise the peer listens (argv_for(true, url), started with
// StartListeningPeer, so it is listening on return) and `sock` dials it. Does
// not wait for the pipe: callers use WaitForPeers or wait for output.
using PeerArgvFn = std::function<std::vector<std::string>(
    bool peer_listens, const std::string& url)>;
inline absl::StatusOr<std::unique_ptr<ChildProcess>> StartPeer(
    Socket& sock, Transport t, ScratchDir& dir, bool msock_listens,
    const PeerArgvFn& argv_for) {
  if (msock_listens) {
    absl::StatusOr<std::string> url = sock.Listen(MsockListenUrl(t, dir));
    if (!url.ok()) return url.status();
    return ChildProcess::Start(argv_for(false, *url));
  }
  absl::StatusOr<ListeningPeer> lp = StartListeningPeer(
      t, dir, [&](const std::string& url) { return argv_for(true, url); });
  if (!lp.ok()) return lp.status();
  absl::Status dialed = sock.Dial(lp->url);
  if (!dialed.ok()) return dialed;
  return std::move(lp->child);
}

}  // namespace msock::testing

#endif  // MSOCK_TESTS_INTEROP_PATTERN_UTIL_H_
