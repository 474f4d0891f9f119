// tests/browser/peer_common.h: what the msock hub peers of the browser tests
// share (rooms_hub_peer.cc, topics_hub_peer.cc, queue_server_peer.cc): output
// lines for the runner, fatal errors, the --root / --lifetime-s flags with a
// hard lifetime, the "kick" event, and serving clients/js and tests/browser
// over http on a ws listener's port.
#ifndef MSOCK_TESTS_BROWSER_PEER_COMMON_H_
#define MSOCK_TESTS_BROWSER_PEER_COMMON_H_

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "msock/msock.h"

namespace msock_browser {

inline std::string peer_name = "peer";  // for error messages

// Prints one line on stdout for the runner (whole lines, whatever the thread).
inline void Say(const std::string& line) {
  static std::mutex mu;
  std::lock_guard<std::mutex> l(mu);
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

[[noreturn]] inline void Die(const std::string& what, const absl::Status& s) {
  std::fprintf(stderr, "%s: %s: %s\n", peer_name.c_str(), what.c_str(),
               s.ToString().c_str());
  std::exit(1);
}

// Reads "--root REPO [--lifetime-s S]" (exit 2 with the usage without a
// root) and ends the process (exit 3) after S seconds (default 300), the
// bound whatever happens to the test driving it. Returns the root.
inline std::string StartPeer(int argc, char** argv, const std::string& name) {
  peer_name = name;
  std::string root;
  int lifetime_s = 300;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--root") root = argv[i + 1];
    if (flag == "--lifetime-s") lifetime_s = std::atoi(argv[i + 1]);
  }
  if (root.empty()) {
    std::fprintf(stderr, "usage: %s --root REPO [--lifetime-s S]\n",
                 name.c_str());
    std::exit(2);
  }
  std::thread([lifetime_s] {
    std::this_thread::sleep_for(std::chrono::seconds(lifetime_s));
    std::fprintf(stderr, "%s: lifetime of %d s is over\n", peer_name.c_str(),
                 lifetime_s);
    std::_Exit(3);
  }).detach();
  return root;
}

// The hub event "kick" closes the sender's connection (to test a page's
// reconnect).
inline void AddKickEvent(msock::Hub& hub) {
  hub.On("kick",
         [&hub](const msock::RoomEvent& ev) -> absl::StatusOr<std::string> {
           absl::StatusOr<uint32_t> pipe = hub.PipeOf(ev.client);
           if (!pipe.ok()) return pipe.status();
           hub.socket().ClosePipe(*pipe);
           return std::string();
         });
}

// Listens on ws (text frames, path /hub) and tcp through `listen` (Hub::Listen
// or the like of a server running `hub`); serves REPO/clients/js and
// REPO/tests/browser over http on the ws port (kept in `files`). Returns
// {"ws://127.0.0.1:PORT" (the base), the tcp URL}.
inline std::pair<std::string, std::string> ListenForBrowsers(
    msock::Hub& hub,
    const std::function<absl::StatusOr<std::string>(std::string_view)>& listen,
    const std::string& root,
    std::vector<std::unique_ptr<msock::StaticFiles>>& files) {
  absl::Status text = hub.Set(msock::opt::kWsText, true);
  if (!text.ok()) Die("set ws-text", text);
  absl::StatusOr<std::string> ws_url = listen("ws://127.0.0.1:0/hub");
  if (!ws_url.ok()) Die("listen ws", ws_url.status());
  absl::StatusOr<std::string> tcp_url = listen("tcp://127.0.0.1:0");
  if (!tcp_url.ok()) Die("listen tcp", tcp_url.status());
  absl::StatusOr<msock::Url> u = msock::ParseUrl(*ws_url);
  if (!u.ok()) Die("parse " + *ws_url, u.status());
  const std::string base = "ws://127.0.0.1:" + std::to_string(u->port);
  for (const char* dir : {"clients/js", "tests/browser"}) {
    absl::StatusOr<std::unique_ptr<msock::StaticFiles>> f =
        msock::StaticFiles::Serve(base + "/" + dir, root + "/" + dir);
    if (!f.ok()) Die(std::string("serve ") + dir, f.status());
    files.push_back(std::move(*f));
  }
  return {base, *tcp_url};
}

inline std::pair<std::string, std::string> ListenForBrowsers(
    msock::Hub& hub, const std::string& root,
    std::vector<std::unique_ptr<msock::StaticFiles>>& files) {
  return ListenForBrowsers(
      hub, [&hub](std::string_view url) { return hub.Listen(url); }, root,
      files);
}

// The "ready HUB-URL PAGE-URL" line the runner waits for.
inline std::string ReadyLine(const std::string& base, const std::string& page) {
  return "ready " + base + "/hub http" + base.substr(2) + "/tests/browser/" +
         page;
}

}  // namespace msock_browser

#endif  // MSOCK_TESTS_BROWSER_PEER_COMMON_H_
