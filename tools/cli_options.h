// tools/cli_options.h: the command line of the msock tool, parsed into Options.
//
// A small hand-written parser: `--name value`, `--name=value` and a few
// nngcat-style short aliases; --dial, --listen and --subscribe repeat.
// ParseArgs checks everything that can be checked before opening a socket
// (role, URLs, numbers, that the role can send what --data asks to send).
// `msock device` is the one command that is not a role: it joins two raw
// sockets (--front, --back) with --pattern.
#ifndef MSOCK_TOOLS_CLI_OPTIONS_H_
#define MSOCK_TOOLS_CLI_OPTIONS_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tools/cli_format.h"
#include "tools/cli_roles.h"

namespace msock::cli {

struct Endpoint {
  bool listen;  // --listen (true) or --dial (false)
  std::string url;
};

struct Options {
  bool help = false;
  const RoleInfo* role = nullptr;             // set unless `device`
  std::vector<Endpoint> endpoints;            // in command-line order
  std::vector<std::string> subscriptions;     // --subscribe PREFIX (sub)
  std::optional<absl::Duration> survey_time;  // --survey-time (surveyor)
  // msock device: --pattern, and the endpoints of each side (--front /
  // --front-dial, --back / --back-dial).
  bool device = false;
  const DevicePattern* pattern = nullptr;
  std::vector<Endpoint> front;
  std::vector<Endpoint> back;
  std::optional<std::string> data;  // --data TEXT
  std::optional<std::string> file;  // --file PATH ("-" = standard input)
  std::optional<int64_t> count;     // --count N (N >= 1)
  absl::Duration interval = absl::ZeroDuration();
  absl::Duration delay = absl::ZeroDuration();
  std::optional<absl::Duration> recv_timeout;
  absl::Duration connect_timeout = absl::Seconds(10);
  absl::Duration send_timeout = absl::Seconds(10);
  // Pause between the last send and closing the socket (see --help: nanomsg
  // peers drop a message that arrives right before the connection closes).
  absl::Duration close_delay = absl::Milliseconds(200);
  Format format = Format::kAscii;
  bool verbose = false;
  // wss:// (--cert, --key, --cacert, --server-name, --insecure).
  std::string tls_cert, tls_key, tls_ca, tls_server_name;
  bool tls_insecure = false;

  // True when the tool has something to send (--data or --file).
  bool sends() const { return data.has_value() || file.has_value(); }
};

// Parses the arguments after the program name. On a usage error returns
// kInvalidArgument whose message names the offending option or value. With
// --help, returns at once with help = true (other arguments are not checked).
// On success either role is set, or device and pattern are.
absl::StatusOr<Options> ParseArgs(std::span<const std::string_view> args);

// The text printed by --help.
std::string HelpText();

}  // namespace msock::cli

#endif  // MSOCK_TOOLS_CLI_OPTIONS_H_
