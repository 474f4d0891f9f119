// tests/browser/rooms_hub_peer.cc: the hub of the browser rooms test
// (run_rooms.mjs): an msock::Hub on ws (text frames; the test page and
// clients/js served over http on the same port, msock::StaticFiles) and on
// tcp, with a C++ RoomsClient "watcher" in room "chat" over tcp that prints
// "watcher got <text>" for every message relayed to that room.
//
//   rooms_hub_peer --root REPO [--lifetime-s S]
//
// Prints "ready ws://127.0.0.1:PORT/hub http://127.0.0.1:PORT/tests/browser/
// rooms_page.html" once the watcher is in "chat", then serves until its stdin
// closes (the test's end) or for S seconds (default 300). The hub:
//   connect  token "bad" is refused (7, "bad token"); otherwise the client gets
//            its previous id, else the id it wants, else "guest-N".
//   join     any room but "forbidden" (7, "no one may enter forbidden").
//   say      relays the payload as "said" to every room the sender is in (but
//            its own), except the sender; answers the number of copies.
//   echo     answers the payload.
//   slow     answers "slow done" after the payload's number of ms (<= 2000).
//   ask      emits "question" with the payload to the sender and answers
//            "answer:" + its answer (or its error).
//   kick     closes the sender's connection.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "msock/msock.h"

namespace {

std::mutex out_mu;

void Say(const std::string& line) {
  std::lock_guard<std::mutex> l(out_mu);
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

[[noreturn]] void Die(const std::string& what, const absl::Status& s) {
  std::fprintf(stderr, "rooms_hub_peer: %s: %s\n", what.c_str(),
               s.ToString().c_str());
  std::exit(1);
}

void SetUpHub(msock::Hub& hub) {
  auto guests = std::make_shared<std::atomic<int>>(0);
  hub.OnConnect([guests](const msock::ConnectRequest& req)
                    -> absl::StatusOr<std::string> {
    if (req.token == "bad") return absl::PermissionDeniedError("bad token");
    if (!req.previous_id.empty()) return req.previous_id;
    if (!req.want_id.empty()) return req.want_id;
    return "guest-" + std::to_string(++*guests);
  });
  hub.OnJoin([](const msock::JoinRequest& req) -> absl::Status {
    if (req.room == "forbidden") {
      return absl::PermissionDeniedError("no one may enter forbidden");
    }
    return absl::OkStatus();
  });
  hub.On("say",
         [&hub](const msock::RoomEvent& ev) -> absl::StatusOr<std::string> {
           size_t copies = 0;
           for (const auto& [ns, room] : hub.RoomsOf(ev.client)) {
             if (ns != ev.ns || room == ev.client) continue;
             absl::StatusOr<size_t> n =
                 hub.ToRoom(room, "said", ev.payload, ns, ev.client);
             if (!n.ok()) return n.status();
             copies += *n;
           }
           return std::to_string(copies);
         });
  hub.On("echo", [](const msock::RoomEvent& ev) -> absl::StatusOr<std::string> {
    return ev.payload;
  });
  hub.On("slow", [](const msock::RoomEvent& ev) -> absl::StatusOr<std::string> {
    const int ms = std::min(std::max(std::atoi(ev.payload.c_str()), 0), 2000);
    // The slow work an ack deadline is about, not synchronisation.
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return std::string("slow done");
  });
  hub.On(
      "ask", [&hub](const msock::RoomEvent& ev) -> absl::StatusOr<std::string> {
        absl::StatusOr<std::string> answer = hub.Emit(
            ev.client, "question", ev.payload, absl::Now() + absl::Seconds(5));
        if (!answer.ok()) return answer.status();
        return "answer:" + *answer;
      });
  hub.On("kick",
         [&hub](const msock::RoomEvent& ev) -> absl::StatusOr<std::string> {
           absl::StatusOr<uint32_t> pipe = hub.PipeOf(ev.client);
           if (!pipe.ok()) return pipe.status();
           hub.socket().ClosePipe(*pipe);
           return std::string();
         });
}

}  // namespace

int main(int argc, char** argv) {
  std::string root;
  int lifetime_s = 300;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--root") root = argv[i + 1];
    if (flag == "--lifetime-s") lifetime_s = std::atoi(argv[i + 1]);
  }
  if (root.empty()) {
    std::fprintf(stderr,
                 "usage: rooms_hub_peer --root REPO [--lifetime-s S]\n");
    return 2;
  }
  // The bound, whatever happens to the test driving it.
  std::thread([lifetime_s] {
    std::this_thread::sleep_for(std::chrono::seconds(lifetime_s));
    std::fprintf(stderr, "rooms_hub_peer: lifetime of %d s is over\n",
                 lifetime_s);
    std::_Exit(3);
  }).detach();

  msock::HubOptions options;
  options.threads = 4;  // "slow" and "ask" hold one; the others go on
  msock::Hub hub(options);
  SetUpHub(hub);
  absl::Status text = hub.Set(msock::opt::kWsText, true);
  if (!text.ok()) Die("set ws-text", text);
  absl::StatusOr<std::string> ws_url = hub.Listen("ws://127.0.0.1:0/hub");
  if (!ws_url.ok()) Die("listen ws", ws_url.status());
  absl::StatusOr<std::string> tcp_url = hub.Listen("tcp://127.0.0.1:0");
  if (!tcp_url.ok()) Die("listen tcp", tcp_url.status());
  absl::StatusOr<msock::Url> u = msock::ParseUrl(*ws_url);
  if (!u.ok()) Die("parse " + *ws_url, u.status());
  const std::string base = "ws://127.0.0.1:" + std::to_string(u->port);
  std::vector<std::unique_ptr<msock::StaticFiles>> files;
  for (const char* dir : {"clients/js", "tests/browser"}) {
    absl::StatusOr<std::unique_ptr<msock::StaticFiles>> f =
        msock::StaticFiles::Serve(base + "/" + dir, root + "/" + dir);
    if (!f.ok()) Die(std::string("serve ") + dir, f.status());
    files.push_back(std::move(*f));
  }

  msock::RoomsClientOptions watcher_options;
  watcher_options.want_id = "watcher";
  msock::RoomsClient watcher(watcher_options);
  watcher.On("said",
             [](const msock::RoomEvent& ev) -> absl::StatusOr<std::string> {
               Say("watcher got " + ev.payload);
               return std::string();
             });
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  absl::StatusOr<std::string> id = watcher.Connect(*tcp_url, deadline);
  if (!id.ok()) Die("watcher connect " + *tcp_url, id.status());
  absl::Status joined = watcher.Join("chat", deadline);
  if (!joined.ok()) Die("watcher join chat", joined);

  Say("ready " + base + "/hub http" + base.substr(2) +
      "/tests/browser/rooms_page.html");
  // Serves until the test closes our stdin (or the lifetime thread ends us).
  while (std::fgetc(stdin) != EOF) {
  }
  watcher.Close();
  hub.Close();
  return 0;
}
