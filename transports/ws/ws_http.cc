// The HTTP half of the WebSocket codec (ws_codec.h): HTTP/1.1 heads
// (RFC 7230) and the RFC 6455 opening handshake with the SP subprotocol. The
// handshake's keys (SHA-1, base64) are in ws_key.cc.
//
// Decisions worth knowing:
//   - Lines must end in CRLF; a bare LF or CR, a control byte, obs-fold or a
//     space before a header's colon is malformed (RFC 7230 3.2.4 / 3.5 let us
//     choose; NNG, nanomsg, lws and browsers all send CRLF).
//   - A request must be HTTP/1.1 (HttpHead has no version field, so the parser
//     checks it); a response may be HTTP/1.0 or 1.1, so that an error from an
//     old proxy is still reported as that error.
//   - CheckUpgradeRequest wants Host, a single Sec-WebSocket-Key of 24 base64
//     characters, and our subprotocol exactly (case-sensitive) somewhere in
//     the offered list; a missing version is a 426 like a wrong one; offered
//     extensions are ignored (we never negotiate one).
//   - ErrorResponse and FileResponseHead say "Connection: close": the server
//     sends one answer per connection.
#include <algorithm>
#include <array>
#include <concepts>
#include <random>

#include "absl/strings/str_format.h"
#include "transports/ws/ws_codec.h"

namespace msock::internal::ws {

namespace {

// Debian's Abseil has its own absl::string_view, which absl::StrCat and
// friends want; these small helpers take std::string_view.
void Append(std::string& out, std::string_view s) { out.append(s); }
template <std::integral T>
void Append(std::string& out, T n) {
  out.append(std::to_string(n));
}
template <typename... T>
std::string Cat(const T&... parts) {
  std::string out;
  (Append(out, parts), ...);
  return out;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
char Lower(char c) { return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

// Calls `f` on each trimmed item of a comma-separated list until it returns
// true; returns whether one did.
template <typename F>
bool AnyListItem(std::string_view list, F f) {
  while (true) {
    const size_t comma = list.find(',');
    if (f(Trim(list.substr(0, comma)))) return true;
    if (comma == std::string_view::npos) return false;
    list.remove_prefix(comma + 1);
  }
}

// ---- HTTP heads ----

bool IsTchar(char c) {
  return IsDigit(c) || (Lower(c) >= 'a' && Lower(c) <= 'z') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), IsTchar);
}

absl::Status Malformed(std::string_view what) {
  return absl::InvalidArgumentError(Cat("malformed HTTP head: ", what));
}

// Finds the end of the head, failing as soon as a byte shows the input is not
// HTTP (so a stray SP or TLS client is rejected at once, not after 8 KiB).
// `scanned` (if given): bytes before it were checked by an earlier call on the
// same growing buffer; updated when the end is not found yet, so that a head
// that comes a byte at a time is read once, not once per byte.
absl::StatusOr<std::optional<size_t>> FindHeadEnd(std::string_view buf,
                                                  size_t* scanned) {
  const size_t limit = std::min(buf.size(), kMaxHeadSize);
  const size_t from = scanned != nullptr ? std::min(*scanned, limit) : 0;
  for (size_t i = from; i < limit; ++i) {
    const auto c = static_cast<unsigned char>(buf[i]);
    if (c == '\r') {
      if (i + 1 < buf.size() && buf[i + 1] != '\n') return Malformed("bare CR");
    } else if (c == '\n') {
      if (i == 0 || buf[i - 1] != '\r') {
        return Malformed("bare LF (lines must end in CRLF)");
      }
      if (i >= 3 && buf.substr(i - 3, 4) == "\r\n\r\n") return i + 1;
    } else if ((c < 0x20 && c != '\t') || c == 0x7f) {
      return Malformed(absl::StrFormat("control byte 0x%02x", unsigned{c}));
    }
  }
  if (buf.size() >= kMaxHeadSize) {
    return Malformed(Cat("no end within ", kMaxHeadSize, " bytes"));
  }
  // The last byte is checked again: a CR there has not met its LF yet.
  if (scanned != nullptr && limit > 0) *scanned = limit - 1;
  return std::nullopt;
}

absl::Status ParseHeaderLine(std::string_view line, HttpHead* head) {
  if (line.empty()) return Malformed("empty header line");
  if (line.front() == ' ' || line.front() == '\t') {
    return Malformed("folded header line (obs-fold)");
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return Malformed("header without ':'");
  const std::string_view name = line.substr(0, colon);
  if (!IsToken(name)) {
    return Malformed(Cat("bad header name '", name, "'"));
  }
  std::string lower(name);
  for (char& c : lower) c = Lower(c);
  head->headers.emplace_back(std::move(lower),
                             std::string(Trim(line.substr(colon + 1))));
  return absl::OkStatus();
}

bool ParseVersion(std::string_view v, bool request) {
  return v == "HTTP/1.1" || (!request && v == "HTTP/1.0");
}

absl::Status ParseStartLine(std::string_view line, bool request,
                            HttpHead* head) {
  const size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return Malformed("bad start line");
  const std::string_view first = line.substr(0, sp1);
  std::string_view rest = line.substr(sp1 + 1);
  if (request) {
    const size_t sp2 = rest.find(' ');
    if (sp2 == std::string_view::npos) return Malformed("bad request line");
    const std::string_view target = rest.substr(0, sp2);
    const std::string_view version = rest.substr(sp2 + 1);
    if (!IsToken(first)) return Malformed("bad method");
    if (target.empty() || target.find('\t') != std::string_view::npos) {
      return Malformed("bad request target");
    }
    if (!ParseVersion(version, true)) {
      return Malformed(Cat("version '", version, "' is not HTTP/1.1"));
    }
    head->method = std::string(first);
    head->target = std::string(target);
    return absl::OkStatus();
  }
  if (!ParseVersion(first, false)) {
    return Malformed(Cat("version '", first, "' is not HTTP/1.x"));
  }
  // status-code SP reason-phrase; tolerate a missing SP when the reason is
  // empty.
  if (rest.size() < 3 || (rest.size() > 3 && rest[3] != ' ') ||
      !IsDigit(rest[0]) || !IsDigit(rest[1]) || !IsDigit(rest[2])) {
    return Malformed("bad status line");
  }
  head->status = (rest[0] - '0') * 100 + (rest[1] - '0') * 10 + (rest[2] - '0');
  if (head->status < 100 || head->status > 599) {
    return Malformed("status code out of range");
  }
  head->reason = std::string(rest.size() > 3 ? rest.substr(4) : "");
  return absl::OkStatus();
}

absl::StatusOr<std::optional<HttpHead>> ParseHead(std::string_view buf,
                                                  bool request,
                                                  size_t* scanned) {
  absl::StatusOr<std::optional<size_t>> end = FindHeadEnd(buf, scanned);
  if (!end.ok()) return end.status();
  if (!end->has_value()) return std::nullopt;
  HttpHead head;
  head.head_size = **end;
  // Drop the final CRLF CRLF; what is left is CRLF-separated lines.
  std::string_view text = buf.substr(0, head.head_size - 4);
  size_t eol = text.find("\r\n");
  absl::Status s = ParseStartLine(text.substr(0, eol), request, &head);
  while (s.ok() && eol != std::string_view::npos) {
    text.remove_prefix(eol + 2);
    eol = text.find("\r\n");
    s = ParseHeaderLine(text.substr(0, eol), &head);
  }
  if (!s.ok()) return s;
  return head;
}

// A reason phrase may hold HTAB, SP, visible and obs-text bytes; anything else
// (CR, LF) would break the head, so it becomes a space.
std::string SanitizeReason(std::string_view reason) {
  std::string out(reason);
  for (char& c : out) {
    if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) {
      c = ' ';
    }
  }
  return out;
}

}  // namespace

// ---- HTTP heads ----

const std::string* HttpHead::Find(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return &value;
  }
  return nullptr;
}

