// tools/cli_format.h: how the msock tool prints a received message (--format).
//
//   raw     the bytes as they are, nothing added
//   ascii   printable ASCII kept, every other byte as '.', then a newline
//   quoted  in double quotes with C-like escapes (\n \t \" \\ \xHH), then a
//   newline hex     lowercase hex pairs ("70696e67"), then a newline
#ifndef MSOCK_TOOLS_CLI_FORMAT_H_
#define MSOCK_TOOLS_CLI_FORMAT_H_

#include <optional>
#include <string>
#include <string_view>

namespace msock::cli {

enum class Format { kRaw, kAscii, kQuoted, kHex };

// "raw", "ascii", "quoted" or "hex"; nullopt for anything else.
std::optional<Format> ParseFormat(std::string_view name);

// The text printed for one message with body `body`.
std::string FormatMessage(Format format, std::string_view body);

}  // namespace msock::cli

#endif  // MSOCK_TOOLS_CLI_FORMAT_H_
