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
absl::Status Socket::Dial(std::string_view url) {
  return core_->Dial(url).status();
}
absl::StatusOr<DialerId> Socket::StartDial(std::string_view url) {
  absl::StatusOr<uint64_t> id = core_->Dial(url);
  if (!id.ok()) return id.status();
  return DialerId{*id};
}
absl::Status Socket::StopDial(DialerId id) { return core_->StopDial(id.value); }

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
void Socket::SetAdmission(AdmissionHook hook) {
  core_->SetAdmission(std::move(hook));
}
absl::StatusOr<PeerInfo> Socket::PeerOf(uint32_t pipe_id) const {
  return core_->PeerOf(pipe_id);
}

template <typename T>
absl::Status Socket::Set(OptionKey<T> key, std::type_identity_t<T> value) {
  return core_->SetOption(key, std::move(value));
}
template <typename T>
T Socket::Get(OptionKey<T> key) const {
  return core_->GetOption(key);
}

#define MSOCK_SOCKET_OPTION_TYPE(T)                                            \
  template absl::Status Socket::Set<T>(OptionKey<T>, std::type_identity_t<T>); \
  template T Socket::Get<T>(OptionKey<T>) const;
MSOCK_FOR_EACH_OPTION_TYPE(MSOCK_SOCKET_OPTION_TYPE)
#undef MSOCK_SOCKET_OPTION_TYPE

SocketStats Socket::stats() const { return core_->stats(); }
std::vector<PipeStats> Socket::pipe_stats() const {
  return core_->pipe_stats();
}

void Socket::Close() { core_->Close(); }

namespace internal {

void SocketAccess::SetRecvFilter(Socket& socket, RecvFilter filter) {
  socket.core_->SetRecvFilter(std::move(filter));
}
void SocketAccess::SetPollAlways(Socket& socket, bool on, size_t max_pipes) {
  socket.core_->SetPollAlways(on, max_pipes);
}
void SocketAccess::SetProtocolPipeHook(
    Socket& socket, std::function<void(const PipeEvent&)> fn) {
  socket.core_->SetProtocolPipeHook(std::move(fn));
}
absl::Status SocketAccess::Send(Socket& socket, Message& msg,
                                absl::Time deadline, uint32_t* sent_on) {
  return socket.core_->Send(msg, deadline, sent_on);
}
absl::Status SocketAccess::SendReply(Socket& socket, const Path& path,
                                     Message& msg, size_t reserve_bytes) {
  return socket.core_->SendTo(path, msg, absl::InfinitePast(), reserve_bytes);
}

size_t SocketAccess::SendToEach(Socket& socket,
                                absl::Span<const uint32_t> pipes,
                                const Message& msg,
                                std::vector<uint32_t>* full) {
  return socket.core_->SendToEach(pipes, msg, full);
}

size_t SocketAccess::SendManyTo(Socket& socket, uint32_t pipe,
                                absl::Span<Message> msgs, bool* gone) {
  return socket.core_->SendManyTo(pipe, msgs, gone);
}

void SocketAccess::AwaitOnCaller(Socket& socket, absl::Time deadline,
                                 absl::FunctionRef<bool()> done) {
  socket.core_->AwaitOnCaller(deadline, done);
}

SocketAccess::AwaitScope::AwaitScope(Socket& socket)
    : core_(socket.core_.get()) {
  core_->BeginAwait();
}

SocketAccess::AwaitScope::~AwaitScope() { core_->EndAwait(); }

absl::Status SocketAccess::SendExcept(Socket& socket, uint32_t except_pipe,
                                      Message& msg, absl::Time deadline) {
  return socket.core_->SendExcept(except_pipe, msg, deadline);
}

}  // namespace internal

}  // namespace msock
