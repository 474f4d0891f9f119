// examples/notes/notes.cc: notes kept in step between the devices of one
// user through msock's durable queue; nothing is lost when the server or a
// device is killed at any moment.
//
// Usage:
//   notes serve URL DB                    a queue server on URL, store DB,
//                                         until SIGINT / SIGTERM
//   notes add URL DIR USER NODE TEXT...   saves notes on device NODE: each
//                                         is posted to USER (so every other
//                                         device of USER gets it) and printed
//                                         once the server has it on disk
//   notes sync URL DIR USER NODE          appends the notes of the other
//                                         devices to DIR/USER.NODE.notes,
//                                         then exits after 1 s without news
//   notes selftest                        a server and two devices in one
//                                         process, the server restarted on
//                                         its file between two syncs
// A device registers itself on first use (its secret in DIR/USER.NODE.secret;
// a second device of USER proves itself with the first one's secret).
//
// The device side is an idempotent consumer: a note is appended with its id
// before it is acknowledged, and ids already in the file are skipped, so a
// crash between the two (the note comes again) writes it once.
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "msock/msock.h"

namespace {

namespace fs = std::filesystem;

absl::Time Soon() { return absl::Now() + absl::Seconds(5); }

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p);
  std::string s;
  std::getline(in, s);
  return s;
}

// Connects and logs in as USER/NODE, registering the device first if DIR
// has no secret for it.
absl::Status Open(msock::QueueClient& q, const std::string& url,
                  const fs::path& dir, const std::string& user,
                  const std::string& node) {
  if (absl::Status st = q.Connect(url, Soon()); !st.ok()) return st;
  const fs::path mine = dir / (user + "." + node + ".secret");
  if (!fs::exists(mine)) {
    std::string proof_node, proof_secret;  // another device of this user
    for (const auto& e : fs::directory_iterator(dir)) {
      const std::string name = e.path().filename().string();
      if (name.rfind(user + ".", 0) == 0 && e.path().extension() == ".secret") {
        proof_node = e.path().stem().string().substr(user.size() + 1);
        proof_secret = ReadFile(e.path());
        break;
      }
    }
    absl::StatusOr<std::string> secret =
        q.Register(user, node, Soon(), {}, proof_node, proof_secret);
    if (!secret.ok()) return secret.status();
    std::ofstream(mine) << *secret << "\n";
  }
  return q.Login(user, node, ReadFile(mine), Soon());
}

int Add(const std::string& url, const fs::path& dir, const std::string& user,
        const std::string& node, const std::vector<std::string>& texts) {
  msock::QueueClient q;
  if (absl::Status st = Open(q, url, dir, user, node); !st.ok()) {
    std::fprintf(stderr, "notes: %s\n", st.ToString().c_str());
    return 1;
  }
  for (const std::string& text : texts) {
    // A retry after a lost answer reuses the same client id: stored once.
    msock::PostOptions opts;
    opts.client_id = node + ":" + text;
    absl::StatusOr<msock::PostResult> r = q.Post({user}, text, Soon(), opts);
    for (int retry = 0; !r.ok() && retry < 3; ++retry) {
      r = q.Post({user}, text, Soon(), opts);
    }
    if (!r.ok()) {
      std::fprintf(stderr, "notes: %s\n", r.status().ToString().c_str());
      return 1;
    }
    std::printf("saved #%llu %s\n", static_cast<unsigned long long>(r->id),
                text.c_str());
  }
  return 0;
}

