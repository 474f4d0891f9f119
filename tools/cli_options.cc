// tools/cli_options.cc: argument parser of the msock tool (see
// cli_options.h).
//
// Every flag is a row of kFlags: its names, whether it takes a value, and how
// the value is stored. Roles come from the role table, so `msock pull ...` and
// `msock --pull ...` both work; `device` is accepted the same way, and its
// --pattern names come from the device table.
#include "tools/cli_options.h"

#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "msock/url.h"
#include "tools/cli_text.h"

namespace msock::cli {
namespace {

absl::StatusOr<absl::Duration> ParseSeconds(std::string_view value) {
  double seconds = 0;
  if (!absl::SimpleAtod(absl::string_view(value.data(), value.size()),
                        &seconds) ||
      !std::isfinite(seconds) || seconds < 0 || seconds > 1e9) {
    return absl::InvalidArgumentError(
        Cat("'", value, "' is not a number of seconds (e.g. 1 or 0.25)"));
  }
  return absl::Seconds(seconds);
}

absl::Status AddEndpoint(std::vector<Endpoint>& to, std::string_view url,
                         bool listen) {
  absl::StatusOr<Url> parsed = ParseUrl(url);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        Cat("invalid URL '", url, "': ", parsed.status().message()));
  }
  if (parsed->scheme == "inproc") {
    return absl::InvalidArgumentError(
        Cat("URL '", url,
            "': inproc:// only works inside one process; use tcp:// or "
            "ipc://"));
  }
  to.push_back(Endpoint{listen, std::string(url)});
  return absl::OkStatus();
}

absl::Status SetDuration(absl::Duration& field, std::string_view value) {
  absl::StatusOr<absl::Duration> d = ParseSeconds(value);
  if (!d.ok()) return d.status();
  field = *d;
  return absl::OkStatus();
}

absl::Status SetFormat(Options& o, std::string_view value) {
  std::optional<Format> f = ParseFormat(value);
  if (!f) {
    return absl::InvalidArgumentError(
        Cat("unknown format '", value, "' (use raw, ascii, quoted or hex)"));
  }
  o.format = *f;
  return absl::OkStatus();
}

std::string PatternNames() {
  std::vector<std::string> names;
  for (const DevicePattern& p : DevicePatterns()) names.emplace_back(p.name);
  return absl::StrJoin(names, ", ");
}

struct Flag {
  std::string_view name;   // "--dial"
  std::string_view alias;  // "" or a short / nngcat-style alias
  bool takes_value;
  absl::Status (*apply)(Options& o, std::string_view value);
};

