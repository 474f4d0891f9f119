// Socket: the public, movable handle over a shared SocketCore (msock/socket.h),
// and internal::SocketAccess, the protocol plumbing (socket/socket_access.h).
#include "msock/socket.h"

#include "socket/socket_access.h"
#include "socket/socket_core.h"

namespace msock {

Socket::Socket(const SocketSpec& spec, Context& ctx)
    : core_(std::make_shared<internal::SocketCore>(spec, ctx)) {}
Socket::Socket(Socket&&) noexcept = default;
Socket& Socket::operator=(Socket&& other) noexcept {
  if (this != &other) {
    if (core_) core_->Close();
    core_ = std::move(other.core_);
  }
  return *this;
}
Socket::~Socket() {
  if (core_) core_->Close();
}

const SocketSpec& Socket::spec() const { return core_->spec(); }

absl::StatusOr<std::string> Socket::Listen(std::string_view url) {
  return core_->Listen(url);
}
absl::Status Socket::Dial(std::string_view url) { return core_->Dial(url); }

absl::Status Socket::Send(Message& msg, absl::Time deadline) {
  return core_->Send(msg, deadline);
}
absl::Status Socket::Send(Message& msg) {
  return core_->Send(msg, absl::Now() + core_->options().send_timeout);
}
absl::Status Socket::SendTo(const Path& path, Message& msg,
                            absl::Time deadline) {
  return core_->SendTo(path, msg, deadline);
}

absl::StatusOr<Message> Socket::Recv(absl::Time deadline) {
  return core_->Recv(deadline);
}
absl::StatusOr<Message> Socket::Recv() {
  return core_->Recv(absl::Now() + core_->options().recv_timeout);
}

absl::Status Socket::WaitForPeers(int n, absl::Time deadline) {
  return core_->WaitForPeers(n, deadline);
}
int Socket::pipe_count() const { return core_->pipe_count(); }
void Socket::OnPipeEvent(std::function<void(const PipeEvent&)> fn) {
  core_->OnPipeEvent(std::move(fn));
}
void Socket::ClosePipe(uint32_t pipe_id) { core_->ClosePipe(pipe_id); }

absl::Status Socket::Set(OptionKey<absl::Duration> key, absl::Duration value) {
  return core_->SetOption(key.id, value);
}
absl::Status Socket::Set(OptionKey<size_t> key, size_t value) {
  return core_->SetOption(key.id, value);
}
absl::Status Socket::Set(OptionKey<int> key, int value) {
  return core_->SetOption(key.id, value);
}
absl::Status Socket::Set(OptionKey<Overflow> /*key*/, Overflow value) {
  return core_->SetOverflow(value);
}
absl::Status Socket::Set(OptionKey<std::string> key, std::string value) {
  return core_->SetOption(key.id, std::move(value));
}

absl::Duration Socket::Get(OptionKey<absl::Duration> key) const {
  SocketOptions o = core_->options();
  switch (key.id) {
    case opt::kSendTimeout.id:
      return o.send_timeout;
    case opt::kRecvTimeout.id:
      return o.recv_timeout;
    case opt::kReconnectMin.id:
      return o.reconnect_min;
    case opt::kReconnectMax.id:
      return o.reconnect_max;
    case opt::kHandshakeTimeout.id:
      return o.handshake_timeout;
    case opt::kRecvSpin.id:
      return o.recv_spin;
    case opt::kWsPingInterval.id:
      return o.ws_ping_interval;
    default:
      return o.linger;
  }
}

size_t Socket::Get(OptionKey<size_t> key) const {
  SocketOptions o = core_->options();
  switch (key.id) {
    case opt::kSendQueueMessages.id:
      return o.send_queue_messages;
    case opt::kSendQueueBytes.id:
      return o.send_queue_bytes;
    case opt::kRecvQueueMessages.id:
      return o.recv_queue_messages;
    case opt::kRecvQueueBytes.id:
      return o.recv_queue_bytes;
    default:
      return o.max_recv_size;
  }
}

int Socket::Get(OptionKey<int> key) const {
  SocketOptions o = core_->options();
  if (key.id == opt::kWsText.id) return o.ws_text;
  if (key.id == opt::kTlsVerifyPeer.id) return o.tls_verify_peer;
  return o.ttl;
}
std::string Socket::Get(OptionKey<std::string> key) const {
  SocketOptions o = core_->options();
  switch (key.id) {
    case opt::kTlsCert.id:
      return o.tls_cert;
    case opt::kTlsKey.id:
      return o.tls_key;
    case opt::kTlsCa.id:
      return o.tls_ca;
    default:
      return o.tls_server_name;
  }
}
Overflow Socket::Get(OptionKey<Overflow> /*key*/) const {
  return core_->options().overflow;
}

SocketStats Socket::stats() const { return core_->stats(); }
std::vector<PipeStats> Socket::pipe_stats() const {
  return core_->pipe_stats();
}

void Socket::Close() { core_->Close(); }

namespace internal {

void SocketAccess::SetRecvFilter(Socket& socket, RecvFilter filter) {
  socket.core_->SetRecvFilter(std::move(filter));
}
void SocketAccess::SetProtocolPipeHook(
    Socket& socket, std::function<void(const PipeEvent&)> fn) {
  socket.core_->SetProtocolPipeHook(std::move(fn));
}
absl::Status SocketAccess::Send(Socket& socket, Message& msg,
                                absl::Time deadline, uint32_t* sent_on) {
  return socket.core_->Send(msg, deadline, sent_on);
}
absl::Status SocketAccess::SendExcept(Socket& socket, uint32_t except_pipe,
                                      Message& msg, absl::Time deadline) {
  return socket.core_->SendExcept(except_pipe, msg, deadline);
}

}  // namespace internal

}  // namespace msock
