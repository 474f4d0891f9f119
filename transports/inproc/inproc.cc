// inproc:// transport: two sockets of one process joined by a pair of
// InprocPipes. No loop hop and no copy: a message sent on an idle pipe goes
// straight into the peer socket's receive queue (SendNow, under the sender's
// lock and a try-lock of the peer's); otherwise the sending thread takes a
// batch from its own pipe's queue and hands the Message objects to the peer in
// one call. If that queue is full the batch waits in the pipe until the peer's
// receivers make room (ResumeRecv), which resumes the flush.
#include "transports/inproc/inproc.h"

#include <atomic>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "base/sync.h"
#include "transports/stream_framing.h"

namespace msock::internal {
namespace {

constexpr size_t kMaxBatchBytes = 256 * 1024;

// Receivers see what the wire would carry: header words in front of the body,
// no header.
void FlattenHeader(Message& m) {
  if (m.header().empty()) return;
  Message flat = Message::WithSize(m.header_size() + m.size());
  WriteHeaderWords(m, flat.mutable_data());
  if (m.size() > 0)
    std::memcpy(flat.mutable_data() + m.header_size(), m.data(), m.size());
  m = std::move(flat);
}

class InprocPipe : public Pipe {
 public:
  explicit InprocPipe(std::shared_ptr<PipeHost> core)
      : core_(std::move(core)) {}

  static void Join(const std::shared_ptr<InprocPipe>& a,
                   const std::shared_ptr<InprocPipe>& b) {
    a->peer_ = b;
    b->peer_ = a;
    a->peer_raw_ = b.get();
    b->peer_raw_ = a.get();
  }

  PipeHost* core() { return core_.get(); }

  void Wake() override { Flush(); }

  // The core holds its mutex and this pipe is attached: the peer outlives the
  // call (Close keeps it until our core has detached us, which needs that
  // mutex). Messages held by a flush go first, so a busy pipe declines.
  bool SendNow(Message& m) override {
    if (busy_.load(std::memory_order_acquire)) return false;
    FlattenHeader(m);  // harmless if m is then queued instead
    return peer_raw_->core()->DeliverNow(peer_raw_, m);
  }

  // Our socket has room again: the peer, which sends into it, may go on.
  void ResumeRecv() override {
    std::shared_ptr<InprocPipe> peer;
    {
      std::lock_guard<std::mutex> lock(mu_);
      peer = peer_;
    }
    if (peer) peer->Flush();
  }

  void Close(absl::Status why) override {
    std::shared_ptr<InprocPipe> peer;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closed_) return;
      closed_ = true;
      peer = std::move(peer_);
    }
    FinishClose(*core_, why, /*tracked=*/false);
    if (peer) peer->Close(absl::UnavailableError("inproc peer closed"));
  }

 private:
  // Moves our queued messages into the peer's socket; one thread at a time
  // (flushing_). Each round takes the whole queue (TakeSend with `drained`),
  // so a flush of one batch locks our core once and the peer's once.
  void Flush() {
    std::shared_ptr<InprocPipe> peer;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closed_) return;
      if (flushing_) {
        again_ = true;
        return;
      }
      flushing_ = true;
      busy_.store(true, std::memory_order_relaxed);
      peer = peer_;
    }
    for (;;) {
      bool delivered = true, drained = false;
      if (peer) {
        if (next_ >= pending_.size()) {
          pending_.clear();
          next_ = 0;
          core_->TakeSend(this, &pending_, kMaxBatchBytes, &drained);
          for (Message& m : pending_) FlattenHeader(m);
        }
        if (next_ < pending_.size()) {
          delivered = peer->core()->Deliver(peer.get(), &pending_, &next_);
        }
      }
      std::lock_guard<std::mutex> lock(mu_);
      // Go on if another thread asked for a flush meanwhile, or if the queue
      // still holds messages the peer can take (the batch was capped).
      if (again_ || (peer && delivered && !drained && !closed_)) {
        again_ = false;
        peer = peer_;
        continue;
      }
      flushing_ = false;
      busy_.store(next_ < pending_.size(), std::memory_order_release);
      return;
    }
  }

  std::shared_ptr<PipeHost> core_;
  std::mutex mu_;  // guards peer_ and the three flags
  std::shared_ptr<InprocPipe> peer_;
  InprocPipe* peer_raw_ = nullptr;  // set by Join, for SendNow
  // A flush is running or holds messages the peer has not taken yet.
  std::atomic<bool> busy_{false};
  bool closed_ = false;
  bool flushing_ = false;
  bool again_ = false;
  // Owned by the thread that set flushing_.
  std::vector<Message> pending_;
  size_t next_ = 0;
};

