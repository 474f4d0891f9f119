// examples/chat/chat_client.cc: a terminal chat client for chat_hub.
//
// Usage: chat_client [URL] [NAME]   (default tcp://127.0.0.1:5570, any name)
// Reads lines from stdin: "/join ROOM", "/leave ROOM", "/quit"; any other line
// is said in the room joined last. Prints what others say in its rooms, and
// re-joins them by itself after a lost connection comes back.
#include <cstdio>
#include <iostream>
#include <mutex>
#include <set>
#include <string>

#include "msock/msock.h"

namespace {

absl::Time Soon() { return absl::Now() + absl::Seconds(5); }

}  // namespace

int main(int argc, char** argv) {
  const std::string url = argc > 1 ? argv[1] : "tcp://127.0.0.1:5570";
  std::setvbuf(stdout, nullptr, _IOLBF,
               0);  // one line at a time, also into a pipe
  const bool ws = url.rfind("ws://", 0) == 0;
  msock::RoomsClientOptions options;
  if (argc > 2) options.want_id = argv[2];
  options.json = ws;  // over ws the hub speaks JSON in text frames
  msock::RoomsClient client(options);
  if (ws) client.Set(msock::opt::kWsText, true).IgnoreError();

  std::mutex mu;
  std::set<std::string> rooms;  // guarded by mu
  client.On("said",
            [](const msock::RoomEvent& ev) -> absl::StatusOr<std::string> {
              std::printf("[%s] %s\n", ev.room.c_str(), ev.payload.c_str());
              return std::string();
            });
  client.OnDisconnected([] { std::printf("(connection lost, retrying)\n"); });
  client.OnReconnected([&](const std::string& id, bool) {
    std::set<std::string> again;
    {
      std::lock_guard<std::mutex> lock(mu);
      again = rooms;
    }
    for (const std::string& room : again) {
      client.Join(room, Soon()).IgnoreError();  // the hub forgot them
    }
    std::printf("(back as %s)\n", id.c_str());
  });

  absl::StatusOr<std::string> id = client.Connect(url, Soon());
  if (!id.ok()) {
    std::fprintf(stderr, "connect %s: %s\n", url.c_str(),
                 id.status().ToString().c_str());
    return 1;
  }
  std::printf(
      "connected to %s as %s\n"
      "commands: /join ROOM, /leave ROOM, /quit; other lines are "
      "said in the last room joined\n",
      url.c_str(), id->c_str());

  std::string current, line;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    if (line == "/quit") break;
    if (line.rfind("/join ", 0) == 0 || line.rfind("/leave ", 0) == 0) {
      const bool join = line[1] == 'j';
      const std::string room = line.substr(join ? 6 : 7);
      absl::Status st =
          join ? client.Join(room, Soon()) : client.Leave(room, Soon());
      if (!st.ok()) {
        std::printf("(%s %s: %s)\n", join ? "join" : "leave", room.c_str(),
                    st.ToString().c_str());
        continue;
      }
      std::lock_guard<std::mutex> lock(mu);
      if (join) {
        rooms.insert(room);
        current = room;
      } else {
        rooms.erase(room);
        if (current == room) current.clear();
      }
      continue;
    }
    if (current.empty()) {
      std::printf("(join a room first: /join ROOM)\n");
      continue;
    }
    absl::StatusOr<std::string> ack =
        client.Emit("say", current + "\n" + line, Soon());
    if (!ack.ok())
      std::printf("(not sent: %s)\n", ack.status().ToString().c_str());
  }
  client.Close();
  return 0;
}
