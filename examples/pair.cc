// examples/pair.cc: ping / pong between two Pair1 sockets over ipc.
//
// One side listens on a Unix domain socket in a fresh temporary directory, the
// other dials it; they bounce a message back and forth three times.
// Exits 0 when every pong came back.
#include <unistd.h>

#include <cstdio>
#include <string>

#include "msock/msock.h"

namespace {

// Prints `what` and the error, returns true if `s` is an error.
bool Failed(const char* what, const absl::Status& s) {
  if (s.ok()) return false;
  std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
  return true;
}

int Run(const std::string& dir) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  msock::Pair1 server;
  msock::Pair1 client;

  absl::StatusOr<std::string> url =
      server.Listen("ipc://" + dir + "/pair.sock");
  if (Failed("listen", url.status())) return 1;
  if (Failed("dial", client.Dial(*url))) return 1;
  // A pair talks to exactly one peer; wait until the connection is up.
  if (Failed("connect", client.WaitForPeers(1, deadline))) return 1;
  std::printf("connected over %s\n", url->c_str());

  for (int round = 1; round <= 3; ++round) {
    std::string ping = "ping " + std::to_string(round);
    if (Failed("client send", client.Send(ping, deadline))) return 1;

    absl::StatusOr<msock::Message> got = server.Recv(deadline);
    if (Failed("server recv", got.status())) return 1;
    std::printf("server got: %.*s\n", static_cast<int>(got->size()),
                got->data());
    // Reply with the same number: "ping 2" -> "pong 2".
    std::string pong = "pong" + std::string(got->body().substr(4));
    if (Failed("server send", server.Send(pong, deadline))) return 1;

    absl::StatusOr<msock::Message> back = client.Recv(deadline);
    if (Failed("client recv", back.status())) return 1;
    std::printf("client got: %.*s\n", static_cast<int>(back->size()),
                back->data());
    if (back->body() != "pong " + std::to_string(round)) {
      std::fprintf(stderr, "unexpected reply\n");
      return 1;
    }
  }
  return 0;
}

}  // namespace

int main() {
  // A private directory for the socket file, removed at the end.
  char dir_template[] = "/tmp/msock-pair-XXXXXX";
  const char* dir = mkdtemp(dir_template);
  if (dir == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  const int rc = Run(dir);  // sockets are closed when Run returns
  std::remove((std::string(dir) + "/pair.sock").c_str());
  rmdir(dir);
  if (rc == 0) std::printf("ok\n");
  return rc;
}
