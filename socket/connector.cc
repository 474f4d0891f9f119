// Connector: listeners and back-off dialers of one socket, all living on the
// loop thread.
#include "socket/connector.h"

#include <uv.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/context_access.h"
#include "socket/socket_core.h"

namespace msock::internal {

// Keeps one connection to a URL: connect, attach, and on failure or loss
// re-dial after a back-off that doubles from kReconnectMin to kReconnectMax
// (reset by a successful attach).
class Dialer : public std::enable_shared_from_this<Dialer> {
 public:
  Dialer(std::shared_ptr<SocketCore> core, Transport* transport, Url url,
         uint64_t id)
      : core_(std::move(core)),
        transport_(transport),
        url_(std::move(url)),
        id_(id) {}

  uint64_t id() const { return id_; }

  // Loop thread.
  void Start() {
    timer_ = new uv_timer_t;
    uv_timer_init(ContextAccess::Loop(core_->context()), timer_);
    timer_->data = this;
    backoff_ = core_->options().reconnect_min;
    Attempt();
  }

  // Loop thread. `done` runs when the timer handle is closed. With `linger`
  // (StopDial) the pipe is closed as ClosePipe does, else at once.
  void Close(absl::AnyInvocable<void()> done, bool linger = false) {
    closed_ = true;
    if (pipe_ && linger) {
      core_->ClosePipe(pipe_->id);
    } else if (pipe_) {
      pipe_->Close(absl::CancelledError("socket closed"));
    }
    pipe_.reset();
    closed_cb_ = std::move(done);
    self_ = shared_from_this();  // alive until the timer's close callback
    uv_close(reinterpret_cast<uv_handle_t*>(timer_), [](uv_handle_t* h) {
      auto* d = static_cast<Dialer*>(h->data);
      delete reinterpret_cast<uv_timer_t*>(h);
      auto cb = std::move(d->closed_cb_);
      std::shared_ptr<Dialer> self = std::move(d->self_);
      cb();
    });
  }

 private:
  void Attempt() {
    if (closed_) return;
    connecting_ = true;
    std::weak_ptr<Dialer> weak = shared_from_this();
    transport_->Connect(url_, core_,
                        [weak](absl::StatusOr<std::shared_ptr<Pipe>> r) {
                          if (auto self = weak.lock()) {
                            self->OnConnect(std::move(r));
                          } else if (r.ok()) {
                            (*r)->Close(absl::CancelledError("dialer closed"));
                          }
                        });
  }

  void OnConnect(absl::StatusOr<std::shared_ptr<Pipe>> r) {
    connecting_ = false;
    if (!r.ok()) {
      if (!closed_) core_->DialFailed(url_.ToString(), r.status());
      Retry();
      return;
    }
    std::shared_ptr<Pipe> pipe = *std::move(r);
    if (closed_) {
      pipe->Close(absl::CancelledError("socket closed"));
      return;
    }
    std::weak_ptr<Dialer> weak = shared_from_this();
    Context* ctx = &core_->context();
    pipe->on_closed = [weak, ctx] {
      ctx->Post([weak] {
        if (auto self = weak.lock()) {
          self->pipe_.reset();
          self->Retry();
        }
      });
    };
    if (!core_->AttachPipe(pipe)) {
      pipe->Close(absl::ResourceExhaustedError(
          "socket refused the pipe (closed or at limit)"));
      return;  // on_closed re-dials
    }
    pipe_ = std::move(pipe);
    backoff_ = core_->options().reconnect_min;
  }

  void Retry() {
    if (closed_ || connecting_ || pipe_) return;
    SocketOptions o = core_->options();
    auto ms = static_cast<uint64_t>(absl::ToInt64Milliseconds(backoff_));
    backoff_ =
        std::min(backoff_ * 2, std::max(o.reconnect_max, o.reconnect_min));
    uv_timer_start(
        timer_,
        [](uv_timer_t* t) {
          auto* d = static_cast<Dialer*>(t->data);
          d->Attempt();
        },
        ms, 0);
  }

  std::shared_ptr<SocketCore> core_;
  Transport* transport_;
  Url url_;
  const uint64_t id_;
  uv_timer_t* timer_ = nullptr;
  absl::Duration backoff_;
  bool closed_ = false;
  bool connecting_ = false;
  std::shared_ptr<Pipe> pipe_;
  absl::AnyInvocable<void()> closed_cb_;
  std::shared_ptr<Dialer> self_;
};

// One ClosePipe linger bound: closes the pipe when it fires. Loop thread;
// deletes itself in its handle's close callback.
class PipeTimer {
 public:
  explicit PipeTimer(std::weak_ptr<Pipe> pipe) : pipe_(std::move(pipe)) {}

  void Start(uv_loop_t* loop, absl::Duration delay,
             absl::AnyInvocable<void()> fired) {
    fired_ = std::move(fired);
    uv_timer_init(loop, &timer_);
    timer_.data = this;
    uv_timer_start(
        &timer_,
        [](uv_timer_t* t) { static_cast<PipeTimer*>(t->data)->fired_(); },
        static_cast<uint64_t>(absl::ToInt64Milliseconds(delay)), 0);
  }

  // Stops the timer; `done` runs once its handle is closed, after `this` is
  // deleted.
  void Close(absl::AnyInvocable<void()> done) {
    done_ = std::move(done);
    uv_close(reinterpret_cast<uv_handle_t*>(&timer_), [](uv_handle_t* h) {
      auto* self = static_cast<PipeTimer*>(h->data);
      auto done = std::move(self->done_);
      delete self;
      done();
    });
  }

  const std::weak_ptr<Pipe>& pipe() const { return pipe_; }