const Flag kFlags[] = {
    {"--dial", "--connect", true,
     [](Options& o, std::string_view v) {
       return AddEndpoint(o.endpoints, v, false);
     }},
    {"--listen", "--bind", true,
     [](Options& o, std::string_view v) {
       return AddEndpoint(o.endpoints, v, true);
     }},
    {"--front", "--front-listen", true,
     [](Options& o, std::string_view v) {
       return AddEndpoint(o.front, v, true);
     }},
    {"--front-dial", "", true,
     [](Options& o, std::string_view v) {
       return AddEndpoint(o.front, v, false);
     }},
    {"--back", "--back-listen", true,
     [](Options& o, std::string_view v) {
       return AddEndpoint(o.back, v, true);
     }},
    {"--back-dial", "", true,
     [](Options& o, std::string_view v) {
       return AddEndpoint(o.back, v, false);
     }},
    {"--pattern", "", true,
     [](Options& o, std::string_view v) {
       o.pattern = FindDevicePattern(v);
       if (o.pattern == nullptr) {
         return absl::InvalidArgumentError(Cat(
             "unknown pattern '", v, "' (use one of ", PatternNames(), ")"));
       }
       return absl::OkStatus();
     }},
    {"--subscribe", "", true,
     [](Options& o, std::string_view v) {
       o.subscriptions.emplace_back(v);
       return absl::OkStatus();
     }},
    {"--survey-time", "", true,
     [](Options& o, std::string_view v) {
       absl::Duration d;
       absl::Status s = SetDuration(d, v);
       if (s.ok() && d <= absl::ZeroDuration()) {
         s = absl::InvalidArgumentError("must be more than 0 seconds");
       }
       if (s.ok()) o.survey_time = d;
       return s;
     }},
    {"--data", "-D", true,
     [](Options& o, std::string_view v) {
       o.data = std::string(v);
       return absl::OkStatus();
     }},
    {"--file", "-F", true,
     [](Options& o, std::string_view v) {
       o.file = std::string(v);
       return absl::OkStatus();
     }},
    {"--count", "-C", true,
     [](Options& o, std::string_view v) {
       int64_t n = 0;
       if (!absl::SimpleAtoi(absl::string_view(v.data(), v.size()), &n) ||
           n < 1) {
         return absl::InvalidArgumentError(
             Cat("'", v, "' is not a positive whole number"));
       }
       o.count = n;
       return absl::OkStatus();
     }},
    {"--interval", "-i", true,
     [](Options& o, std::string_view v) { return SetDuration(o.interval, v); }},
    {"--delay", "-d", true,
     [](Options& o, std::string_view v) { return SetDuration(o.delay, v); }},
    {"--recv-timeout", "", true,
     [](Options& o, std::string_view v) {
       absl::Duration d;
       absl::Status s = SetDuration(d, v);
       if (s.ok()) o.recv_timeout = d;
       return s;
     }},
    {"--connect-timeout", "", true,
     [](Options& o, std::string_view v) {
       return SetDuration(o.connect_timeout, v);
     }},
    {"--send-timeout", "", true,
     [](Options& o, std::string_view v) {
       return SetDuration(o.send_timeout, v);
     }},
    {"--close-delay", "", true,
     [](Options& o, std::string_view v) {
       return SetDuration(o.close_delay, v);
     }},
    {"--format", "", true, SetFormat},
    {"--raw", "", false,
     [](Options& o, std::string_view) { return SetFormat(o, "raw"); }},
    {"--ascii", "-A", false,
     [](Options& o, std::string_view) { return SetFormat(o, "ascii"); }},
    {"--quoted", "-Q", false,
     [](Options& o, std::string_view) { return SetFormat(o, "quoted"); }},
    {"--hex", "", false,
     [](Options& o, std::string_view) { return SetFormat(o, "hex"); }},
    {"--cert", "-E", true,
     [](Options& o, std::string_view v) {
       o.tls_cert = std::string(v);
       return absl::OkStatus();
     }},
    {"--key", "", true,
     [](Options& o, std::string_view v) {
       o.tls_key = std::string(v);
       return absl::OkStatus();
     }},
    {"--cacert", "", true,
     [](Options& o, std::string_view v) {
       o.tls_ca = std::string(v);
       return absl::OkStatus();
     }},
    {"--server-name", "", true,
     [](Options& o, std::string_view v) {
       o.tls_server_name = std::string(v);
       return absl::OkStatus();
     }},
    {"--insecure", "-k", false,
     [](Options& o, std::string_view) {
       o.tls_insecure = true;
       return absl::OkStatus();
     }},
    {"--verbose", "-v", false,
     [](Options& o, std::string_view) {
       o.verbose = true;
       return absl::OkStatus();
     }},
};

const Flag* FindFlag(std::string_view name) {
  for (const Flag& f : kFlags) {
    if (name == f.name || (!f.alias.empty() && name == f.alias)) return &f;
  }
  return nullptr;
}

constexpr std::string_view kDevice = "device";

// Roles that take --data/--file (to send, answer or survey with) if
// `senders_only`, else every role.
std::string RoleNames(bool senders_only) {
  std::vector<std::string> names;
  for (const RoleInfo& r : Roles()) {
    if (!senders_only || r.can_send || r.answers || r.surveys) {
      names.emplace_back(r.name);
    }
  }
  return absl::StrJoin(names, ", ");
}

bool IsCommand(std::string_view name) {
  return name == kDevice || FindRole(name) != nullptr;
}

absl::Status SetRole(Options& o, std::string_view name) {
  if (name == kDevice) {
    if (o.role != nullptr) {
      return absl::InvalidArgumentError(
          Cat("two roles given: '", o.role->name, "' and 'device'"));
    }
    o.device = true;
    return absl::OkStatus();
  }
  const RoleInfo* role = FindRole(name);
  if (role == nullptr) {
    return absl::InvalidArgumentError(Cat("unknown role '", name,
                                          "' (use one of ", RoleNames(false),
                                          ", or device)"));
  }
  if (o.device) {
    return absl::InvalidArgumentError(
        Cat("two roles given: 'device' and '", name, "'"));
  }
  if (o.role != nullptr && o.role != role) {
    return absl::InvalidArgumentError(
        Cat("two roles given: '", o.role->name, "' and '", name, "'"));
  }
  o.role = role;
  return absl::OkStatus();
}