// Appends what arrives to the device's notes file; returns how many new.
absl::StatusOr<int> Sync(const std::string& url, const fs::path& dir,
                         const std::string& user, const std::string& node,
                         absl::Duration idle) {
  msock::QueueClient q;
  if (absl::Status st = Open(q, url, dir, user, node); !st.ok()) return st;
  const fs::path file = dir / (user + "." + node + ".notes");
  uint64_t last = 0;  // ids come in order: the file's last id is the highest
  {
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) {
      last = std::stoull(line.substr(0, line.find('\t')));
    }
  }
  int added = 0;
  for (;;) {
    absl::StatusOr<msock::QueueMessage> m = q.Receive(absl::Now() + idle);
    if (absl::IsDeadlineExceeded(m.status())) return added;
    if (!m.ok()) return m.status();
    if (m->kind.empty() && m->id > last) {
      std::ofstream(file, std::ios::app)
          << m->id << '\t' << m->from_node << '\t' << m->body << "\n"
          << std::flush;
      last = m->id;
      ++added;
    }
    if (absl::Status st = q.Ack(m->id, Soon()); !st.ok()) return st;
  }
}

int Serve(const std::string& url, const std::string& db) {
  msock::QueueServerOptions options;
  options.db_path = db;
  absl::StatusOr<std::unique_ptr<msock::QueueServer>> server =
      msock::QueueServer::Open(options);
  if (!server.ok()) {
    std::fprintf(stderr, "notes: %s\n", server.status().ToString().c_str());
    return 1;
  }
  absl::StatusOr<std::string> bound = (*server)->Listen(url);
  if (!bound.ok()) {
    std::fprintf(stderr, "notes: %s\n", bound.status().ToString().c_str());
    return 1;
  }
  std::printf("serving %s (store %s)\n", bound->c_str(), db.c_str());
  std::fflush(stdout);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  int sig = 0;
  sigwait(&set, &sig);
  return 0;
}

int SelfTest() {
  const fs::path dir =
      fs::temp_directory_path() / ("msock-notes-" + std::to_string(getpid()));
  fs::create_directories(dir);
  const std::string db = (dir / "notes.db").string();
  msock::QueueServerOptions options;
  options.db_path = db;
  auto server = msock::QueueServer::Open(options);
  if (!server.ok()) return 1;
  std::string url = (*server)->Listen("tcp://127.0.0.1:0").value();
  bool ok = Add(url, dir, "ann", "laptop", {"milk", "eggs"}) == 0 &&
            Sync(url, dir, "ann", "phone", absl::Milliseconds(300)).ok();
  // The server goes away and comes back on its file (a new port).
  (*server)->Close();
  server = msock::QueueServer::Open(options);
  if (!server.ok()) return 1;
  url = (*server)->Listen("tcp://127.0.0.1:0").value();
  ok = ok && Add(url, dir, "ann", "laptop", {"bread"}) == 0;
  absl::StatusOr<int> later =
      Sync(url, dir, "ann", "phone", absl::Milliseconds(300));
  std::ifstream in(dir / "ann.phone.notes");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ok = ok && later.ok() && *later == 1 && lines.size() == 3 &&
       lines[2].find("bread") != std::string::npos;
  std::printf("selftest: %zu notes on the phone: %s\n", lines.size(),
              ok ? "ok" : "FAILED");
  (*server)->Close();
  fs::remove_all(dir);
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 3 && args[0] == "serve") return Serve(args[1], args[2]);
  if (args.size() >= 6 && args[0] == "add") {
    return Add(args[1], args[2], args[3], args[4],
               std::vector<std::string>(args.begin() + 5, args.end()));
  }
  if (args.size() == 5 && args[0] == "sync") {
    absl::StatusOr<int> n =
        Sync(args[1], args[2], args[3], args[4], absl::Seconds(1));
    if (!n.ok()) {
      std::fprintf(stderr, "notes: %s\n", n.status().ToString().c_str());
      return 1;
    }
    std::printf("%d new notes\n", *n);
    return 0;
  }
  if (args.size() == 1 && args[0] == "selftest") return SelfTest();
  std::fprintf(stderr,
               "usage: notes serve URL DB | add URL DIR USER NODE TEXT... | "
               "sync URL DIR USER NODE | selftest\n");
  return 2;
}
