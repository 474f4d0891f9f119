// tests/browser/topics_hub_peer.cc: the hub of the browser topics test
// (run_topics.mjs): an msock::Hub on ws (text frames; the test page and
// clients/js served over http on the same port) and on tcp, with an
// msock::TopicHost holding "todo" (list), "counter" (int) and "note"
// (string), msock::HubServices, and a C++ RoomsClient over tcp with a
// TopicsClient that edits the topics when told and a ServicesClient that
// provides "cpp.upper" (its args in ASCII upper case) and calls the pages'
// services when told.
//
//   topics_hub_peer --root REPO [--lifetime-s S]
//
// Prints "ready ws://127.0.0.1:PORT/hub http://127.0.0.1:PORT/tests/browser/
// topics_page.html" once its client has subscribed the topics, then reads
// commands on stdin, one a line, until stdin closes (or S seconds, default
// 300):
//   edit N   the C++ client sends N actions appending "cpp-<i>" to todo and N
//            adding 1 to counter, all in flight at once; prints "edited N"
//            once the hub accepted them all (else "edit failed: <status>").
//   type N   the C++ client inserts "[cpp-<i>]" at the start of note N
//            times, all in flight at once; prints "typed N" (or "type
//            failed: <status>").
//   call S A the C++ client calls service S with args A; prints "called S
//            <answer>" or "call S failed <code> <message>".
//   values   waits (5 s at most) until the C++ replica has the hub's
//            versions, then prints "values {"hub":{...},"cpp":{...}}": per
//            side {"todo":value,"counter":value,"note":value,"versions":{...}}.
// The hub's validator on todo refuses a value with an item containing
// "forbidden": kPermissionDenied "no forbidden items". The hub event "kick"
// closes the sender's connection (to test a page's resubscribe). Each call of
// cpp.upper prints "served cpp.upper for <caller> within <ms>" (<ms>: how long
// the caller waits, -1 if it did not say).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "msock/msock.h"
#include "msock/protocols/services.h"
#include "msock/protocols/topics.h"
#include "peer_common.h"

namespace {

using msock_browser::Die;
using msock_browser::Say;

constexpr const char* kTopics[] = {"todo", "counter", "note"};

void SetUpHub(msock::Hub& hub) {
  auto guests = std::make_shared<std::atomic<int>>(0);
  hub.OnConnect([guests](const msock::ConnectRequest& req)
                    -> absl::StatusOr<std::string> {
    if (!req.previous_id.empty()) return req.previous_id;
    if (!req.want_id.empty()) return req.want_id;
    return "guest-" + std::to_string(++*guests);
  });
  msock_browser::AddKickEvent(hub);
}

void SetUpTopics(msock::TopicHost& topics) {
  absl::Status st = topics.Create("todo", msock::TopicType::kList);
  if (st.ok()) st = topics.Create("counter", msock::TopicType::kInt);
  if (st.ok()) st = topics.Create("note", msock::TopicType::kString);
  if (st.ok()) {
    st = topics.Validate("todo", [](const msock::TopicProposal& p) {
      return p.value_json.find("forbidden") == std::string::npos
                 ? absl::OkStatus()
                 : absl::PermissionDeniedError("no forbidden items");
    });
  }
  if (!st.ok()) Die("create topics", st);
}

// Sends `changes`, one action each, all in flight at once; prints
// "<verb> N" once the hub accepted them all (else "<failed>: <status>").
void ApplyAll(msock::TopicsClient& replica, std::vector<msock::Change> changes,
              const std::string& done_line, const std::string& failed) {
  struct Tally {
    std::mutex mu;
    size_t left = 0;
    absl::Status first;
  };
  auto tally = std::make_shared<Tally>();
  tally->left = changes.size();
  auto done = [tally, done_line, failed](absl::Status verdict) {
    std::lock_guard<std::mutex> lock(tally->mu);
    if (!verdict.ok() && tally->first.ok()) tally->first = verdict;
    if (--tally->left > 0) return;
    Say(tally->first.ok() ? done_line
                          : failed + ": " + tally->first.ToString());
  };
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  for (const msock::Change& c : changes) {
    absl::Status sent = replica.ApplyAsync({c}, deadline, done);
    if (!sent.ok()) done(sent);  // `done` does not run on an error here
  }
}

// N list appends and N increments.
void Edit(msock::TopicsClient& replica, int n) {
  std::vector<msock::Change> changes;
  for (int i = 0; i < n; ++i) {
    changes.push_back(msock::changes::ListInsert(
        "todo", -1, "\"cpp-" + std::to_string(i) + "\""));
    changes.push_back(msock::changes::Add("counter", 1));
  }
  ApplyAll(replica, std::move(changes), "edited " + std::to_string(n),
           "edit failed");
}

// N inserts at the start of the string.
void Type(msock::TopicsClient& replica, int n) {
  std::vector<msock::Change> changes;
  for (int i = 0; i < n; ++i) {
    changes.push_back(msock::changes::InsertText(
        "note", 0, "[cpp-" + std::to_string(i) + "]"));
  }
  ApplyAll(replica, std::move(changes), "typed " + std::to_string(n),
           "type failed");
}

// {"todo":...,"counter":...,"note":...,"versions":{...}} of one side.
std::string SideJson(const std::function<std::string(const char*)>& value,
                     const std::function<uint64_t(const char*)>& version) {
  std::string values, versions;
  for (const char* name : kTopics) {
    const std::string sep = values.empty() ? "" : ",";
    values += sep + "\"" + name + "\":" + value(name);
    versions += sep + "\"" + name + "\":" + std::to_string(version(name));
  }
  return "{" + values + ",\"versions\":{" + versions + "}}";
}

// Signalled on every event of the C++ replica.
struct Changed {
  std::mutex mu;
  std::condition_variable cv;
  uint64_t events = 0;
};

void PrintValues(msock::TopicHost& topics, msock::TopicsClient& replica,
                 Changed& changed) {
  auto hub_version = [&](const char* name) {
    return topics.Version(name).value_or(0);
  };
  auto cpp_version = [&](const char* name) {
    return replica.Version(name).value_or(0);
  };
  {
    // The replica gets the hub's last updates (each one signals `changed`).
    std::unique_lock<std::mutex> lock(changed.mu);
    changed.cv.wait_for(lock, std::chrono::seconds(5), [&] {
      for (const char* name : kTopics) {
        if (cpp_version(name) != hub_version(name)) return false;
      }
      return true;
    });
  }
  const std::string hub = SideJson(
      [&](const char* name) { return topics.Value(name).value_or("null"); },
      hub_version);
  const std::string cpp = SideJson(
      [&](const char* name) { return replica.Value(name).value_or("null"); },
      cpp_version);
  Say("values {\"hub\":" + hub + ",\"cpp\":" + cpp + "}");
}

absl::StatusOr<std::string> Upper(const msock::ServiceCall& call) {
  const int64_t ms = call.timeout == absl::InfiniteDuration()
                         ? -1
                         : absl::ToInt64Milliseconds(call.timeout);
  Say("served cpp.upper for " + call.caller + " within " + std::to_string(ms));
  return absl::AsciiStrToUpper(call.args);
}

void Call(msock::ServicesClient& services, const std::string& command) {
  const size_t space = command.find(' ');
  const std::string name = command.substr(0, space);
  const std::string args =
      space == std::string::npos ? "" : command.substr(space + 1);
  absl::StatusOr<std::string> answer =
      services.Call(name, args, absl::Now() + absl::Seconds(5));
  Say(answer.ok()
          ? "called " + name + " " + *answer
          : "call " + name + " failed " +
                std::to_string(static_cast<int>(answer.status().code())) + " " +
                std::string(answer.status().message()));
}

}  // namespace

