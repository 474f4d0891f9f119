// libFuzzer target: ScanJsonDepth (protocols/rooms/json_depth.h), the look
// at a JSON rooms envelope before protobuf parses it. Asserts its contract
// against a reference written here as a plain state machine: too deep exactly
// when the brackets outside strings (in double or single quotes, as protobuf's
// parser reads them) nest more than kMaxJsonDepth levels, the kind from the
// first top-level key that names one, an id only for kinds that carry one and
// made of the input's digits. Also that more text never makes deep input
// shallow, and that whitespace between tokens changes nothing.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "protocols/rooms/json_depth.h"

namespace {

namespace rooms = msock::internal::rooms;
using Envelope = msock::rooms::Envelope;

void Require(bool ok) {
  if (!ok) std::abort();
}

Envelope::KindCase KindNamed(std::string_view key) {
  static constexpr std::pair<std::string_view, Envelope::KindCase> kKinds[] = {
      {"event", Envelope::kEvent},    {"ack", Envelope::kAck},
      {"join", Envelope::kJoin},      {"leave", Envelope::kLeave},
      {"hello", Envelope::kHello},    {"welcome", Envelope::kWelcome},
      {"refused", Envelope::kRefused}};
  for (const auto& [name, kind] : kKinds) {
    if (key == name) return kind;
  }
  return Envelope::KIND_NOT_SET;
}

bool Space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

struct Reference {
  bool too_deep = false;
  Envelope::KindCase kind = Envelope::KIND_NOT_SET;
};

// One character at a time: inside a string or not, escaped or not.
Reference Scan(std::string_view j) {
  Reference r;
  int depth = 0;
  char in_string = 0;  // the quote of the string we are in, if any
  bool escaped = false;
  size_t string_start = 0;
  int string_depth = 0;
  for (size_t i = 0; i < j.size(); ++i) {
    const char c = j[i];
    if (in_string != 0) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == in_string) {
        in_string = 0;
        size_t next = i + 1;
        while (next < j.size() && Space(j[next])) ++next;
        if (string_depth == 1 && next < j.size() && j[next] == ':' &&
            r.kind == Envelope::KIND_NOT_SET) {
          r.kind = KindNamed(j.substr(string_start, i - string_start));
        }
      }
      continue;
    }
    if (c == '"' || c == '\'') {
      in_string = c;
      string_start = i + 1;
      string_depth = depth;
    } else if (c == '{' || c == '[') {
      ++depth;
      if (depth > rooms::kMaxJsonDepth) r.too_deep = true;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return r;
}

// `j` with whitespace added around the punctuation outside strings.
std::string Spaced(std::string_view j) {
  std::string out;
  char in_string = 0;
  bool escaped = false;
  for (char c : j) {
    if (in_string != 0) {
      if (!escaped && c == in_string) in_string = 0;
      escaped = !escaped && c == '\\';
      out.push_back(c);
      continue;
    }
    if (c == '"' || c == '\'') in_string = c;
    if (c == ':') out += " \n";
    out.push_back(c);
    if (c == ',' || c == ':' || c == '{' || c == '[') out += "\t ";
  }
  return out;
}

bool Same(const std::optional<rooms::TooDeep>& a,
          const std::optional<rooms::TooDeep>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || (a->kind == b->kind && a->id == b->id);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  const std::optional<rooms::TooDeep> deep = rooms::ScanJsonDepth(json);
  const Reference ref = Scan(json);
  Require(deep.has_value() == ref.too_deep);
  if (deep) {
    Require(deep->kind == ref.kind);
    if (deep->id != 0) {
      Require(deep->kind == Envelope::kEvent || deep->kind == Envelope::kAck ||
              deep->kind == Envelope::kJoin || deep->kind == Envelope::kLeave);
      Require(json.find(std::to_string(deep->id)) != std::string_view::npos);
    }
  }
  // A prefix found too deep stays too deep, whatever follows.
  const size_t cut = size == 0 ? 0 : data[size - 1] * size / 256;
  if (rooms::ScanJsonDepth(json.substr(0, cut))) Require(deep.has_value());
  Require(Same(rooms::ScanJsonDepth(Spaced(json)), deep));
  return 0;
}
