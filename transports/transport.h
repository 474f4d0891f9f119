// The contract between the socket core and a transport (inproc, ipc, tcp).
// A transport turns a URL into a Listener (accepts pipes) or one connection
// attempt (Connect); a Pipe is one connected, framed, bidirectional link to one
// peer. The core owns the queues; pipes move messages between those queues and
// the wire.
#ifndef MSOCK_TRANSPORTS_TRANSPORT_H_
#define MSOCK_TRANSPORTS_TRANSPORT_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "msock/message.h"
#include "msock/url.h"

namespace msock::internal {

class SocketCore;

// State of a pipe that only the socket core touches, under the core's mutex.
struct PipeCoreState {
  std::deque<Message> sendq;
  size_t sendq_bytes = 0;
  bool wake_pending =
      false;  // the transport will call TakeSend again before sleeping
  bool recv_blocked = false;  // Deliver returned false; ResumeRecv owed
  bool attached = false;
  bool detached = false;      // was attached, then removed
  uint64_t messages_out = 0;  // queued for this pipe since it was attached
  uint64_t dropped = 0;       // fan-out messages it missed (overflow policy)
};

// One link to one peer. Created by a transport; attached to a SocketCore once
// its handshake is done. Wake, ResumeRecv and Close are thread-safe and never
// block.
class Pipe : public std::enable_shared_from_this<Pipe> {
 public:
  virtual ~Pipe() = default;
  // The pipe's send queue in the core went from empty to non-empty: call core
  // TakeSend until it returns nothing (or reports the queue drained).
  virtual void Wake() = 0;
  // The core's receive queue has room again after Deliver refused part of a
  // batch.
  virtual void ResumeRecv() = 0;
  // Closes the link (idempotent). When closed, the transport calls
  // core->DetachPipe, then on_closed (if set), each exactly once.
  virtual void Close(absl::Status why) = 0;
  // Called by the core, with its mutex held, for a message to this pipe while
  // its send queue is empty and no Wake is pending: a transport that can hand
  // m to the peer at once, without blocking (try-locks only), does so and
  // returns true. Default: false (m is queued and the pipe woken).
  virtual bool SendNow(Message& m) { return false; }

  uint32_t id = 0;  // set by the core on attach
  std::string local_address;
  std::string remote_address;
  // Set by the dialer that made this pipe, before attach. May run on any
  // thread.
  std::function<void()> on_closed;
  PipeCoreState core_state;  // guarded by the owning core's mutex
};

// Accepts connections on one address; every accepted link that completes its
// handshake is attached to the core. Lives on the loop thread.
class Listener {
 public:
  virtual ~Listener() = default;
  // The bound address as a URL (port 0 replaced by the real port).
  virtual std::string url() const = 0;
  // Stops accepting (loop thread). `done` runs once every handle is closed, as
  // the last thing the listener does (it may delete the listener).
  virtual void Close(absl::AnyInvocable<void()> done) = 0;
};

using ConnectDone =
    absl::AnyInvocable<void(absl::StatusOr<std::shared_ptr<Pipe>>)>;

class Transport {
 public:
  virtual ~Transport() = default;
  // Called on the caller's thread before Listen is posted to the loop: blocking
  // preparation (name resolution, stale ipc file probe). Default: nothing.
  virtual absl::Status PrepareListen(Url& url) { return absl::OkStatus(); }
  // Loop thread (inproc: any thread). Binds and starts accepting.
  virtual absl::StatusOr<std::unique_ptr<Listener>> Listen(
      const Url& url, std::shared_ptr<SocketCore> core) = 0;
  // Loop thread. One attempt to connect and complete the handshake; `done` runs
  // exactly once on the loop thread with a pipe ready to attach, or an error.
  virtual void Connect(const Url& url, std::shared_ptr<SocketCore> core,
                       ConnectDone done) = 0;
};

// The transport registered for `scheme`, or null.
Transport* FindTransport(std::string_view scheme);

}  // namespace msock::internal

#endif  // MSOCK_TRANSPORTS_TRANSPORT_H_