class InprocListener;

struct Registry {
  std::mutex mu;  // guards names
  absl::flat_hash_map<std::string,
                      std::pair<std::weak_ptr<PipeHost>, InprocListener*>>
      names;
};

Registry& GetRegistry() {
  static Registry* r = new Registry;
  return *r;
}

class InprocListener : public Listener {
 public:
  explicit InprocListener(std::string name) : name_(std::move(name)) {}
  std::string url() const override { return "inproc://" + name_; }
  void Close(absl::AnyInvocable<void()> done) override {
    {
      Registry& r = GetRegistry();
      std::lock_guard<std::mutex> lock(r.mu);
      auto it = r.names.find(name_);
      if (it != r.names.end() && it->second.second == this) r.names.erase(it);
    }
    done();
  }

 private:
  std::string name_;
};

class InprocTransport : public Transport {
 public:
  absl::StatusOr<std::unique_ptr<Listener>> Listen(
      const Url& url, std::shared_ptr<PipeHost> core) override {
    Registry& r = GetRegistry();
    std::lock_guard<std::mutex> lock(r.mu);
    auto it = r.names.find(url.path);
    if (it != r.names.end() && !it->second.first.expired()) {
      return absl::AlreadyExistsError(absl::StrCat(
          "listen ", url.ToString(), ": another socket listens on this name"));
    }
    auto l = std::make_unique<InprocListener>(url.path);
    r.names[url.path] = {core, l.get()};
    return std::unique_ptr<Listener>(std::move(l));
  }

  void Connect(const Url& url, std::shared_ptr<PipeHost> core,
               ConnectDone done) override {
    std::shared_ptr<PipeHost> server;
    {
      Registry& r = GetRegistry();
      std::lock_guard<std::mutex> lock(r.mu);
      auto it = r.names.find(url.path);
      if (it != r.names.end()) server = it->second.first.lock();
    }
    if (!server || server->closed()) {
      done(absl::UnavailableError(
          absl::StrCat("connect ", url.ToString(), ": nobody listens")));
      return;
    }
    if (server->spec().self_id != core->spec().peer_id ||
        server->spec().peer_id != core->spec().self_id) {
      server->CountReject(Reject::kProtocol);
      core->CountReject(Reject::kProtocol);
      done(absl::FailedPreconditionError(
          absl::StrCat("connect ", url.ToString(), ": the listener speaks ",
                       server->spec().name, ", not ", core->spec().peer_name)));
      return;
    }
    auto mine = std::make_shared<InprocPipe>(core);
    auto theirs = std::make_shared<InprocPipe>(server);
    InprocPipe::Join(mine, theirs);
    mine->local_address = mine->remote_address = url.ToString();
    mine->peer.dialed = true;
    theirs->local_address = theirs->remote_address = url.ToString();
    if (!server->AttachPipe(theirs)) {
      mine->Close(absl::ResourceExhaustedError("listener refused the pipe"));
      done(absl::UnavailableError(absl::StrCat(
          "connect ", url.ToString(), ": the listener refused the pipe")));
      return;
    }
    done(std::shared_ptr<Pipe>(mine));
  }
};

}  // namespace

Transport* InprocTransportInstance() {
  static InprocTransport* t = new InprocTransport;
  return t;
}

}  // namespace msock::internal
