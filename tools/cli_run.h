// tools/cli_run.h: runs the msock tool once its options are parsed.
//
// Opens the role's socket, listens / dials every endpoint, then sends
// (--data/--file) and/or receives and prints messages as the options say;
// `msock device` goes to RunDevice (cli_device.h). Messages go to standard
// output, diagnostics to standard error.
#ifndef MSOCK_TOOLS_CLI_RUN_H_
#define MSOCK_TOOLS_CLI_RUN_H_

#include <span>
#include <string>
#include <string_view>

#include "msock/socket.h"
#include "tools/cli_options.h"

namespace msock::cli {

// Exit codes of the tool.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure =
    1;  // runtime: no peer, timeout, bind failure, I/O error
inline constexpr int kExitUsage = 2;  // bad command line

// Runs the tool; returns its exit code. `options` must have come from ParseArgs
// (role set, or device and pattern).
int Run(const Options& options);

// Shared by the role and device runners.
//
// Prints "msock: <message>" on standard error.
void Complain(std::string_view message);
// Prints every pipe added / removed on `s` to standard error, each line
// starting with `label` ("" or, say, "front: ").
void WatchPipes(Socket& s, std::string label);
// Listens on / dials every endpoint in order; with `verbose` prints bound URLs.
// On the first failure reports it (prefixed with `label`) and returns
// kExitUsage (bad URL) or kExitFailure; else kExitOk.
// Sets the TLS options given on the command line; prints why and returns
// kExitFailure if the socket refuses one.
int ApplyTls(Socket& s, const Options& o);
int OpenEndpoints(Socket& s, std::span<const Endpoint> endpoints, bool verbose,
                  std::string_view label);

}  // namespace msock::cli

#endif  // MSOCK_TOOLS_CLI_RUN_H_
