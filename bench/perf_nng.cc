// bench/perf_nng.cc: the NNG side of msock_perf (push0/pull0 for throughput,
// pair0 for latency, req0/rep0, pub0/sub0 for fan-out). Default socket
// settings, except send/receive timeouts of kPollMillis so the loops can
// notice a stop request (a requester waits kStallSeconds for a reply: req0
// abandons a request whose receive times out); sends copy the caller's bytes
// (nng_send), receives take the message (nng_recvmsg) and the echo sends that
// same message back. NNG counts no pub drops. ws needs no registration in
// 1.5.2 (built-in transports register when NNG initialises; the deprecated
// nng_ws_register only calls that); the listener binds ws://127.0.0.1:0/bench
// and reports its port through NNG_OPT_TCP_BOUND_PORT, like tcp.
#include <nng/nng.h>
#include <nng/protocol/pair0/pair.h>
#include <nng/protocol/pipeline0/pull.h>
#include <nng/protocol/pipeline0/push.h>
#include <nng/protocol/pubsub0/pub.h>
#include <nng/protocol/pubsub0/sub.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>

#include <string>

#include "bench/perf_fanout.h"
#include "bench/perf_harness.h"

namespace msock::bench {
namespace {

std::string NngError(const char* what, int rc) {
  return std::string("NNG: ") + what + ": " + nng_strerror(rc);
}

Io FromRc(int rc) {
  if (rc == 0) return Io::kOk;
  return (rc == NNG_ETIMEDOUT || rc == NNG_EAGAIN) ? Io::kTimeout : Io::kError;
}

using OpenFn = int (*)(nng_socket*);

class NngPeer : public Peer {
 public:
  void Receiver(const SideArgs& a) override {
    nng_socket s;
    if (!Listen(nng_pull0_open, a, &s)) return;
    RunReceiver(
        a, [&](size_t* size, char* first) { return RecvOne(s, size, first); });
    nng_close(s);
  }

  void Sender(const SideArgs& a) override {
    nng_socket s;
    if (Dial(nng_push0_open, a, &s)) {
      RunSender(a, [&](const char* data, size_t size) {
        return SendOne(s, data, size);
      });
      nng_close(s);
    }
    a.rv->dialer_done.store(1, std::memory_order_release);
  }

  void Echo(const SideArgs& a) override { EchoOn(nng_pair0_open, a); }
  void Replier(const SideArgs& a) override { EchoOn(nng_rep0_open, a); }
  void Ping(const SideArgs& a) override { PingOn(nng_pair0_open, a); }
  void Requester(const SideArgs& a) override { PingOn(nng_req0_open, a); }

  void Publisher(const SideArgs& a) override {
    if (a.block) return a.rv->Fail("NNG: a pub0 cannot block");
    nng_socket s;
    if (!Listen(nng_pub0_open, a, &s)) return;
    RunPublisher(
        a,
        [&](const char* data, size_t size) { return SendOne(s, data, size); },
        [] { return int64_t{-1}; });
    nng_close(s);
  }

  void Subscriber(const SideArgs& a) override {
    nng_socket s;
    if (!Dial(nng_sub0_open, a, &s)) return;
    int rc = nng_socket_set(s, NNG_OPT_SUB_SUBSCRIBE, "", 0);
    if (rc != 0) {
      a.rv->Fail(NngError("subscribe", rc));
    } else {
      RunSubscriber(a, [&](size_t* size, char* first) {
        return RecvOne(s, size, first);
      });
    }
    nng_close(s);
  }

 private:
  static void EchoOn(OpenFn open, const SideArgs& a) {
    nng_socket s;
    if (!Listen(open, a, &s)) return;
    RunEcho(a, [&](bool* quit) {
      nng_msg* m = nullptr;
      Io r = FromRc(nng_recvmsg(s, &m, 0));
      if (r != Io::kOk) return r;
      *quit = nng_msg_len(m) > 0 &&
              *static_cast<const char*>(nng_msg_body(m)) == kQuitByte;
      for (int tries = 0; tries < kStallSeconds * 1000 / kPollMillis; ++tries) {
        r = FromRc(nng_sendmsg(s, m, 0));  // takes m on success
        if (r == Io::kOk) return r;
        if (r == Io::kError) break;
      }
      nng_msg_free(m);
      return Io::kError;
    });
    nng_close(s);
  }

  static void PingOn(OpenFn open, const SideArgs& a) {
    nng_socket s;
    if (Dial(open, a, &s)) {
      if (open == nng_req0_open) {
        nng_socket_set_ms(s, NNG_OPT_RECVTIMEO,
                          static_cast<nng_duration>(kStallSeconds * 1000));
      }
      RunPing(
          a,
          [&](const char* data, size_t size) { return SendOne(s, data, size); },
          [&](size_t* size, char* first) { return RecvOne(s, size, first); });
      nng_close(s);
    }
    a.rv->dialer_done.store(1, std::memory_order_release);
  }

  static Io SendOne(nng_socket s, const char* data, size_t size) {
    return FromRc(nng_send(s, const_cast<char*>(data), size, 0));
  }

  static Io RecvOne(nng_socket s, size_t* size, char* first) {
    nng_msg* m = nullptr;
    Io r = FromRc(nng_recvmsg(s, &m, 0));
    if (r != Io::kOk) return r;
    *size = nng_msg_len(m);
    *first = *size > 0 ? *static_cast<const char*>(nng_msg_body(m)) : 0;
    nng_msg_free(m);
    return Io::kOk;
  }

  static bool Open(OpenFn open, const SideArgs& a, nng_socket* s) {
    int rc = open(s);
    if (rc != 0) {
      a.rv->Fail(NngError("open", rc));
      return false;
    }
    nng_socket_set_ms(*s, NNG_OPT_SENDTIMEO, kPollMillis);
    nng_socket_set_ms(*s, NNG_OPT_RECVTIMEO, kPollMillis);
    return true;
  }

  static bool Listen(OpenFn open, const SideArgs& a, nng_socket* s) {
    if (!Open(open, a, s)) return false;
    std::string url = ListenUrl(a, "0");
    nng_listener l;
    int rc = nng_listener_create(&l, *s, url.c_str());
    if (rc == 0) rc = nng_listener_start(l, 0);
    if (rc != 0) {
      a.rv->Fail(NngError("listen", rc));
      nng_close(*s);
      return false;
    }
    if (a.transport == Transport::kTcp || a.transport == Transport::kWs) {
      // The ws listener reports its port through the same option.
      int port = 0;
      rc = nng_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port);
      if (rc != 0) {
        a.rv->Fail(NngError("tcp-bound-port", rc));
        nng_close(*s);
        return false;
      }
      url = ListenUrl(a, std::to_string(port));
    }
    a.rv->PublishUrl(url);
    return true;
  }

  static bool Dial(OpenFn open, const SideArgs& a, nng_socket* s) {
    std::string url = WaitUrl(*a.rv);
    if (url.empty() || !Open(open, a, s)) return false;
    int rc = nng_dial(*s, url.c_str(), nullptr, 0);
    if (rc != 0) {
      a.rv->Fail(NngError("dial", rc));
      nng_close(*s);
      return false;
    }
    return true;
  }
};

}  // namespace

std::unique_ptr<Peer> MakeNngPeer() { return std::make_unique<NngPeer>(); }

std::string NngVersion() { return nng_version(); }

}  // namespace msock::bench
