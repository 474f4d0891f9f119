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
#include "peer_common.h"

namespace {

using msock_browser::Die;
using msock_browser::Say;

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
  msock_browser::AddKickEvent(hub);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string root =
      msock_browser::StartPeer(argc, argv, "rooms_hub_peer");

  msock::HubOptions options;
  options.threads = 4;  // "slow" and "ask" hold one; the others go on
  msock::Hub hub(options);
  SetUpHub(hub);
  std::vector<std::unique_ptr<msock::StaticFiles>> files;
  const auto [base, tcp_url] =
      msock_browser::ListenForBrowsers(hub, root, files);

  msock::RoomsClientOptions watcher_options;
  watcher_options.want_id = "watcher";
  msock::RoomsClient watcher(watcher_options);
  watcher.On("said",
             [](const msock::RoomEvent& ev) -> absl::StatusOr<std::string> {
               Say("watcher got " + ev.payload);
               return std::string();
             });
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  absl::StatusOr<std::string> id = watcher.Connect(tcp_url, deadline);
  if (!id.ok()) Die("watcher connect " + tcp_url, id.status());
  absl::Status joined = watcher.Join("chat", deadline);
  if (!joined.ok()) Die("watcher join chat", joined);

  Say(msock_browser::ReadyLine(base, "rooms_page.html"));
  // Serves until the test closes our stdin (or the lifetime thread ends us).
  while (std::fgetc(stdin) != EOF) {
  }
  watcher.Close();
  hub.Close();
  return 0;
}
