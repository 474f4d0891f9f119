// Device: forwards messages between two raw sockets (or one bus socket and
// itself), one thread per direction. Header words and paths travel with the
// messages, so replies find their way back through any number of devices.
#include "msock/protocols/device.h"

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "socket/socket_access.h"

namespace msock {

namespace {

// How often a blocked direction looks whether the other one has stopped.
constexpr absl::Duration kPoll = absl::Milliseconds(100);

bool Stopping(const absl::Status& s) {
  return absl::IsCancelled(s) || absl::IsFailedPrecondition(s);
}

// Forwards from `from` to `to` until either closes or `stop` is set. With
// `reflect` (one bus socket forwarding to itself), a message goes to every pipe
// but the one it came on.
void Forward(Socket& from, Socket& to, bool reflect, std::atomic<bool>& stop) {
  while (!stop.load(std::memory_order_relaxed)) {
    absl::StatusOr<Message> m = from.Recv(absl::Now() + kPoll);
    if (!m.ok()) {
      if (Stopping(m.status())) break;
      continue;  // deadline: look at `stop` again
    }
    for (;;) {
      absl::Status s =
          reflect ? internal::SocketAccess::SendExcept(to, m->source().back(),
                                                       *m, absl::Now() + kPoll)
                  : to.Send(*m, absl::Now() + kPoll);
      // kUnavailable from a raw rep: the requester's pipe is gone; the core
      // counted the drop. Any other failure but a deadline ends the device.
      if (s.ok() || absl::IsUnavailable(s) || absl::IsInvalidArgument(s)) break;
      if (Stopping(s) || stop.load(std::memory_order_relaxed)) {
        stop = true;
        return;
      }
    }
  }
  stop = true;
}

bool Receives(const Socket& s) { return s.spec().recv != RecvMode::kNone; }
bool Sends(const Socket& s) { return s.spec().send != SendMode::kNone; }

}  // namespace

absl::Status Device(Socket& a, Socket& b) {
  const SocketSpec& sa = a.spec();
  const SocketSpec& sb = b.spec();
  if (&a == &b) {
    if (sa.send != SendMode::kToAll || !Receives(a)) {
      return absl::InvalidArgumentError(
          absl::StrCat("Device(a, a): only a bus socket can forward to "
                       "itself, not ",
                       sa.name));
    }
    std::atomic<bool> stop{false};
    Forward(a, a, /*reflect=*/true, stop);
    return absl::OkStatus();
  }
  if (sa.self_id != sb.peer_id || sa.peer_id != sb.self_id) {
    return absl::InvalidArgumentError(
        absl::StrCat("Device: ", sa.name, " and ", sb.name,
                     " are not the two ends of one protocol (e.g. raw rep "
                     "and raw req, raw sub and raw pub)"));
  }
  const bool a_to_b = Receives(a) && Sends(b);
  const bool b_to_a = Receives(b) && Sends(a);
  std::atomic<bool> stop{false};
  std::thread back;
  if (a_to_b && b_to_a) {
    back = std::thread([&] { Forward(b, a, false, stop); });
  }
  if (a_to_b) {
    Forward(a, b, false, stop);
  } else if (b_to_a) {
    Forward(b, a, false, stop);
  }
  if (back.joinable()) back.join();
  return absl::OkStatus();
}

}  // namespace msock
