// Host names and addresses for the IP transports (transports/resolve.h).
#include "transports/resolve.h"

#include <netdb.h>
#include <uv.h>

#include <cstring>

#include "absl/strings/str_cat.h"

namespace msock::internal {

bool ToSockaddr(const std::string& host, int port, sockaddr_storage* ss) {
  std::memset(ss, 0, sizeof(*ss));
  if (host.empty())
    return uv_ip4_addr("0.0.0.0", port, reinterpret_cast<sockaddr_in*>(ss)) ==
           0;
  if (uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(ss)) == 0)
    return true;
  return uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(ss)) ==
         0;
}

absl::Status ResolveHost(Url& url, bool passive) {
  sockaddr_storage ss;
  if (ToSockaddr(url.host, url.port, &ss)) return absl::OkStatus();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  if (passive) hints.ai_flags = AI_PASSIVE;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(url.host.c_str(), nullptr, &hints, &res);
  if (rc != 0 || res == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot resolve host '", url.host, "': ", gai_strerror(rc)));
  }
  url.host = AddressText(res->ai_addr);
  freeaddrinfo(res);
  return absl::OkStatus();
}

std::string AddressText(const sockaddr* addr) {
  char name[64] = "";
  if (addr->sa_family == AF_INET) {
    uv_ip4_name(reinterpret_cast<const sockaddr_in*>(addr), name, sizeof(name));
  } else {
    uv_ip6_name(reinterpret_cast<const sockaddr_in6*>(addr), name,
                sizeof(name));
  }
  return name;
}

}  // namespace msock::internal
