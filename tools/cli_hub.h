// tools/cli_hub.h: `msock hub` (a rooms hub with services) and `msock call`
// (calls one service on a hub), with their own small command lines.
//
//   msock hub --listen URL... [--allow-client-topics] [--inspector[=X]]
//   msock call --dial URL SERVICE [ARGS_JSON] [--timeout SECONDS]
//
// The hub prints each bound URL on its own line on standard output, then
// serves until SIGINT / SIGTERM. It provides two services: `hub.echo` (its
// args back) and `hub.clients` (the connected client ids, a JSON array).
#ifndef MSOCK_TOOLS_CLI_HUB_H_
#define MSOCK_TOOLS_CLI_HUB_H_

#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace msock::cli {

// `--name value` or `--name=value` at args[i]: sets *value (advancing i past
// it) and returns true; false if args[i] is not `name`. A missing value sets
// *error.
bool TakeValue(std::span<const std::string_view> args, size_t& i,
               std::string_view name, std::string* value, absl::Status* error);

// True if `command` (the first argument) is `hub` or `call`.
bool IsHubCommand(std::string_view command);
// Runs `msock hub` / `msock call`; `args` starts with the command name.
// Returns the exit code (kExitUsage for a bad command line).
int RunHubCommand(std::span<const std::string_view> args);
// The --help text of both commands.
std::string HubHelpText();

}  // namespace msock::cli

#endif  // MSOCK_TOOLS_CLI_HUB_H_
