// examples/push_pull.cc: a pipeline (push -> pull) over TCP loopback.
//
// A Pull listens on a free port, a Push dials it and sends N jobs, the Pull
// receives them, all in one process. Usage: push_pull [N] (default 5).
// Exits 0 when every job arrived, in order.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "msock/msock.h"

int main(int argc, char** argv) {
  const int count = argc > 1 ? std::atoi(argv[1]) : 5;
  // Every blocking call takes a deadline; give the whole exchange 10 seconds.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);

  // Port 0 asks the system for a free port; Listen returns the URL actually
  // bound.
  msock::Pull pull;
  absl::StatusOr<std::string> url = pull.Listen("tcp://127.0.0.1:0");
  if (!url.ok()) {
    std::fprintf(stderr, "listen: %s\n", url.status().ToString().c_str());
    return 1;
  }
  std::printf("pull listening on %s\n", url->c_str());

  // Dial connects in the background (and reconnects if the connection drops).
  msock::Push push;
  if (absl::Status s = push.Dial(*url); !s.ok()) {
    std::fprintf(stderr, "dial: %s\n", s.ToString().c_str());
    return 1;
  }

  // Send blocks until a pull can take the message (or the deadline passes).
  for (int i = 0; i < count; ++i) {
    std::string job = "job " + std::to_string(i);
    if (absl::Status s = push.Send(job, deadline); !s.ok()) {
      std::fprintf(stderr, "send: %s\n", s.ToString().c_str());
      return 1;
    }
  }

  for (int i = 0; i < count; ++i) {
    absl::StatusOr<msock::Message> msg = pull.Recv(deadline);
    if (!msg.ok()) {
      std::fprintf(stderr, "recv: %s\n", msg.status().ToString().c_str());
      return 1;
    }
    std::printf("received: %.*s\n", static_cast<int>(msg->size()), msg->data());
    if (msg->body() != "job " + std::to_string(i)) {
      std::fprintf(stderr, "unexpected message\n");
      return 1;
    }
  }
  std::printf("ok: %d messages\n", count);
  return 0;  // the sockets close themselves when they go out of scope
}
