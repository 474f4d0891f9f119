// tools/cli_run.cc: the send / receive flows of the msock tool (see cli_run.h).
//
// A sender (--data/--file) runs on its own thread: wait for a first peer,
// --delay, then --count sends spaced by --interval, then --close-delay. A
// receiver runs on the calling thread and prints each message. Pair and bus
// roles with --data do both at once. A surveyor runs its surveys on the calling
// thread and prints answers as they come. A failing sender closes the socket,
// which wakes the receiver with kCancelled; the socket is always closed
// (flushing queued messages) before exit.
#include "tools/cli_run.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "tools/cli_device.h"
#include "tools/cli_format.h"
#include "tools/cli_text.h"

namespace msock::cli {

void Complain(std::string_view message) {
  std::fprintf(stderr, "msock: %.*s\n", static_cast<int>(message.size()),
               message.data());
}

void WatchPipes(Socket& s, std::string label) {
  s.OnPipeEvent([label = std::move(label)](const PipeEvent& e) {
    if (e.type == PipeEventType::kAdded) {
      Complain(Cat(label, "pipe ", e.pipe_id, " added (local ", e.local_address,
                   ", remote ", e.remote_address, ")"));
    } else if (e.type == PipeEventType::kDialFailed) {
      Complain(Cat(label, "dial ", e.remote_address,
                   " failed: ", e.reason.ToString(), " (retrying)"));
    } else {
      Complain(Cat(label, "pipe ", e.pipe_id, " removed (",
                   e.reason.ok() ? "closed locally" : e.reason.ToString(),
                   ")"));
    }
  });
}

int ApplyTls(Socket& s, const Options& o) {
  absl::Status st;
  if (!o.tls_cert.empty()) st.Update(s.Set(opt::kTlsCert, o.tls_cert));
  if (!o.tls_key.empty()) st.Update(s.Set(opt::kTlsKey, o.tls_key));
  if (!o.tls_ca.empty()) st.Update(s.Set(opt::kTlsCa, o.tls_ca));
  if (!o.tls_server_name.empty()) {
    st.Update(s.Set(opt::kTlsServerName, o.tls_server_name));
  }
  if (o.tls_insecure) st.Update(s.Set(opt::kTlsVerifyPeer, false));
  if (st.ok()) return kExitOk;
  Complain(Cat("cannot set the TLS options: ", st.message()));
  return kExitFailure;
}

int OpenEndpoints(Socket& s, std::span<const Endpoint> endpoints, bool verbose,
                  std::string_view label) {
  for (const Endpoint& e : endpoints) {
    absl::Status status;
    if (e.listen) {
      absl::StatusOr<std::string> bound = s.Listen(e.url);
      if (bound.ok() && verbose) Complain(Cat(label, "listening on ", *bound));
      status = bound.status();
    } else {
      status = s.Dial(e.url);
      if (status.ok() && verbose) Complain(Cat(label, "dialing ", e.url));
    }
    if (!status.ok()) {
      Complain(Cat(label, "cannot ", e.listen ? "listen on " : "dial ", e.url,
                   ": ", status.message()));
      return status.code() == absl::StatusCode::kInvalidArgument ? kExitUsage
                                                                 : kExitFailure;
    }
  }
  return kExitOk;
}

namespace {

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
    if (o_.verbose) WatchPipes(sock_->socket(), "");
    if (o_.role->subscribes) {
      // No --subscribe: everything, as nngcat and nanocat do.
      std::vector<std::string> prefixes = o_.subscriptions;
      if (prefixes.empty()) prefixes.emplace_back();
      for (const std::string& prefix : prefixes) {
        absl::Status s = sock_->Subscribe(prefix);
        if (!s.ok()) {
          Complain(Cat("cannot subscribe to '", prefix, "': ", s.message()));
          return kExitFailure;
        }
      }
    }
    if (int code = ApplyTls(sock_->socket(), o_); code != kExitOk) return code;
    if (int code = OpenEndpoints(sock_->socket(), o_.endpoints, o_.verbose, "");
        code != kExitOk) {
      return code;
    }
    if (o_.role->surveys) {
      int code = SurveyAll();
      sock_->Close();
      return code;
    }

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
  // Waits for the peers a sender needs before its first message: one, or for
  // fan-out roles (pub, bus, surveyor: a message reaches only the peers
  // connected when it is sent) one per --dial URL, as nngcat dials each
  // before sending. Reports a failure other than kCancelled (the socket was
  // closed by a failing receiver, which reported why).
  absl::Status WaitForPeers() {
    Socket& s = sock_->socket();
    int want = 0;
    if (s.spec().send == SendMode::kToAll) {
      for (const Endpoint& e : o_.endpoints) want += e.listen ? 0 : 1;
    }
    want = std::max(want, 1);
    absl::Status status =
        s.WaitForPeers(want, absl::Now() + o_.connect_timeout);
    if (status.code() == absl::StatusCode::kDeadlineExceeded) {
      Complain(Cat(want == 1 ? "no peer" : Cat("fewer than ", want, " peers"),
                   " connected within ", Secs(o_.connect_timeout),
                   " (see --connect-timeout)"));
    } else if (!status.ok() && status.code() != absl::StatusCode::kCancelled) {
      Complain(Cat("waiting for a peer failed: ", status.message()));
    }
    return status;
  }

