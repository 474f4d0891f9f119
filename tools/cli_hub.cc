// tools/cli_hub.cc: `msock hub` and `msock call` (see cli_hub.h).
//
// The hub waits in sigwait for SIGINT / SIGTERM (blocked before the hub
// starts its threads, so that only sigwait sees them), then closes. `call`
// connects as a RoomsClient, makes one call and prints its answer, or the
// error (code name and message) on standard error with exit status 1.
#include "tools/cli_hub.h"

#include <signal.h>
#include <string.h>

#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "msock/protocols/inspector.h"
#include "msock/protocols/rooms.h"
#include "msock/protocols/services.h"
#include "msock/protocols/topics.h"
#include "msock/static_files.h"
#include "tools/cli_run.h"
#include "tools/cli_text.h"

namespace msock::cli {

bool TakeValue(std::span<const std::string_view> args, size_t& i,
               std::string_view name, std::string* value, absl::Status* error) {
  std::string_view a = args[i];
  if (a.size() > name.size() && a.substr(0, name.size()) == name &&
      a[name.size()] == '=') {
    *value = std::string(a.substr(name.size() + 1));
    return true;
  }
  if (a != name) return false;
  if (i + 1 >= args.size()) {
    *error = absl::InvalidArgumentError(Cat(name, " needs a value"));
    return true;
  }
  *value = std::string(args[++i]);
  return true;
}

namespace {

struct HubArgs {
  std::vector<std::string> listen;
  bool allow_client_topics = false;
  bool inspector = false;
  std::string inspector_dir = MSOCK_CLIENTS_JS_DIR;  // clients/js
  bool verbose = false;
};

struct CallArgs {
  std::string url;
  std::string service;
  std::string args;  // ARGS_JSON, passed as is
  absl::Duration timeout = absl::Seconds(10);
};

absl::StatusOr<HubArgs> ParseHub(std::span<const std::string_view> args) {
  HubArgs h;
  absl::Status error;
  for (size_t i = 1; i < args.size(); ++i) {
    std::string value;
    if (TakeValue(args, i, "--listen", &value, &error)) {
      if (!error.ok()) return error;
      h.listen.push_back(value);
    } else if (args[i] == "--allow-client-topics") {
      h.allow_client_topics = true;
    } else if (args[i] == "--inspector") {
      h.inspector = true;
    } else if (args[i].substr(0, 12) == "--inspector=") {
      h.inspector = true;
      h.inspector_dir = std::string(args[i].substr(12));
    } else if (args[i] == "--verbose" || args[i] == "-v") {
      h.verbose = true;
    } else {
      return absl::InvalidArgumentError(
          Cat("hub: unknown argument '", args[i], "'"));
    }
  }
  if (h.listen.empty()) {
    return absl::InvalidArgumentError("hub needs --listen URL");
  }
  return h;
}

absl::StatusOr<CallArgs> ParseCall(std::span<const std::string_view> args) {
  CallArgs c;
  std::vector<std::string> positional;
  absl::Status error;
  for (size_t i = 1; i < args.size(); ++i) {
    std::string value;
    if (TakeValue(args, i, "--dial", &value, &error)) {
      if (!error.ok()) return error;
      if (!c.url.empty()) {
        return absl::InvalidArgumentError("call takes one --dial URL");
      }
      c.url = value;
    } else if (TakeValue(args, i, "--timeout", &value, &error) ||
               TakeValue(args, i, "--recv-timeout", &value, &error)) {
      if (!error.ok()) return error;
      double seconds = 0;
      if (!absl::SimpleAtod(value, &seconds) || !std::isfinite(seconds) ||
          seconds <= 0 || seconds > 1e9) {
        return absl::InvalidArgumentError(
            Cat("'", value, "' is not a number of seconds (e.g. 1 or 0.25)"));
      }
      c.timeout = absl::Seconds(seconds);
    } else if (args[i].size() > 1 && args[i][0] == '-' && positional.empty()) {
      return absl::InvalidArgumentError(
          Cat("call: unknown option '", args[i], "'"));
    } else {
      positional.emplace_back(args[i]);
    }
  }
  if (c.url.empty()) return absl::InvalidArgumentError("call needs --dial URL");
  if (positional.empty() || positional.size() > 2) {
    return absl::InvalidArgumentError(
        "call takes SERVICE and optionally ARGS_JSON");
  }
  c.service = positional[0];
  if (positional.size() == 2) c.args = positional[1];
  return c;
}

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    const auto u = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", u);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

// {"name": ["provider", ...]}, "(hub)" for the hub's own services.
std::string ServicesJson(const std::vector<ServiceInfo>& list) {
  std::string out = "{";
  for (const ServiceInfo& s : list) {
    if (out.size() > 1) out += ",";
    out += JsonString(s.name) + ":[";
    std::vector<std::string> who = s.providers;
    if (s.hub) who.insert(who.begin(), "(hub)");
    for (size_t i = 0; i < who.size(); ++i) {
      out += (i > 0 ? "," : "") + JsonString(who[i]);
    }
    out += "]";
  }
  return out + "}";
}

// Serves `dir` (clients/js) at /inspector on the port of ws URL `bound` and
// tells where the page is (on standard error: standard output lists the
// bound URLs only).
absl::StatusOr<std::unique_ptr<StaticFiles>> ServeInspector(
    const std::string& bound, const std::string& dir) {
  const size_t host = bound.find("://") + 3;
  const size_t path = bound.find('/', host);
  const std::string base = bound.substr(0, path);
  absl::StatusOr<std::unique_ptr<StaticFiles>> files =
      StaticFiles::Serve(base + "/inspector", dir);
  if (files.ok()) {
    Complain(Cat("inspector: ", (*files)->url(), "inspector.html?hub=", bound));
  }
  return files;
}

int RunHub(const HubArgs& h) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  Hub hub;
  HubServices services(hub);
  services
      .Provide("hub.echo",
               [](const ServiceCall& c) -> absl::StatusOr<std::string> {
                 return c.args;
               })
      .IgnoreError();
  services
      .Provide("hub.clients",
               [&hub](const ServiceCall&) -> absl::StatusOr<std::string> {
                 std::string out = "[";
                 for (const std::string& id : hub.Clients()) {
                   if (out.size() > 1) out += ",";
                   out += JsonString(id);
                 }
                 return out + "]";
               })
      .IgnoreError();
  TopicHostOptions topic_options;
  topic_options.allow_client_topics = h.allow_client_topics;
  TopicHost topics(hub, topic_options);
  std::unique_ptr<HubInspector> inspector;
  if (h.inspector) {
    InspectorOptions io;
    io.services_json = [&services] { return ServicesJson(services.List()); };
    inspector = std::make_unique<HubInspector>(hub, topics, io);
  }
  for (const std::string& url : h.listen) {
    // Browsers speak JSON over text frames (C++ clients: use tcp or ipc).
    if (url.rfind("ws", 0) == 0) hub.Set(opt::kWsText, true).IgnoreError();
  }
  if (h.verbose) WatchPipes(hub.socket(), "");
  std::vector<std::unique_ptr<StaticFiles>> pages;
  for (const std::string& url : h.listen) {
    absl::StatusOr<std::string> bound = hub.Listen(url);
    if (!bound.ok()) {
      Complain(Cat("cannot listen on ", url, ": ", bound.status().ToString()));
      return absl::IsInvalidArgument(bound.status()) ? kExitUsage
                                                     : kExitFailure;
    }
    std::printf("%s\n", bound->c_str());
    if (h.inspector && bound->rfind("ws", 0) == 0) {
      absl::StatusOr<std::unique_ptr<StaticFiles>> page =
          ServeInspector(*bound, h.inspector_dir);
      if (!page.ok()) {
        Complain(Cat("inspector: ", page.status().ToString()));
        return kExitFailure;
      }
      pages.push_back(*std::move(page));
    }
  }
  std::fflush(stdout);
  int sig = 0;
  sigwait(&signals, &sig);
  if (h.verbose) Complain(Cat("stopped by ", strsignal(sig)));
  hub.Close();
  return kExitOk;
}

int RunCall(const CallArgs& c) {
  const absl::Time deadline = absl::Now() + c.timeout;
  // Over ws the hub speaks JSON in text frames (for browsers): so do we.
  RoomsClientOptions rooms_options;
  rooms_options.json = c.url.rfind("ws", 0) == 0;
  RoomsClient client(rooms_options);
  if (rooms_options.json) client.Set(opt::kWsText, true).IgnoreError();
  absl::StatusOr<std::string> id = client.Connect(c.url, deadline);
  if (!id.ok()) {
    Complain(Cat("cannot connect to ", c.url, ": ",
                 absl::StatusCodeToString(id.status().code()), ": ",
                 id.status().message()));
    return absl::IsInvalidArgument(id.status()) ? kExitUsage : kExitFailure;
  }
  ServicesClient services(client);
  absl::StatusOr<std::string> answer =
      services.Call(c.service, c.args, deadline);
  if (!answer.ok()) {
    Complain(Cat(absl::StatusCodeToString(answer.status().code()), ": ",
                 answer.status().message()));
    return kExitFailure;
  }
  std::fwrite(answer->data(), 1, answer->size(), stdout);
  std::fputc('\n', stdout);
  return std::fflush(stdout) == 0 ? kExitOk : kExitFailure;
}

}  // namespace

