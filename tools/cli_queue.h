// tools/cli_queue.h: `msock queue` (the durable queue: a server on an SQLite
// file, and one-shot clients), with its own small command line.
//
//   msock queue serve --listen URL... --db FILE [--ack-timeout S]
//                     [--max-attempts N] [--no-fsync]
//   msock queue register --dial URL --user U --node N [--alias A]...
//                        [--proof-node P --proof-secret S]
//   msock queue post --dial URL --user U --node N --secret S --to R[,R...]
//                    --data TEXT [--count K] [--id CLIENT_ID]
//   msock queue recv --dial URL --user U --node N --secret S [--count K]
//                    [--recv-timeout S] [--window N] [--no-ack]
//
// `serve` prints each bound URL on its own line, then serves until SIGINT /
// SIGTERM (exit 0). `register` prints the node's secret; `post` prints each
// message id once the post is durable; `recv` prints each body, then acks it.
#ifndef MSOCK_TOOLS_CLI_QUEUE_H_
#define MSOCK_TOOLS_CLI_QUEUE_H_

#include <span>
#include <string>
#include <string_view>

namespace msock::cli {

bool IsQueueCommand(std::string_view command);
// Runs `msock queue ...`; `args` starts with "queue". Returns the exit code
// (kExitUsage for a bad command line, kExitFailure for a runtime error).
int RunQueueCommand(std::span<const std::string_view> args);
std::string QueueHelpText();

}  // namespace msock::cli

#endif  // MSOCK_TOOLS_CLI_QUEUE_H_
