// Runtime: what a Hub and a RoomsClient both run on: the table of acks they
// wait for, the dispatcher thread, the executor (handler / callback threads
// and timers), and the one way to shut them down. Also the guard that keeps a
// user callback's exception from escaping.
#ifndef MSOCK_PROTOCOLS_ROOMS_RUNTIME_H_
#define MSOCK_PROTOCOLS_ROOMS_RUNTIME_H_

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "msock/protocols/rooms.h"
#include "msock/socket.h"
#include "protocols/rooms/acks.h"
#include "protocols/rooms/codec.h"
#include "protocols/rooms/executor.h"
#include "socket/socket_access.h"

namespace msock::internal::rooms {

class Runtime {
 public:
  explicit Runtime(size_t max_pending_acks) : acks(max_pending_acks) {}

  // Starts `threads` executor threads and the dispatcher running `loop`.
  void Start(int threads, size_t queue_limit, std::function<void()> loop);
  // Hands an async ack outcome to the executor thread of its peer (never
  // waits: may run on the I/O thread).
  void Deliver(AckTable::Done done);
  // Arms the deadline of async ack `id` (none for an infinite deadline).
  void ArmTimer(uint32_t id, absl::Time deadline);
  // Closing: with `first`, fails every pending ack with kCancelled, stops the
  // executor and closes `socket` (which wakes the dispatcher). Then, unless
  // called on one of its own threads, waits for them; then runs the cancelled
  // async callbacks on this thread.
  void Shutdown(Socket* socket, bool first);

  AckTable acks;
  std::unique_ptr<Executor> exec;  // set by Start

 private:
  std::thread dispatcher_;
  std::mutex join_mu_;
  bool joined_ = false;  // guarded by join_mu_
};

// The dispatcher's loop: receives until the socket is closed, decodes each
// message and calls handle(pipe, encoding, envelope), which returns false to
// stop; a message that does not decode goes to malformed(pipe), or, if it is
// JSON nested too deep and `too_deep` is set, to too_deep(pipe, what is known
// of it, the error to answer with).
void ReceiveLoop(
    Socket* socket,
    const std::function<bool(uint32_t, Encoding, msock::rooms::Envelope&)>&
        handle,
    const std::function<void(uint32_t)>& malformed,
    const std::function<void(uint32_t, const TooDeep&, const absl::Status&)>&
        too_deep = nullptr);

// Answers event `ack_id` with `result` through `send`; an answer over the
// size limit is replaced by that error, so the caller learns why.
void SendAck(
    uint32_t ack_id, const absl::StatusOr<std::string>& result,
    const std::function<absl::Status(const msock::rooms::Envelope&)>& send);

// Installs `self`'s receive filter and pipe hook on `socket` (Impl has
// Filter, PipeAdded and PipeRemoved). They hold `self`: the socket may call
// its filter until it is destroyed.
template <typename Impl>
void WireSocket(Socket* socket, const std::shared_ptr<Impl>& self) {
  SocketAccess::SetRecvFilter(
      *socket, [self](Message& m, int) { return self->Filter(m); });
  SocketAccess::SetProtocolPipeHook(*socket, [self](const PipeEvent& ev) {
    if (ev.type == PipeEventType::kAdded) {
      self->PipeAdded(ev.pipe_id);
    } else {
      self->PipeRemoved(ev.pipe_id);
    }
  });
}

// Runs a user callback returning absl::Status or absl::StatusOr<T>; an
// exception becomes kInternal "<what> threw: <what()>".
template <typename Fn>
auto Guarded(std::string_view what, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const std::exception& e) {
    return absl::InternalError(
        absl::StrCat(std::string(what), " threw: ", e.what()));
  } catch (...) {
    return absl::InternalError(
        absl::StrCat(std::string(what), " threw: unknown exception"));
  }
}

// Runs a user callback returning nothing; an exception stops here.
template <typename Fn>
void Quietly(Fn&& fn) {
  try {
    fn();
  } catch (...) {
    // Nobody to tell: the callback's caller is the library.
  }
}

}  // namespace msock::internal::rooms

#endif  // MSOCK_PROTOCOLS_ROOMS_RUNTIME_H_
