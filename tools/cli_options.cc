// tools/cli_options.cc: argument parser and --help text of the msock tool (see
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

std::string HelpText() {
  auto row = [](std::string_view indent, std::string_view name,
                std::string_view summary) {
    constexpr size_t kWidth = 12;
    std::string pad(name.size() < kWidth ? kWidth - name.size() : 1, ' ');
    return Cat(indent, name, pad, summary, "\n");
  };
  std::string roles;
  for (const RoleInfo& r : Roles()) roles += row("  ", r.name, r.summary);
  std::string patterns;
  for (const DevicePattern& p : DevicePatterns()) {
    patterns += row("      ", p.name, p.summary);
  }
  return Cat(
      R"(Usage: msock ROLE (--dial URL | --listen URL)... [--data TEXT | --file PATH]
             [--count N] [--interval SECONDS] [--delay SECONDS]
             [--format raw|ascii|quoted|hex] [--recv-timeout SECONDS]
             [--connect-timeout SECONDS] [--send-timeout SECONDS]
             [--close-delay SECONDS] [--subscribe PREFIX]...
             [--survey-time SECONDS] [--verbose]
       msock device --pattern PATTERN (--front URL | --front-dial URL)...
             (--back URL | --back-dial URL)... [--verbose]

Sends and receives Scalability Protocols messages; talks to NNG (nngcat) and
nanomsg (nanocat) peers and to other msock sockets.

ROLE (also accepted as --ROLE):
)",
      roles, R"(
Connections (repeatable, in any mix):
  --dial URL, --connect URL   connect to URL, re-dialing in the background
  --listen URL, --bind URL    accept connections on URL
  URLs: tcp://HOST:PORT (tcp://127.0.0.1:0 picks a free port; see --verbose),
        ipc:///absolute/path or ipc://relative/path,
        ws://HOST:PORT/PATH or wss://HOST:PORT/PATH

TLS (wss://):
  --cert FILE, -E FILE        certificate (PEM) to present; needed to listen
  --key FILE                  its private key (PEM)
  --cacert FILE               CA certificates (PEM) to check the peer against
                              (dialing without it: the system's CAs; listening
                              with it: clients must show a certificate)
  --server-name NAME          name the listener's certificate must carry
                              (default: the host of the URL)
  --insecure, -k              do not check the peer's certificate

Sending (push, pub, req, surveyor; pair0, pair1, bus optionally):
  --data TEXT, -D TEXT        message body to send
  --file PATH, -F PATH        message body read from PATH ('-' = standard input)
  --count N, -C N             send N messages (default 1); a receiver stops at N
  --interval SECONDS, -i S    pause between messages (default 0; 0.5 allowed)
  --delay SECONDS, -d S       pause after the first peer connects, then send
  --connect-timeout SECONDS   how long to wait for a first peer (default 10);
                              pub, bus and surveyor wait for a peer on every
                              --dial URL (at least one peer)
  --send-timeout SECONDS      how long one send may wait for room (default 10)
  --close-delay SECONDS       pause after the last send before closing (default
                              0.2): nanomsg peers drop a message that arrives
                              just before the connection closes
  A sender waits for a peer, sends, waits --close-delay, then closes the socket,
  which flushes queued messages (linger) before exiting. pub and bus send to
  every connected peer; a peer that connects later misses earlier messages.

Receiving (pull, sub, pair0, pair1, bus; rep, respondent):
  Every message received is printed on standard output, one per line.
  --format FORMAT             raw, ascii (default), quoted or hex:
      raw     the bytes as they are, no newline added      (alias --raw)
      ascii   printable ASCII, other bytes as '.'          (alias --ascii, -A)
      quoted  "C-like escaped", e.g. "a\tb\x00"            (alias --quoted, -Q)
      hex     lowercase hex pairs, e.g. 70696e67           (alias --hex)
  --count N                   exit 0 after N messages (default: no limit)
  --recv-timeout SECONDS      give up after SECONDS without a message: exit 1
                              ("timed out") if --count was given and not reached
                              or nothing arrived at all; exit 0 otherwise
  --subscribe PREFIX          sub: print messages starting with PREFIX
                              (repeatable; none given = every message)
  pair0/pair1/bus with --data send --count messages and, at the same time, print
  what they receive until --count messages arrived or --recv-timeout expires (a
  sender that gets no answer and has no --count exits 0 at the timeout).

Request/reply and surveys:
  req sends --count requests (one at a time) and prints each reply; rep prints
  each request and answers it with --data/--file (no --data: no answer).
  surveyor sends --count surveys, --interval apart, and prints every answer
  that arrives within --survey-time SECONDS (default 1, as NNG) of each survey;
  getting no answer is not an error. respondent prints each survey and answers
  it with --data/--file.

Device (msock device): forwards between two raw sockets, both ways, until
SIGINT or SIGTERM, then closes both sockets and exits 0.
  --pattern PATTERN           which raw sockets to join (front | back):
)",
      patterns,
      R"(  --front URL, --back URL     listen on URL (repeatable; --front-listen and
                              --back-listen are aliases)
  --front-dial URL, --back-dial URL   dial URL instead (repeatable)
  With --verbose, bound URLs and pipe events are printed, each side named.

Other:
  --verbose, -v               print bound URLs and pipe events on standard error
  --help, -h                  this text

Exit status: 0 success, 1 runtime failure (no peer, timeout, address in use,
unreadable file), 2 usage error (unknown option, missing value, bad URL).

Examples:
  msock pull --listen tcp://127.0.0.1:5555 --count 1
  msock push --dial tcp://127.0.0.1:5555 --data hello
  msock push --dial ipc:///tmp/jobs.sock --data job --count 5 --interval 0.5
  msock pull --listen ipc:///tmp/jobs.sock --format hex --recv-timeout 3
  msock pair1 --listen tcp://127.0.0.1:5556 --format quoted
  msock pair0 --dial tcp://127.0.0.1:5556 --data ping --recv-timeout 2
  msock rep --listen tcp://127.0.0.1:5558 --data pong
  msock req --dial tcp://127.0.0.1:5558 --data ping --count 3 --interval 1
  msock sub --listen tcp://127.0.0.1:5559 --subscribe news: --subscribe sport:
  msock pub --dial tcp://127.0.0.1:5559 --data news:hi --count 10 --interval 1
  msock bus --listen tcp://127.0.0.1:5560 --data hi-from-a
  msock respondent --listen tcp://127.0.0.1:5561 --data yes
  msock surveyor --dial tcp://127.0.0.1:5561 --data who? --survey-time 0.5
  msock device --pattern reqrep --front ipc:///tmp/front --back ipc:///tmp/back
  nngcat --pull0 --listen tcp://127.0.0.1:5557 -Q &
  msock push --dial tcp://127.0.0.1:5557 --file ./message.bin
)");
}

}  // namespace msock::cli