int main(int argc, char** argv) {
  const std::string root =
      msock_browser::StartPeer(argc, argv, "topics_hub_peer");

  msock::HubOptions options;
  options.threads = 4;
  msock::Hub hub(options);
  SetUpHub(hub);
  msock::TopicHost topics(hub);
  SetUpTopics(topics);
  msock::HubServices hub_services(hub);
  std::vector<std::unique_ptr<msock::StaticFiles>> files;
  const auto [base, tcp_url] =
      msock_browser::ListenForBrowsers(hub, root, files);

  msock::RoomsClientOptions client_options;
  client_options.want_id = "cpp";
  msock::RoomsClient client(client_options);
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  absl::StatusOr<std::string> id = client.Connect(tcp_url, deadline);
  if (!id.ok()) Die("client connect " + tcp_url, id.status());
  msock::TopicsClient replica(client);
  Changed changed;
  replica.OnChange("", [&changed](const msock::TopicEvent&) {
    std::lock_guard<std::mutex> lock(changed.mu);
    changed.events++;
    changed.cv.notify_all();
  });
  for (const char* name : kTopics) {
    absl::Status st = replica.Subscribe(name, deadline);
    if (!st.ok()) Die(std::string("subscribe ") + name, st);
  }

  msock::ServicesClient services(client);
  absl::Status provided = services.Provide("cpp.upper", Upper, deadline);
  if (!provided.ok()) Die("provide cpp.upper", provided);

  Say(msock_browser::ReadyLine(base, "topics_page.html"));
  std::string line;
  // Serves until the test closes our stdin (or the lifetime thread ends us).
  while (std::getline(std::cin, line)) {
    if (line.rfind("edit ", 0) == 0) {
      const int n = std::atoi(line.c_str() + 5);
      Edit(replica, n);
    } else if (line.rfind("type ", 0) == 0) {
      Type(replica, std::atoi(line.c_str() + 5));
    } else if (line.rfind("call ", 0) == 0) {
      Call(services, line.substr(5));
    } else if (line == "values") {
      PrintValues(topics, replica, changed);
    } else if (!line.empty()) {
      Say("unknown command: " + line);
    }
  }
  client.Close();
  hub.Close();
  return 0;
}
