// tools/cli_run.h: runs the msock tool once its options are parsed.
//
// Opens the role's socket, listens / dials every endpoint, then sends
// (--data/--file) and/or receives and prints messages as the options say.
// Messages go to standard output, diagnostics to standard error.
#ifndef MSOCK_TOOLS_CLI_RUN_H_
#define MSOCK_TOOLS_CLI_RUN_H_

#include "tools/cli_options.h"

namespace msock::cli {

// Exit codes of the tool.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure =
    1;  // runtime: no peer, timeout, bind failure, I/O error
inline constexpr int kExitUsage = 2;  // bad command line

// Runs the tool; returns its exit code. `options` must have come from ParseArgs
// (role set).
int Run(const Options& options);

}  // namespace msock::cli

#endif  // MSOCK_TOOLS_CLI_RUN_H_
