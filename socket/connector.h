// Connector: the dialing and listening part of a socket. Keeps its listeners
// and dialers on the loop thread; a dialer connects, attaches the pipe, and
// re-dials with exponential back-off (kReconnectMin doubling up to
// kReconnectMax) whenever a connection fails or closes.
#ifndef MSOCK_SOCKET_CONNECTOR_H_
#define MSOCK_SOCKET_CONNECTOR_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "base/sync.h"
#include "msock/status.h"
#include "transports/transport.h"

namespace msock::internal {

class SocketCore;
class Dialer;
class PipeTimer;

class Connector {
 public:
  explicit Connector(SocketCore* core) : core_(core) {}
  ~Connector();

  // Thread-safe. From a user thread they post to the loop and wait for it;
  // on the loop thread (a protocol's hook, a device) they run at once.
  absl::StatusOr<std::string> Listen(std::string_view url);
  // Returns the dialer's id (for StopDial).
  absl::StatusOr<uint64_t> Dial(std::string_view url);
  // Stops dialer `id`: no more attempts; its pipe, if any, is closed as
  // ClosePipe does (queue written first, up to kLinger). kNotFound if there
  // is no such dialer (any more). Waits for the loop unless on it.
  absl::Status StopDial(uint64_t id);
  // Closes `pipe` after `delay` (ClosePipe's linger bound), unless it is gone
  // by then. Any thread; the timer ends early at Shutdown.
  void CloseAfter(std::weak_ptr<Pipe> pipe, absl::Duration delay);
  // Closes every listener and dialer; waits (up to 10 s) until their handles
  // are closed unless called on the loop thread. Idempotent.
  void Shutdown();

 private:
  void EndpointClosed();

  SocketCore* core_;
  Mutex mu_;  // a leaf: nothing is called while it is held
  std::condition_variable closed_cv_;
  bool shut_ ABSL_GUARDED_BY(mu_) = false;
  int open_ ABSL_GUARDED_BY(mu_) = 0;  // listeners + dialers not yet closed
  uint64_t next_dialer_ ABSL_GUARDED_BY(mu_) = 0;
  // Loop thread only.
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::vector<std::shared_ptr<Dialer>> dialers_;
  std::vector<PipeTimer*> timers_;  // each deletes itself once closed
};

}  // namespace msock::internal

#endif  // MSOCK_SOCKET_CONNECTOR_H_
