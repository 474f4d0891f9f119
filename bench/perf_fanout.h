// bench/perf_fanout.h: the pub/sub fan-out loops of msock_perf. One publisher
// sends as fast as its library lets it, for the time limit, to kSubscribers
// subscribers that count what they get; delivered rate and losses come from
// these counts, so they mean the same for every library (see bench/README.md).
#ifndef MSOCK_BENCH_PERF_FANOUT_H_
#define MSOCK_BENCH_PERF_FANOUT_H_

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

#include "bench/perf_harness.h"

namespace msock::bench {

// First bytes of fan-out messages: warm-up (sent until every subscriber has
// one), timed, and the end marker (kQuitByte) that stops a subscriber.
inline constexpr char kWarmupByte = 'W';
inline constexpr char kTimedByte = 'x';

// Fan-out, subscribing side (subscriber a.index). Reports the first warm-up
// message, counts timed messages and the time of the last one, and stops at
// the end marker or kDrainSeconds after the publisher's last timed message
// (the marker itself may be dropped by a full queue).
template <typename Recv>
void RunSubscriber(const SideArgs& a, Recv&& recv) {
  Rendezvous& rv = *a.rv;
  const int me = a.index;
  const std::string who = "subscriber " + std::to_string(me);
  size_t size = 0;
  char first = 0;
  int64_t n = 0, last_ns = 0;
  bool sentinel = false;
  Clock::time_point last_message = Clock::now();
  for (;;) {
    Io r = recv(&size, &first);
    if (r == Io::kOk) {
      last_message = Clock::now();
      if (first == kTimedByte) {
        if (size != a.size) {
          return rv.Fail(who + ": message of " + std::to_string(size) +
                         " bytes, expected " + std::to_string(a.size));
        }
        ++n;
        last_ns = NowNs();
      } else if (first == kWarmupByte) {
        rv.sub_ready[me].store(1, std::memory_order_release);
      } else if (first == kQuitByte) {
        sentinel = true;
        break;
      }
      continue;
    }
    if (r == Io::kError) {
      return rv.Fail(who + ": recv failed after " + std::to_string(n) +
                     " messages");
    }
    if (rv.has_failed()) return;
    if (rv.pub_done.load(std::memory_order_acquire)) {
      if (NowNs() - rv.pub_done_ns > kDrainSeconds * 1e9) break;
    } else if (SecondsSince(last_message) >
               (n == 0 ? kSetupSeconds : kStallSeconds)) {
      return rv.Fail(who + ": stalled after " + std::to_string(n) +
                     " messages");
    }
  }
  rv.sub_received[me] = n;
  rv.sub_last_ns[me] = last_ns;
  rv.sub_sentinel[me] = sentinel;
  rv.subs_done.fetch_add(1, std::memory_order_acq_rel);
}

// Fan-out, publishing side. `send(data, size)` sends a copy of the bytes;
// `dropped()` is the library's count of messages it dropped so far (-1 if it
// keeps none). Sends warm-up messages (one a millisecond) until every
// subscriber has one, so all are connected and subscribed; then timed messages
// for time_limit seconds (or `count` of them); then end markers until every
// subscriber stopped. Publishes the totals.
template <typename Send, typename Dropped>
void RunPublisher(const SideArgs& a, Send&& send, Dropped&& dropped) {
  Rendezvous& rv = *a.rv;
  auto ready = [&] {
    int n = 0;
    for (const auto& r : rv.sub_ready) n += r.load(std::memory_order_acquire);
    return n;
  };
  std::string buf(a.size, kWarmupByte);
  Clock::time_point start = Clock::now();
  while (ready() < kSubscribers) {
    if (rv.has_failed()) return;
    if (SecondsSince(start) > kSetupSeconds) {
      return rv.Fail("publisher: only " + std::to_string(ready()) + " of " +
                     std::to_string(kSubscribers) +
                     " subscribers got a warm-up message");
    }
    if (send(buf.data(), buf.size()) == Io::kError)
      return rv.Fail("publisher: warm-up send failed");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }

  const int64_t dropped_before = dropped();
  rv.go.store(1, std::memory_order_release);
  buf[0] = kTimedByte;
  int64_t sent = 0, blocked_at = -1;
  bool capped = false;
  Clock::time_point blocked_since{};
  const int64_t first_ns = NowNs();
  const Clock::time_point begin = Clock::now();
  while (sent < a.count) {
    Io r = send(buf.data(), buf.size());
    if (r == Io::kOk) {
      ++sent;
      if ((sent & 255) == 0 && SecondsSince(begin) > a.time_limit) {
        capped = true;
        break;
      }
      continue;
    }
    if (r == Io::kError) {
      return rv.Fail("publisher: send failed after " + std::to_string(sent) +
                     " messages");
    }
    if (rv.has_failed()) return;
    if (blocked_at != sent) {
      blocked_at = sent;
      blocked_since = Clock::now();
    } else if (SecondsSince(blocked_since) > kStallSeconds) {
      return rv.Fail("publisher: blocked for good after " +
                     std::to_string(sent) + " messages");
    }
  }
  const int64_t last_ns = NowNs();
  const int64_t dropped_after = dropped();
  rv.pub_done_ns = last_ns;
  rv.pub_done.store(1, std::memory_order_release);

  // End markers until every subscriber stopped (they give up on their own
  // kDrainSeconds after pub_done).
  buf[0] = kQuitByte;
  Clock::time_point end_start = Clock::now();
  while (rv.subs_done.load(std::memory_order_acquire) < kSubscribers) {
    if (rv.has_failed()) return;
    if (SecondsSince(end_start) > kDrainSeconds + 2) {
      return rv.Fail("publisher: only " + std::to_string(rv.subs_done.load()) +
                     " of " + std::to_string(kSubscribers) +
                     " subscribers finished");
    }
    if (send(buf.data(), buf.size()) == Io::kError)
      return rv.Fail("publisher: end marker send failed");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }

  int64_t delivered = 0, delivered_ns = last_ns;
  int sentinels = 0;
  for (int i = 0; i < kSubscribers; ++i) {
    delivered += rv.sub_received[i];
    delivered_ns = std::max(delivered_ns, rv.sub_last_ns[i]);
    sentinels += rv.sub_sentinel[i] ? 1 : 0;
  }
  rv.sent = sent;
  rv.send_seconds = (last_ns - first_ns) / 1e9;
  rv.messages = delivered;
  rv.seconds = (delivered_ns - first_ns) / 1e9;
  rv.time_capped = capped;
  rv.lib_dropped = dropped_before < 0 ? -1 : dropped_after - dropped_before;
  rv.sentinels = sentinels;
  rv.result_ready.store(1, std::memory_order_release);
}

}  // namespace msock::bench

#endif  // MSOCK_BENCH_PERF_FANOUT_H_
