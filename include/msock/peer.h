// msock/peer.h: what a socket knows of a connected peer (PeerInfo), and the
// admission hook that may refuse it before it becomes a pipe.
//
// Every socket (and every role: Socket::SetAdmission, Role::SetAdmission) may
// have one admission hook. It runs once per connection, after the transport's
// handshake (SP header exchange, ws upgrade request, TLS) and before the pipe
// is attached: no message of that peer has been delivered, none can be sent
// to it, and no kAdded event has been raised. OK admits the peer; an error
// refuses it: the connection is closed (a ws listener answers the upgrade
// with "403 Forbidden" and the error's message instead of 101), counted in
// SocketStats::rejected_admission, and reported to the socket's pipe-event
// observer as PipeEventType::kRefused with the error as reason. A dialer
// refused by its own hook retries after its back-off, like a failed dial.
//
// The hook runs on the I/O thread (for inproc: the dialing socket's I/O
// thread), never under an internal lock: it must not block, nor call Close of
// its own socket. It is not called after Close returns. An exception thrown
// by the hook refuses the peer with kInternal.
//
// Example:
//   msock::Pull pull;
//   pull.SetAdmission([](const msock::PeerInfo& peer) -> absl::Status {
//     if (peer.transport == "ipc" && peer.uid != 0)
//       return absl::PermissionDeniedError("root only");
//     const std::string* auth = peer.Header("authorization");
//     if (peer.transport == "ws" && (!auth || *auth != "Bearer s3cret"))
//       return absl::PermissionDeniedError("bad token");
//     return absl::OkStatus();
//   });
//   std::string url = pull.Listen("ws://127.0.0.1:0/jobs").value();
#ifndef MSOCK_PEER_H_
#define MSOCK_PEER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace msock {

// The facts about one peer, as its transport learnt them. Fields that do not
// apply to a transport are left empty (or -1).
struct PeerInfo {
  // "inproc", "ipc", "tcp", "ws" or "wss".
  std::string transport;
  // As PipeEvent: this end's and the peer's address (inproc: both the name's
  // URL; ipc: both the socket file's URL; ws listener: the peer's IP).
  std::string local_address;
  std::string remote_address;
  // True when this socket dialed the peer, false when it accepted it.
  bool dialed = false;

  // ipc: the peer process's credentials (SO_PEERCRED, taken when the
  // connection was made); -1 elsewhere.
  int64_t uid = -1;
  int64_t gid = -1;
  int64_t pid = -1;

  // wss: the subject of the certificate the peer presented, one line in RFC
  // 2253 form ("CN=alice,O=example"); empty when it presented none (a listener
  // asks clients for one only when kTlsCa is set). A dialer sees its
  // listener's.
  std::string certificate_subject;

  // ws and wss listeners: the upgrade request. `path` is the request target
  // up to any '?', `query` what follows it (browsers cannot set headers, so
  // tokens often come this way); `origin` is the Origin header ("" if none);
  // `headers` are every request header in order, names in lower case, values
  // trimmed. A dialer sees the path it dialed and no headers.
  std::string path;
  std::string query;
  std::string origin;
  std::vector<std::pair<std::string, std::string>> headers;

  // The value of the first header called `lower_name` (lower case), or null.
  const std::string* Header(std::string_view lower_name) const {
    for (const auto& [name, value] : headers) {
      if (name == lower_name) return &value;
    }
    return nullptr;
  }
};

// OK admits the peer; an error refuses it (see the overview).
using AdmissionHook = std::function<absl::Status(const PeerInfo& peer)>;

}  // namespace msock

#endif  // MSOCK_PEER_H_
