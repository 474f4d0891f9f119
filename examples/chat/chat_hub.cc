// examples/chat/chat_hub.cc: a chat server on msock's rooms protocol.
//
// Usage: chat_hub [URL]          (default tcp://127.0.0.1:5570)
// Clients (chat_client) join rooms and send "say" events; the hub relays each
// line to the other members of the sender's room. A ws:// URL serves JSON
// clients over text frames (browsers). Runs until SIGINT or SIGTERM.
#include <signal.h>

#include <cstdio>
#include <string>

#include "msock/msock.h"

int main(int argc, char** argv) {
  const std::string url = argc > 1 ? argv[1] : "tcp://127.0.0.1:5570";
  std::setvbuf(stdout, nullptr, _IOLBF,
               0);  // one line at a time, also into a pipe
  // Block the stop signals in every thread (the hub's threads inherit this
  // mask); main waits for them with sigwait.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  msock::Hub hub;
  if (url.rfind("ws://", 0) == 0) {
    hub.Set(msock::opt::kWsText, true).IgnoreError();  // browsers speak JSON
  }
  // Middleware: logs every event and how its handler answered.
  hub.Use([](msock::RoomEvent& ev,
             const msock::Next& next) -> absl::StatusOr<std::string> {
    absl::StatusOr<std::string> r = next();
    std::printf("%s %s: %s\n", ev.client.c_str(), ev.name.c_str(),
                r.ok() ? "ok" : r.status().ToString().c_str());
    return r;
  });
  hub.OnJoin([](const msock::JoinRequest& req) -> absl::Status {
    std::printf("%s joins %s\n", req.client.c_str(), req.room.c_str());
    return absl::OkStatus();
  });
  hub.OnDisconnect([](const std::string& client) {
    std::printf("%s left\n", client.c_str());
  });
  // "say": payload "<room>\n<text>", relayed to the room but the sender.
  hub.On("say",
         [&hub](const msock::RoomEvent& ev) -> absl::StatusOr<std::string> {
           const size_t nl = ev.payload.find('\n');
           if (nl == std::string::npos) {
             return absl::InvalidArgumentError("say: want \"room\\ntext\"");
           }
           const std::string room = ev.payload.substr(0, nl);
           bool member = false;
           for (const auto& [ns, r] : hub.RoomsOf(ev.client)) {
             member = member || (ns == "/" && r == room);
           }
           if (!member) {
             return absl::FailedPreconditionError("join " + room + " first");
           }
           absl::StatusOr<size_t> n = hub.ToRoom(
               room, "said", ev.client + ": " + ev.payload.substr(nl + 1), "/",
               ev.client);
           if (!n.ok()) return n.status();
           return "delivered to " + std::to_string(*n);
         });

  absl::StatusOr<std::string> bound = hub.Listen(url);
  if (!bound.ok()) {
    std::fprintf(stderr, "listen %s: %s\n", url.c_str(),
                 bound.status().ToString().c_str());
    return 1;
  }
  std::printf("chat hub on %s (Ctrl-C stops it)\n", bound->c_str());
  int sig = 0;
  sigwait(&stop, &sig);
  hub.Close();
  return 0;
}
