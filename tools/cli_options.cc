// tools/cli_options.cc: argument parser and --help text of the msock tool (see
// cli_options.h).
//
// Every flag is a row of kFlags: its names, whether it takes a value, and how
// the value is stored. Roles come from the role table, so `msock pull ...` and
// `msock --pull ...` both work.
#include "tools/cli_options.h"

#include <cmath>
#include <string>

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

absl::Status AddEndpoint(Options& o, std::string_view url, bool listen) {
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
  o.endpoints.push_back(Endpoint{listen, std::string(url)});
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

struct Flag {
  std::string_view name;   // "--dial"
  std::string_view alias;  // "" or a short / nngcat-style alias
  bool takes_value;
  absl::Status (*apply)(Options& o, std::string_view value);
};

const Flag kFlags[] = {
    {"--dial", "--connect", true,
     [](Options& o, std::string_view v) { return AddEndpoint(o, v, false); }},
    {"--listen", "--bind", true,
     [](Options& o, std::string_view v) { return AddEndpoint(o, v, true); }},
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

std::string RoleNames(bool senders_only) {
  std::vector<std::string> names;
  for (const RoleInfo& r : Roles()) {
    if (!senders_only || r.can_send) names.emplace_back(r.name);
  }
  return absl::StrJoin(names, ", ");
}

absl::Status SetRole(Options& o, std::string_view name) {
  const RoleInfo* role = FindRole(name);
  if (role == nullptr) {
    return absl::InvalidArgumentError(
        Cat("unknown role '", name, "' (use one of ", RoleNames(false), ")"));
  }
  if (o.role != nullptr && o.role != role) {
    return absl::InvalidArgumentError(
        Cat("two roles given: '", o.role->name, "' and '", name, "'"));
  }
  o.role = role;
  return absl::OkStatus();
}

// Checks that fit no single flag: the options must make sense together.
absl::Status CheckCombination(const Options& o) {
  if (o.role == nullptr) {
    return absl::InvalidArgumentError(
        Cat("no role given (use one of ", RoleNames(false), ")"));
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
  if (o.sends() && !o.role->can_send && !o.role->answers) {
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
    if (!inline_value && name.starts_with("--") &&
        FindRole(name.substr(2)) != nullptr) {
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
  std::string roles;
  for (const RoleInfo& r : Roles()) {
    roles +=
        Cat("  ", r.name, std::string(8 - std::string_view(r.name).size(), ' '),
            r.summary, "\n");
  }
  return Cat(
      "Usage: msock ROLE (--dial URL | --listen URL)... [--data TEXT | --file "
      "PATH]\n"
      "             [--count N] [--interval SECONDS] [--delay SECONDS]\n"
      "             [--format raw|ascii|quoted|hex] [--recv-timeout SECONDS]\n"
      "             [--connect-timeout SECONDS] [--send-timeout SECONDS]\n"
      "             [--close-delay SECONDS] [--verbose]\n"
      "\n"
      "Sends and receives Scalability Protocols messages; talks to NNG "
      "(nngcat) and\n"
      "nanomsg (nanocat) peers and to other msock sockets.\n"
      "\n"
      "ROLE (also accepted as --ROLE):\n",
      roles,
      "\n"
      "Connections (repeatable, in any mix):\n"
      "  --dial URL, --connect URL   connect to URL, re-dialing in the "
      "background\n"
      "  --listen URL, --bind URL    accept connections on URL\n"
      "  URLs: tcp://HOST:PORT (tcp://127.0.0.1:0 picks a free port; see "
      "--verbose),\n"
      "        ipc:///absolute/path or ipc://relative/path\n"
      "\n"
      "Sending (push; pair0/pair1 optionally):\n"
      "  --data TEXT, -D TEXT        message body to send\n"
      "  --file PATH, -F PATH        message body read from PATH ('-' = "
      "standard input)\n"
      "  --count N, -C N             send N messages (default 1); receivers "
      "stop after N\n"
      "  --interval SECONDS, -i S    pause between messages (fractions "
      "allowed, default 0)\n"
      "  --delay SECONDS, -d S       pause after the first peer connects, "
      "before sending\n"
      "  --connect-timeout SECONDS   how long to wait for a first peer "
      "(default 10)\n"
      "  --send-timeout SECONDS      how long one send may wait for room "
      "(default 10)\n"
      "  --close-delay SECONDS       pause after the last send before closing "
      "(default\n"
      "                              0.2): nanomsg peers drop a message that "
      "arrives just\n"
      "                              before the connection closes\n"
      "  A sender waits for a peer, sends, waits --close-delay, then closes "
      "the socket,\n"
      "  which flushes queued messages (linger) before exiting.\n"
      "\n"
      "Receiving (pull, pair0, pair1):\n"
      "  Every message received is printed on standard output, one per line.\n"
      "  --format FORMAT             raw, ascii (default), quoted or hex:\n"
      "      raw     the bytes as they are, no newline added      (alias "
      "--raw)\n"
      "      ascii   printable ASCII, other bytes as '.'          (alias "
      "--ascii, -A)\n"
      "      quoted  \"C-like escaped\", e.g. \"a\\tb\\x00\"            (alias "
      "--quoted, -Q)\n"
      "      hex     lowercase hex pairs, e.g. 70696e67           (alias "
      "--hex)\n"
      "  --count N                   exit 0 after N messages (default: run "
      "until stopped)\n"
      "  --recv-timeout SECONDS      give up after SECONDS without a message: "
      "exit 1\n"
      "                              (\"timed out\") if --count was given and "
      "not reached\n"
      "                              or nothing arrived at all; exit 0 "
      "otherwise\n"
      "  pair0/pair1 with --data send --count messages and, at the same time, "
      "print what\n"
      "  they receive until --count messages arrived or --recv-timeout expires "
      "(a sender\n"
      "  that gets no answer and has no --count exits 0 at the timeout).\n"
      "\n"
      "Other:\n"
      "  --verbose, -v               print bound URLs and pipe events on "
      "standard error\n"
      "  --help, -h                  this text\n"
      "\n"
      "Exit status: 0 success, 1 runtime failure (no peer, timeout, address in "
      "use,\n"
      "unreadable file), 2 usage error (unknown option, missing value, bad "
      "URL).\n"
      "\n"
      "Examples:\n"
      "  msock pull --listen tcp://127.0.0.1:5555 --count 1\n"
      "  msock push --dial tcp://127.0.0.1:5555 --data hello\n"
      "  msock push --dial ipc:///tmp/jobs.sock --data job --count 5 "
      "--interval 0.5\n"
      "  msock pull --listen ipc:///tmp/jobs.sock --format hex --recv-timeout "
      "3\n"
      "  msock pair1 --listen tcp://127.0.0.1:5556 --format quoted\n"
      "  msock pair0 --dial tcp://127.0.0.1:5556 --data ping --recv-timeout 2\n"
      "  nngcat --pull0 --listen tcp://127.0.0.1:5557 -Q &\n"
      "  msock push --dial tcp://127.0.0.1:5557 --file ./message.bin\n");
}

}  // namespace msock::cli