  // Writes one message to standard output in --format; false (reported) if
  // that failed.
  bool Print(const Message& m) {
    std::string text = FormatMessage(o_.format, m.body());
    if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() ||
        std::fflush(stdout) != 0) {
      Complain(Cat("cannot write to standard output: ", std::strerror(errno)));
      return false;
    }
    return true;
  }

  // Runs on the sender thread. On failure reports it, sets send_failed_ and
  // closes the socket so that a receiver blocked in Recv wakes up.
  void SendAll() {
    if (absl::Status s = WaitForPeers(); !s.ok()) {
      if (s.code() != absl::StatusCode::kCancelled) {
        send_failed_ = true;
        sock_->Close();
      }
      return;
    }
    absl::SleepFor(o_.delay);
    const int64_t count = o_.count.value_or(1);
    for (int64_t i = 0; i < count; ++i) {
      if (i > 0) absl::SleepFor(o_.interval);
      Message msg(payload_);
      absl::Status s = sock_->Send(msg, absl::Now() + o_.send_timeout);
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
      if (!Print(*m)) return kExitFailure;
      ++received;
      if (o_.role->answers && o_.sends()) {
        Message reply(payload_);
        absl::Status s =
            sock_->Answer(*m, reply, absl::Now() + o_.send_timeout);
        if (!s.ok())
          Complain(Cat("cannot answer message ", received, ": ", s.message()));
      }
    }
    if (o_.role->answers)
      absl::SleepFor(o_.close_delay);  // let the last answer leave
    return kExitOk;
  }

  // surveyor: --count surveys, --interval apart, each printing its answers
  // until --survey-time has passed. No answer is not a failure (as nngcat).
  int SurveyAll() {
    if (!WaitForPeers().ok()) return kExitFailure;
    absl::SleepFor(o_.delay);
    const int64_t count = o_.count.value_or(1);
    const absl::Duration survey_time =
        o_.survey_time.value_or(absl::Seconds(1));
    bool print_failed = false;
    for (int64_t i = 0; i < count && !print_failed; ++i) {
      if (i > 0) absl::SleepFor(o_.interval);
      Message msg(payload_);
      int64_t answers = 0;
      absl::Status s =
          sock_->Survey(msg, absl::Now() + survey_time, [&](Message& answer) {
            ++answers;
            if (!print_failed && !Print(answer)) print_failed = true;
          });
      if (!s.ok()) {
        Complain(
            Cat("survey ", i + 1, " of ", count, " failed: ", s.message()));
        return kExitFailure;
      }
      if (o_.verbose) {
        Complain(Cat("survey ", i + 1, " of ", count, ": ", answers,
                     answers == 1 ? " answer" : " answers"));
      }
    }
    return print_failed ? kExitFailure : kExitOk;
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

int Run(const Options& options) {
  if (options.device) return RunDevice(options);
  return Runner(options).Run();
}

}  // namespace msock::cli
