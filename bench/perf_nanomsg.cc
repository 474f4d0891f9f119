// bench/perf_nanomsg.cc: the nanomsg side of msock_perf (NN_PUSH/NN_PULL for
// throughput, NN_PAIR for latency, NN_REQ/NN_REP, NN_PUB/NN_SUB for fan-out).
// Default socket settings, except send/receive timeouts of kPollMillis so the
// loops can notice a stop request (a requester waits kStallSeconds for a
// reply); sends copy the caller's bytes, receives take the message (NN_MSG)
// and the echo sends that same message back. nanomsg counts no pub drops. ws
// uses nanomsg's default binary frames (NN_WS_MSG_TYPE_BINARY).
//
// libnng also exports the nanomsg API (nn_socket, nn_send, ...), so linking
// both would call NNG's compatibility layer here. nanomsg is therefore loaded
// with dlopen(RTLD_LOCAL | RTLD_DEEPBIND) and called through pointers looked up
// in that library only.
#include <dlfcn.h>
#include <nanomsg/nn.h>
#include <nanomsg/pair.h>
#include <nanomsg/pipeline.h>
#include <nanomsg/pubsub.h>
#include <nanomsg/reqrep.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "bench/perf_fanout.h"
#include "bench/perf_harness.h"

#ifndef MSOCK_BENCH_NANOMSG_VERSION
#define MSOCK_BENCH_NANOMSG_VERSION "?"
#endif
#ifndef MSOCK_BENCH_NANOMSG_LIB
#define MSOCK_BENCH_NANOMSG_LIB "libnanomsg.so"
#endif

