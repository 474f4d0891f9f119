// tools/cli_text.h: Cat(), string concatenation for the msock tool's messages.
//
// Debian's Abseil has its own absl::string_view (not std::string_view), so
// absl::StrCat does not take std::string_view; Cat takes both, C strings,
// std::string and integers.
#ifndef MSOCK_TOOLS_CLI_TEXT_H_
#define MSOCK_TOOLS_CLI_TEXT_H_

#include <concepts>
#include <string>
#include <string_view>

#include "absl/strings/string_view.h"

namespace msock::cli {

inline void AppendPiece(std::string& out, std::string_view s) { out.append(s); }
inline void AppendPiece(std::string& out, const char* s) { out.append(s); }
inline void AppendPiece(std::string& out, const std::string& s) {
  out.append(s);
}
#if !defined(ABSL_USES_STD_STRING_VIEW)
inline void AppendPiece(std::string& out, absl::string_view s) {
  out.append(s.data(), s.size());
}
#endif
template <std::integral T>
void AppendPiece(std::string& out, T n) {
  out.append(std::to_string(n));
}

template <typename... T>
std::string Cat(const T&... pieces) {
  std::string out;
  (AppendPiece(out, pieces), ...);
  return out;
}

}  // namespace msock::cli

#endif  // MSOCK_TOOLS_CLI_TEXT_H_