bool IsHubCommand(std::string_view command) {
  return command == "hub" || command == "call";
}

int RunHubCommand(std::span<const std::string_view> args) {
  if (args[0] == "hub") {
    absl::StatusOr<HubArgs> h = ParseHub(args);
    if (h.ok()) return RunHub(*h);
    Complain(std::string(h.status().message()));
  } else {
    absl::StatusOr<CallArgs> c = ParseCall(args);
    if (c.ok()) return RunCall(*c);
    Complain(std::string(c.status().message()));
  }
  std::fprintf(stderr, "Try 'msock --help' for more information.\n");
  return kExitUsage;
}

std::string HubHelpText() {
  return R"(
Rooms hub and services:
  msock hub --listen URL... [--allow-client-topics] [--inspector]
      Runs a hub (rooms and services) until SIGINT or SIGTERM; prints each
      bound URL on its own line. Provides hub.echo (returns its arguments) and
      hub.clients (the connected client ids as a JSON array), and topics
      (clients may create them with --allow-client-topics). A ws:// listener
      speaks JSON text frames (browsers); C++ clients use tcp or ipc.
      --inspector[=DIR] serves the live inspector page (DIR: clients/js) at
      /inspector on each ws:// port and prints its URL on standard error.
  msock call --dial URL SERVICE [ARGS_JSON] [--timeout SECONDS]
      Calls SERVICE on the hub at URL with ARGS_JSON (passed as is) and prints
      the answer on one line; on error prints its code and message on
      standard error and exits 1. --timeout (or --recv-timeout): default 10.
  Example:
    msock hub --listen tcp://127.0.0.1:5600 &
    msock call --dial tcp://127.0.0.1:5600 hub.echo '{"x":1}'
)";
}

}  // namespace msock::cli
