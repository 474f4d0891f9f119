// examples/todo/todo.cc: a shared to-do list on msock topics, for C++ and
// browser clients alike.
//
// Usage:
//   todo serve [--port P] [--root DIR]   hub on ws://127.0.0.1:P/hub (text
//        frames, for the page) and tcp://127.0.0.1:P+1 (C++ clients); serves
//        the page at http://127.0.0.1:P/todo/ and the hub inspector at
//        http://127.0.0.1:P/js/inspector.html; until SIGINT / SIGTERM
//   todo add URL TEXT...   adds items (one atomic action) and prints the list
//   todo done URL TEXT     marks an item done (moves it to the "done" set)
//   todo selftest          a hub and two clients in one process; exit 0 if
//                          they agree (used by the example test)
// Topics: "todo" (a list of strings; the hub refuses empty or long items and
// more than 100) and "done" (a set).
#include <signal.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "msock/msock.h"

#ifndef MSOCK_EXAMPLE_ROOT
#define MSOCK_EXAMPLE_ROOT "."
#endif

namespace {

absl::Time Soon() { return absl::Now() + absl::Seconds(5); }

// The hub's rules for the list: an item is 1..200 bytes, at most 100 items.
void AddTopics(msock::TopicHost& topics) {
  topics.Create("todo", msock::TopicType::kList).IgnoreError();
  topics.Create("done", msock::TopicType::kSet).IgnoreError();
  topics
      .Validate(
          "todo",
          [](const msock::TopicProposal& p) -> absl::Status {
            if (p.change_json.find("\"item\":\"\"") != std::string::npos) {
              return absl::InvalidArgumentError("empty item");
            }
            if (p.change_json.size() > 400) {
              return absl::InvalidArgumentError("item too long");
            }
            if (p.value_json.size() > 100 * 210) {
              return absl::ResourceExhaustedError("the list is full");
            }
            return absl::OkStatus();
          })
      .IgnoreError();
}

int Serve(int port, const std::string& root) {
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  msock::Hub hub;
  hub.Set(msock::opt::kWsText, true).IgnoreError();  // browsers speak JSON
  msock::TopicHost topics(hub);
  AddTopics(topics);
  msock::HubInspector inspector(hub, topics);
  const std::string base = "ws://127.0.0.1:" + std::to_string(port);
  absl::StatusOr<std::string> ws = hub.Listen(base + "/hub");
  absl::StatusOr<std::string> tcp =
      hub.Listen("tcp://127.0.0.1:" + std::to_string(port + 1));
  if (!ws.ok() || !tcp.ok()) {
    std::fprintf(stderr, "todo: listen: %s\n",
                 (!ws.ok() ? ws.status() : tcp.status()).ToString().c_str());
    return 1;
  }
  auto page =
      msock::StaticFiles::Serve(base + "/todo", root + "/examples/todo");
  auto js = msock::StaticFiles::Serve(base + "/js", root + "/clients/js");
  if (!page.ok() || !js.ok()) {
    std::fprintf(stderr, "todo: serve pages: %s\n",
                 (!page.ok() ? page.status() : js.status()).ToString().c_str());
    return 1;
  }
  std::printf(
      "page:      %s\ninspector: %sinspector.html?hub=%s\nC++:       %s\n",
      (*page)->url().c_str(), (*js)->url().c_str(), ws->c_str(), tcp->c_str());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&stop, &sig);
  return 0;
}

int Edit(const std::string& url, const std::vector<msock::Change>& action) {
  msock::RoomsClient conn;
  absl::Status st = conn.Connect(url, Soon()).status();
  msock::TopicsClient replica(conn);
  if (st.ok()) st = replica.Subscribe("todo", Soon());
  if (st.ok()) st = replica.Apply(action, Soon());
  if (!st.ok()) {
    std::fprintf(stderr, "todo: %s\n", st.ToString().c_str());
    return 1;
  }
  std::printf("%s\n", replica.Value("todo").value_or("?").c_str());
  return 0;
}

std::string Quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

int SelfTest() {
  msock::Hub hub;
  msock::TopicHost topics(hub);
  AddTopics(topics);
  std::string url = hub.Listen("tcp://127.0.0.1:0").value_or("");
  msock::RoomsClient a_conn, b_conn;
  if (!a_conn.Connect(url, Soon()).ok() || !b_conn.Connect(url, Soon()).ok()) {
    return 1;
  }
  msock::TopicsClient a(a_conn), b(b_conn);
  std::mutex mu;
  std::condition_variable cv;
  for (msock::TopicsClient* c : {&a, &b}) {
    c->OnChange("todo", [&](const msock::TopicEvent&) {
      std::lock_guard<std::mutex> lock(mu);
      cv.notify_all();
    });
  }
  if (!a.Subscribe("todo", Soon()).ok() || !b.Subscribe("todo", Soon()).ok()) {
    return 1;
  }
  bool ok =
      a.Apply({msock::changes::ListInsert("todo", -1, "\"milk\"")}, Soon())
          .ok() &&
      b.Apply({msock::changes::ListInsert("todo", -1, "\"eggs\"")}, Soon())
          .ok();
  // The hub refuses an empty item; the list is unchanged.
  ok = ok && absl::IsInvalidArgument(a.Apply(
                 {msock::changes::ListInsert("todo", 0, "\"\"")}, Soon()));
  const std::string want = R"(["milk","eggs"])";
  {  // each item reaches the other's replica by itself: wait for both
    std::unique_lock<std::mutex> lock(mu);
    cv.wait_for(lock, std::chrono::seconds(5), [&] {
      return a.Value("todo").value_or("") == want &&
             b.Value("todo").value_or("") == want;
    });
  }
  ok = ok && topics.Value("todo").value_or("") == want &&
       a.Value("todo").value_or("") == want &&
       b.Value("todo").value_or("") == want;
  std::printf("selftest: %s %s\n", topics.Value("todo").value_or("?").c_str(),
              ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  const std::string cmd = argc > 1 ? argv[1] : "";
  if (cmd == "serve") {
    int port = 8090;
    std::string root = MSOCK_EXAMPLE_ROOT;
    for (int i = 2; i + 1 < argc; i += 2) {
      const std::string flag = argv[i];
      if (flag == "--port") port = std::atoi(argv[i + 1]);
      if (flag == "--root") root = argv[i + 1];
    }
    return Serve(port, root);
  }
  if ((cmd == "add" || cmd == "done") && argc > 3) {
    std::vector<msock::Change> action;
    for (int i = 3; i < argc; ++i) {
      if (cmd == "add") {
        action.push_back(
            msock::changes::ListInsert("todo", -1, Quoted(argv[i])));
      } else {
        action.push_back(msock::changes::SetAdd("done", Quoted(argv[i])));
      }
    }
    return Edit(argv[2], action);
  }
  if (cmd == "selftest") return SelfTest();
  std::fprintf(stderr,
               "usage: todo serve [--port P] [--root DIR] | todo add URL "
               "TEXT... | todo done URL TEXT... | todo selftest\n");
  return 2;
}