namespace msock::bench {
namespace {

// The nanomsg calls this file makes, resolved in libnanomsg itself.
struct NnApi {
  decltype(&::nn_socket) socket = nullptr;
  decltype(&::nn_close) close = nullptr;
  decltype(&::nn_setsockopt) setsockopt = nullptr;
  decltype(&::nn_bind) bind = nullptr;
  decltype(&::nn_connect) connect = nullptr;
  decltype(&::nn_send) send = nullptr;
  decltype(&::nn_recv) recv = nullptr;
  decltype(&::nn_freemsg) freemsg = nullptr;
  decltype(&::nn_errno) errno_fn = nullptr;
  decltype(&::nn_strerror) strerror = nullptr;
  std::string error;  // non-empty: nanomsg could not be loaded
};

template <typename Fn>
void Resolve(void* lib, const char* name, Fn* fn, std::string* error) {
  *fn = reinterpret_cast<Fn>(dlsym(lib, name));
  if (*fn == nullptr && error->empty())
    *error = std::string("no symbol ") + name;
}

NnApi LoadNanomsg() {
  NnApi api;
  void* lib =
      dlopen(MSOCK_BENCH_NANOMSG_LIB, RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
  if (lib == nullptr) {
    api.error = std::string("dlopen " MSOCK_BENCH_NANOMSG_LIB ": ") + dlerror();
    return api;
  }
  Resolve(lib, "nn_socket", &api.socket, &api.error);
  Resolve(lib, "nn_close", &api.close, &api.error);
  Resolve(lib, "nn_setsockopt", &api.setsockopt, &api.error);
  Resolve(lib, "nn_bind", &api.bind, &api.error);
  Resolve(lib, "nn_connect", &api.connect, &api.error);
  Resolve(lib, "nn_send", &api.send, &api.error);
  Resolve(lib, "nn_recv", &api.recv, &api.error);
  Resolve(lib, "nn_freemsg", &api.freemsg, &api.error);
  Resolve(lib, "nn_errno", &api.errno_fn, &api.error);
  Resolve(lib, "nn_strerror", &api.strerror, &api.error);
  if (api.error.empty()) {
    // Make sure the calls really land in libnanomsg, not in another library's
    // copy.
    Dl_info info;
    if (dladdr(reinterpret_cast<void*>(api.send), &info) == 0 ||
        info.dli_fname == nullptr ||
        std::strstr(info.dli_fname, "nanomsg") == nullptr) {
      api.error = std::string("nn_send resolved outside libnanomsg: ") +
                  (info.dli_fname ? info.dli_fname : "?");
    }
  }
  return api;
}

const NnApi& Nn() {
  static const NnApi api = LoadNanomsg();
  return api;
}

std::string NnError(const char* what) {
  return std::string("nanomsg: ") + what + ": " +
         Nn().strerror(Nn().errno_fn());
}

Io FromErrno() {
  int e = Nn().errno_fn();
  return (e == ETIMEDOUT || e == EAGAIN || e == EINTR) ? Io::kTimeout
                                                       : Io::kError;
}

class NanomsgPeer : public Peer {
 public:
  void Receiver(const SideArgs& a) override {
    int s = Listen(NN_PULL, a);
    if (s < 0) return;
    RunReceiver(
        a, [&](size_t* size, char* first) { return RecvOne(s, size, first); });
    Nn().close(s);
  }

  void Sender(const SideArgs& a) override {
    int s = Dial(NN_PUSH, a);
    if (s >= 0) {
      RunSender(a, [&](const char* data, size_t size) {
        return SendOne(s, data, size);
      });
      Nn().close(s);
    }
    a.rv->dialer_done.store(1, std::memory_order_release);
  }

  void Echo(const SideArgs& a) override { EchoOn(NN_PAIR, a); }
  void Replier(const SideArgs& a) override { EchoOn(NN_REP, a); }
  void Ping(const SideArgs& a) override { PingOn(NN_PAIR, a); }
  void Requester(const SideArgs& a) override { PingOn(NN_REQ, a); }

  void Publisher(const SideArgs& a) override {
    if (a.block) return a.rv->Fail("nanomsg: a pub cannot block");
    int s = Listen(NN_PUB, a);
    if (s < 0) return;
    RunPublisher(
        a,
        [&](const char* data, size_t size) { return SendOne(s, data, size); },
        [] { return int64_t{-1}; });
    Nn().close(s);
  }

  void Subscriber(const SideArgs& a) override {
    int s = Dial(NN_SUB, a);
    if (s < 0) return;
    if (Nn().setsockopt(s, NN_SUB, NN_SUB_SUBSCRIBE, "", 0) < 0) {
      a.rv->Fail(NnError("NN_SUB_SUBSCRIBE"));
    } else {
      RunSubscriber(a, [&](size_t* size, char* first) {
        return RecvOne(s, size, first);
      });
    }
    Nn().close(s);
  }

 private:
  static void EchoOn(int protocol, const SideArgs& a) {
    int s = Listen(protocol, a);
    if (s < 0) return;
    RunEcho(a, [&](bool* quit) {
      void* m = nullptr;
      int n = Nn().recv(s, &m, NN_MSG, 0);
      if (n < 0) return FromErrno();
      *quit = n > 0 && *static_cast<const char*>(m) == kQuitByte;
      for (int tries = 0; tries < kStallSeconds * 1000 / kPollMillis; ++tries) {
        if (Nn().send(s, &m, NN_MSG, 0) >= 0)
          return Io::kOk;  // takes m on success
        if (FromErrno() == Io::kError) break;
      }
      Nn().freemsg(m);
      return Io::kError;
    });
    Nn().close(s);
  }

  static void PingOn(int protocol, const SideArgs& a) {
    int s = Dial(protocol, a);
    if (s >= 0) {
      if (protocol == NN_REQ) {
        int ms = static_cast<int>(kStallSeconds * 1000);
        Nn().setsockopt(s, NN_SOL_SOCKET, NN_RCVTIMEO, &ms, sizeof(ms));
      }
      RunPing(
          a,
          [&](const char* data, size_t size) { return SendOne(s, data, size); },
          [&](size_t* size, char* first) { return RecvOne(s, size, first); });
      Nn().close(s);
    }
    a.rv->dialer_done.store(1, std::memory_order_release);
  }

  static Io SendOne(int s, const char* data, size_t size) {
    return Nn().send(s, data, size, 0) >= 0 ? Io::kOk : FromErrno();
  }

  static Io RecvOne(int s, size_t* size, char* first) {
    void* m = nullptr;
    int n = Nn().recv(s, &m, NN_MSG, 0);
    if (n < 0) return FromErrno();
    *size = static_cast<size_t>(n);
    *first = n > 0 ? *static_cast<const char*>(m) : 0;
    Nn().freemsg(m);
    return Io::kOk;
  }

  static int Open(int protocol, const SideArgs& a) {
    if (!Nn().error.empty()) {
      a.rv->Fail("nanomsg: " + Nn().error);
      return -1;
    }
    int s = Nn().socket(AF_SP, protocol);
    if (s < 0) {
      a.rv->Fail(NnError("nn_socket"));
      return -1;
    }
    int ms = kPollMillis;
    Nn().setsockopt(s, NN_SOL_SOCKET, NN_SNDTIMEO, &ms, sizeof(ms));
    Nn().setsockopt(s, NN_SOL_SOCKET, NN_RCVTIMEO, &ms, sizeof(ms));
    return s;
  }

  static int Listen(int protocol, const SideArgs& a) {
    int s = Open(protocol, a);
    if (s < 0) return -1;
    // nanomsg cannot report a port it picked: try ports that were free a moment
    // ago.
    for (int attempt = 0; attempt < 10; ++attempt) {
      std::string url = ListenUrl(a, std::to_string(PickFreeTcpPort()));
      // nanomsg's ws listener takes everything after the last ':' as the port
      // and serves any path: bind (and dial) ws://127.0.0.1:PORT, no path.
      if (a.transport == Transport::kWs) url.resize(url.size() - kWsPathLen);
      if (Nn().bind(s, url.c_str()) >= 0) {
        a.rv->PublishUrl(url);
        return s;
      }
      bool port =
          a.transport == Transport::kTcp || a.transport == Transport::kWs;
      if (!port || Nn().errno_fn() != EADDRINUSE) break;
    }
    a.rv->Fail(NnError("nn_bind"));
    Nn().close(s);
    return -1;
  }

  static int Dial(int protocol, const SideArgs& a) {
    std::string url = WaitUrl(*a.rv);
    if (url.empty()) return -1;
    int s = Open(protocol, a);
    if (s < 0) return -1;
    if (Nn().connect(s, url.c_str()) < 0) {
      a.rv->Fail(NnError("nn_connect"));
      Nn().close(s);
      return -1;
    }
    return s;
  }
};

}  // namespace

std::unique_ptr<Peer> MakeNanomsgPeer() {
  return std::make_unique<NanomsgPeer>();
}

std::string NanomsgVersion() { return MSOCK_BENCH_NANOMSG_VERSION; }

}  // namespace msock::bench
