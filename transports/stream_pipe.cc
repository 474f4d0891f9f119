// StreamPipe / StreamListener: SP over libuv streams (tcp and unix sockets),
// batched both ways.
#include "transports/stream_pipe.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "base/context_access.h"
#include "base/errors.h"
#include "transports/tcp/tcp_keepalive.h"

namespace msock::internal {

namespace {

// Upper bound of one write batch, and the body size below which bodies are
// copied into the batch buffer instead of getting an iovec of their own.
constexpr size_t kMaxBatchBytes = 256 * 1024;
constexpr size_t kCopyBelow = 2048;
// One read buffer per loop thread: decoding copies every message out of it at
// once.
thread_local std::unique_ptr<char[]> read_buffer;
constexpr size_t kMaxDirectRead = size_t{1} << 30;
// When a message may be written from the sending thread. A stream of messages
// goes through the loop, which batches them into few writes; an exchange
// (request/reply, ping-pong) is written at once. So a direct write needs
// either something heard from the peer since the last one (the sender is
// answering), or a pipe quiet for kIdleNs. Timing alone would not do: direct
// writes to several pipes slow the sender down until its sends look idle.
constexpr int64_t kIdleNs = 200'000;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::shared_ptr<StreamPipe> StreamPipe::Create(std::shared_ptr<PipeHost> core,
                                               bool ipc) {
  std::shared_ptr<StreamPipe> p(new StreamPipe(std::move(core), ipc));
  p->self_ = p;
  p->core_->TrackPipe(p);
  return p;
}

StreamPipe::StreamPipe(std::shared_ptr<PipeHost> core, bool ipc)
    : core_(std::move(core)),
      ipc_(ipc),
      peer_id_(core_->spec().peer_id),
      decoder_(ipc, core_->options().max_recv_size,
               core_->unfinished_budget()) {
  uv_loop_t* loop = ContextAccess::Loop(core_->context());
  if (ipc_) {
    uv_pipe_init(loop, &handle_.pipe, 0);
  } else {
    uv_tcp_init(loop, &handle_.tcp);
  }
  handle_.tcp.data = this;  // data is at the same offset in every handle type
  uv_timer_init(loop, &timer_);
  timer_.data = this;
  uv_timer_init(loop, &lend_timer_);
  lend_timer_.data = this;
  open_handles_ = 3;
  EncodeHello(core_->spec().self_id, hello_out_);
}

StreamPipe::~StreamPipe() = default;

void StreamPipe::StartConnectTimer(absl::Duration timeout) {
  if (timeout <= absl::ZeroDuration()) return;
  connect_timeout_ms_ = static_cast<uint64_t>(
      absl::ToInt64Milliseconds(absl::Ceil(timeout, absl::Milliseconds(1))));
  uv_timer_start(
      &timer_,
      [](uv_timer_t* t) {
        auto* self = static_cast<StreamPipe*>(t->data);
        self->connect_error_ = absl::DeadlineExceededError(
            absl::StrCat("no answer within ", self->connect_timeout_ms_,
                         " ms (connect-timeout)"));
        self->CloseOnLoop(self->connect_error_);
      },
      connect_timeout_ms_, 0);
}

void StreamPipe::Start(absl::AnyInvocable<void(absl::Status)> ready) {
  ready_ = std::move(ready);
  if (!ipc_) {
    uv_tcp_nodelay(&handle_.tcp, 1);
    uv_os_fd_t fd;
    // A kernel without one of the settings keeps its own defaults: the pipe
    // works, only a dead peer is noticed later.
    if (uv_fileno(reinterpret_cast<uv_handle_t*>(&handle_.tcp), &fd) == 0) {
      ApplyTcpKeepalive(fd, core_->options().tcp_keepalive).IgnoreError();
    }
  }
  uv_buf_t hello = uv_buf_init(reinterpret_cast<char*>(hello_out_), kHelloSize);
  int rc;
  {
    std::lock_guard<std::mutex> lock(io_mu_);
    bufs_.assign(1, hello);
    rc = StartWrite();  // OnWritten then flushes what was queued meanwhile
  }
  if (rc < 0) {
    CloseOnLoop(UvError(rc, "send SP header"));
    return;
  }
  const SocketOptions opts = core_->options();
  uint64_t ms =
      static_cast<uint64_t>(absl::ToInt64Milliseconds(opts.handshake_timeout));
  // Below a millisecond (but not 0) counts as one.
  progress_ms_ = static_cast<uint64_t>(absl::ToInt64Milliseconds(
      absl::Ceil(opts.recv_progress_timeout, absl::Milliseconds(1))));
  uv_timer_start(
      &timer_,
      [](uv_timer_t* t) {
        auto* self = static_cast<StreamPipe*>(t->data);
        if (self->hello_done_) return;
        self->core_->CountReject(Reject::kHandshakeTimeout);
        self->CloseOnLoop(
            absl::DeadlineExceededError("peer sent no SP header in time"));
      },
      ms, 0);
  rc = StartReading();
  if (rc < 0) CloseOnLoop(UvError(rc, "read"));
}

int StreamPipe::StartReading() {
  return uv_read_start(
      stream(),
      [](uv_handle_t* h, size_t, uv_buf_t* buf) {
        // The rest of a large message is read straight into its body;
        // everything else goes through the loop's shared buffer.
        auto* self = static_cast<StreamPipe*>(h->data);
        // Held by a receiver reading this pipe (RecvOnCaller): it delivers
        // what is there; the descriptor stays watched, so bytes it leaves
        // wake the loop again. Waiting would cost the receiver a futex wake.
        if (!self->rd_mu_.try_lock()) {
          *buf = uv_buf_init(nullptr, 0);
          return;
        }
        // Released at the end of the read callback.
        self->loop_holds_rd_ = true;
        if (self->paused_) {
          // A receiver delivered into a full queue: stop reading (below).
          *buf = uv_buf_init(nullptr, 0);
          return;
        }
        size_t len = 0;
        char* direct =
            self->hello_done_ ? self->decoder_.direct_buffer(&len) : nullptr;
        if (direct != nullptr && len >= kDirectReadMin) {
          *buf = uv_buf_init(
              direct, static_cast<unsigned>(std::min(len, kMaxDirectRead)));
          return;
        }
        if (!read_buffer)
          read_buffer = std::make_unique<char[]>(kReadBufferSize);
        *buf = uv_buf_init(read_buffer.get(), kReadBufferSize);
      },
      [](uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
        auto* self = static_cast<StreamPipe*>(s->data);
        if (!self->loop_holds_rd_) {
          // UV_ENOBUFS: a receiver is reading (see above), so it polls this
          // pipe: leave the reading to it.
          self->Lend();
          return;
        }
        if (nread == 0) {
          // EAGAIN: a receiver read what woke the loop.
          self->UnlockRead();
          self->Lend();
          return;
        }
        if (nread == UV_ENOBUFS && self->paused_) {
          uv_read_stop(s);  // ResumeRecv reads again
        } else if (nread > 0 && buf->base != read_buffer.get()) {
          self->OnDirectRead(static_cast<size_t>(nread));
        } else {
          self->OnRead(nread, buf->base);
        }
        self->UnlockRead();
      });
}

void StreamPipe::LockRead() {
  rd_mu_.lock();
  loop_holds_rd_ = true;
}

void StreamPipe::UnlockRead() {
  loop_holds_rd_ = false;
  rd_mu_.unlock();
}

void StreamPipe::OnDirectRead(size_t n) {
  if (closing_) return;
  decoder_.CommitDirect(n, &inbox_);
  NoteProgress();
  NoteRead(n);
  DeliverInbox();
}

void StreamPipe::OnRead(ssize_t nread, const char* data) {
  if (closing_ || nread == 0) return;
  if (nread < 0) {
    CloseOnLoop(nread == UV_EOF
                    ? absl::UnavailableError("peer closed the connection")
                    : UvError(static_cast<int>(nread), "read"));
    return;
  }
  size_t n = static_cast<size_t>(nread);
  if (!hello_done_) {
    size_t take = std::min(n, kHelloSize - hello_have_);
    std::memcpy(hello_in_ + hello_have_, data, take);
    hello_have_ += take;
    data += take;
    n -= take;
    if (hello_have_ < kHelloSize) return;
    absl::Status s = CheckHello(hello_in_, peer_id_);
    if (!s.ok()) {
      core_->CountReject(s.code() == absl::StatusCode::kFailedPrecondition
                             ? Reject::kProtocol
                             : Reject::kBadFrame);
      CloseOnLoop(s);
      return;
    }
    hello_done_ = true;
    uv_timer_stop(&timer_);
    {
      std::lock_guard<std::mutex> lock(io_mu_);
      uv_os_fd_t fd;
      if (uv_fileno(reinterpret_cast<uv_handle_t*>(&handle_), &fd) == 0) {
        fd_ = fd;
        direct_ok_ = true;
        rd_ok_ = true;  // rd_mu_ is held (read callback)
      }
    }
    auto ready = std::move(ready_);
    ready(absl::OkStatus());  // attaches the pipe (or closes it)
    if (closing_) return;
  }
  if (n == 0) return;
  absl::Status s = decoder_.Feed(data, n, &inbox_);
  if (s.ok()) NoteProgress();
  NoteRead(n);
  DeliverInbox();
  if (!s.ok()) {
    CountDecodeError(s);
    CloseOnLoop(s);
  }
}

void StreamPipe::Wake() {
  if (TryDirectWrite()) return;
  core_->context().Post([self = std::static_pointer_cast<StreamPipe>(
                             shared_from_this())] { self->Flush(); });
}

bool StreamPipe::TryDirectWrite() {
  const int64_t now = NowNs();
  const int64_t idle =
      now - last_wake_ns_.exchange(now, std::memory_order_relaxed);
  if (!heard_.exchange(false, std::memory_order_relaxed) && idle < kIdleNs)
    return false;
  std::unique_lock<std::mutex> lock(io_mu_, std::try_to_lock);
  if (!lock.owns_lock() || !direct_ok_ || writing_) return false;
  batch_.clear();
  bool drained = false;
  if (core_->TakeSend(this, &batch_, kMaxBatchBytes, &drained) == 0)
    return true;  // another writer took them
  EncodeBatch();
  size_t total = 0;
  for (const uv_buf_t& b : bufs_) total += b.len;
  msghdr mh{};
  // uv_buf_t is laid out as struct iovec on Unix (libuv documents this).
  mh.msg_iov = reinterpret_cast<iovec*>(bufs_.data());
  mh.msg_iovlen = bufs_.size();
  ssize_t n;
  int err = 0;
  do {
    n = sendmsg(fd_, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
    err = n < 0 ? errno : 0;
  } while (err == EINTR);
  if (n < 0 && err != EAGAIN && err != EWOULDBLOCK) {
    // The loop closes the pipe; nothing more is written to fd_.
    direct_ok_ = false;
    writing_ = true;
    core_->context().Post(
        [self = std::static_pointer_cast<StreamPipe>(shared_from_this()), err] {
          self->CloseOnLoop(UvError(-err, "write"));
        });
    return true;
  }
  size_t done = n > 0 ? static_cast<size_t>(n) : 0;
  if (done == total) {
    batch_.clear();
    if (drained) return true;
    lock.unlock();
    return false;  // more were queued meanwhile: the loop takes them
  }
  // The kernel took part: the loop writes the rest, then goes on with the
  // queue (OnWritten flushes).
  size_t skip = 0;
  while (done >= bufs_[skip].len) done -= bufs_[skip++].len;
  bufs_.erase(bufs_.begin(), bufs_.begin() + static_cast<ptrdiff_t>(skip));
  bufs_[0].base += done;
  bufs_[0].len -= done;
  writing_ = true;
  core_->context().Post(
      [self = std::static_pointer_cast<StreamPipe>(shared_from_this())] {
        if (self->closing_) return;
        int rc;
        {
          std::lock_guard<std::mutex> lock(self->io_mu_);
          self->writing_ = false;  // StartWrite sets it again
          rc = self->StartWrite();
        }
        if (rc < 0) self->CloseOnLoop(UvError(rc, "write"));
      });
  return true;
}

void StreamPipe::Flush() {
  if (closing_ || !hello_done_) return;
  int rc;
  {
    std::lock_guard<std::mutex> lock(io_mu_);
    if (writing_) return;
    batch_.clear();
    if (core_->TakeSend(this, &batch_, kMaxBatchBytes) == 0) return;
    EncodeBatch();
    rc = StartWrite();
  }
  if (rc < 0) CloseOnLoop(UvError(rc, "write"));
}

void StreamPipe::EncodeBatch() {
  // Frame prefixes and small bodies go into scratch_; large bodies get their
  // own iovec. Segments are recorded as (offset in scratch_ or pointer, length)
  // and resolved after scratch_ stops growing.
  scratch_.clear();
  struct Segment {
    const char* ptr;  // null: an offset into scratch_
    size_t off, len;
  };
  absl::InlinedVector<Segment, 4> segs;
  size_t run_start = 0;
  for (const Message& m : batch_) {
    if (m.size() < kCopyBelow) {
      AppendFrame(m, ipc_, &scratch_);
    } else {
      AppendFramePrefix(m, ipc_, &scratch_);
      segs.push_back({nullptr, run_start, scratch_.size() - run_start});
      segs.push_back({m.data(), 0, m.size()});
      run_start = scratch_.size();
    }
  }
  if (scratch_.size() > run_start)
    segs.push_back({nullptr, run_start, scratch_.size() - run_start});
  bufs_.clear();
  for (const Segment& s : segs) {
    char* p = s.ptr ? const_cast<char*>(s.ptr) : scratch_.data() + s.off;
    if (s.len > 0)
      bufs_.push_back(uv_buf_init(p, static_cast<unsigned>(s.len)));
  }
}

int StreamPipe::StartWrite() {
  int rc = uv_write(&write_req_, stream(), bufs_.data(),
                    static_cast<unsigned>(bufs_.size()), &OnWritten);
  if (rc == 0) writing_ = true;
  return rc;
}

void StreamPipe::OnWritten(uv_write_t* req, int status) {
  auto* self = static_cast<StreamPipe*>(req->handle->data);
  {
    std::lock_guard<std::mutex> lock(self->io_mu_);
    self->writing_ = false;
    self->batch_.clear();
  }
  if (status < 0) {
    self->CloseOnLoop(UvError(status, "write"));
  } else {
    self->Flush();
  }
}

void StreamPipe::Close(absl::Status why) {
  if (core_->context().IsLoopThread()) {
    CloseOnLoop(std::move(why));
    return;
  }
  core_->context().Post(
      [self = std::static_pointer_cast<StreamPipe>(shared_from_this()),
       why = std::move(why)]() mutable { self->CloseOnLoop(std::move(why)); });
}

void StreamPipe::CloseOnLoop(absl::Status why) {
  if (closing_) return;
  closing_ = true;
  why_ = std::move(why);
  SetLent(false);  // nothing reads a closing pipe
  {
    std::lock_guard<std::mutex> lock(io_mu_);
    direct_ok_ = false;  // no direct write touches the fd from now on
  }
  // Nor a receiver's read: one that is reading finishes first.
  if (loop_holds_rd_) {
    rd_ok_ = false;
  } else {
    std::lock_guard<std::mutex> lock(rd_mu_);
    rd_ok_ = false;
  }
  auto on_close = [](uv_handle_t* h) {
    static_cast<StreamPipe*>(h->data)->OnHandleClosed();
  };
  uv_close(reinterpret_cast<uv_handle_t*>(&handle_), on_close);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), on_close);
  uv_close(reinterpret_cast<uv_handle_t*>(&lend_timer_), on_close);
}

void StreamPipe::OnHandleClosed() {
  if (--open_handles_ > 0) return;
  decoder_.Release();  // its bytes go back to the socket's budget
  {
    std::lock_guard<std::mutex> lock(io_mu_);
    batch_.clear();
  }
  if (ready_) {
    auto ready = std::move(ready_);
    ready(why_.ok() ? absl::UnavailableError("closed during handshake") : why_);
  }
  FinishClose(*core_, why_, /*tracked=*/true);
  std::shared_ptr<StreamPipe> self = std::move(self_);  // may free us on return
}

}  // namespace msock::internal
