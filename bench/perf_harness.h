// bench/perf_harness.h: the measurement loops msock_perf runs for every
// library, and the small interface each library (msock, libzmq, NNG, nanomsg)
// implements in its own perf_*.cc file. The loops are templates over a
// library's send/recv calls, so every library is timed by the same code; only
// the calls into the library differ.
#ifndef MSOCK_BENCH_PERF_HARNESS_H_
#define MSOCK_BENCH_PERF_HARNESS_H_

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace msock::bench {

using Clock = std::chrono::steady_clock;

enum class Transport { kInproc, kIpc, kTcp, kWs };

inline const char* TransportName(Transport t) {
  switch (t) {
    case Transport::kInproc:
      return "inproc";
    case Transport::kIpc:
      return "ipc";
    case Transport::kTcp:
      return "tcp";
    case Transport::kWs:
      return "ws";
  }
  return "?";
}

// How long a library call may block before it returns to the loop (set as the
// library's send/recv timeout, or as a deadline); loops use it to notice a stop
// request or a stall.
inline constexpr int kPollMillis = 250;
// Connecting and the warm-up exchange must finish within this time.
inline constexpr double kSetupSeconds = 10.0;
// No progress for this long during a measurement is reported as a stall.
inline constexpr double kStallSeconds = 5.0;
// Bound on the draining that lets the sending side close while its peer still
// reads.
inline constexpr double kDrainSeconds = 5.0;
// Subscribers in a fan-out measurement.
inline constexpr int kSubscribers = 4;

// State the two sides of one measurement share. It lives in memory mapped
// MAP_SHARED before any fork, so the same object works between two threads and
// between two processes; it holds only lock-free atomics and plain bytes.
struct Rendezvous {
  std::atomic<int> url_ready{0};  // the listening side has published url
  std::atomic<int> go{0};         // warm-up done: the sender may stream
  std::atomic<int> stop{0};  // the receiver has what it needs: stop sending
  std::atomic<int> dialer_done{0};   // the dialing side closed its socket
  std::atomic<int> result_ready{0};  // result fields (or error) below are final
  std::atomic<int> failed{0};
  char url[512] = {};
  char error[512] = {};
  char note[512] = {};  // an anomaly worth reporting that is not a failure
  // Throughput (receiver side).
  int64_t messages = 0;  // messages timed (first to last received)
  double seconds = 0;    // time from the first to the last of them
  bool time_capped = false;
  // Latency (ping side).
  int64_t round_trips = 0;
  double p50_us = 0;
  double p99_us = 0;
  // Fan-out (perf_fanout.h). Subscriber i writes its plain fields, then
  // increments subs_done; the publisher reads them after all did.
  std::atomic<int> sub_ready[kSubscribers] = {};  // i got a warm-up message
  std::atomic<int> subs_done{0};  // subscribers that stopped counting
  std::atomic<int> pub_done{0};   // the last timed message was sent
  int64_t pub_done_ns = 0;        // when (NowNs), written before pub_done
  int64_t sub_received[kSubscribers] = {};  // timed messages i got
  int64_t sub_last_ns[kSubscribers] = {};   // when i got the last of them
  bool sub_sentinel[kSubscribers] = {};     // i stopped at the end marker
  // Fan-out result (publisher side); `messages`, `seconds` and `time_capped`
  // above hold what was delivered, from the first send to the last delivery.
  int64_t sent = 0;          // timed messages the publisher sent
  double send_seconds = 0;   // from the first of them to the last
  int64_t lib_dropped = -1;  // drops the library counted; -1: no counter
  int sentinels = 0;         // subscribers that stopped at the end marker

  void PublishUrl(const std::string& u) {
    std::snprintf(url, sizeof(url), "%s", u.c_str());
    url_ready.store(1, std::memory_order_release);
  }
  // Records the first failure only; also releases anyone waiting for a result.
  void Fail(const std::string& why) {
    int expected = 0;
    if (failed.compare_exchange_strong(expected, 1)) {
      std::snprintf(error, sizeof(error), "%s", why.c_str());
      result_ready.store(1, std::memory_order_release);
    }
  }
  // Records the first note only (call before result_ready is set).
  void Note(const std::string& what) {
    if (note[0] == 0) std::snprintf(note, sizeof(note), "%s", what.c_str());
  }
  bool has_failed() const {
    return failed.load(std::memory_order_acquire) != 0;
  }
};

inline double SecondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// Clock::now() in nanoseconds; steady_clock is CLOCK_MONOTONIC, so values from
// different processes compare.
inline int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             Clock::now().time_since_epoch())
      .count();
}

