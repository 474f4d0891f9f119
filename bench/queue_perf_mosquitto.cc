// bench/queue_perf_mosquitto.cc: the mosquitto column of the durable queue
// benchmark: a mosquitto child with persistence on (the whole store saved
// after every change), posters publishing QoS 1 on one connection each and
// waiting for each PUBACK, and one QoS 1 subscriber with a persistent session
// (clean_session false) that receives (libmosquitto PUBACKs each delivery).
#include <mosquitto.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bench/queue_perf_util.h"

namespace msock::bench {
namespace {

constexpr char kTopic[] = "qbench/q";

absl::Status MosqError(const char* what, int rc) {
  return absl::UnavailableError(
      absl::StrCat(what, ": ", mosquitto_strerror(rc)));
}

// A publisher driven from its own thread with mosquitto_loop (no library
// thread): publish, then loop until the PUBACK of that message id came back.
class Publisher {
 public:
  explicit Publisher(const std::string& id) {
    m_ = mosquitto_new(id.c_str(), true, this);
    if (m_ == nullptr) return;
    mosquitto_connect_callback_set(m_, [](mosquitto*, void* self, int rc) {
      static_cast<Publisher*>(self)->connack_ = rc == 0 ? 1 : -1;
    });
    mosquitto_publish_callback_set(m_, [](mosquitto*, void* self, int mid) {
      static_cast<Publisher*>(self)->acked_mid_ = mid;
    });
  }
  ~Publisher() {
    if (m_ == nullptr) return;
    mosquitto_disconnect(m_);
    mosquitto_destroy(m_);
  }
  absl::Status Connect(int port) {
    if (m_ == nullptr) return absl::InternalError("mosquitto_new failed");
    int rc = mosquitto_connect(m_, "127.0.0.1", port, 60);
    if (rc != MOSQ_ERR_SUCCESS) return MosqError("connect", rc);
    return LoopUntil([this] { return connack_ != 0; }, "CONNACK");
  }
  absl::Status Publish(const std::string& body) {
    int mid = 0;
    int rc = mosquitto_publish(m_, &mid, kTopic, static_cast<int>(body.size()),
                               body.data(), 1, false);
    if (rc != MOSQ_ERR_SUCCESS) return MosqError("publish", rc);
    return LoopUntil([this, mid] { return acked_mid_ == mid; }, "PUBACK");
  }

 private:
  template <typename Done>
  absl::Status LoopUntil(Done done, const char* what) {
    const absl::Time deadline = Soon(10);
    while (!done()) {
      if (absl::Now() > deadline) {
        return absl::DeadlineExceededError(absl::StrCat("no ", what));
      }
      int rc = mosquitto_loop(m_, 100, 1);
      if (rc != MOSQ_ERR_SUCCESS) return MosqError(what, rc);
    }
    if (connack_ < 0) return absl::UnavailableError("connection refused");
    return absl::OkStatus();
  }

  mosquitto* m_ = nullptr;
  int connack_ = 0;  // 1 accepted, -1 refused
  int acked_mid_ = -1;
};

// The QoS 1 subscriber with a persistent session, on libmosquitto's thread.
class Subscriber {
 public:
  explicit Subscriber(LatencySink* sink) : sink_(sink) {
    m_ = mosquitto_new("qbench-sub", false, this);
    if (m_ == nullptr) return;
    mosquitto_connect_callback_set(m_, [](mosquitto* m, void* self, int rc) {
      auto* s = static_cast<Subscriber*>(self);
      if (rc == 0) rc = mosquitto_subscribe(m, nullptr, kTopic, 1);
      if (rc != 0) s->Signal(-1);
    });
    mosquitto_subscribe_callback_set(
        m_, [](mosquitto*, void* self, int, int n, const int* granted) {
          static_cast<Subscriber*>(self)->Signal(
              n == 1 && granted[0] == 1 ? 1 : -1);
        });
    mosquitto_message_callback_set(
        m_, [](mosquitto*, void* self, const mosquitto_message* msg) {
          auto* s = static_cast<Subscriber*>(self);
          if (s->sink_) s->sink_->Record(SentNs(msg->payload, msg->payloadlen));
          s->received_.fetch_add(1);
        });
  }
  ~Subscriber() {
    if (m_ == nullptr) return;
    if (started_) {
      mosquitto_disconnect(m_);
      mosquitto_loop_stop(m_, false);
    }
    mosquitto_destroy(m_);
  }
  // Returns once the subscription is acknowledged.
  absl::Status Start(int port) {
    if (m_ == nullptr) return absl::InternalError("mosquitto_new failed");
    int rc = mosquitto_connect(m_, "127.0.0.1", port, 60);
    if (rc != MOSQ_ERR_SUCCESS) return MosqError("subscriber connect", rc);
    rc = mosquitto_loop_start(m_);
    if (rc != MOSQ_ERR_SUCCESS) return MosqError("loop_start", rc);
    started_ = true;
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, std::chrono::seconds(10),
                      [this] { return state_ != 0; }) ||
        state_ < 0) {
      return absl::UnavailableError("subscriber: no SUBACK for QoS 1");
    }
    return absl::OkStatus();
  }
  int64_t received() const { return received_.load(); }

