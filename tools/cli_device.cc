// tools/cli_device.cc: `msock device` (see cli_device.h).
//
// The forwarding runs on a thread of its own (msock::Device blocks); the
// calling thread waits in sigwait for SIGINT / SIGTERM, or for the SIGUSR1 the
// forwarding thread raises if Device returns by itself, then closes both
// sockets, which makes Device return.
#include "tools/cli_device.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <optional>
#include <thread>

#include "msock/protocols/device.h"
#include "tools/cli_run.h"
#include "tools/cli_text.h"

namespace msock::cli {

int RunDevice(const Options& o) {
  // Before the first socket starts the I/O threads, so that they inherit the
  // mask and only sigwait below sees these signals.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  const DevicePattern& p = *o.pattern;
  Socket front = RawSocket(*p.front);
  std::optional<Socket> back;
  if (!o.back.empty()) back.emplace(RawSocket(*p.back));
  if (o.verbose) {
    WatchPipes(front, "front: ");
    if (back) WatchPipes(*back, "back: ");
  }
  if (int code = ApplyTls(front, o); code != kExitOk) return code;
  if (back) {
    if (int code = ApplyTls(*back, o); code != kExitOk) return code;
  }
  if (int code = OpenEndpoints(front, o.front, o.verbose, "front: ");
      code != kExitOk) {
    return code;
  }
  if (back) {
    if (int code = OpenEndpoints(*back, o.back, o.verbose, "back: ");
        code != kExitOk) {
      return code;
    }
  }

  // Without a back (bus only), one socket forwards between its own peers.
  Socket& far = back ? *back : front;
  absl::Status result;
  std::thread forwarder([&] {
    result = Device(front, far);
    kill(getpid(), SIGUSR1);
  });
  int sig = 0;
  sigwait(&signals, &sig);
  front.Close();  // Device returns once either socket is closed
  if (back) back->Close();
  forwarder.join();

  if (sig == SIGUSR1) {
    Complain(Cat("device stopped: ",
                 result.ok() ? "a socket closed" : result.ToString()));
    return kExitFailure;
  }
  if (o.verbose) Complain(Cat("stopped by ", strsignal(sig)));
  if (!result.ok()) {
    Complain(Cat("device failed: ", result.ToString()));
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace msock::cli