// Waits (polling; this is setup, not the measured path) until `flag` is set,
// the rendezvous failed, or `seconds` passed. True if the flag was set.
inline bool WaitFlag(const std::atomic<int>& flag, const Rendezvous& rv,
                     double seconds) {
  Clock::time_point start = Clock::now();
  while (flag.load(std::memory_order_acquire) == 0) {
    if (rv.has_failed() || SecondsSince(start) > seconds) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

// Waits for the listening side's URL; empty string (and a failure recorded) if
// none came.
inline std::string WaitUrl(Rendezvous& rv) {
  if (!WaitFlag(rv.url_ready, rv, kSetupSeconds)) {
    rv.Fail("listening side published no URL");
    return "";
  }
  return rv.url;
}

// What one side of one measurement is asked to do.
struct SideArgs {
  Transport transport = Transport::kInproc;
  size_t size = 64;   // message body size
  int64_t count = 0;  // messages (throughput) or round trips (latency) to time
  double time_limit =
      2;  // stop timing after this many seconds even if count not reached
  std::string scratch_dir;  // directory for ipc socket files
  std::string
      tag;  // unique per measurement: use it in inproc names and ipc paths
  int index = 0;       // fan-out: which subscriber (0 .. kSubscribers - 1)
  bool block = false;  // fan-out: publisher blocks on a full queue (msock)
  Rendezvous* rv = nullptr;
};

// The path every ws listener serves (ws://127.0.0.1:PORT/bench).
inline constexpr char kWsPath[] = "/bench";
inline constexpr size_t kWsPathLen = sizeof(kWsPath) - 1;

// The URL the listening side of `a` binds: a unique inproc name or ipc path,
// and for tcp and ws 127.0.0.1 with `port` ("0" or "*": a port the library
// picks and reports; each library spells "any free port" its own way).
inline std::string ListenUrl(const SideArgs& a, const std::string& port) {
  switch (a.transport) {
    case Transport::kInproc:
      return "inproc://" + a.tag;
    case Transport::kIpc:
      return "ipc://" + a.scratch_dir + "/" + a.tag + ".sock";
    case Transport::kTcp:
      return "tcp://127.0.0.1:" + port;
    case Transport::kWs:
      return "ws://127.0.0.1:" + port + kWsPath;
  }
  return "";
}

// Result of one library call in a loop.
enum class Io { kOk, kTimeout, kError };

// A library's side functions. Each runs on its own thread (or process), creates
// its own socket and returns once that socket is closed. Both sides of a
// measurement share one Peer when they are threads (so it may hold a shared
// context) and must not otherwise share state.
class Peer {
 public:
  virtual ~Peer() = default;
  // Push/pull throughput. Receiver: a pull that listens (publishes its URL),
  // times the stream with RunReceiver and drains until the sender closed.
  // Sender: a push that dials, streams with RunSender, closes, then sets
  // dialer_done.
  virtual void Receiver(const SideArgs& a) = 0;
  virtual void Sender(const SideArgs& a) = 0;
  // Pair ping-pong latency. Echo listens and returns every message with
  // RunEcho; Ping dials and times round trips with RunPing, closes, then sets
  // dialer_done.
  virtual void Echo(const SideArgs& a) = 0;
  virtual void Ping(const SideArgs& a) = 0;
  // Req/rep round trip. Replier: a rep that listens and answers every request
  // with its own body (RunEcho). Requester: a req that dials, times requests
  // with RunRoundTrips (or RunPing), closes, then sets dialer_done.
  virtual void Replier(const SideArgs& a) = 0;
  virtual void Requester(const SideArgs& a) = 0;
  // Pub/sub fan-out (perf_fanout.h). Publisher: a pub that listens and sends
  // with RunPublisher. Subscriber: subscriber a.index, a sub that dials,
  // subscribes to everything and counts with RunSubscriber. a.block asks for a
  // publisher that blocks instead of dropping (a library without that option
  // records a failure).
  virtual void Publisher(const SideArgs& a) = 0;
  virtual void Subscriber(const SideArgs& a) = 0;
};

// A library msock_perf can measure.
struct Library {
  const char* key;     // as given to --libs: "msock", "zmq", "nng", "nanomsg"
  const char* column;  // table column: "msock", "libzmq", "NNG", "nanomsg"
  bool has_ws;         // has a ws:// transport (libzmq has none)
  double
      count_scale;  // message counts are multiplied by this (NNG is very slow)
  std::string (*version)();
  std::unique_ptr<Peer> (*make)();
};

// ---------------------------------------------------------------------------------------------
// The measured loops. `recv(size_t* size, char* first)` receives one message
// (blocking at most about kPollMillis) and reports its size and first byte;
// `send(const char* data, size_t size)` sends a copy of those bytes. Both
// return Io.

// Throughput, receiving side. Waits for the warm-up message, lets the sender
// stream, times messages from the first received to the last, then drains until
// the sender has closed.
template <typename Recv>
void RunReceiver(const SideArgs& a, Recv&& recv) {
  Rendezvous& rv = *a.rv;
  size_t size = 0;
  char first = 0;
  Clock::time_point start = Clock::now();
  for (;;) {  // warm-up
    Io r = recv(&size, &first);
    if (r == Io::kOk) break;
    if (r == Io::kError) return rv.Fail("receiver: recv failed during warm-up");
    if (rv.has_failed()) return;
    if (SecondsSince(start) > kSetupSeconds)
      return rv.Fail("receiver: no warm-up message");
  }
  rv.go.store(1, std::memory_order_release);

  int64_t n = 0;
  Clock::time_point t_first{}, t_last{}, last_progress = Clock::now();
  bool capped = false;
  while (n < a.count) {
    Io r = recv(&size, &first);
    if (r == Io::kOk) {
      if (size != a.size) {
        return rv.Fail("receiver: message of " + std::to_string(size) +
                       " bytes, expected " + std::to_string(a.size));
      }
      if (n == 0) t_first = Clock::now();
      ++n;
      if (n == a.count || (n & 255) == 0) {
        t_last = Clock::now();
        last_progress = t_last;
        if (std::chrono::duration<double>(t_last - t_first).count() >
            a.time_limit) {
          capped = true;
          break;
        }
      }
    } else if (r == Io::kError) {
      return rv.Fail("receiver: recv failed after " + std::to_string(n) +
                     " messages");
    } else {
      if (rv.has_failed()) return;
      if (SecondsSince(last_progress) > kStallSeconds) {
        return rv.Fail("receiver: stalled after " + std::to_string(n) + " of " +
                       std::to_string(a.count) + " messages");
      }
    }
  }
  rv.stop.store(1, std::memory_order_release);
  rv.messages = n;
  rv.seconds = std::chrono::duration<double>(t_last - t_first).count();
  rv.time_capped = capped;
  rv.result_ready.store(1, std::memory_order_release);

  // Keep reading so the sender never blocks on a full queue while it closes.
  Clock::time_point drain_start = Clock::now();
  while (rv.dialer_done.load(std::memory_order_acquire) == 0 &&
         SecondsSince(drain_start) < kDrainSeconds) {
    if (recv(&size, &first) == Io::kError) break;
  }
}

// Throughput, sending side: one warm-up message, wait for go, then `count`
// messages as fast as blocking sends allow, until done or the receiver says
// stop.
template <typename Send>
void RunSender(const SideArgs& a, Send&& send) {
  Rendezvous& rv = *a.rv;
  std::string buf(a.size, 'x');
  Clock::time_point start = Clock::now();
  for (;;) {
    Io r = send(buf.data(), buf.size());
    if (r == Io::kOk) break;
    if (r == Io::kError) return rv.Fail("sender: warm-up send failed");
    if (rv.has_failed()) return;
    if (SecondsSince(start) > kSetupSeconds)
      return rv.Fail("sender: warm-up send timed out");
  }
  if (!WaitFlag(rv.go, rv, kSetupSeconds)) {
    if (!rv.has_failed())
      rv.Fail("sender: receiver never got the warm-up message");
    return;
  }
  int64_t blocked_at = -1;  // message index at which sends started timing out
  Clock::time_point blocked_since{};
  for (int64_t i = 0; i < a.count;) {
    Io r = send(buf.data(), buf.size());
    if (r == Io::kOk) {
      ++i;
      // The receiver stops timing at its time limit and drains: stop feeding
      // it.
      if ((i & 15) == 0 && rv.stop.load(std::memory_order_relaxed)) break;
      continue;
    }
    if (r == Io::kError) {
      if (rv.stop.load(std::memory_order_acquire)) return;
      return rv.Fail("sender: send failed after " + std::to_string(i) +
                     " messages");
    }
    if (rv.stop.load(std::memory_order_acquire) || rv.has_failed()) return;
    if (blocked_at != i) {
      blocked_at = i;
      blocked_since = Clock::now();
    } else if (SecondsSince(blocked_since) > kStallSeconds + a.time_limit) {
      return rv.Fail("sender: blocked for good after " + std::to_string(i) +
                     " messages");
    }
  }
  // Closing may drop what is still queued (libzmq with linger 0, NNG): close
  // only once the receiver has everything it counts.
  WaitFlag(rv.stop, rv, kStallSeconds + a.time_limit);
}

// First byte of the message that ends a latency run.
inline constexpr char kQuitByte = 'Q';

// Latency, echo side. `echo(bool* quit)` receives one message and sends that
// same message back (no copy where the library allows it); sets *quit if its
// first byte was kQuitByte.
template <typename EchoOnce>
void RunEcho(const SideArgs& a, EchoOnce&& echo) {
  Rendezvous& rv = *a.rv;
  Clock::time_point last_progress = Clock::now();
  double patience = kSetupSeconds;
  for (;;) {
    bool quit = false;
    Io r = echo(&quit);
    if (r == Io::kOk) {
      if (quit) break;
      last_progress = Clock::now();
      patience = kStallSeconds;
    } else if (r == Io::kError) {
      return rv.Fail("echo: recv/send failed");
    } else {
      if (rv.has_failed()) return;
      if (SecondsSince(last_progress) > patience)
        return rv.Fail("echo: no message");
    }
  }
  // Do not close before the pinging side has read the last echo.
  WaitFlag(rv.dialer_done, rv, kDrainSeconds);
}

// Latency and req/rep, requesting side: warm-up round trips, then `count`
// timed round trips (or time_limit seconds of them), then one whose first byte
// is kQuitByte. `round_trip(const std::string& request, double patience,
// size_t* size)` sends the request and waits (about `patience` seconds at most)
// for the answer, whose size it reports; on error it records a failure and
// returns false. Publishes p50/p99 in microseconds.
template <typename RoundTrip>
void RunRoundTrips(const SideArgs& a, RoundTrip&& round_trip) {
  Rendezvous& rv = *a.rv;
  std::string buf(a.size, 'p');
  auto once = [&](double patience) -> bool {
    size_t size = 0;
    if (!round_trip(buf, patience, &size)) return false;
    if (size != buf.size()) {
      rv.Fail("ping: answer of " + std::to_string(size) + " bytes");
      return false;
    }
    return true;
  };
  if (!once(kSetupSeconds)) return;
  int64_t warmup = std::max<int64_t>(10, a.count / 100);
  for (int64_t i = 0; i < warmup; ++i) {
    if (!once(kStallSeconds)) return;
  }
  std::vector<double> samples;
  samples.reserve(static_cast<size_t>(a.count));
  Clock::time_point begin = Clock::now();
  for (int64_t i = 0; i < a.count; ++i) {
    Clock::time_point t0 = Clock::now();
    if (!once(kStallSeconds)) return;
    Clock::time_point t1 = Clock::now();
    samples.push_back(
        std::chrono::duration<double, std::micro>(t1 - t0).count());
    if (std::chrono::duration<double>(t1 - begin).count() > a.time_limit) break;
  }
  buf[0] = kQuitByte;
  if (!once(kStallSeconds)) return;
  std::sort(samples.begin(), samples.end());
  size_t n = samples.size();
  rv.round_trips = static_cast<int64_t>(n);
  rv.p50_us = samples[n / 2];
  rv.p99_us = samples[std::min(n - 1, n * 99 / 100)];
  rv.result_ready.store(1, std::memory_order_release);
}

// RunRoundTrips for libraries with separate send and receive calls: a round
// trip is one send (retried while it times out) and one receive.
template <typename Send, typename Recv>
void RunPing(const SideArgs& a, Send&& send, Recv&& recv) {
  Rendezvous& rv = *a.rv;
  RunRoundTrips(a, [&](const std::string& buf, double patience, size_t* size) {
    Clock::time_point start = Clock::now();
    for (;;) {
      Io r = send(buf.data(), buf.size());
      if (r == Io::kOk) break;
      if (r == Io::kError || rv.has_failed() ||
          SecondsSince(start) > patience) {
        rv.Fail("ping: send failed");
        return false;
      }
    }
    char first = 0;
    for (;;) {
      Io r = recv(size, &first);
      if (r == Io::kOk) return true;
      if (r == Io::kError || rv.has_failed() ||
          SecondsSince(start) > patience) {
        rv.Fail("ping: no answer");
        return false;
      }
    }
  });
}

// A TCP port that was free a moment ago on 127.0.0.1 (for libraries that cannot
// bind port 0 and report it). 0 on failure.
int PickFreeTcpPort();

// Constructors of each library's Peer (defined only when that library was
// found).
std::unique_ptr<Peer> MakeMsockPeer();
std::string MsockVersion();
#ifdef MSOCK_BENCH_HAVE_ZMQ
std::unique_ptr<Peer> MakeZmqPeer();
std::string ZmqVersion();
#endif
#ifdef MSOCK_BENCH_HAVE_NNG
std::unique_ptr<Peer> MakeNngPeer();
std::string NngVersion();
#endif
#ifdef MSOCK_BENCH_HAVE_NANOMSG
std::unique_ptr<Peer> MakeNanomsgPeer();
std::string NanomsgVersion();
#endif

}  // namespace msock::bench

#endif  // MSOCK_BENCH_PERF_HARNESS_H_