 private:
  void Signal(int state) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      state_ = state;
    }
    cv_.notify_all();
  }

  LatencySink* sink_;
  mosquitto* m_ = nullptr;
  bool started_ = false;
  std::mutex mu_;
  std::condition_variable cv_;
  int state_ = 0;  // 1 subscribed, -1 failed
  std::atomic<int64_t> received_{0};
};

QueueResult Run(const std::string& program, const QueueCell& cell,
                const std::string& dir, double seconds) {
  QueueResult r;
  const int port = FreePort();
  const std::string conf = dir + "/mosquitto.conf";
  {
    std::ofstream f(conf);
    f << "listener " << port << " 127.0.0.1\n"
      << "allow_anonymous true\n"
      << "user root\n"  // stay who we are: the scratch dir is ours (0700)
      << "persistence true\n"
      << "persistence_location " << dir
      << "/\n"
      // The closest mosquitto gets to durable: save the in-memory store
      // after every change (no fsync before the PUBACK; see README).
      << "autosave_on_changes true\n"
      << "autosave_interval 1\n"
      << "max_queued_messages 0\n"  // never drop for a slow subscriber
      << "log_dest stderr\n"        // unbuffered: we wait for a line
      // "information" for the line that says it runs (it also logs each
      // save: one pipe write per save, small beside the save's fsync).
      << "log_type error\nlog_type warning\nlog_type notice\n"
      << "log_type information\n";
    if (!f) {
      r.error = "cannot write " + conf;
      return r;
    }
  }
  ServerProcess server;
  absl::Status s =
      server.Start({program, "-c", conf}, " running", absl::Seconds(10));
  LatencySink sink;
  auto sub = std::make_unique<Subscriber>(cell.latency ? &sink : nullptr);
  if (s.ok()) s = sub->Start(port);
  if (!s.ok()) {
    r.error = s.ToString();
    return r;
  }
  std::vector<std::unique_ptr<Publisher>> posters;
  for (int i = 0; i < cell.clients; ++i) {
    posters.push_back(std::make_unique<Publisher>(absl::StrCat("qbench-p", i)));
  }
  int64_t received0 = 0, t0 = 0;
  r = RunPosters(
      cell.clients, seconds, [&](int i) { return posters[i]->Connect(port); },
      [&](int i) { return posters[i]->Publish(MakeBody(NowNs())); },
      [&](int64_t start_ns) {
        t0 = start_ns;
        received0 = sub->received();
        sink.Start(start_ns + static_cast<int64_t>(seconds * 0.1e9));
      });
  if (r.ok) {
    r.delivered_per_s = (sub->received() - received0) / ((NowNs() - t0) / 1e9);
  }
  if (cell.latency) r = FinishLatency(r, sink);
  posters.clear();
  sub.reset();  // disconnects while the broker still runs
  server.Stop();
  return r;
}

}  // namespace

QueuePeer MosquittoQueuePeer() {
  QueuePeer p;
  p.name = "mosquitto";
  p.durability =
      "no fsync before the PUBACK: messages live in memory; with "
      "persistence true, autosave_on_changes true, autosave_interval 1 the "
      "whole store is written to mosquitto.db after every change";
  const std::string program = FindProgram({"mosquitto", "/usr/sbin/mosquitto"});
  if (program.empty()) {
    p.unavailable = "mosquitto not found on PATH nor in /usr/sbin";
    return p;
  }
  static std::once_flag init;
  std::call_once(init, [] { mosquitto_lib_init(); });
  p.run = [program](const QueueCell& cell, const std::string& dir,
                    double seconds) {
    return Run(program, cell, dir, seconds);
  };
  return p;
}

}  // namespace msock::bench