 private:
  std::weak_ptr<Pipe> pipe_;
  uv_timer_t timer_;
  absl::AnyInvocable<void()> fired_;
  absl::AnyInvocable<void()> done_;
};

Connector::~Connector() = default;

absl::StatusOr<std::string> Connector::Listen(std::string_view url_text) {
  absl::StatusOr<Url> url = ParseUrl(url_text);
  if (!url.ok()) return url.status();
  Transport* t = FindTransport(url->scheme);
  if (t == nullptr)
    return absl::InvalidArgumentError("no transport for " + url->scheme);
  MSOCK_RETURN_IF_ERROR(t->PrepareListen(*url));
  std::shared_ptr<SocketCore> core = core_->shared_from_this();
  absl::StatusOr<std::string> result = absl::UnknownError("not run");
  Event done;
  auto work = [&] {
    {
      MutexLock lock(mu_);
      if (shut_) {
        result = absl::FailedPreconditionError("socket closed");
        return;
      }
    }
    absl::StatusOr<std::unique_ptr<Listener>> l = t->Listen(*url, core);
    if (!l.ok()) {
      result = l.status();
      return;
    }
    result = (*l)->url();
    listeners_.push_back(*std::move(l));
    MutexLock lock(mu_);
    ++open_;
  };
  if (core_->context().IsLoopThread()) {
    work();
  } else {
    core_->context().Post([&] {
      work();
      done.Notify();
    });
    done.Wait();
  }
  return result;
}

absl::StatusOr<uint64_t> Connector::Dial(std::string_view url_text) {
  absl::StatusOr<Url> url = ParseUrl(url_text);
  if (!url.ok()) return url.status();
  Transport* t = FindTransport(url->scheme);
  if (t == nullptr)
    return absl::InvalidArgumentError("no transport for " + url->scheme);
  uint64_t id;
  {
    MutexLock lock(mu_);
    if (shut_) return absl::FailedPreconditionError("socket closed");
    ++open_;
    id = ++next_dialer_;
  }
  auto dialer = std::make_shared<Dialer>(core_->shared_from_this(), t,
                                         *std::move(url), id);
  core_->context().Post([this, dialer] {
    {
      MutexLock lock(mu_);
      if (shut_) {
        if (--open_ == 0) closed_cv_.notify_all();
        return;
      }
    }
    dialers_.push_back(dialer);
    dialer->Start();
  });
  return id;
}

absl::Status Connector::StopDial(uint64_t id) {
  absl::Status result = absl::NotFoundError(
      absl::StrCat("no dialer ", id, " (never started or already stopped)"));
  auto work = [&] {
    auto it = std::find_if(dialers_.begin(), dialers_.end(),
                           [id](const auto& d) { return d->id() == id; });
    if (it == dialers_.end()) return;
    std::shared_ptr<Dialer> d = std::move(*it);
    dialers_.erase(it);
    d->Close([this] { EndpointClosed(); }, /*linger=*/true);
    result = absl::OkStatus();
  };
  {
    MutexLock lock(mu_);
    if (shut_) return absl::FailedPreconditionError("socket closed");
  }
  if (core_->context().IsLoopThread()) {
    work();
    return result;
  }
  // Posted after Dial's own post, so a dialer just started is found.
  Event done;
  core_->context().Post([&] {
    work();
    done.Notify();
  });
  done.Wait();
  return result;
}

void Connector::CloseAfter(std::weak_ptr<Pipe> pipe, absl::Duration delay) {
  {
    MutexLock lock(mu_);
    if (shut_) return;  // Shutdown closes every pipe anyway
    ++open_;
  }
  auto work = [this, pipe = std::move(pipe), delay,
               keep = core_->shared_from_this()]() mutable {
    {
      MutexLock lock(mu_);
      if (shut_) {
        if (--open_ == 0) closed_cv_.notify_all();
        return;
      }
    }
    auto* t = new PipeTimer(std::move(pipe));
    timers_.push_back(t);
    t->Start(ContextAccess::Loop(core_->context()), delay, [this, t] {
      std::erase(timers_, t);
      if (std::shared_ptr<Pipe> p = t->pipe().lock())
        p->Close(absl::OkStatus());
      t->Close([this] { EndpointClosed(); });
    });
  };
  if (core_->context().IsLoopThread()) {
    work();
  } else {
    core_->context().Post(std::move(work));
  }
}

void Connector::EndpointClosed() {
  MutexLock lock(mu_);
  if (--open_ == 0) closed_cv_.notify_all();
}

void Connector::Shutdown() {
  {
    MutexLock lock(mu_);
    if (shut_) return;
    shut_ = true;
    ++open_;  // the shutdown task itself: the waiter must not return before it
              // ends
  }
  auto work = [this] {
    std::vector<std::unique_ptr<Listener>> listeners = std::move(listeners_);
    std::vector<std::shared_ptr<Dialer>> dialers = std::move(dialers_);
    std::vector<PipeTimer*> timers = std::move(timers_);
    for (PipeTimer* t : timers) t->Close([this] { EndpointClosed(); });
    for (auto& l : listeners) {
      Listener* raw = l.release();
      raw->Close([this, raw] {
        delete raw;
        EndpointClosed();
      });
    }
    for (auto& d : dialers) d->Close([this] { EndpointClosed(); });
    EndpointClosed();  // last touch of `this` in this task
  };
  if (core_->context().IsLoopThread()) {
    work();
    return;
  }
  core_->context().Post(work);
  MutexLock lock(mu_);
  const absl::Time limit = absl::Now() + absl::Seconds(10);
  while (open_ != 0 && !WaitUntil(closed_cv_, lock, limit)) {
  }
}
}  // namespace msock::internal
