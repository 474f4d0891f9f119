// Host names and addresses for the IP transports (tcp, ws): numeric parsing,
// blocking resolution before listening, and the text form of an address.
#ifndef MSOCK_TRANSPORTS_RESOLVE_H_
#define MSOCK_TRANSPORTS_RESOLVE_H_

#include <sys/socket.h>

#include <string>

#include "absl/status/status.h"
#include "msock/url.h"

namespace msock::internal {

// Numeric host (or empty = any IPv4 address) + port -> sockaddr. False if the
// host is not a numeric address.
bool ToSockaddr(const std::string& host, int port, sockaddr_storage* ss);

// Replaces a host name in `url` by its first address (blocking getaddrinfo, on
// the caller's thread; numeric hosts are left alone). kInvalidArgument with
// the resolver's reason if the name does not resolve.
absl::Status ResolveHost(Url& url, bool passive);

// "127.0.0.1" or "::1" (no port, no brackets) of an IPv4 or IPv6 address.
std::string AddressText(const sockaddr* addr);

}  // namespace msock::internal

#endif  // MSOCK_TRANSPORTS_RESOLVE_H_
