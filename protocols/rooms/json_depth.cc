// ScanJsonDepth (json_depth.h): a single-pass scan of strings, brackets and
// the numbers that follow second-level keys. Strings are read as protobuf's
// JSON parser reads them, in double or single quotes.
#include "protocols/rooms/json_depth.h"

#include <cstddef>

namespace msock::internal::rooms {

namespace pb = ::msock::rooms;

namespace {

pb::Envelope::KindCase KindOf(std::string_view key) {
  if (key == "event") return pb::Envelope::kEvent;
  if (key == "ack") return pb::Envelope::kAck;
  if (key == "join") return pb::Envelope::kJoin;
  if (key == "leave") return pb::Envelope::kLeave;
  if (key == "hello") return pb::Envelope::kHello;
  if (key == "welcome") return pb::Envelope::kWelcome;
  if (key == "refused") return pb::Envelope::kRefused;
  return pb::Envelope::KIND_NOT_SET;
}

// The key holding the id to answer in an envelope of `kind`.
std::string_view IdKey(pb::Envelope::KindCase kind) {
  switch (kind) {
    case pb::Envelope::kEvent:
      return "ack";
    case pb::Envelope::kAck:
    case pb::Envelope::kJoin:
    case pb::Envelope::kLeave:
      return "id";
    default:
      return "";
  }
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// A decimal uint32 (protobuf's JSON also accepts it quoted); 0 if not one.
uint32_t ParseId(std::string_view s) {
  if (s.empty() || s.size() > 10) return 0;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return 0;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v > UINT32_MAX ? 0 : static_cast<uint32_t>(v);
}

}  // namespace

std::optional<TooDeep> ScanJsonDepth(std::string_view json) {
  TooDeep found;
  int depth = 0;
  bool too_deep = false;
  // The last string at depth 1 or 2 followed by ':' (a key), and whether the
  // value of the id key is next.
  bool id_next = false;
  const size_t n = json.size();
  for (size_t i = 0; i < n; ++i) {
    const char c = json[i];
    // protobuf's JSON parser also takes 'single-quoted' strings: a '"' in
    // one must not start a string here that hides the brackets after it.
    if (c == '"' || c == '\'') {
      const size_t start = ++i;
      while (i < n && json[i] != c) i += json[i] == '\\' ? 2 : 1;
      if (i >= n) break;
      const std::string_view s = json.substr(start, i - start);
      size_t j = i + 1;
      while (j < n && IsSpace(json[j])) ++j;
      const bool is_key = j < n && json[j] == ':';
      if (is_key && depth == 1 && found.kind == pb::Envelope::KIND_NOT_SET) {
        found.kind = KindOf(s);
      } else if (is_key && depth == 2) {
        id_next = !IdKey(found.kind).empty() && s == IdKey(found.kind);
        continue;
      } else if (id_next && !is_key) {
        found.id = ParseId(s);
      }
      id_next = false;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxJsonDepth) too_deep = true;
      id_next = false;
    } else if (c == '}' || c == ']') {
      --depth;
      id_next = false;
    } else if (c >= '0' && c <= '9') {
      const size_t start = i;
      while (i + 1 < n && json[i + 1] >= '0' && json[i + 1] <= '9') ++i;
      if (id_next) found.id = ParseId(json.substr(start, i + 1 - start));
      id_next = false;
    } else if (c == ',') {
      id_next = false;
    }
  }
  if (!too_deep) return std::nullopt;
  return found;
}

}  // namespace msock::internal::rooms
