// StreamPipe and StreamListener (stream_listener.cc, with the connect
// completion): the libuv side of the SP stream mapping,
// shared by tcp and ipc. A StreamPipe sends its 8-byte header at once, checks
// the peer's within the handshake timeout, then writes queued messages in
// batches (one uv_write per batch) and decodes every whole message out of each
// read. Bad input closes this pipe only, counted in the socket's stats; so
// does an unfinished message that would pass the socket's kMaxUnfinishedBytes
// or that stalls for kRecvProgressTimeout (one timer per pipe, armed only
// while a message is unfinished, checked against the last read's time).
//
// A message that answers the peer, or goes out on a quiet pipe, is written
// straight from the sending thread (one sendmsg, no hop to the loop); a stream
// of messages goes through the loop, which batches them. What the direct write
// cannot finish, the loop writes.
#ifndef MSOCK_TRANSPORTS_STREAM_PIPE_H_
#define MSOCK_TRANSPORTS_STREAM_PIPE_H_

#include <uv.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "transports/stream_framing.h"
#include "transports/transport.h"

namespace msock::internal {

class StreamPipe : public Pipe {
 public:
  // A pipe with an initialised, unconnected handle (tcp or unix) on the core's
  // loop.
  static std::shared_ptr<StreamPipe> Create(std::shared_ptr<PipeHost> core,
                                            bool ipc);
  ~StreamPipe() override;

  uv_stream_t* stream() { return reinterpret_cast<uv_stream_t*>(&handle_); }
  uv_tcp_t* tcp() { return &handle_.tcp; }
  uv_pipe_t* unix_pipe() { return &handle_.pipe; }

  // Loop thread, once connected: exchanges SP headers. `ready` runs once: OK
  // when the peer's header is valid (the pipe is then ready to attach), or the
  // error that closed the pipe.
  void Start(absl::AnyInvocable<void(absl::Status)> ready);

  // Loop thread, before the connect starts (dialers): closes the pipe if it is
  // not connected within `timeout` (0 = never); the connect then fails with
  // connect_timeout_error(). Start replaces the timer with the handshake's.
  void StartConnectTimer(absl::Duration timeout);
  // The error of a connect cut short by StartConnectTimer's timer, else OK.
  const absl::Status& connect_timeout_error() const { return connect_error_; }

  void Wake() override;
  void WakeOnLoop() override { Flush(); }
  void ResumeRecv() override;
  void Close(absl::Status why) override;

 private:
  StreamPipe(std::shared_ptr<PipeHost> core, bool ipc);
  void CloseOnLoop(absl::Status why);
  void Flush();
  // Sending thread: writes the queued messages itself if the pipe is idle.
  // False if it did not take them (the loop must).
  bool TryDirectWrite();
  // batch_ -> scratch_ and bufs_ (frames ready for one write). io_mu_ held.
  void EncodeBatch();
  // Starts the uv_write of bufs_ (io_mu_ held; writing_ set).
  int StartWrite();
  static void OnWritten(uv_write_t* req, int status);
  void DeliverInbox();
  int StartReading();
  void OnRead(ssize_t nread, const char* data);
  void OnDirectRead(size_t n);
  // After bytes of a message arrived: if one is unfinished, notes the time and
  // makes sure the progress timer runs (kRecvProgressTimeout).
  void NoteProgress();
  void ArmProgressTimer(uint64_t ms);
  void OnProgressTimer();
  void OnHandleClosed();

  std::shared_ptr<PipeHost> core_;
  const bool ipc_;
  union {
    uv_tcp_t tcp;
    uv_pipe_t pipe;
  } handle_;
  uv_timer_t timer_;  // the handshake timeout, then the progress timeout
  std::shared_ptr<StreamPipe>
      self_;  // keeps us alive until both handles are closed
  int open_handles_ = 0;
  bool closing_ = false;
  absl::Status why_;
  absl::AnyInvocable<void(absl::Status)> ready_;
  absl::Status connect_error_;
  uint64_t connect_timeout_ms_ = 0;

  // Handshake.
  uint8_t hello_out_[kHelloSize];
  uint8_t hello_in_[kHelloSize];
  size_t hello_have_ = 0;
  bool hello_done_ = false;
  uint16_t peer_id_;

  // Receive.
  StreamDecoder decoder_;
  bool paused_ = false;
  // kRecvProgressTimeout in ms (0 = off), when the unfinished message last
  // grew (loop time), and whether the timer is set for it.
  uint64_t progress_ms_ = 0;
  uint64_t last_progress_ms_ = 0;
  bool progress_armed_ = false;

  // Send. The loop and direct writers (any thread) share the fields below
  // under io_mu_; a writer holds it from taking a batch until its bytes are
  // written or handed to libuv (writing_), so frames never interleave.
  std::mutex io_mu_;
  bool direct_ok_ = false;  // handshake done, not closing: fd_ may be written
  int fd_ = -1;
  bool writing_ = false;  // a uv_write is in flight
  uv_write_t write_req_;
  std::vector<Message> batch_;
  std::string scratch_;
  std::vector<uv_buf_t> bufs_;
  // When Wake last ran (steady clock, ns), and whether messages came in since
  // the last direct write: see kIdleNs.
  std::atomic<int64_t> last_wake_ns_{0};
  std::atomic<bool> heard_{false};
};

class StreamListener : public Listener {
 public:
  // `server` is an initialised, bound tcp or unix handle inside a uv_any_handle
  // allocated with new; the listener owns it. `unlink_path` (ipc) is removed
  // when the listener closes.
  StreamListener(std::shared_ptr<PipeHost> core, bool ipc, uv_stream_t* server,
                 std::string url, std::string unlink_path);
  ~StreamListener() override;
  absl::Status Start();
  std::string url() const override { return url_; }
  void set_url(std::string url) { url_ = std::move(url); }
  void Close(absl::AnyInvocable<void()> done) override;

 private:
  static void OnConnection(uv_stream_t* server, int status);

  std::shared_ptr<PipeHost> core_;
  const bool ipc_;
  uv_stream_t* server_;
  std::string url_;
  std::string unlink_path_;
  absl::AnyInvocable<void()> done_;
};

// One connection attempt in flight: req.data points at this struct (allocated
// with new). OnStreamConnected is the completion for tcp and ipc: it deletes
// the request, starts the handshake and reports to `done`.
struct ConnectRequest {
  uv_connect_t req;
  std::shared_ptr<StreamPipe> pipe;
  ConnectDone done;
  std::string remote;
};
// A new request with a fresh pipe (tcp or unix handle) to `url`, req.data set.
ConnectRequest* NewConnectRequest(std::shared_ptr<PipeHost> core, bool ipc,
                                  const Url& url, ConnectDone done);
void OnStreamConnected(uv_connect_t* req, int status);

}  // namespace msock::internal

#endif  // MSOCK_TRANSPORTS_STREAM_PIPE_H_
