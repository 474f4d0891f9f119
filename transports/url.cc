// ParseUrl: inproc://name, ipc://path, tcp://host:port,
// ws[s]://host[:port][/path] (msock/url.h).
#include "msock/url.h"

#include <cstdlib>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace msock {

std::string Url::ToString() const {
  if (scheme == "tcp" || scheme == "ws" || scheme == "wss") {
    std::string h = host.find(':') != std::string::npos
                        ? absl::StrCat("[", host, "]")
                        : host;
    if (scheme == "tcp")
      return absl::StrCat("tcp://", h.empty() ? "*" : h, ":", port);
    return absl::StrCat(scheme, "://", h.empty() ? "*" : h, ":", port, path);
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
  const bool ws = u.scheme == "ws" || u.scheme == "wss";
  if (u.scheme != "tcp" && !ws) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad URL '", url, "': unknown scheme '", u.scheme,
                     "' (known: inproc, ipc, tcp, ws, wss)"));
  }
  std::string with_port;  // rest with the default port added
  if (ws) {
    // ws://host[:port][/path]: the path (default "/") selects the socket on a
    // shared listener; the port defaults to 80 (ws) or 443 (wss).
    size_t slash = rest.find('/');
    u.path =
        slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
    if (u.path.find_first_of(" \t\r\n#") != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "bad URL '", url, "': the path may not contain spaces or '#'"));
    }
    rest = rest.substr(0, slash);
    const bool bracketed = !rest.empty() && rest[0] == '[';
    const size_t colon = rest.rfind(':');
    const bool has_port = colon != std::string_view::npos &&
                          (!bracketed || (colon > 0 && rest[colon - 1] == ']'));
    if (!has_port) {
      if (bracketed && rest.back() != ']') {
        return absl::InvalidArgumentError(absl::StrCat(
            "bad URL '", url, "': expected ", u.scheme, "://[ipv6]:port"));
      }
      with_port =
          absl::StrCat(std::string(rest), ":", u.scheme == "ws" ? 80 : 443);
      rest = with_port;
    }
  }
  std::string_view host, port;
  if (!rest.empty() && rest[0] == '[') {
    size_t close = rest.find(']');
    if (close == std::string_view::npos || close + 1 >= rest.size() ||
        rest[close + 1] != ':') {
      return absl::InvalidArgumentError(absl::StrCat(
          "bad URL '", url, "': expected ", u.scheme, "://[ipv6]:port"));
    }
    host = rest.substr(1, close - 1);
    port = rest.substr(close + 2);
  } else {
    size_t colon = rest.rfind(':');
    if (colon == std::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad URL '", url, "': missing port, expected ", u.scheme,
                       "://host:port"));
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
