// ParseUrl: inproc://name, ipc://path, tcp://host:port (msock/url.h).
#include "msock/url.h"

#include <cstdlib>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace msock {

std::string Url::ToString() const {
  if (scheme == "tcp") {
    std::string h = host.find(':') != std::string::npos
                        ? absl::StrCat("[", host, "]")
                        : host;
    return absl::StrCat("tcp://", h.empty() ? "*" : h, ":", port);
  }
  return absl::StrCat(scheme, "://", path);
}

absl::StatusOr<Url> ParseUrl(std::string_view url_view) {
  const std::string url(
      url_view);  // absl::StrCat here takes absl::string_view only
  size_t sep = url.find("://");
  if (sep == std::string::npos || sep == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bad URL '", url,
        "': expected scheme://address, e.g. tcp://127.0.0.1:5555"));
  }
  Url u;
  u.scheme = url.substr(0, sep);
  std::string_view rest = url_view.substr(sep + 3);
  if (u.scheme == "inproc" || u.scheme == "ipc") {
    if (rest.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad URL '", url, "': empty ", u.scheme,
                       u.scheme == "ipc" ? " path" : " name"));
    }
    if (u.scheme == "ipc" && rest.size() > 107) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad URL '", url, "': ipc path longer than 107 bytes"));
    }
    u.path = std::string(rest);
    return u;
  }
  if (u.scheme != "tcp") {
    return absl::InvalidArgumentError(
        absl::StrCat("bad URL '", url, "': unknown scheme '", u.scheme,
                     "' (known: inproc, ipc, tcp)"));
  }
  std::string_view host, port;
  if (!rest.empty() && rest[0] == '[') {
    size_t close = rest.find(']');
    if (close == std::string_view::npos || close + 1 >= rest.size() ||
        rest[close + 1] != ':') {
      return absl::InvalidArgumentError(
          absl::StrCat("bad URL '", url, "': expected tcp://[ipv6]:port"));
    }
    host = rest.substr(1, close - 1);
    port = rest.substr(close + 2);
  } else {
    size_t colon = rest.rfind(':');
    if (colon == std::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "bad URL '", url, "': missing port, expected tcp://host:port"));
    }
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad URL '", url,
                       "': IPv6 addresses go in brackets, tcp://[::1]:port"));
    }
  }
  if (host.find_first_of("[]/ \t\r\n") != std::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad URL '", url,
                     "': the host may not contain '[', ']', '/' or spaces"));
  }
  int p = 0;
  if (port.empty() || !absl::SimpleAtoi(std::string(port), &p) || p < 0 ||
      p > 65535 ||
      port.find_first_not_of("0123456789") != std::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad URL '", url, "': port must be a number 0..65535"));
  }
  u.host = host == "*" ? "" : std::string(host);
  u.port = p;
  return u;
}

}  // namespace msock
