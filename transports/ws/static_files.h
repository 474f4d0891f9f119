// The file-serving half of the ws transport, private to it: how a request
// path under a StaticFiles mount becomes a file path (DecodePath, the guard
// against escaping the directory) and which Content-Type a file gets.
// WsPipe::ServeFile (static_files.cc) answers the request with them.
#ifndef MSOCK_TRANSPORTS_WS_STATIC_FILES_H_
#define MSOCK_TRANSPORTS_WS_STATIC_FILES_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace msock::internal {

// Largest file served (the whole file is read on the I/O thread).
inline constexpr size_t kMaxFileSize = size_t{64} << 20;

// Percent-decodes the part of a request path after the mount, appending it to
// `out`: "/a/b%20c" -> "/a/b c". False (and `out` unspecified) for anything
// that could leave the directory or confuse the file system: a bad or
// truncated escape, an escaped '/', a NUL (escaped or not), a backslash, or a
// ".." segment (escaped or not) anywhere in the path.
bool DecodePath(std::string_view in, std::string* out);

// The Content-Type for a file, from its extension ("application/octet-stream"
// when unknown).
std::string_view ContentType(std::string_view path);

}  // namespace msock::internal

#endif  // MSOCK_TRANSPORTS_WS_STATIC_FILES_H_
