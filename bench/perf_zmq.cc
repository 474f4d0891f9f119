// bench/perf_zmq.cc: the libzmq side of msock_perf (ZMQ_PUSH/ZMQ_PULL for
// throughput, ZMQ_PAIR for latency, ZMQ_REQ/ZMQ_REP, ZMQ_PUB/ZMQ_SUB for
// fan-out). Default socket settings, except send/receive timeouts of
// kPollMillis so the loops can notice a stop request (a requester waits
// kStallSeconds for a reply); sends copy the caller's bytes, receives do not
// copy. libzmq counts no pub drops.
#include <zmq.h>

#include <cerrno>
#include <string>

#include "bench/perf_fanout.h"
#include "bench/perf_harness.h"

namespace msock::bench {
namespace {

std::string ZmqError(const char* what) {
  return std::string("libzmq: ") + what + ": " + zmq_strerror(zmq_errno());
}

class ZmqPeer : public Peer {
 public:
  ZmqPeer() : ctx_(zmq_ctx_new()) {}
  ~ZmqPeer() override { zmq_ctx_term(ctx_); }

  // Measurement is over: drop anything unsent (libzmq's default linger would
  // make zmq_ctx_term wait for ever for a peer that is gone), then close.
  static void Close(void* s) {
    int zero = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof(zero));
    zmq_close(s);
  }

  void Receiver(const SideArgs& a) override {
    void* s = Listen(ZMQ_PULL, a);
    if (s == nullptr) return;
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    RunReceiver(a, [&](size_t* size, char* first) {
      return RecvOne(s, &msg, size, first);
    });
    zmq_msg_close(&msg);
    Close(s);
  }

  void Sender(const SideArgs& a) override {
    void* s = Dial(ZMQ_PUSH, a);
    if (s != nullptr) {
      RunSender(a, [&](const char* data, size_t size) {
        return SendOne(s, data, size);
      });
      Close(s);
    }
    a.rv->dialer_done.store(1, std::memory_order_release);
  }

  void Echo(const SideArgs& a) override { EchoOn(ZMQ_PAIR, a); }
  void Replier(const SideArgs& a) override { EchoOn(ZMQ_REP, a); }
  void Ping(const SideArgs& a) override { PingOn(ZMQ_PAIR, a); }
  void Requester(const SideArgs& a) override { PingOn(ZMQ_REQ, a); }

  void Publisher(const SideArgs& a) override {
    if (a.block) return a.rv->Fail("libzmq: a pub cannot block");
    void* s = Listen(ZMQ_PUB, a);
    if (s == nullptr) return;
    RunPublisher(
        a,
        [&](const char* data, size_t size) { return SendOne(s, data, size); },
        [] { return int64_t{-1}; });
    Close(s);
  }

  void Subscriber(const SideArgs& a) override {
    void* s = Dial(ZMQ_SUB, a);
    if (s == nullptr) return;
    zmq_setsockopt(s, ZMQ_SUBSCRIBE, "", 0);
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    RunSubscriber(a, [&](size_t* size, char* first) {
      return RecvOne(s, &msg, size, first);
    });
    zmq_msg_close(&msg);
    Close(s);
  }

 private:
  void EchoOn(int type, const SideArgs& a) {
    void* s = Listen(type, a);
    if (s == nullptr) return;
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    RunEcho(a, [&](bool* quit) {
      size_t size;
      char first;
      Io r = RecvOne(s, &msg, &size, &first);
      if (r != Io::kOk) return r;
      *quit = first == kQuitByte;
      for (int tries = 0; tries < kStallSeconds * 1000 / kPollMillis; ++tries) {
        if (zmq_msg_send(&msg, s, 0) >= 0) return Io::kOk;  // leaves msg empty
        if (zmq_errno() != EAGAIN) return Io::kError;
      }
      return Io::kError;
    });
    zmq_msg_close(&msg);
    Close(s);
  }

  void PingOn(int type, const SideArgs& a) {
    void* s = Dial(type, a);
    if (s != nullptr) {
      if (type == ZMQ_REQ) {
        int ms = static_cast<int>(kStallSeconds * 1000);
        zmq_setsockopt(s, ZMQ_RCVTIMEO, &ms, sizeof(ms));
      }
      zmq_msg_t msg;
      zmq_msg_init(&msg);
      RunPing(
          a,
          [&](const char* data, size_t size) { return SendOne(s, data, size); },
          [&](size_t* size, char* first) {
            return RecvOne(s, &msg, size, first);
          });
      zmq_msg_close(&msg);
      Close(s);
    }
    a.rv->dialer_done.store(1, std::memory_order_release);
  }

  static Io SendOne(void* s, const char* data, size_t size) {
    if (zmq_send(s, data, size, 0) >= 0) return Io::kOk;
    return zmq_errno() == EAGAIN ? Io::kTimeout : Io::kError;
  }

  static Io RecvOne(void* s, zmq_msg_t* msg, size_t* size, char* first) {
    if (zmq_msg_recv(msg, s, 0) < 0)
      return zmq_errno() == EAGAIN ? Io::kTimeout : Io::kError;
    *size = zmq_msg_size(msg);
    *first = *size > 0 ? *static_cast<const char*>(zmq_msg_data(msg)) : 0;
    return Io::kOk;
  }

  void* Open(int type, const SideArgs& a) {
    void* s = zmq_socket(ctx_, type);
    if (s == nullptr) {
      a.rv->Fail(ZmqError("zmq_socket"));
      return nullptr;
    }
    int ms = kPollMillis;
    zmq_setsockopt(s, ZMQ_SNDTIMEO, &ms, sizeof(ms));
    zmq_setsockopt(s, ZMQ_RCVTIMEO, &ms, sizeof(ms));
    return s;
  }

  void* Listen(int type, const SideArgs& a) {
    void* s = Open(type, a);
    if (s == nullptr) return nullptr;
    std::string url = ListenUrl(a, "*");
    if (zmq_bind(s, url.c_str()) != 0) {
      a.rv->Fail(ZmqError("zmq_bind"));
      zmq_close(s);
      return nullptr;
    }
    char bound[512];
    size_t len = sizeof(bound);
    if (zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, bound, &len) != 0) {
      a.rv->Fail(ZmqError("ZMQ_LAST_ENDPOINT"));
      zmq_close(s);
      return nullptr;
    }
    a.rv->PublishUrl(bound);
    return s;
  }

  void* Dial(int type, const SideArgs& a) {
    std::string url = WaitUrl(*a.rv);
    if (url.empty()) return nullptr;
    void* s = Open(type, a);
    if (s == nullptr) return nullptr;
    if (zmq_connect(s, url.c_str()) != 0) {
      a.rv->Fail(ZmqError("zmq_connect"));
      zmq_close(s);
      return nullptr;
    }
    return s;
  }

  void* ctx_;
};

}  // namespace

std::unique_ptr<Peer> MakeZmqPeer() { return std::make_unique<ZmqPeer>(); }

std::string ZmqVersion() {
  int major, minor, patch;
  zmq_version(&major, &minor, &patch);
  return std::to_string(major) + "." + std::to_string(minor) + "." +
         std::to_string(patch);
}

}  // namespace msock::bench
