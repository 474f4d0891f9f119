// Runtime: start-up, async ack delivery and the shutdown sequence shared by
// Hub and RoomsClient.
#include "protocols/rooms/runtime.h"

#include <vector>

#include "base/sync.h"

namespace msock::internal::rooms {

void ReceiveLoop(Socket* socket,
                 const std::function<bool(uint32_t, Encoding,
                                          msock::rooms::Envelope&)>& handle,
                 const std::function<void(uint32_t)>& malformed,
                 const std::function<void(uint32_t, const TooDeep&,
                                          const absl::Status&)>& too_deep) {
  for (;;) {
    absl::StatusOr<Message> m = socket->Recv(absl::InfiniteFuture());
    if (!m.ok()) {
      if (absl::IsCancelled(m.status()) ||
          absl::IsFailedPrecondition(m.status())) {
        return;  // closed
      }
      continue;
    }
    const uint32_t pipe = m->source().back();
    msock::rooms::Envelope env;
    Encoding enc;
    TooDeep deep;
    if (absl::Status st = Decode(m->body(), &env, &enc, &deep); !st.ok()) {
      if (too_deep && absl::IsInvalidArgument(st)) {
        too_deep(pipe, deep, st);
      } else {
        malformed(pipe);
      }
      continue;
    }
    if (!handle(pipe, enc, env)) return;
  }
}

void SendAck(
    uint32_t ack_id, const absl::StatusOr<std::string>& result,
    const std::function<absl::Status(const msock::rooms::Envelope&)>& send) {
  absl::Status sent = send(MakeAck(ack_id, result));
  if (absl::IsResourceExhausted(sent))
    send(MakeAck(ack_id, sent)).IgnoreError();
}

void Runtime::Start(int threads, size_t queue_limit,
                    std::function<void()> loop) {
  exec = std::make_unique<Executor>(threads, queue_limit);
  dispatcher_ = std::thread([loop = std::move(loop)] {
    NameThisThread("msock-dispatch");
    loop();
  });
}

void Runtime::Deliver(AckTable::Done done) {
  exec->Cancel(done.timer);
  auto d = std::make_shared<AckTable::Done>(std::move(done));
  if (!exec->Post(
          d->peer, [d] { d->cb(std::move(d->result)); },
          /*essential=*/true)) {
    // Stopped: only CancelAll finishes slots from then on, so this is rare.
    d->cb(absl::CancelledError("rooms: closed"));
  }
}

void Runtime::ArmTimer(uint32_t id, absl::Time deadline) {
  if (deadline == absl::InfiniteFuture()) return;
  // `this` outlives the timer: the executor is a member and joins first.
  const uint64_t timer = exec->After(deadline, [this, id] {
    if (auto d = acks.Expire(id)) d->cb(std::move(d->result));
  });
  if (!acks.SetTimer(id, timer)) exec->Cancel(timer);  // already answered
}

void Runtime::Shutdown(Socket* socket, bool first) {
  std::vector<AckTable::Done> cancelled;
  if (first) {
    cancelled = acks.CancelAll();  // wakes blocked Emits and Joins
    exec->Stop();                  // wakes the dispatcher if it waits for room
    socket->Close();               // wakes Recv and blocked sends
  }
  // From one of our own threads (a callback calling Close) nothing can be
  // joined: the owner's destructor calls this again and does it.
  if (!exec->OnThread() && std::this_thread::get_id() != dispatcher_.get_id()) {
    std::lock_guard<std::mutex> lock(join_mu_);
    if (!joined_) {
      joined_ = true;
      if (dispatcher_.joinable()) dispatcher_.join();
      exec->Join();
    }
  }
  for (auto& d : cancelled) d.cb(std::move(d.result));
}

}  // namespace msock::internal::rooms
