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
// cannot finish, the loop writes. The mirror on the receiving side: a receiver
// waiting in Recv reads and decodes the pipe's bytes itself (RecvOnCaller, in
// stream_recv.cc), while the loop reads whatever no receiver does, and stops
// watching the descriptor while receivers keep reading it (lent_).
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
#include "absl/time/time.h"
#include "transports/stream_framing.h"
#include "transports/transport.h"

namespace msock::internal {

// Tests: how long a descriptor lent to receivers stays with them after their
// last poll before the loop reads it again (2 ms unless set; see lent_).
void SetLendIdleForTest(absl::Duration idle);
// Tests: how many stream pipes of this process are lent to receivers now.
int LentPipesForTest();
// Tests: the loop lends a pipe as soon as a receiver polls it (else only when
// a receiver reads first the bytes that woke the loop: a race).
void SetLendOnPollForTest(bool on);
// Tests: while it lives, the loop lends on poll and keeps a lent pipe for
// `idle` after the last poll; its destructor restores both defaults.
class LendOnPollForTest {
 public:
  explicit LendOnPollForTest(absl::Duration idle);
  ~LendOnPollForTest();
  LendOnPollForTest(const LendOnPollForTest&) = delete;
  LendOnPollForTest& operator=(const LendOnPollForTest&) = delete;
};

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
  // stream_recv.cc: the receiver's thread reads the peer's bytes itself.
  // -1 while receivers leave the pipe to the loop (leave_to_loop_).
  int RecvFd() override {
    return leave_to_loop_.load(std::memory_order_relaxed) ? -1 : fd_;
  }
  ssize_t RecvOnCaller() override;
  void Polling(bool on) override;
  void Unlend() override;

 private:
  // The size of a read buffer (the loop's, and each receiving thread's in
  // RecvOnCaller): decoding copies every message out of it at once. A pending
  // message body at least kDirectReadMin large is read into directly instead
  // (no copy). Below it, one buffer read that carries several messages beats
  // a read per message (64 KiB messages over ipc: 2.75x libzmq with 128 KiB,
  // 0.53x with 16).
  static constexpr size_t kReadBufferSize = 256 * 1024;
  static constexpr size_t kDirectReadMin = 128 * 1024;

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
  // Counts a decoding error in the socket's stats (rd_mu_ held).
  void CountDecodeError(const absl::Status& s);
  int StartReading();
  void OnRead(ssize_t nread, const char* data);
  void OnDirectRead(size_t n);
  // Loop thread: takes / releases rd_mu_ (see rd_mu_).
  void LockRead();
  void UnlockRead();
  // After bytes of a message arrived: if one is unfinished, notes the time and
  // makes sure the progress timer runs (kRecvProgressTimeout).
  void NoteProgress();
  void ArmProgressTimer(uint64_t ms);
  void OnProgressTimer();
  void OnHandleClosed();
  // stream_recv.cc, loop thread: lending the descriptor to receivers (see
  // lent_). Lend stops the loop's reading; ReadAgain starts it again (unless
  // paused); OnLendTimer takes the descriptor back once no receiver has
  // polled it for kLendIdleNs.
  void Lend();
  void ReadAgain();
  void SetLent(bool lent);  // lent_ and LentPipesForTest
  // Any thread, rd_mu_ not held: has the loop ReadAgain (unless paused).
  void PostReadAgain();
  // rd_mu_ held, after a read of n bytes was decoded, before the inbox is
  // delivered: sets leave_to_loop_; true when it just became set.
  bool NoteRead(size_t n);
  void ArmLendTimer();
  void OnLendTimer();

  std::shared_ptr<PipeHost> core_;
  const bool ipc_;
  union {
    uv_tcp_t tcp;
    uv_pipe_t pipe;
  } handle_;
  uv_timer_t timer_;       // the handshake timeout, then the progress timeout
  uv_timer_t lend_timer_;  // runs while the descriptor is lent (lent_)
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

  // Receive. The loop and receivers (RecvOnCaller) share the decoder, the
  // inbox and paused_ under rd_mu_: the loop try-locks it in the read
  // allocation callback (busy: a receiver is reading; the loop skips this
  // read) and releases it at the end of the read callback (libuv calls them
  // in pairs), and locks it around every other use; loop_holds_rd_ (loop
  // thread only) says it holds it. Lock order: rd_mu_, then the socket's lock
  // (Deliver); never the other way (the socket closes pipes unlocked).
  std::mutex rd_mu_;
  bool loop_holds_rd_ = false;
  bool rd_ok_ = false;  // handshake done, not closing: receivers may read
  StreamDecoder decoder_;
  bool paused_ = false;
  // kRecvProgressTimeout in ms (0 = off), when the unfinished message last
  // grew (loop time), and whether the timer is set for it.
  uint64_t progress_ms_ = 0;
  // Lending (loop thread only): when the loop finds that a receiver read the
  // bytes it was woken for, it stops reading the descriptor (uv_read_stop)
  // and leaves it to the receivers polling it, so that a message wakes one
  // thread, not two. It reads again when they stop polling (lend_timer_),
  // at once when the socket's receiver goes to sleep instead of polling
  // (Unlend), when the pipe resumes after a pause, and when a receiver met
  // the end of the stream or an error (RecvOnCaller posts ReadAgain: the loop
  // closes).
  // pollers_ and last_poll_ns_ (steady clock) are the receivers' side.
  // lent_ is written on the loop only; Unlend reads it on any thread.
  // unlend_asked_: a receiver stopped polling and sleeps (Unlend) and none
  // polled since: no new lend.
  std::atomic<bool> lent_{false};
  std::atomic<bool> unlend_asked_{false};
  std::atomic<int> pollers_{0};
  // Receivers leave the pipe to the loop (RecvFd is -1) while it streams:
  // after a read of kBacklogBytes or more (the peer sends faster than one
  // thread reads and decodes), or one whose last message had a body of
  // kLargeMessage bytes or more (a receiver would copy it on its own thread
  // while the loop could already read the next). They read it again after a
  // smaller read of small messages. One thread reading, decoding and
  // consuming a stream is slower than the loop and the receiver side by side
  // (64 KiB messages over ipc: 0.8x).
  static constexpr size_t kLargeMessage = 16 * 1024;
  static constexpr size_t kBacklogBytes = 64 * 1024;
  std::atomic<bool> leave_to_loop_{false};
  std::atomic<int64_t> last_poll_ns_{0};
  uint64_t last_progress_ms_ = 0;
  bool progress_armed_ = false;

  // Send. The loop and direct writers (any thread) share the fields below
  // under io_mu_; a writer holds it from taking a batch until its bytes are
  // written or handed to libuv (writing_), so frames never interleave.
  std::mutex io_mu_;
  bool direct_ok_ = false;  // handshake done, not closing: fd_ may be written
  // Set once, before the pipe is attached (RecvFd reads it unlocked).
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
