// tests/browser/queue_server_peer.cc: the server of the browser queue test
// (run_queue.mjs): an msock::QueueServer (its store in a scratch directory,
// removed at exit) listening on ws (text frames; the test page and clients/js
// served over http on the same port) and on tcp, and a C++ QueueClient over
// tcp, node "peer" of user "cpp", that posts to user "web" when told and
// prints what it receives.
//
//   queue_server_peer --root REPO [--lifetime-s S]
//
// Prints "db DIR", then "ready ws://127.0.0.1:PORT/hub http://127.0.0.1:PORT/
// tests/browser/queue_page.html" once its client is logged in, then reads
// commands on stdin, one a line, until stdin closes (or S seconds, default
// 300):
//   post B1 B2 ...  posts one message to "web" per body, in order, each once
//                   durable (client_id = the body); prints "posted B1=ID1
//                   B2=ID2 ..." (or "post failed: <status>").
//   stats           prints "stats posts=P acks=A deliveries=D redeliveries=R".
// Each entry the C++ client receives it acknowledges, and prints "received
// FROM_USER/FROM_NODE attempt N body HEX meta META" (HEX: the body's bytes in
// hex) once the ack is durable. The hub event "kick" closes the sender's
// connection (to test a page's login after a reconnect). At the end it prints
// "removed DIR" and exits 0.
#include <stdlib.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "msock/msock.h"
#include "msock/protocols/queue.h"
#include "peer_common.h"

namespace {

using msock_browser::Die;
using msock_browser::Say;

// A fresh directory under $TMPDIR (or /tmp) for the store.
std::string MakeScratchDir() {
  std::filesystem::path base = std::filesystem::temp_directory_path();
  std::string pattern = (base / "msock-queue-peer-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    Die("mkdtemp " + pattern, absl::InternalError(std::strerror(errno)));
  }
  return pattern;
}

void Post(msock::QueueClient& client, const std::string& args) {
  std::istringstream words(args);
  std::string body, line = "posted";
  while (words >> body) {
    msock::PostOptions options;
    options.client_id = body;
    absl::StatusOr<msock::PostResult> r =
        client.Post({"web"}, body, absl::Now() + absl::Seconds(10), options);
    if (!r.ok()) {
      Say("post failed: " + r.status().ToString());
      return;
    }
    line += " " + body + "=" + std::to_string(r->id);
  }
  Say(line);
}

// Takes what the C++ client receives, acknowledges it and says so, until
// `stop` (Receive waits at most `kPoll` at a time so that it sees `stop`).
void ReceiveLoop(msock::QueueClient& client, const std::atomic<bool>& stop) {
  constexpr absl::Duration kPoll = absl::Milliseconds(200);
  while (!stop.load()) {
    absl::StatusOr<msock::QueueMessage> m = client.Receive(absl::Now() + kPoll);
    if (absl::IsDeadlineExceeded(m.status())) continue;
    if (!m.ok()) {
      if (!stop.load()) Say("receive failed: " + m.status().ToString());
      return;
    }
    absl::Status acked = client.Ack(m->id, absl::Now() + absl::Seconds(10));
    if (!acked.ok()) {
      Say("ack failed: " + acked.ToString());
      continue;
    }
    Say("received " + m->from_user + "/" + m->from_node + " attempt " +
        std::to_string(m->attempt) + " body " +
        absl::BytesToHexString(m->body) + " meta " + m->meta);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::string root =
      msock_browser::StartPeer(argc, argv, "queue_server_peer");
  const std::string dir = MakeScratchDir();
  Say("db " + dir);

  msock::QueueServerOptions options;
  options.db_path = dir + "/queue.db";
  // No redelivery by timeout while the test runs: every second delivery it
  // sees comes from a new login.
  options.ack_timeout = absl::Minutes(5);
  absl::StatusOr<std::unique_ptr<msock::QueueServer>> server =
      msock::QueueServer::Open(options);
  if (!server.ok()) Die("open " + options.db_path, server.status());
  msock::Hub& hub = (*server)->hub();
  msock_browser::AddKickEvent(hub);
  std::vector<std::unique_ptr<msock::StaticFiles>> files;
  const auto [base, tcp_url] = msock_browser::ListenForBrowsers(
      hub, [&server](std::string_view url) { return (*server)->Listen(url); },
      root, files);

  auto client = std::make_unique<msock::QueueClient>();
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  absl::Status st = client->Connect(tcp_url, deadline);
  if (!st.ok()) Die("connect " + tcp_url, st);
  absl::StatusOr<std::string> secret =
      client->Register("cpp", "peer", deadline);
  if (!secret.ok()) Die("register cpp/peer", secret.status());
  st = client->Login("cpp", "peer", *secret, deadline);
  if (!st.ok()) Die("login cpp/peer", st);
  std::atomic<bool> stop{false};
  std::thread receiver([&] { ReceiveLoop(*client, stop); });

  Say(msock_browser::ReadyLine(base, "queue_page.html"));
  std::string line;
  // Serves until the test closes our stdin (or the lifetime thread ends us).
  while (std::getline(std::cin, line)) {
    if (line.rfind("post ", 0) == 0) {
      Post(*client, line.substr(5));
    } else if (line == "stats") {
      const msock::QueueStats s = (*server)->stats();
      Say("stats posts=" + std::to_string(s.posts) +
          " acks=" + std::to_string(s.acks) +
          " deliveries=" + std::to_string(s.deliveries) +
          " redeliveries=" + std::to_string(s.redeliveries));
    } else if (!line.empty()) {
      Say("unknown command: " + line);
    }
  }
  stop.store(true);
  receiver.join();
  client->Close();
  (*server)->Close();
  files.clear();
  server->reset();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  if (ec) Die("remove " + dir, absl::InternalError(ec.message()));
  Say("removed " + dir);
  return 0;
}
