// msock/protocols/role.h: the base of the typed protocol classes (Push, Pull,
// Pair0, Pub, Req, ...), and the one surface they all share.
//
// A role owns one Socket and exposes only the calls its pattern allows, with
// the contracts documented in msock/socket.h:
//   every role     Listen, Dial, StartDial, StopDial, WaitForPeers, Set, Get,
//                  stats, pipe_stats, SetAdmission, PeerOf, Close, socket()
//   sends          Send(Message&, deadline), Send(Message&),
//                  Send(std::string_view body, deadline), TrySend(Message&):
//                  Push, Pub, Bus, Pair0, Pair1
//   receives       Recv(deadline), Recv(), TryRecv():
//                  Pull, Sub, Bus, Pair0, Pair1, Rep, Respondent
//   own verbs      Req::Request, Rep::Reply, Surveyor::Survey,
//                  Respondent::Reply; Hub and RoomsClient (msock/protocols/
//                  rooms.h) send named events instead of messages
// So `Push` has no Recv and `Pull` has no Send. socket() gives the underlying
// Socket for devices, options and statistics; sending or receiving on it
// bypasses the role (a Req's replies would not reach its Request).
//
// Example:
//   msock::Push push;
//   absl::Status s = push.Set(msock::opt::kSendTimeout, absl::Seconds(1));
//   if (s.ok()) s = push.Dial("tcp://127.0.0.1:5555");
//   if (s.ok()) s = push.Send("job", absl::Now() + absl::Seconds(1));
//   msock::SocketStats stats = push.stats();
#ifndef MSOCK_PROTOCOLS_ROLE_H_
#define MSOCK_PROTOCOLS_ROLE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "msock/export.h"
#include "msock/socket.h"

namespace msock::internal {

// Thread-safe as Socket: every member may be called from any thread.
class MSOCK_EXPORT Role {
 public:
  Role(const SocketSpec& spec, Context& ctx) : socket_(spec, ctx) {}
  virtual ~Role() = default;
  Role(Role&&) = default;
  Role& operator=(Role&&) = default;

  // Socket::Listen: the bound URL, or kInvalidArgument, kAlreadyExists,
  // kUnavailable, kFailedPrecondition.
  [[nodiscard]] absl::StatusOr<std::string> Listen(std::string_view url) {
    return socket_.Listen(url);
  }
  // Socket::Dial: dials in the background. kInvalidArgument,
  // kFailedPrecondition.
  [[nodiscard]] absl::Status Dial(std::string_view url) {
    return socket_.Dial(url);
  }
  // Socket::StartDial / StopDial: a dialer that can be stopped. kNotFound,
  // kInvalidArgument, kFailedPrecondition.
  [[nodiscard]] absl::StatusOr<DialerId> StartDial(std::string_view url) {
    return socket_.StartDial(url);
  }
  [[nodiscard]] absl::Status StopDial(DialerId id) {
    return socket_.StopDial(id);
  }
  // Socket::WaitForPeers. kDeadlineExceeded, kCancelled, kFailedPrecondition.
  [[nodiscard]] absl::Status WaitForPeers(int n, absl::Time deadline) {
    return socket_.WaitForPeers(n, deadline);
  }
  // Socket::Set: kInvalidArgument (out of range), kFailedPrecondition.
  template <typename T>
  [[nodiscard]] absl::Status Set(OptionKey<T> key,
                                 std::type_identity_t<T> value) {
    return socket_.Set(key, value);
  }
  template <typename T>
  T Get(OptionKey<T> key) const {
    return socket_.Get(key);
  }
  SocketStats stats() const { return socket_.stats(); }
  // Queue lengths and drop counts of every connected peer.
  std::vector<PipeStats> pipe_stats() const { return socket_.pipe_stats(); }
  // Socket::SetAdmission: the hook that may refuse a peer before its pipe is
  // added (msock/peer.h has an example).
  void SetAdmission(AdmissionHook hook) {
    socket_.SetAdmission(std::move(hook));
  }
  // Socket::PeerOf: what the admission hook saw of pipe `pipe_id`'s peer.
  // kNotFound if that pipe is gone.
  [[nodiscard]] absl::StatusOr<PeerInfo> PeerOf(uint32_t pipe_id) const {
    return socket_.PeerOf(pipe_id);
  }
  void Close() { socket_.Close(); }
  Socket& socket() { return socket_; }

 protected:
  // The send surface; a sending role makes it public with `using Role::Send;
  // using Role::TrySend;`. Contract of Socket::Send: on success the role owns
  // the message (msg is left empty), on error the caller keeps it as given.
  [[nodiscard]] absl::Status Send(Message& msg, absl::Time deadline) {
    return SendMessage(msg, deadline);
  }
  // Deadline = now + the kSendTimeout option.
  [[nodiscard]] absl::Status Send(Message& msg) {
    return Send(msg, absl::Now() + Get(opt::kSendTimeout));
  }
  // Sends a copy of `body`.
  [[nodiscard]] absl::Status Send(std::string_view body, absl::Time deadline) {
    Message msg(body);
    return Send(msg, deadline);
  }
  // Never waits: kUnavailable when no peer can take it now.
  [[nodiscard]] absl::Status TrySend(Message& msg) {
    return Send(msg, absl::InfinitePast());
  }

  // The receive surface; a receiving role makes it public with
  // `using Role::Recv; using Role::TryRecv;`. Errors as Socket::Recv.
  [[nodiscard]] absl::StatusOr<Message> Recv(absl::Time deadline) {
    return socket_.Recv(deadline);
  }
  [[nodiscard]] absl::StatusOr<Message> Recv() { return socket_.Recv(); }
  [[nodiscard]] absl::StatusOr<Message> TryRecv() { return socket_.TryRecv(); }

  // Where every Send overload ends. A role whose messages carry a header of
  // its own (pair1's hop count) overrides it; it must leave msg as given on
  // error.
  virtual absl::Status SendMessage(Message& msg, absl::Time deadline) {
    return socket_.Send(msg, deadline);
  }

  Socket socket_;
};

}  // namespace msock::internal

#endif  // MSOCK_PROTOCOLS_ROLE_H_
