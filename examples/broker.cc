// examples/broker.cc: a request/reply broker between processes: clients ->
// device -> a pool of workers.
//
// Run each part in its own shell (any URLs; ipc:// or tcp://):
//   broker device ipc:///tmp/front.sock ipc:///tmp/back.sock
//   broker worker ipc:///tmp/back.sock alice
//   broker worker ipc:///tmp/back.sock bob
//   broker client ipc:///tmp/front.sock 10
// The device listens on both URLs and forwards until Ctrl-C. Each worker
// answers "<name>: <request>" until Ctrl-C. The client sends N requests, prints
// each reply and exits 0 when all N came back (1 otherwise). Requests are
// spread over the workers; replies find their way back through the device by
// the hop word it adds to each request.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "msock/msock.h"

namespace {

// Blocks SIGINT and SIGTERM in every thread started after it; WaitForSignal
// then takes them synchronously (no async handler touching sockets).
sigset_t BlockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}
void WaitForSignal(const sigset_t& set) {
  int sig = 0;
  sigwait(&set, &sig);
}

int Fail(const char* what, const absl::Status& s) {
  std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
  return 1;
}

int RunDevice(const char* front_url, const char* back_url) {
  sigset_t stop = BlockStopSignals();
  // Raw sockets forward header words untouched: the front faces requesters
  // (so it is a raw rep), the back faces workers (a raw req).
  msock::Socket front = msock::RawSocket(msock::protocols::kRep);
  msock::Socket back = msock::RawSocket(msock::protocols::kReq);
  absl::StatusOr<std::string> f = front.Listen(front_url);
  if (!f.ok()) return Fail("listen front", f.status());
  absl::StatusOr<std::string> b = back.Listen(back_url);
  if (!b.ok()) return Fail("listen back", b.status());
  std::printf("device: clients -> %s, workers -> %s\n", f->c_str(), b->c_str());
  std::fflush(stdout);
  std::thread device([&] {
    if (absl::Status s = msock::Device(front, back); !s.ok()) {
      Fail("device", s);
    }
  });
  WaitForSignal(stop);
  front.Close();  // Device returns once a socket is closed
  back.Close();
  device.join();
  std::printf("device: forwarded %llu requests, %llu replies\n",
              static_cast<unsigned long long>(front.stats().messages_in),
              static_cast<unsigned long long>(back.stats().messages_in));
  return 0;
}

int RunWorker(const char* url, const std::string& name) {
  sigset_t stop = BlockStopSignals();
  msock::Rep rep;
  if (absl::Status s = rep.Dial(url); !s.ok()) return Fail("dial", s);
  std::thread serve([&] {
    for (;;) {
      absl::StatusOr<msock::Message> request = rep.Recv(absl::InfiniteFuture());
      if (!request.ok()) return;  // closed
      msock::Message reply(name + ": " + std::string(request->body()));
      rep.Reply(*request, reply, absl::Now() + absl::Seconds(5)).IgnoreError();
    }
  });
  WaitForSignal(stop);
  rep.Close();
  serve.join();
  return 0;
}

int RunClient(const char* url, int count) {
  msock::Req req;
  if (absl::Status s = req.Dial(url); !s.ok()) return Fail("dial", s);
  for (int i = 0; i < count; ++i) {
    msock::Message request("request " + std::to_string(i));
    // Waits for the device to be there, then for the reply: 10 s each.
    absl::StatusOr<msock::Message> reply =
        req.Request(request, absl::Now() + absl::Seconds(10));
    if (!reply.ok()) return Fail("request", reply.status());
    std::printf("%.*s\n", static_cast<int>(reply->size()), reply->data());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "device" && argc == 4) return RunDevice(argv[2], argv[3]);
  if (mode == "worker" && argc == 4) return RunWorker(argv[2], argv[3]);
  if (mode == "client" && argc == 4)
    return RunClient(argv[2], std::atoi(argv[3]));
  std::fprintf(stderr,
               "usage: broker device FRONT_URL BACK_URL\n"
               "       broker worker BACK_URL NAME\n"
               "       broker client FRONT_URL COUNT\n");
  return 2;
}
