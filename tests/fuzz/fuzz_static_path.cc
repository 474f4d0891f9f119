// libFuzzer target: DecodePath (transports/ws/static_files.h), the guard that
// turns the request path under a StaticFiles mount into a file path. Asserts
// that it appends to what `out` held, that what it accepts is the plain
// percent-decoding of the input (checked against a decoder written here) with
// no NUL, backslash, escaped '/' or ".." segment, and that the file path
// WsPipe::ServeFile makes from it stays inside the served directory.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "transports/ws/static_files.h"

namespace {

void Require(bool ok) {
  if (!ok) std::abort();
}

std::optional<int> Hex(char c) {
  const std::string_view digits = "0123456789abcdef";
  const size_t at = digits.find(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c);
  if (at == std::string_view::npos) return std::nullopt;
  return static_cast<int>(at);
}

// Percent-decoding; nullopt for a bad escape or one that makes a '/'.
std::optional<std::string> Decode(std::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (in.size() - i < 3) return std::nullopt;
    const std::optional<int> hi = Hex(in[i + 1]);
    const std::optional<int> lo = Hex(in[i + 2]);
    if (!hi || !lo || *hi * 16 + *lo == '/') return std::nullopt;
    out.push_back(static_cast<char>(*hi * 16 + *lo));
    i += 2;
  }
  return out;
}

bool HasParentSegment(std::string_view path) {
  const std::string padded = "/" + std::string(path) + "/";
  return padded.find("/../") != std::string::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string out = "/srv/www";
  const bool ok = msock::internal::DecodePath(in, &out);
  const std::optional<std::string> want = Decode(in);
  const bool clean =
      want.has_value() && want->find('\0') == std::string::npos &&
      want->find('\\') == std::string::npos && !HasParentSegment(*want);
  Require(ok == clean);
  if (!ok) return 0;
  Require(out == "/srv/www" + *want);

  // As ServeFile joins it to the directory: never outside it.
  std::string rel = out.substr(8);
  if (rel.empty() || rel.back() == '/') rel += "index.html";
  if (rel[0] != '/') rel.insert(rel.begin(), '/');
  const std::string joined =
      std::filesystem::path("/srv/www" + rel).lexically_normal().string();
  Require(joined.rfind("/srv/www/", 0) == 0);
  return 0;
}
