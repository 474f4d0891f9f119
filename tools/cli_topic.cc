// tools/cli_topic.cc: `msock topic` (see cli_topic.h): one TopicsClient on a
// RoomsClient, one operation. `watch` prints from the change callback's
// events, handed to the main thread through a queue; it stops after --count
// changes, or on SIGINT / SIGTERM (waited for with sigwait in a thread).
#include "tools/cli_topic.h"

#include <signal.h>

#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "msock/protocols/rooms.h"
#include "msock/protocols/topics.h"
#include "tools/cli_hub.h"
#include "tools/cli_run.h"
#include "tools/cli_text.h"

namespace msock::cli {
namespace {

struct TopicArgs {
  std::string url;
  std::vector<std::string> words;  // OP NAME [TYPE | CHANGE_JSON]
  int64_t count = -1;              // watch: changes to print, -1 = no end
  absl::Duration timeout = absl::Seconds(10);
};

absl::StatusOr<TopicArgs> Parse(std::span<const std::string_view> args) {
  TopicArgs t;
  absl::Status error;
  for (size_t i = 1; i < args.size(); ++i) {
    std::string value;
    if (TakeValue(args, i, "--dial", &value, &error)) {
      if (!error.ok()) return error;
      t.url = value;
    } else if (TakeValue(args, i, "--count", &value, &error)) {
      if (!error.ok()) return error;
      if (!absl::SimpleAtoi(value, &t.count) || t.count < 0) {
        return absl::InvalidArgumentError(
            Cat("--count wants a number >= 0, not '", value, "'"));
      }
    } else if (TakeValue(args, i, "--timeout", &value, &error)) {
      if (!error.ok()) return error;
      double s = 0;
      if (!absl::SimpleAtod(value, &s) || !std::isfinite(s) || s <= 0) {
        return absl::InvalidArgumentError(
            Cat("'", value, "' is not a number of seconds"));
      }
      t.timeout = absl::Seconds(s);
    } else if (args[i].size() > 1 && args[i][0] == '-' && t.words.size() < 2) {
      return absl::InvalidArgumentError(
          Cat("topic: unknown option '", args[i], "'"));
    } else {
      t.words.emplace_back(args[i]);
    }
  }
  if (t.url.empty())
    return absl::InvalidArgumentError("topic needs --dial URL");
  static constexpr std::pair<std::string_view, size_t> kOps[] = {
      {"create", 3}, {"get", 2}, {"apply", 3}, {"watch", 2}};
  for (const auto& [op, n] : kOps) {
    if (!t.words.empty() && t.words[0] == op) {
      if (t.words.size() != n) {
        return absl::InvalidArgumentError(
            Cat("topic ", op, ": wrong number of arguments (see --help)"));
      }
      return t;
    }
  }
  return absl::InvalidArgumentError(
      "topic wants create, get, apply or watch (see --help)");
}

// Prints the error; exit 1 (a hub's refusal), or 2 for a bad URL (`usage`).
int Fail(const absl::Status& st, bool usage = false) {
  Complain(Cat(absl::StatusCodeToString(st.code()), ": ", st.message()));
  return usage && absl::IsInvalidArgument(st) ? kExitUsage : kExitFailure;
}

void Line(const std::string& s) {
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

// Prints the snapshot, then every applied change, until `count` changes or a
// stop signal.
int Watch(TopicsClient& topics, const std::string& name, int64_t count,
          absl::Time deadline) {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::string> lines;
  int64_t changes = 0;
  bool stop = false;
  topics.OnChange(name, [&](const TopicEvent& ev) {
    std::lock_guard<std::mutex> lock(mu);
    if (ev.kind == TopicEvent::Kind::kSnapshot) {
      lines.push_back(ev.value_json);
    } else if (ev.kind == TopicEvent::Kind::kApplied) {
      for (const std::string& c : ev.changes_json) lines.push_back(c);
    } else if (ev.kind == TopicEvent::Kind::kRolledBack &&
               absl::IsNotFound(ev.status)) {
      stop = true;  // the topic was removed
    }
    cv.notify_all();
  });
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    std::lock_guard<std::mutex> lock(mu);
    stop = true;
    cv.notify_all();
  });
  waiter.detach();  // the process ends with it blocked, or after a signal
  absl::Status st = topics.Subscribe(name, deadline);
  if (!st.ok()) return Fail(st);
  bool first = true;  // the snapshot line does not count
  std::unique_lock<std::mutex> lock(mu);
  for (;;) {
    cv.wait(lock, [&] { return stop || !lines.empty(); });
    while (!lines.empty()) {
      if (count >= 0 && changes >= count) return kExitOk;
      Line(lines.front());
      lines.pop_front();
      if (!first) ++changes;
      first = false;
    }
    if (count >= 0 && changes >= count) return kExitOk;
    if (stop) return kExitOk;
  }
}

int Run(const TopicArgs& t) {
  const absl::Time deadline = absl::Now() + t.timeout;
  // Over ws the hub speaks JSON in text frames (for browsers): so do we.
  RoomsClientOptions rooms_options;
  rooms_options.json = t.url.rfind("ws", 0) == 0;
  RoomsClient client(rooms_options);
  if (rooms_options.json) client.Set(opt::kWsText, true).IgnoreError();
  absl::StatusOr<std::string> id = client.Connect(t.url, deadline);
  if (!id.ok()) return Fail(id.status(), /*usage=*/true);
  TopicsClient topics(client);
  const std::string& op = t.words[0];
  const std::string& name = t.words[1];
  if (op == "create") {
    absl::StatusOr<TopicType> type = TopicTypeFromName(t.words[2]);
    if (!type.ok()) return Fail(type.status(), /*usage=*/true);
    absl::Status st = topics.Create(name, *type, deadline);
    return st.ok() ? kExitOk : Fail(st);
  }
  if (op == "get") {
    absl::StatusOr<std::string> value = topics.Fetch(name, deadline);
    if (!value.ok()) return Fail(value.status());
    Line(*value);
    return kExitOk;
  }
  if (op == "apply") {
    std::vector<uint64_t> versions;
    absl::Status st =
        topics.Apply({Change{name, t.words[2]}}, deadline, &versions);
    if (!st.ok()) return Fail(st);
    Line(std::to_string(versions.empty() ? 0 : versions[0]));
    return kExitOk;
  }
  return Watch(topics, name, t.count, deadline);
}

}  // namespace

