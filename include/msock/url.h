// msock/url.h: parsing of endpoint URLs.
//
// Accepted forms:
//   inproc://name             in-process, by name
//   ipc:///abs/path.sock      AF_UNIX stream socket (ipc://rel/path is
//                             relative to the cwd)
//   tcp://host:port           host: IPv4, [IPv6], a name, or * / empty
//                             (listen on all)
//   ws://host[:port][/path]   WebSocket (port 80 and path "/" by default)
//   wss://host[:port][/path]  the same over TLS (port 443 by default)
//
// Example:
//   absl::StatusOr<msock::Url> u = msock::ParseUrl("tcp://127.0.0.1:0");
//   if (u.ok()) {
//     std::string again = u->ToString();  // "tcp://127.0.0.1:0"
//   }
//   // u->scheme == "tcp", u->host == "127.0.0.1", u->port == 0
//
// ParseUrl is thread-safe; it returns kInvalidArgument with a reason for a
// malformed URL or an unknown scheme.
#ifndef MSOCK_URL_H_
#define MSOCK_URL_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "msock/export.h"

namespace msock {

// A parsed URL (a value type).
struct MSOCK_EXPORT Url {
  std::string scheme;  // "inproc", "ipc", "tcp", "ws", "wss"
  std::string host;    // tcp, ws: host without brackets; empty for "*"
  int port = 0;        // tcp, ws
  std::string path;    // ipc: the file path; inproc: the name; ws: "/..."
  // The URL again, in the form ParseUrl accepts.
  std::string ToString() const;
};

// Thread-safe. kInvalidArgument (with the reason) for a malformed URL or an
// unknown scheme.

[[nodiscard]] MSOCK_EXPORT absl::StatusOr<Url> ParseUrl(std::string_view url);

}  // namespace msock

#endif  // MSOCK_URL_H_
