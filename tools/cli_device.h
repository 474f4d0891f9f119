// tools/cli_device.h: `msock device`, a forwarder between two raw sockets.
//
// Opens the raw sockets of --pattern (front and back, see DevicePattern in
// cli_roles.h), listens / dials their endpoints, and runs msock::Device until
// SIGINT or SIGTERM; then closes both sockets (flushing what is queued) and
// exits 0.
#ifndef MSOCK_TOOLS_CLI_DEVICE_H_
#define MSOCK_TOOLS_CLI_DEVICE_H_

#include "tools/cli_options.h"

namespace msock::cli {

// Runs the device; returns the tool's exit code. `options` must have come from
// ParseArgs with device and pattern set. Blocks SIGINT, SIGTERM and SIGUSR1 in
// the calling thread (and so in every thread started after), and waits for
// them with sigwait: call it before any other thread exists.
int RunDevice(const Options& options);

}  // namespace msock::cli

#endif  // MSOCK_TOOLS_CLI_DEVICE_H_