bool IsTopicCommand(std::string_view command) { return command == "topic"; }

int RunTopicCommand(std::span<const std::string_view> args) {
  // Before any thread starts, so that only the watcher's sigwait sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  absl::StatusOr<TopicArgs> t = Parse(args);
  if (t.ok()) return Run(*t);
  Complain(std::string(t.status().message()));
  std::fprintf(stderr, "Try 'msock --help' for more information.\n");
  return kExitUsage;
}

std::string TopicHelpText() {
  return R"(
Topics (state on a hub, see `msock hub`):
  msock topic --dial URL create NAME TYPE
      TYPE: generic, string, int, float, bool, set, list, dict, event (the
      hub must allow it: msock hub --allow-client-topics).
  msock topic --dial URL get NAME
      Prints the topic's value as JSON on one line.
  msock topic --dial URL apply NAME CHANGE_JSON
      Applies one change, e.g. '{"type":"add","value":1}' or
      '{"type":"insert","item":"x","position":-1}', and prints the topic's
      new version; a refusal prints its code and reason and exits 1.
  msock topic --dial URL watch NAME [--count N]
      Prints the value, then each applied change (one JSON line each), until
      N changes (default: until SIGINT or SIGTERM).
  --timeout SECONDS: connecting and each request (default 10).
  Example:
    msock hub --listen tcp://127.0.0.1:5600 --allow-client-topics &
    msock topic --dial tcp://127.0.0.1:5600 create n int
    msock topic --dial tcp://127.0.0.1:5600 apply n '{"type":"add","value":2}'
)";
}

}  // namespace msock::cli
