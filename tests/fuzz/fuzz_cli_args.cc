// libFuzzer target: the msock tool's argument parser, ParseArgs
// (tools/cli_options.h), on the input split into arguments at each '\0'.
// Asserts that it answers either options or kInvalidArgument with a message,
// the same way twice; that --help wins wherever it stands; and that accepted
// options keep ParseArgs' promises: a role or a device with a pattern, never
// both, something to connect, URLs that parse (not inproc://) and came from
// the arguments, options only for the role that uses them.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "msock/url.h"
#include "tools/cli_options.h"

namespace {

namespace cli = msock::cli;

void Require(bool ok) {
  if (!ok) std::abort();
}

bool IsHelp(std::string_view a) { return a == "--help" || a == "-h"; }

// `url` was given as an argument, or as the value of a --name=value one.
bool Given(std::span<const std::string_view> args, std::string_view url) {
  for (std::string_view a : args) {
    if (a == url) return true;
    const size_t eq = a.find('=');
    if (a.starts_with("--") && eq != std::string_view::npos &&
        a.substr(eq + 1) == url) {
      return true;
    }
  }
  return false;
}

void CheckEndpoints(std::span<const std::string_view> args,
                    const std::vector<cli::Endpoint>& endpoints) {
  for (const cli::Endpoint& e : endpoints) {
    absl::StatusOr<msock::Url> url = msock::ParseUrl(e.url);
    Require(url.ok() && url->scheme != "inproc" && Given(args, e.url));
  }
}

void CheckAccepted(std::span<const std::string_view> args,
                   const cli::Options& o) {
  CheckEndpoints(args, o.endpoints);
  CheckEndpoints(args, o.front);
  CheckEndpoints(args, o.back);
  Require(!(o.data && o.file));
  Require(!o.count || *o.count >= 1);
  Require(!o.survey_time || *o.survey_time > absl::ZeroDuration());
  Require(o.interval >= absl::ZeroDuration() &&
          o.delay >= absl::ZeroDuration() &&
          o.connect_timeout >= absl::ZeroDuration() &&
          o.send_timeout >= absl::ZeroDuration() &&
          o.close_delay >= absl::ZeroDuration());
  if (o.device) {
    Require(o.role == nullptr && o.pattern != nullptr && o.endpoints.empty());
    Require(!o.front.empty() && (!o.back.empty() || o.pattern->back_optional));
    Require(!o.sends() && o.subscriptions.empty() && !o.survey_time);
    return;
  }
  Require(o.role != nullptr && o.pattern == nullptr);
  Require(o.front.empty() && o.back.empty() && !o.endpoints.empty());
  Require(o.subscriptions.empty() || o.role->subscribes);
  Require(!o.survey_time || o.role->surveys);
  if (o.sends()) {
    Require(o.role->can_send || o.role->answers || o.role->surveys);
  } else {
    Require(o.role->can_recv);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> args;
  bool help = false;
  for (size_t at = 0; at < in.size();) {
    const size_t end = std::min(in.find('\0', at), in.size());
    args.push_back(in.substr(at, end - at));
    help = help || IsHelp(args.back());
    at = end + 1;
  }

  absl::StatusOr<cli::Options> o = cli::ParseArgs(args);
  absl::StatusOr<cli::Options> again = cli::ParseArgs(args);
  Require(o.ok() == again.ok() && o.status() == again.status());
  if (!o.ok()) {
    Require(!help && o.status().code() == absl::StatusCode::kInvalidArgument &&
            !o.status().message().empty());
  } else if (o->help) {
    Require(help);
  } else {
    Require(!help);
    CheckAccepted(args, *o);
  }

  // --help anywhere asks for help, whatever else is wrong.
  args.push_back("-h");
  absl::StatusOr<cli::Options> with_help = cli::ParseArgs(args);
  Require(with_help.ok() && with_help->help);
  return 0;
}
