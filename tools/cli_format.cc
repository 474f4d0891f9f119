// tools/cli_format.cc: message printing formats of the msock tool (see
// cli_format.h).
#include "tools/cli_format.h"

namespace msock::cli {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

bool IsPrintable(unsigned char c) { return c >= 0x20 && c < 0x7f; }

void AppendHexByte(std::string& out, unsigned char c) {
  out += kHexDigits[c >> 4];
  out += kHexDigits[c & 0x0f];
}

}  // namespace

std::optional<Format> ParseFormat(std::string_view name) {
  if (name == "raw") return Format::kRaw;
  if (name == "ascii") return Format::kAscii;
  if (name == "quoted") return Format::kQuoted;
  if (name == "hex") return Format::kHex;
  return std::nullopt;
}

std::string FormatMessage(Format format, std::string_view body) {
  std::string out;
  switch (format) {
    case Format::kRaw:
      out.assign(body);
      return out;
    case Format::kAscii:
      out.reserve(body.size() + 1);
      for (unsigned char c : body)
        out += IsPrintable(c) ? static_cast<char>(c) : '.';
      break;
    case Format::kQuoted:
      out.reserve(body.size() + 3);
      out += '"';
      for (unsigned char c : body) {
        switch (c) {
          case '"':
            out += "\\\"";
            break;
          case '\\':
            out += "\\\\";
            break;
          case '\n':
            out += "\\n";
            break;
          case '\r':
            out += "\\r";
            break;
          case '\t':
            out += "\\t";
            break;
          default:
            if (IsPrintable(c)) {
              out += static_cast<char>(c);
            } else {
              out += "\\x";
              AppendHexByte(out, c);
            }
        }
      }
      out += '"';
      break;
    case Format::kHex:
      out.reserve(body.size() * 2 + 1);
      for (unsigned char c : body) AppendHexByte(out, c);
      break;
  }
  out += '\n';
  return out;
}

}  // namespace msock::cli
