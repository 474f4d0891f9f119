// bench/perf_msock.cc: the msock side of msock_perf (Push/Pull for throughput,
// Pair0 for latency, Req/Rep, Pub/Sub for fan-out), on the default Context
// with default options (fanout-block: Overflow::kBlock). Blocking calls get a
// deadline about kPollMillis ahead so the loops can notice a stop request;
// sends copy the caller's bytes into a new Message, receives take the Message,
// and the echo (rep: a Clone sharing its body) sends that same Message back.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/perf_fanout.h"
#include "bench/perf_harness.h"
#include "msock/msock.h"

#ifndef MSOCK_BENCH_MSOCK_VERSION
#define MSOCK_BENCH_MSOCK_VERSION "?"
#endif

namespace msock::bench {
namespace {

// A deadline about kPollMillis ahead, refreshed every 64 calls (or after it
// expired) so that reading the clock does not cost once per message.
class PollDeadline {
 public:
  absl::Time Get() {
    if (--left_ <= 0) {
      deadline_ = absl::Now() + absl::Milliseconds(kPollMillis);
      left_ = 64;
    }
    return deadline_;
  }
  void Expired() { left_ = 0; }

 private:
  absl::Time deadline_;
  int left_ = 0;
};

Io FromStatus(const absl::Status& s, PollDeadline* d) {
  if (s.ok()) return Io::kOk;
  if (absl::IsDeadlineExceeded(s) || absl::IsUnavailable(s)) {
    d->Expired();
    return Io::kTimeout;
  }
  return Io::kError;
}

template <typename Sock>
bool Listen(Sock& s, const SideArgs& a) {
  absl::StatusOr<std::string> url = s.Listen(ListenUrl(a, "0"));
  if (!url.ok()) {
    a.rv->Fail("msock: Listen: " + url.status().ToString());
    return false;
  }
  a.rv->PublishUrl(*url);
  return true;
}

template <typename Sock>
bool Dial(Sock& s, const SideArgs& a) {
  std::string url = WaitUrl(*a.rv);
  if (url.empty()) return false;
  absl::Status st = s.Dial(url);
  if (st.ok()) {
    st = s.WaitForPeers(1, absl::Now() + absl::Seconds(kSetupSeconds));
  }
  if (!st.ok()) {
    a.rv->Fail("msock: Dial " + url + ": " + st.ToString());
    return false;
  }
  return true;
}

template <typename Sock>
Io SendCopy(Sock& s, PollDeadline* d, const char* data, size_t size) {
  Message m(std::string_view(data, size));
  return FromStatus(s.Send(m, d->Get()), d);
}

template <typename Sock>
Io RecvOne(Sock& s, PollDeadline* d, size_t* size, char* first) {
  absl::StatusOr<Message> m = s.Recv(d->Get());
  if (!m.ok()) return FromStatus(m.status(), d);
  *size = m->size();
  *first = m->empty() ? 0 : m->data()[0];
  return Io::kOk;
}

class MsockPeer : public Peer {
 public:
  void Receiver(const SideArgs& a) override {
    Pull pull;
    if (!Listen(pull, a)) return;
    PollDeadline d;
    RunReceiver(a, [&](size_t* size, char* first) {
      return RecvOne(pull, &d, size, first);
    });
    pull.Close();
  }

  void Sender(const SideArgs& a) override {
    {
      Push push;
      if (Dial(push, a)) {
        PollDeadline d;
        RunSender(a, [&](const char* data, size_t size) {
          return SendCopy(push, &d, data, size);
        });
      }
      push.Close();
    }
    a.rv->dialer_done.store(1, std::memory_order_release);
  }

