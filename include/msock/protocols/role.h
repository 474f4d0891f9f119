// msock/protocols/role.h: the base of the typed protocol classes (Push, Pull,
// Pair0, ...).
//
// A role owns one Socket and re-exports only the calls its pattern allows, so
// `Push` has no Recv and `Pull` has no Send. The calls keep the contracts
// documented in msock/socket.h. socket() gives the underlying Socket for
// devices, statistics and options.
#ifndef MSOCK_PROTOCOLS_ROLE_H_
#define MSOCK_PROTOCOLS_ROLE_H_

#include <string>
#include <string_view>
#include <type_traits>

#include "msock/socket.h"

namespace msock::internal {

class Role {
 public:
  Role(const SocketSpec& spec, Context& ctx) : socket_(spec, ctx) {}

  absl::StatusOr<std::string> Listen(std::string_view url) {
    return socket_.Listen(url);
  }
  absl::Status Dial(std::string_view url) { return socket_.Dial(url); }
  absl::Status WaitForPeers(int n, absl::Time deadline) {
    return socket_.WaitForPeers(n, deadline);
  }
  template <typename T>
  absl::Status Set(OptionKey<T> key, std::type_identity_t<T> value) {
    return socket_.Set(key, value);
  }
  template <typename T>
  T Get(OptionKey<T> key) const {
    return socket_.Get(key);
  }
  SocketStats stats() const { return socket_.stats(); }
  void Close() { socket_.Close(); }
  Socket& socket() { return socket_; }

 protected:
  Socket socket_;
};

}  // namespace msock::internal

#endif  // MSOCK_PROTOCOLS_ROLE_H_