bool HttpHead::HasToken(std::string_view lower_name,
                        std::string_view token) const {
  // Repeated headers count as one comma-joined list (RFC 7230 3.2.2).
  for (const auto& [name, value] : headers) {
    if (name != lower_name) continue;
    if (AnyListItem(value, [&](std::string_view item) {
          return EqualsIgnoreCase(item, token);
        })) {
      return true;
    }
  }
  return false;
}

absl::StatusOr<std::optional<HttpHead>> ParseRequestHead(std::string_view buf,
                                                         size_t* scanned) {
  return ParseHead(buf, true, scanned);
}

absl::StatusOr<std::optional<HttpHead>> ParseResponseHead(std::string_view buf,
                                                          size_t* scanned) {
  return ParseHead(buf, false, scanned);
}

std::string UpgradeRequest(std::string_view host, std::string_view path,
                           std::string_view key, std::string_view subprotocol,
                           std::string_view extra) {
  std::string lines;
  while (!extra.empty()) {
    const size_t eol = extra.find('\n');
    std::string_view line = Trim(extra.substr(0, eol));
    extra = eol == std::string_view::npos ? "" : extra.substr(eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty()) lines += Cat(line, "\r\n");
  }
  // NNG's header set and order.
  return Cat("GET ", path.empty() ? "/" : path,
             " HTTP/1.1\r\n"
             "Host: ",
             host,
             "\r\n"
             "Upgrade: websocket\r\n"
             "Connection: Upgrade\r\n"
             "Sec-WebSocket-Key: ",
             key,
             "\r\n"
             "Sec-WebSocket-Version: 13\r\n"
             "Sec-WebSocket-Protocol: ",
             subprotocol, "\r\n", lines, "\r\n");
}

std::string UpgradeResponse(std::string_view accept_key,
                            std::string_view subprotocol) {
  return Cat(
      "HTTP/1.1 101 Switching Protocols\r\n"
      "Connection: Upgrade\r\n"
      "Upgrade: websocket\r\n"
      "Sec-WebSocket-Accept: ",
      accept_key,
      "\r\n"
      "Sec-WebSocket-Protocol: ",
      subprotocol, "\r\n\r\n");
}