absl::Status CheckDevice(const Options& o) {
  if (o.pattern == nullptr) {
    return absl::InvalidArgumentError(
        Cat("device needs --pattern (one of ", PatternNames(), ")"));
  }
  if (!o.endpoints.empty()) {
    return absl::InvalidArgumentError(
        "device takes --front/--front-dial and --back/--back-dial, not "
        "--listen/--dial");
  }
  if (o.front.empty()) {
    return absl::InvalidArgumentError(
        "device needs a front: --front URL (listen) or --front-dial URL");
  }
  if (o.back.empty() && !o.pattern->back_optional) {
    return absl::InvalidArgumentError(
        "device needs a back: --back URL (listen) or --back-dial URL");
  }
  if (o.sends() || !o.subscriptions.empty() || o.survey_time) {
    return absl::InvalidArgumentError(
        "device forwards what its peers send: --data, --file, --subscribe "
        "and --survey-time do not apply");
  }
  return absl::OkStatus();
}

// Checks that fit no single flag: the options must make sense together.
absl::Status CheckCombination(const Options& o) {
  if (o.device) return CheckDevice(o);
  if (o.pattern != nullptr || !o.front.empty() || !o.back.empty()) {
    return absl::InvalidArgumentError(
        "--pattern, --front and --back are options of msock device");
  }
  if (o.role == nullptr) {
    return absl::InvalidArgumentError(
        Cat("no role given (use one of ", RoleNames(false), ", or device)"));
  }
  if (!o.subscriptions.empty() && !o.role->subscribes) {
    return absl::InvalidArgumentError(
        Cat("--subscribe is for sub, not ", o.role->name));
  }
  if (o.survey_time && !o.role->surveys) {
    return absl::InvalidArgumentError(
        Cat("--survey-time is for surveyor, not ", o.role->name));
  }
  if (o.endpoints.empty()) {
    return absl::InvalidArgumentError(
        "nothing to connect: give at least one --dial URL or "
        "--listen URL");
  }
  if (o.data && o.file) {
    return absl::InvalidArgumentError(
        "--data and --file cannot be used together");
  }
  if (o.sends() && !o.role->can_send && !o.role->answers && !o.role->surveys) {
    return absl::InvalidArgumentError(
        Cat(o.role->name, " cannot send: --data/--file need one of ",
            RoleNames(true)));
  }
  if (!o.sends() && !o.role->can_recv) {
    return absl::InvalidArgumentError(Cat(
        o.role->name, " needs something to send: --data TEXT or --file PATH"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Options> ParseArgs(std::span<const std::string_view> args) {
  Options o;
  for (std::string_view arg : args) {
    if (arg == "--help" || arg == "-h") {
      o.help = true;
      return o;
    }
  }
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg.size() < 2 || arg[0] != '-') {
      absl::Status s = SetRole(o, arg);
      if (!s.ok()) return s;
      continue;
    }
    std::string_view name = arg;
    std::optional<std::string_view> inline_value;
    if (size_t eq = arg.find('=');
        arg.starts_with("--") && eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      inline_value = arg.substr(eq + 1);
    }
    if (!inline_value && name.starts_with("--") && IsCommand(name.substr(2))) {
      absl::Status s = SetRole(o, name.substr(2));
      if (!s.ok()) return s;
      continue;
    }
    const Flag* flag = FindFlag(name);
    if (flag == nullptr) {
      return absl::InvalidArgumentError(Cat("unknown option '", name, "'"));
    }
    std::string_view value;
    if (flag->takes_value) {
      if (inline_value) {
        value = *inline_value;
      } else if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError(
            Cat("option ", name, " needs a value"));
      } else if (args[i + 1].starts_with("--") && args[i + 1].size() > 2) {
        return absl::InvalidArgumentError(Cat(
            "option ", name, " needs a value, got option '", args[i + 1],
            "' (write ", flag->name, "=VALUE for a value starting with --)"));
      } else {
        value = args[++i];
      }
    } else if (inline_value) {
      return absl::InvalidArgumentError(
          Cat("option ", name, " takes no value"));
    }
    absl::Status s = flag->apply(o, value);
    if (!s.ok()) {
      return absl::InvalidArgumentError(Cat(flag->name, ": ", s.message()));
    }
  }
  absl::Status s = CheckCombination(o);
  if (!s.ok()) return s;
  return o;
}

}  // namespace msock::cli
