// tools/msock_main.cc: entry point of the `msock` command-line tool
// (nngcat-like).
//
// Parses the command line (cli_options), then runs the chosen role (cli_run);
// `msock hub` and `msock call` go to cli_hub, `msock topic` to cli_topic,
// `msock queue` to cli_queue.
// Usage errors exit 2 with a message on standard error; `msock --help`
// documents everything.
#include <csignal>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "tools/cli_hub.h"
#include "tools/cli_options.h"
#include "tools/cli_queue.h"
#include "tools/cli_run.h"
#include "tools/cli_topic.h"

int main(int argc, char** argv) {
  // A closed standard output or peer must surface as an error, not kill the
  // process.
  std::signal(SIGPIPE, SIG_IGN);

  std::vector<std::string_view> args(argv + 1, argv + argc);
  // `msock hub` and `msock call` have their own command lines.
  if (!args.empty() && msock::cli::IsHubCommand(args[0])) {
    return msock::cli::RunHubCommand(args);
  }
  if (!args.empty() && msock::cli::IsTopicCommand(args[0])) {
    return msock::cli::RunTopicCommand(args);
  }
  if (!args.empty() && msock::cli::IsQueueCommand(args[0])) {
    return msock::cli::RunQueueCommand(args);
  }
  absl::StatusOr<msock::cli::Options> options = msock::cli::ParseArgs(args);
  if (!options.ok()) {
    std::string message(options.status().message());
    std::fprintf(stderr,
                 "msock: %s\nTry 'msock --help' for more information.\n",
                 message.c_str());
    return msock::cli::kExitUsage;
  }
  if (options->help) {
    std::string help = msock::cli::HelpText() + msock::cli::HubHelpText() +
                       msock::cli::TopicHelpText() +
                       msock::cli::QueueHelpText();
    std::fwrite(help.data(), 1, help.size(), stdout);
    return std::fflush(stdout) == 0 ? msock::cli::kExitOk
                                    : msock::cli::kExitFailure;
  }
  return msock::cli::Run(*options);
}
