// examples/forwarder.cc: a pub/sub forwarder between processes: publishers ->
// forwarder -> subscribers.
//
// Run each part in its own shell (any URLs; ipc:// or tcp://):
//   forwarder device ipc:///tmp/in.sock ipc:///tmp/out.sock
//   forwarder publisher ipc:///tmp/in.sock
//   forwarder subscriber ipc:///tmp/out.sock news: 5
// The forwarder listens on both URLs: publishers dial the first, subscribers
// the second; it runs until Ctrl-C. The publisher sends "news: N" and
// "weather: N" every 100 ms until Ctrl-C. The subscriber prints COUNT messages
// starting with PREFIX, then exits 0 (1 if none comes for 10 s).
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "msock/msock.h"

namespace {

sigset_t BlockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

int Fail(const char* what, const absl::Status& s) {
  std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
  return 1;
}

int RunDevice(const char* in_url, const char* out_url) {
  sigset_t stop = BlockStopSignals();
  // A raw sub takes everything from the publishers (no prefix filter); the
  // subscribers filter for themselves, as SP subscribers always do.
  msock::Socket in = msock::RawSocket(msock::protocols::kSub);
  msock::Socket out = msock::RawSocket(msock::protocols::kPub);
  absl::StatusOr<std::string> i = in.Listen(in_url);
  if (!i.ok()) return Fail("listen in", i.status());
  absl::StatusOr<std::string> o = out.Listen(out_url);
  if (!o.ok()) return Fail("listen out", o.status());
  std::printf("forwarder: publishers -> %s, subscribers -> %s\n", i->c_str(),
              o->c_str());
  std::fflush(stdout);
  std::thread device([&] { msock::Device(in, out).IgnoreError(); });
  int sig = 0;
  sigwait(&stop, &sig);
  in.Close();
  out.Close();
  device.join();
  // A subscriber too slow to keep up loses messages; they are counted.
  std::printf(
      "forwarder: %llu messages in, %llu dropped for slow subscribers\n",
      static_cast<unsigned long long>(in.stats().messages_in),
      static_cast<unsigned long long>(out.stats().dropped));
  return 0;
}

int RunPublisher(const char* url) {
  sigset_t stop = BlockStopSignals();
  msock::Pub pub;
  if (absl::Status s = pub.Dial(url); !s.ok()) return Fail("dial", s);
  for (int n = 0;; ++n) {
    for (const char* topic : {"news: ", "weather: "}) {
      msock::Message m(topic + std::to_string(n));
      pub.Send(m, absl::Now() + absl::Seconds(1)).IgnoreError();
    }
    // Sleeps 100 ms, or stops at once on Ctrl-C.
    timespec wait{0, 100'000'000};
    if (sigtimedwait(&stop, nullptr, &wait) > 0) return 0;
  }
}

int RunSubscriber(const char* url, const char* prefix, int count) {
  msock::Sub sub;
  sub.Subscribe(prefix);
  if (absl::Status s = sub.Dial(url); !s.ok()) return Fail("dial", s);
  for (int i = 0; i < count; ++i) {
    absl::StatusOr<msock::Message> m =
        sub.Recv(absl::Now() + absl::Seconds(10));
    if (!m.ok()) return Fail("recv", m.status());
    std::printf("%.*s\n", static_cast<int>(m->size()), m->data());
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "device" && argc == 4) return RunDevice(argv[2], argv[3]);
  if (mode == "publisher" && argc == 3) return RunPublisher(argv[2]);
  if (mode == "subscriber" && argc == 5)
    return RunSubscriber(argv[2], argv[3], std::atoi(argv[4]));
  std::fprintf(stderr,
               "usage: forwarder device IN_URL OUT_URL\n"
               "       forwarder publisher IN_URL\n"
               "       forwarder subscriber OUT_URL PREFIX COUNT\n");
  return 2;
}