  void Echo(const SideArgs& a) override {
    Pair0 pair;
    if (!Listen(pair, a)) return;
    PollDeadline d;
    RunEcho(a, [&](bool* quit) {
      absl::StatusOr<Message> got = pair.Recv(d.Get());
      if (!got.ok()) return FromStatus(got.status(), &d);
      Message m = std::move(*got);
      *quit = !m.empty() && m.data()[0] == kQuitByte;
      for (int tries = 0; tries < kStallSeconds * 1000 / kPollMillis; ++tries) {
        Io r = FromStatus(pair.Send(m, d.Get()), &d);
        if (r != Io::kTimeout) return r;
      }
      return Io::kError;
    });
    pair.Close();
  }

  void Ping(const SideArgs& a) override {
    {
      Pair0 pair;
      if (Dial(pair, a)) {
        PollDeadline d;
        RunPing(
            a,
            [&](const char* data, size_t size) {
              return SendCopy(pair, &d, data, size);
            },
            [&](size_t* size, char* first) {
              return RecvOne(pair, &d, size, first);
            });
      }
      pair.Close();
    }
    a.rv->dialer_done.store(1, std::memory_order_release);
  }

  void Replier(const SideArgs& a) override {
    Rep rep;
    if (!Listen(rep, a)) return;
    PollDeadline d;
    RunEcho(a, [&](bool* quit) {
      absl::StatusOr<Message> got = rep.Recv(d.Get());
      if (!got.ok()) return FromStatus(got.status(), &d);
      *quit = !got->empty() && got->data()[0] == kQuitByte;
      Message reply = got->Clone();
      for (int tries = 0; tries < kStallSeconds * 1000 / kPollMillis; ++tries) {
        Io r = FromStatus(rep.Reply(*got, reply, d.Get()), &d);
        if (r != Io::kTimeout) return r;
      }
      return Io::kError;
    });
    rep.Close();
  }

  void Requester(const SideArgs& a) override {
    {
      Req req;
      if (Dial(req, a)) {
        RunRoundTrips(
            a, [&](const std::string& buf, double patience, size_t* size) {
              Message m{std::string_view(buf)};
              absl::StatusOr<Message> reply =
                  req.Request(m, absl::Now() + absl::Seconds(patience));
              if (!reply.ok()) {
                a.rv->Fail("msock: Request: " + reply.status().ToString());
                return false;
              }
              *size = reply->size();
              return true;
            });
      }
      req.Close();
    }
    a.rv->dialer_done.store(1, std::memory_order_release);
  }

  void Publisher(const SideArgs& a) override {
    Pub pub;
    if (a.block) {
      absl::Status st = pub.Set(opt::kOverflow, Overflow::kBlock);
      if (!st.ok()) return a.rv->Fail("msock: kOverflow: " + st.ToString());
    }
    if (!Listen(pub, a)) return;
    PollDeadline d;
    RunPublisher(
        a,
        [&](const char* data, size_t size) {
          return SendCopy(pub, &d, data, size);
        },
        [&] {
          // The socket's counter; the per-pipe counters must add up to it
          // (every subscriber is connected whenever this is called).
          uint64_t socket = pub.stats().dropped, pipes = 0;
          for (const PipeStats& p : pub.pipe_stats()) pipes += p.dropped;
          if (pipes != socket) {
            a.rv->Note("pipe_stats() dropped add up to " +
                       std::to_string(pipes) + ", stats().dropped is " +
                       std::to_string(socket));
          }
          return static_cast<int64_t>(socket);
        });
    pub.Close();
  }

  void Subscriber(const SideArgs& a) override {
    Sub sub;
    sub.Subscribe("");
    if (Dial(sub, a)) {
      PollDeadline d;
      RunSubscriber(a, [&](size_t* size, char* first) {
        return RecvOne(sub, &d, size, first);
      });
    }
    sub.Close();
  }
};

}  // namespace

std::unique_ptr<Peer> MakeMsockPeer() { return std::make_unique<MsockPeer>(); }

std::string MsockVersion() { return MSOCK_BENCH_MSOCK_VERSION; }

}  // namespace msock::bench
