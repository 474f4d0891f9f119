// tools/cli_run.cc: the send / receive flows of the msock tool (see cli_run.h).
//
// A sender (--data/--file) runs on its own thread: wait for a first peer,
// --delay, then --count sends spaced by --interval, then --close-delay. A
// receiver runs on the calling thread and prints each message. Pair roles with
// --data do both at once. A failing sender closes the socket, which wakes the
// receiver with kCancelled; the socket is always closed (flushing queued
// messages) before exit.
#include "tools/cli_run.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/time/clock.h"
#include "tools/cli_format.h"
#include "tools/cli_text.h"

namespace msock::cli {
namespace {

void Complain(std::string_view message) {
  std::fprintf(stderr, "msock: %.*s\n", static_cast<int>(message.size()),
               message.data());
}

std::string Secs(absl::Duration d) { return absl::FormatDuration(d); }

absl::StatusOr<std::string> ReadAll(std::FILE* f, std::string_view name) {
  std::string out;
  char buf[16384];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  if (std::ferror(f)) {
    return absl::UnavailableError(
        Cat("cannot read ", name, ": ", std::strerror(errno)));
  }
  return out;
}

absl::StatusOr<std::string> LoadPayload(const Options& o) {
  if (o.data) return *o.data;
  if (*o.file == "-") return ReadAll(stdin, "standard input");
  std::FILE* f = std::fopen(o.file->c_str(), "rb");
  if (f == nullptr) {
    return absl::NotFoundError(
        Cat("cannot open --file '", *o.file, "': ", std::strerror(errno)));
  }
  absl::StatusOr<std::string> out = ReadAll(f, Cat("--file '", *o.file, "'"));
  std::fclose(f);
  return out;
}

void PrintPipeEvent(const PipeEvent& e) {
  if (e.type == PipeEventType::kAdded) {
    std::fprintf(stderr, "msock: pipe %u added (local %s, remote %s)\n",
                 e.pipe_id, e.local_address.c_str(), e.remote_address.c_str());
  } else {
    std::string why = e.reason.ok() ? "closed locally" : e.reason.ToString();
    std::fprintf(stderr, "msock: pipe %u removed (%s)\n", e.pipe_id,
                 why.c_str());
  }
}

class Runner {
 public:
  explicit Runner(const Options& o) : o_(o), sock_(o.role->make()) {}

  int Run() {
    if (o_.sends()) {  // read the file before connecting anywhere
      absl::StatusOr<std::string> payload = LoadPayload(o_);
      if (!payload.ok()) {
        Complain(std::string(payload.status().message()));
        return kExitFailure;
      }
      payload_ = *std::move(payload);
    }
    if (o_.verbose) sock_->socket().OnPipeEvent(PrintPipeEvent);
    if (int code = OpenEndpoints(); code != kExitOk) return code;

    std::thread sender;
    if (o_.sends() && !o_.role->answers) {
      sender = std::thread([this] { SendAll(); });
    }
    int code = kExitOk;
    if (o_.role->can_recv) {
      code = ReceiveAll();
      // If receiving failed, stop a sender that may still be waiting;
      // otherwise let it finish its --count sends.
      if (code != kExitOk) sock_->Close();
    }
    if (sender.joinable()) sender.join();
    sock_->Close();  // lingers until queued messages are written
    if (send_failed_) return kExitFailure;
    return code;
  }

 private:
  int OpenEndpoints() {
    Socket& s = sock_->socket();
    for (const Endpoint& e : o_.endpoints) {
      absl::Status status;
      if (e.listen) {
        absl::StatusOr<std::string> bound = s.Listen(e.url);
        if (bound.ok() && o_.verbose) Complain(Cat("listening on ", *bound));
        status = bound.status();
      } else {
        status = s.Dial(e.url);
        if (status.ok() && o_.verbose) Complain(Cat("dialing ", e.url));
      }
      if (!status.ok()) {
        Complain(Cat("cannot ", e.listen ? "listen on " : "dial ", e.url, ": ",
                     status.message()));
        return status.code() == absl::StatusCode::kInvalidArgument
                   ? kExitUsage
                   : kExitFailure;
      }
    }
    return kExitOk;
  }

