// Connector: the dialing and listening part of a socket. Keeps its listeners
// and dialers on the loop thread; a dialer connects, attaches the pipe, and
// re-dials with exponential back-off (kReconnectMin doubling up to
// kReconnectMax) whenever a connection fails or closes.
#ifndef MSOCK_SOCKET_CONNECTOR_H_
#define MSOCK_SOCKET_CONNECTOR_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "msock/status.h"
// socket_core.h names RecvFilter and reaches it through this header.
// TODO(issue 12): include socket/recv_filter.h from socket_core.h directly
// once its split has landed, and drop this include.
#include "socket/recv_filter.h"
#include "socket/sync.h"
#include "transports/transport.h"

namespace msock::internal {

class SocketCore;
class Dialer;

class Connector {
 public:
  explicit Connector(SocketCore* core) : core_(core) {}
  ~Connector();

  // Thread-safe, but not from the loop thread (they wait for it).
  absl::StatusOr<std::string> Listen(std::string_view url);
  absl::Status Dial(std::string_view url);
  // Closes every listener and dialer; waits until their handles are closed
  // unless called on the loop thread. Idempotent.
  void Shutdown();

 private:
  void EndpointClosed();

  SocketCore* core_;
  std::mutex mu_;
  std::condition_variable closed_cv_;
  bool shut_ = false;  // guarded by mu_
  int open_ = 0;  // guarded by mu_  // listeners + dialers not yet fully closed
  // Loop thread only.
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::vector<std::shared_ptr<Dialer>> dialers_;
};

}  // namespace msock::internal

#endif  // MSOCK_SOCKET_CONNECTOR_H_
