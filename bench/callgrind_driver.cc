// bench/callgrind_driver.cc: a small push/pull stream for valgrind
// --tool=callgrind (bench/callgrind.sh). Two threads, like msock_perf's
// throughput cell: one sends N messages (copying 64 B into each new Message, as
// msock_perf does), one receives them. Setup, warm-up and teardown are left out
// of the counts: stats are zeroed once the warm-up message has arrived and
// dumped as soon as the last message is received, so the dump holds the steady
// stream only.
//
//   valgrind --tool=callgrind callgrind_driver --transport ipc --messages 20000
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "msock/msock.h"

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_ZERO_STATS
#define CALLGRIND_DUMP_STATS_AT(name)
#endif

namespace {

int Usage() {
  std::fprintf(stderr,
               "usage: callgrind_driver [--transport inproc|ipc|tcp] "
               "[--messages N] [--warmup N] [--size BYTES]\n");
  return 2;
}

bool Fail(const char* what, const absl::Status& s) {
  std::fprintf(stderr, "callgrind_driver: %s: %s\n", what,
               s.ToString().c_str());
  return false;
}

// Sends `n` messages of `size` bytes and receives them on the other thread.
bool Stream(msock::Push& push, msock::Pull& pull, int n, size_t size,
            absl::Time deadline) {
  std::string body(size, 'x');
  bool ok = true;
  std::thread receiver([&] {
    for (int i = 0; i < n && ok; ++i) {
      absl::StatusOr<msock::Message> m = pull.Recv(deadline);
      if (!m.ok()) ok = Fail("recv", m.status());
    }
  });
  for (int i = 0; i < n && ok; ++i) {
    msock::Message m{std::string_view(body)};
    absl::Status s = push.Send(m, deadline);
    if (!s.ok()) ok = Fail("send", s);
  }
  receiver.join();
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  std::string transport = "inproc";
  int messages = 20000, warmup = 2000;
  size_t size = 64;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (i + 1 >= argc) return Usage();
    if (a == "--transport") {
      transport = argv[++i];
    } else if (a == "--messages") {
      messages = std::atoi(argv[++i]);
    } else if (a == "--warmup") {
      warmup = std::atoi(argv[++i]);
    } else if (a == "--size") {
      size = static_cast<size_t>(std::atol(argv[++i]));
    } else {
      return Usage();
    }
  }
  std::string url;
  if (transport == "inproc") {
    url = "inproc://callgrind";
  } else if (transport == "ipc") {
    url = "ipc:///tmp/msock-callgrind-" + std::to_string(getpid()) + ".sock";
  } else if (transport == "tcp") {
    url = "tcp://127.0.0.1:0";
  } else {
    return Usage();
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(600);
  bool ok = true;
  {
    msock::Pull pull;
    msock::Push push;
    absl::StatusOr<std::string> bound = pull.Listen(url);
    if (!bound.ok()) return Fail("listen", bound.status()) ? 0 : 1;
    absl::Status s = push.Dial(*bound);
    if (s.ok()) s = push.WaitForPeers(1, deadline);
    if (!s.ok()) return Fail("dial", s) ? 0 : 1;
    // The warm-up fills the allocator's and the queues' steady state.
    ok = Stream(push, pull, warmup, size, deadline);
    if (ok) {
      CALLGRIND_ZERO_STATS;
      ok = Stream(push, pull, messages, size, deadline);
      CALLGRIND_DUMP_STATS_AT("stream");
    }
  }
  if (!ok) return 1;
  std::printf("%s %d messages of %zu B\n", transport.c_str(), messages, size);
  return 0;
}