  // Runs on the sender thread. On failure reports it, sets send_failed_ and
  // closes the socket so that a receiver blocked in Recv wakes up.
  void SendAll() {
    absl::Status s =
        sock_->socket().WaitForPeers(1, absl::Now() + o_.connect_timeout);
    if (!s.ok()) {
      if (s.code() == absl::StatusCode::kDeadlineExceeded) {
        FailSend(Cat("no peer connected within ", Secs(o_.connect_timeout),
                     " (see --connect-timeout)"));
      } else if (s.code() != absl::StatusCode::kCancelled) {
        FailSend(Cat("waiting for a peer failed: ", s.message()));
      }
      return;
    }
    absl::SleepFor(o_.delay);
    const int64_t count = o_.count.value_or(1);
    for (int64_t i = 0; i < count; ++i) {
      if (i > 0) absl::SleepFor(o_.interval);
      Message msg(payload_);
      s = sock_->Send(msg, absl::Now() + o_.send_timeout);
      if (s.code() == absl::StatusCode::kDeadlineExceeded) {
        FailSend(Cat("send ", i + 1, " of ", count, " timed out after ",
                     Secs(o_.send_timeout), " (no peer could take it)"));
        return;
      }
      if (!s.ok()) {
        // kCancelled: the receiver failed and closed the socket; it reported
        // why.
        if (s.code() != absl::StatusCode::kCancelled) {
          FailSend(
              Cat("send ", i + 1, " of ", count, " failed: ", s.message()));
        }
        return;
      }
    }
    absl::SleepFor(o_.close_delay);
  }

  void FailSend(std::string_view why) {
    Complain(why);
    send_failed_ = true;
    sock_->Close();
  }

  // Receives and prints until --count messages, a --recv-timeout, or the socket
  // closes.
  int ReceiveAll() {
    int64_t received = 0;
    // req prints one reply per request sent (--count, default 1).
    std::optional<int64_t> limit = o_.count;
    if (o_.role->replies_to_sends && !limit) limit = 1;
    while (!limit || received < *limit) {
      absl::Time deadline = o_.recv_timeout ? absl::Now() + *o_.recv_timeout
                                            : absl::InfiniteFuture();
      absl::StatusOr<Message> m = sock_->Recv(deadline);
      if (m.status().code() == absl::StatusCode::kDeadlineExceeded) {
        return OnTimeout(received);
      }
      if (m.status().code() == absl::StatusCode::kCancelled) {
        return kExitOk;  // the sender failed and closed the socket; it sets the
                         // exit code
      }
      if (!m.ok()) {
        Complain(Cat("receive failed: ", m.status().message()));
        return kExitFailure;
      }
      std::string text = FormatMessage(o_.format, m->body());
      if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() ||
          std::fflush(stdout) != 0) {
        Complain(
            Cat("cannot write to standard output: ", std::strerror(errno)));
        return kExitFailure;
      }
      ++received;
      if (o_.role->answers && o_.sends()) {
        Message reply(payload_);
        absl::Status s =
            sock_->Answer(*m, reply, absl::Now() + o_.send_timeout);
        if (!s.ok())
          Complain(Cat("cannot answer request ", received, ": ", s.message()));
      }
    }
    if (o_.role->answers)
      absl::SleepFor(o_.close_delay);  // let the last answer leave
    return kExitOk;
  }

  int OnTimeout(int64_t received) {
    std::string waited = Secs(*o_.recv_timeout);
    if (o_.count) {
      Complain(Cat("timed out: received ", received, " of ", *o_.count,
                   " messages (nothing for ", waited, ")"));
      return kExitFailure;
    }
    if (received == 0 && (!o_.sends() || o_.role->answers)) {
      Complain(Cat("timed out: no message received within ", waited));
      return kExitFailure;
    }
    return kExitOk;
  }

  const Options& o_;
  std::unique_ptr<CliSocket> sock_;
  std::string payload_;
  bool send_failed_ = false;  // written by the sender thread, read after join
};

}  // namespace

int Run(const Options& options) { return Runner(options).Run(); }

}  // namespace msock::cli
