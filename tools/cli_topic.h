// tools/cli_topic.h: `msock topic` (create, get, apply or watch one topic on a
// hub), with its own small command line.
//
//   msock topic --dial URL create NAME TYPE
//   msock topic --dial URL get NAME
//   msock topic --dial URL apply NAME CHANGE_JSON
//   msock topic --dial URL watch NAME [--count N]
#ifndef MSOCK_TOOLS_CLI_TOPIC_H_
#define MSOCK_TOOLS_CLI_TOPIC_H_

#include <span>
#include <string>
#include <string_view>

namespace msock::cli {

bool IsTopicCommand(std::string_view command);
// Runs `msock topic`; `args` starts with "topic". Returns the exit code.
int RunTopicCommand(std::span<const std::string_view> args);
std::string TopicHelpText();

}  // namespace msock::cli

#endif  // MSOCK_TOOLS_CLI_TOPIC_H_
