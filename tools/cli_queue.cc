// tools/cli_queue.cc: `msock queue` (see cli_queue.h): a QueueServer until a
// stop signal, or one QueueClient doing one job (register, post, recv).
//
// `post` retries a post whose answer was lost (connection dropped, server
// restarting) with the same client id until its deadline, so a retry is
// stored once; without --id it makes up a random one. `recv` prints a body
// once per run even if the entry is redelivered, and acks every delivery.
#include "tools/cli_queue.h"

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "msock/protocols/queue.h"
#include "tools/cli_hub.h"
#include "tools/cli_run.h"
#include "tools/cli_text.h"

namespace msock::cli {
namespace {

struct QueueArgs {
  std::string op;  // serve, register, post, recv
  std::vector<std::string> listen;
  std::string db, url, user, node, secret, proof_node, proof_secret;
  std::vector<std::string> aliases, to;
  std::string data, id;
  bool has_data = false;
  int64_t count = -1;  // -1: not given
  absl::Duration timeout = absl::Seconds(10);
  absl::Duration recv_timeout = absl::InfiniteDuration();  // default timeout
  absl::Duration ack_timeout = absl::Seconds(10);
  int64_t max_attempts = 10;
  int64_t window = 1;
  bool fsync = true, no_ack = false, verbose = false;
};

absl::Status Seconds(const std::string& value, absl::Duration* out) {
  double s = 0;
  if (!absl::SimpleAtod(value, &s) || !std::isfinite(s) || s <= 0 || s > 1e9) {
    return absl::InvalidArgumentError(
        Cat("'", value, "' is not a number of seconds (e.g. 1 or 0.25)"));
  }
  *out = absl::Seconds(s);
  return absl::OkStatus();
}

absl::Status Positive(std::string_view flag, const std::string& value,
                      int64_t* out) {
  if (!absl::SimpleAtoi(value, out) || *out <= 0) {
    return absl::InvalidArgumentError(
        Cat(flag, " wants a number > 0, not '", value, "'"));
  }
  return absl::OkStatus();
}

// "a,b,,c" -> {"a","b","c"}.
std::vector<std::string> SplitCommas(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = std::min(s.find(',', start), s.size());
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// The flags each operation takes (besides --timeout and --verbose).
bool Allowed(const std::string& op, std::string_view flag) {
  static const std::vector<std::pair<std::string_view, std::string_view>>
      kFlags = {
          {"serve", " --listen --db --ack-timeout --max-attempts --no-fsync "},
          {"register",
           " --dial --user --node --alias --proof-node --proof-secret "},
          {"post", " --dial --user --node --secret --to --data --count --id "},
          {"recv",
           " --dial --user --node --secret --count --recv-timeout --window "
           "--no-ack "},
      };
  if (flag == "--timeout" || flag == "--verbose") return true;
  for (const auto& [name, flags] : kFlags) {
    if (name == op) return flags.find(Cat(" ", flag, " ")) != flags.npos;
  }
  return false;
}

absl::StatusOr<QueueArgs> Parse(std::span<const std::string_view> args) {
  QueueArgs q;
  if (args.size() < 2 || (args[1] != "serve" && args[1] != "register" &&
                          args[1] != "post" && args[1] != "recv")) {
    return absl::InvalidArgumentError(
        "queue wants serve, register, post or recv (see --help)");
  }
  q.op = std::string(args[1]);
  absl::Status error;
  for (size_t i = 2; i < args.size(); ++i) {
    std::string_view flag = args[i].substr(0, args[i].find('='));
    if (!Allowed(q.op, flag)) {
      return absl::InvalidArgumentError(
          Cat("queue ", q.op, ": unknown argument '", args[i], "'"));
    }
    std::string v;
    auto take = [&](std::string_view name) {
      return TakeValue(args, i, name, &v, &error);
    };
    if (flag == "--no-fsync") {
      q.fsync = false;
    } else if (flag == "--no-ack") {
      q.no_ack = true;
    } else if (flag == "--verbose") {
      q.verbose = true;
    } else if (take("--listen")) {
      q.listen.push_back(v);
    } else if (take("--db")) {
      q.db = v;
    } else if (take("--dial")) {
      q.url = v;
    } else if (take("--user")) {
      q.user = v;
    } else if (take("--node")) {
      q.node = v;
    } else if (take("--secret")) {
      q.secret = v;
    } else if (take("--alias")) {
      q.aliases.push_back(v);
    } else if (take("--proof-node")) {
      q.proof_node = v;
    } else if (take("--proof-secret")) {
      q.proof_secret = v;
    } else if (take("--to")) {
      for (std::string& r : SplitCommas(v)) q.to.push_back(std::move(r));
    } else if (take("--data")) {
      q.data = v;
      q.has_data = true;
    } else if (take("--id")) {
      q.id = v;
    } else if (take("--count")) {
      if (error.ok()) error = Positive("--count", v, &q.count);
    } else if (take("--window")) {
      if (error.ok()) error = Positive("--window", v, &q.window);
    } else if (take("--max-attempts")) {
      if (error.ok()) error = Positive("--max-attempts", v, &q.max_attempts);
    } else if (take("--timeout")) {
      if (error.ok()) error = Seconds(v, &q.timeout);
    } else if (take("--recv-timeout")) {
      if (error.ok()) error = Seconds(v, &q.recv_timeout);
    } else if (take("--ack-timeout")) {
      if (error.ok()) error = Seconds(v, &q.ack_timeout);
    }
    if (!error.ok()) return error;
  }
  auto need = [&](bool ok, std::string_view what) {
    if (!ok && error.ok()) {
      error = absl::InvalidArgumentError(Cat("queue ", q.op, " needs ", what));
    }
  };
  if (q.op == "serve") {
    need(!q.listen.empty(), "--listen URL");
    need(!q.db.empty(), "--db FILE");
  } else {
    need(!q.url.empty(), "--dial URL");
    need(!q.user.empty(), "--user U");
    need(!q.node.empty(), "--node N");
    if (q.op != "register") need(!q.secret.empty(), "--secret S");
    need(q.proof_node.empty() == q.proof_secret.empty(),
         "both --proof-node and --proof-secret, or neither");
  }
  if (q.op == "post") {
    need(!q.to.empty(), "--to R[,R...]");
    need(q.has_data, "--data TEXT");
  }
  if (q.recv_timeout == absl::InfiniteDuration()) q.recv_timeout = q.timeout;
  if (!error.ok()) return error;
  return q;
}

// Prints the error's code and message; exit 1.
int Fail(std::string_view what, const absl::Status& st) {
  Complain(Cat(what, absl::StatusCodeToString(st.code()), ": ", st.message()));
  return kExitFailure;
}

void Line(const std::string& s) {
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

int Serve(const QueueArgs& q) {
  QueueServerOptions options;
  options.db_path = q.db;
  options.ack_timeout = q.ack_timeout;
  options.max_attempts = static_cast<uint32_t>(q.max_attempts);
  options.fsync = q.fsync;
  absl::StatusOr<std::unique_ptr<QueueServer>> server =
      QueueServer::Open(options);
  if (!server.ok())
    return Fail(Cat("cannot open ", q.db, ": "), server.status());
  for (const std::string& url : q.listen) {
    // Browsers speak JSON over text frames (C++ clients: use tcp or ipc).
    if (url.rfind("ws", 0) == 0) {
      (*server)->hub().Set(opt::kWsText, true).IgnoreError();
    }
  }
  for (const std::string& url : q.listen) {
    absl::StatusOr<std::string> bound = (*server)->Listen(url);
    if (!bound.ok()) {
      Fail(Cat("cannot listen on ", url, ": "), bound.status());
      return absl::IsInvalidArgument(bound.status()) ? kExitUsage
                                                     : kExitFailure;
    }
    std::printf("%s\n", bound->c_str());
  }
  std::fflush(stdout);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  int sig = 0;
  sigwait(&signals, &sig);
  if (q.verbose) {
    QueueStats s = (*server)->stats();
    Complain(Cat("posts ", s.posts, ", duplicates ", s.duplicates,
                 ", deliveries ", s.deliveries, ", acks ", s.acks, ", commits ",
                 s.commits));
  }
  (*server)->Close();
  return kExitOk;
}

QueueClientOptions ClientOptions(const QueueArgs& q) {
  QueueClientOptions options;
  // Over ws the hub speaks JSON in text frames (for browsers): so do we.
  options.rooms.json = q.url.rfind("ws", 0) == 0;
  options.window = static_cast<uint32_t>(q.window);
  return options;
}

// Connects (and logs in unless registering). Returns kExitOk or the exit code.
int Open(QueueClient& client, const QueueArgs& q, absl::Time deadline) {
  if (q.url.rfind("ws", 0) == 0) {
    client.rooms().Set(opt::kWsText, true).IgnoreError();
  }
  absl::Status st = client.Connect(q.url, deadline);
  if (!st.ok()) {
    Fail(Cat("cannot connect to ", q.url, ": "), st);
    return absl::IsInvalidArgument(st) ? kExitUsage : kExitFailure;
  }
  if (q.op == "register") return kExitOk;
  st = client.Login(q.user, q.node, q.secret, deadline);
  if (!st.ok()) return Fail(Cat("login as ", q.user, "/", q.node, ": "), st);
  return kExitOk;
}

int Register(const QueueArgs& q) {
  const absl::Time deadline = absl::Now() + q.timeout;
  QueueClient client(ClientOptions(q));
  if (int rc = Open(client, q, deadline); rc != kExitOk) return rc;
  absl::StatusOr<std::string> secret = client.Register(
      q.user, q.node, deadline, q.aliases, q.proof_node, q.proof_secret);
  if (!secret.ok()) return Fail("register: ", secret.status());
  Line(*secret);
  return kExitOk;
}

// Answers worth another try with the same client id: the post may or may not
// have been stored, and the client reconnects (and logs in) by itself.
bool Retryable(const absl::Status& st) {
  return absl::IsUnavailable(st) || absl::IsFailedPrecondition(st) ||
         absl::IsCancelled(st);
}

std::string RandomId() {
  std::random_device rd;
  std::uniform_int_distribution<uint64_t> dist;
  char buf[40];
  std::snprintf(buf, sizeof(buf), "cli-%016llx",
                static_cast<unsigned long long>(dist(rd)));
  return buf;
}

int Post(const QueueArgs& q) {
  absl::Time deadline = absl::Now() + q.timeout;
  QueueClient client(ClientOptions(q));
  if (int rc = Open(client, q, deadline); rc != kExitOk) return rc;
  const int64_t count = q.count < 0 ? 1 : q.count;
  const std::string id = q.id.empty() ? RandomId() : q.id;
  for (int64_t k = 1; k <= count; ++k) {
    PostOptions options;
    const std::string suffix = count > 1 ? Cat("-", k) : std::string();
    options.client_id = id + suffix;
    const std::string body = q.data + suffix;
    deadline = absl::Now() + q.timeout;
    absl::StatusOr<PostResult> r = client.Post(q.to, body, deadline, options);
    // Bounded by the deadline; the pause keeps a refusing (reconnecting)
    // client from spinning.
    while (!r.ok() && Retryable(r.status()) && absl::Now() < deadline) {
      if (q.verbose) Complain(Cat("post ", k, ": ", r.status().ToString()));
      absl::SleepFor(absl::Milliseconds(50));
      client.rooms().WaitConnected(deadline).IgnoreError();
      r = client.Post(q.to, body, deadline, options);
    }
    if (!r.ok()) {
      Fail(Cat("post ", k, " (client id ", options.client_id, "): "),
           r.status());
      return kExitFailure;
    }
    for (const std::string& e : r->errors) {
      Complain(Cat("post ", k, ": recipient skipped: ", e));
    }
    if (q.verbose) {
      Complain(Cat("post ", k, ": id ", r->id, ", ", r->nodes, " entries",
                   r->duplicate ? ", duplicate" : ""));
    }
    Line(std::to_string(r->id));
  }
  return kExitOk;
}

int Recv(const QueueArgs& q) {
  std::atomic<bool> stop{false};
  std::thread waiter([&stop] {
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    int sig = 0;
    sigwait(&signals, &sig);
    stop = true;
  });
  waiter.detach();  // the process ends with it blocked, or after a signal
  QueueClient client(ClientOptions(q));
  if (int rc = Open(client, q, absl::Now() + q.timeout); rc != kExitOk) {
    return rc;
  }
  std::set<uint64_t> printed;  // a redelivered entry is printed once
  absl::Time idle_until = absl::Now() + q.recv_timeout;
  while ((q.count < 0 || static_cast<int64_t>(printed.size()) < q.count) &&
         !stop) {
    // Short slices, so that a stop signal is seen within 0.2 s.
    const absl::Time now = absl::Now();
    if (now >= idle_until) break;
    absl::StatusOr<QueueMessage> m =
        client.Receive(std::min(idle_until, now + absl::Milliseconds(200)));
    if (absl::IsDeadlineExceeded(m.status())) continue;
    if (!m.ok()) return Fail("receive: ", m.status());
    if (q.verbose) {
      Complain(Cat("id ", m->id, " attempt ", m->attempt, " from ",
                   m->from_user, "/", m->from_node,
                   m->kind.empty() ? "" : " kind ", m->kind));
    }
    if (printed.insert(m->id).second) Line(m->body);
    if (!q.no_ack) {
      absl::Status st = client.Ack(m->id, absl::Now() + q.timeout);
      if (!st.ok()) return Fail(Cat("ack ", m->id, ": "), st);
    }
    idle_until = absl::Now() + q.recv_timeout;
  }
  if (q.count >= 0 && static_cast<int64_t>(printed.size()) < q.count) {
    Complain(Cat("got ", printed.size(), " of ", q.count, " messages"));
    return kExitFailure;
  }
  if (printed.empty() && !stop) {
    Complain("no message arrived");
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace

bool IsQueueCommand(std::string_view command) { return command == "queue"; }

int RunQueueCommand(std::span<const std::string_view> args) {
  // Before any thread starts, so that only sigwait sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  absl::StatusOr<QueueArgs> q = Parse(args);
  if (!q.ok()) {
    Complain(std::string(q.status().message()));
    std::fprintf(stderr, "Try 'msock --help' for more information.\n");
    return kExitUsage;
  }
  if (q->op == "serve") return Serve(*q);
  if (q->op == "register") return Register(*q);
  if (q->op == "post") return Post(*q);
  return Recv(*q);
}

std::string QueueHelpText() {
  return R"(
Durable queue (store-and-forward between users' nodes, kept in SQLite):
  msock queue serve --listen URL... --db FILE [--ack-timeout S]
        [--max-attempts N] [--no-fsync]
      Serves the queue stored in FILE (created if missing) until SIGINT or
      SIGTERM; prints each bound URL on its own line. An entry not acked
      within --ack-timeout (default 10) is sent again; after --max-attempts
      (default 10) it goes to the dead letters. --no-fsync: faster, NOT
      durable (a crash may lose acknowledged posts).
  msock queue register --dial URL --user U --node N [--alias A]...
        [--proof-node P --proof-secret S]
      Registers user U with its first node N, or adds node N to U (proving
      with the secret of U's node P); prints the new node's secret.
  msock queue post --dial URL --user U --node N --secret S --to R[,R...]
        --data TEXT [--count K] [--id CLIENT_ID]
      Posts K messages (default 1; bodies TEXT-1..TEXT-K when K > 1) to each
      R: a user, @alias or #list. Prints each message id once it is durable;
      exits 0 only if every post was acknowledged. A post whose answer was
      lost is retried with the same client id (stored once); --id sets it
      (CLIENT_ID-1..K when K > 1), so re-running the command is idempotent.
  msock queue recv --dial URL --user U --node N --secret S [--count K]
        [--recv-timeout S] [--window N] [--no-ack]
      Prints each delivered body on its own line (once, even if redelivered),
      then acks it (waiting until the ack is durable); stops after K
      messages or --recv-timeout seconds without one (default: --timeout).
      Exit 1 if fewer than K (or none) arrived. --window: deliveries in
      flight; --no-ack: leave them queued.
  --timeout SECONDS: connecting and each request (default 10). --verbose:
  details on standard error.
  Example:
    msock queue serve --listen tcp://127.0.0.1:5700 --db /tmp/q.db &
    S=$(msock queue register --dial tcp://127.0.0.1:5700 --user bob --node pc)
    msock queue post --dial tcp://127.0.0.1:5700 --user bob --node pc \
        --secret "$S" --to bob --data hi
)";
}

}  // namespace msock::cli
