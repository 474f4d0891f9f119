// Marry: connect a listening socket and a dialing socket and wait until both
// have the pipe, the sequence nearly every two-socket test starts with. Also
// PrepareFor, which gives a socket what a transport needs before it listens or
// dials (wss: the test CA's certificates).
#ifndef MSOCK_TESTS_SUPPORT_MARRY_H_
#define MSOCK_TESTS_SUPPORT_MARRY_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "msock/protocols/role.h"
#include "msock/socket.h"

namespace msock::test {

// The socket behind a raw Socket or a typed role (Push, Req, ...).
inline Socket& SocketOf(Socket& s) { return s; }
inline Socket& SocketOf(internal::Role& r) { return r.socket(); }

// Sets what `s` needs for `scheme` ("wss": UseTestTls; others: nothing). Call
// before Listen or Dial.
void PrepareFor(Socket& s, std::string_view scheme);

// Makes `s` re-dial quickly: every 10 ms at first, at most every 200 ms.
absl::Status FastRedial(Socket& s);

// Listens `listener` on `where` (a URL such as "tcp://127.0.0.1:0", or a bare
// scheme given to ListenUrlFor), makes `dialer` re-dial quickly (FastRedial),
// dials the bound URL and waits until the dialer and then the listener have a
// peer, each wait ending at `deadline`. Returns the bound URL, or the status of
// the step that failed (its message says which). Sets no TLS: use PrepareFor
// first for wss.
absl::StatusOr<std::string> MarrySockets(Socket& listener, Socket& dialer,
                                         std::string_view where,
                                         absl::Time deadline);

// Marry for any mix of Sockets and typed roles.
template <typename L, typename D>
absl::StatusOr<std::string> Marry(L& listener, D& dialer,
                                  std::string_view where, absl::Time deadline) {
  return MarrySockets(SocketOf(listener), SocketOf(dialer), where, deadline);
}

}  // namespace msock::test

#endif  // MSOCK_TESTS_SUPPORT_MARRY_H_