std::string ErrorResponse(int status, std::string_view reason,
                          std::string_view text) {
  // The body is `text` plus a newline, for people using curl. A 426 names the
  // version we speak (RFC 6455 4.4).
  const std::string body = Cat(text, "\n");
  return Cat("HTTP/1.1 ", status, " ", SanitizeReason(reason), "\r\n",
             status == 426 ? "Sec-WebSocket-Version: 13\r\n" : "",
             "Content-Type: text/plain; charset=utf-8\r\n"
             "Content-Length: ",
             body.size(),
             "\r\n"
             "Connection: close\r\n\r\n",
             body);
}

std::string FileResponseHead(std::string_view content_type, size_t length) {
  return Cat(
      "HTTP/1.1 200 OK\r\n"
      "Content-Type: ",
      content_type,
      "\r\n"
      "Content-Length: ",
      length,
      "\r\n"
      "Connection: close\r\n\r\n");
}

absl::StatusOr<std::string> CheckUpgradeRequest(const HttpHead& req,
                                                std::string_view subprotocol,
                                                UpgradeRefusal* why) {
  using R = UpgradeRefusal;
  auto fail = [why](std::string_view text, R kind = R::kMalformed) {
    if (why != nullptr) *why = kind;
    return absl::InvalidArgumentError(Cat(HttpStatusFor(kind), ": ", text));
  };
  if (req.method != "GET") {
    return fail(Cat("a WebSocket upgrade must be a GET, not ", req.method));
  }
  if (req.Find("host") == nullptr) return fail("no Host header");
  if (!req.HasToken("upgrade", "websocket")) {
    return fail("not a WebSocket upgrade (no Upgrade: websocket)");
  }
  if (!req.HasToken("connection", "upgrade")) {
    return fail("no 'upgrade' in the Connection header");
  }
  const std::string* version = req.Find("sec-websocket-version");
  if (version == nullptr || *version != "13") {
    return fail(Cat("Sec-WebSocket-Version '", version ? *version : "",
                    "' is not supported, only 13"),
                R::kVersion);
  }
  const std::string* key = req.Find("sec-websocket-key");
  int keys = 0;
  for (const auto& h : req.headers) keys += h.first == "sec-websocket-key";
  if (key == nullptr || keys != 1 || !IsKeyOf16Bytes(*key)) {
    return fail("missing or bad Sec-WebSocket-Key");
  }
  // The dialer names the protocol it wants us to be: NNG and nanomsg send one
  // token, a browser may offer a list.
  bool asked = false;
  std::string asked_for;
  for (const auto& [name, value] : req.headers) {
    if (name != "sec-websocket-protocol") continue;
    asked = true;
    if (!asked_for.empty()) asked_for += ", ";
    asked_for += value;
    if (AnyListItem(value, [&](std::string_view item) {
          return item == subprotocol;
        })) {
      return *key;
    }
  }
  const std::string wanted =
      asked ? Cat("wrong subprotocol: asked for \"", asked_for, "\", ")
            : "no subprotocol asked for (Sec-WebSocket-Protocol); ";
  return fail(Cat(wanted, "this listener is \"", subprotocol, "\""),
              R::kSubprotocol);
}

absl::Status CheckUpgradeResponse(const HttpHead& resp, std::string_view key,
                                  std::string_view subprotocol,
                                  UpgradeRefusal* why) {
  using R = UpgradeRefusal;
  if (resp.status != 101) {
    if (why != nullptr) *why = R::kRefused;
    return absl::UnavailableError(
        Cat("WebSocket upgrade refused: ", resp.status, " ", resp.reason));
  }
  auto bad = [why](std::string_view text, R kind = R::kMalformed) {
    if (why != nullptr) *why = kind;
    return absl::DataLossError(Cat("bad WebSocket upgrade reply: ", text));
  };
  if (!resp.HasToken("upgrade", "websocket")) {
    return bad("no Upgrade: websocket");
  }
  if (!resp.HasToken("connection", "upgrade")) {
    return bad("no 'upgrade' in the Connection header");
  }
  const std::string* accept = resp.Find("sec-websocket-accept");
  if (accept == nullptr || *accept != AcceptKey(key)) {
    return bad("wrong Sec-WebSocket-Accept");
  }
  const std::string* proto = resp.Find("sec-websocket-protocol");
  if (proto == nullptr || *proto != subprotocol) {
    return bad(Cat("subprotocol \"", proto ? *proto : "", "\", asked for \"",
                   subprotocol, "\""),
               R::kSubprotocol);
  }
  // We offer no extension, so the listener may not choose one (RFC 6455 4.1).
  const std::string* ext = resp.Find("sec-websocket-extensions");
  if (ext != nullptr && !ext->empty()) {
    return bad(Cat("extension \"", *ext, "\" was not offered"));
  }
  return absl::OkStatus();
}

}  // namespace msock::internal::ws
