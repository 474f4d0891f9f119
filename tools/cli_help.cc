// tools/cli_help.cc: the --help text of the msock tool's socket roles and
// device (HelpText, cli_options.h); the hub, topic and queue commands have
// theirs beside their code.
#include <string>
#include <string_view>

#include "tools/cli_options.h"
#include "tools/cli_roles.h"
#include "tools/cli_text.h"

namespace msock::cli {

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
