// The WebSocket wire format msock speaks itself (RFC 6455 and the SP mapping
// of shared/spec/sp-wire.md section 5): the HTTP/1.1 upgrade request and
// response, plain HTTP errors and file responses, and data/control frames.
// libwebsockets carries the bytes (raw sockets, TLS); this codec makes and
// parses them. Pure functions and a resumable decoder, no I/O, so they can be
// tested and fuzzed alone.
#ifndef MSOCK_TRANSPORTS_WS_WS_CODEC_H_
#define MSOCK_TRANSPORTS_WS_WS_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "msock/message.h"
#include "transports/recv_budget.h"

namespace msock::internal::ws {

// ---- HTTP heads ----

// Largest request or response head accepted (request line + headers).
inline constexpr size_t kMaxHeadSize = 8192;

struct HttpHead {
  // Request: method ("GET") and target ("/path?query"); response: status code
  // and reason.
  std::string method;
  std::string target;
  int status = 0;
  std::string reason;
  // Header names lower-cased, values trimmed, in arrival order.
  std::vector<std::pair<std::string, std::string>> headers;
  size_t head_size = 0;  // bytes up to and including the blank line

  // The first header named `lower_name`, or null.
  const std::string* Find(std::string_view lower_name) const;
  // True if header `lower_name` holds `token` in its comma-separated list,
  // compared without regard to case ("Connection: keep-alive, Upgrade").
  bool HasToken(std::string_view lower_name, std::string_view token) const;
};

// Parses an HTTP/1.1 request head from the start of `buf`. nullopt: not
// complete yet (read more). kInvalidArgument: malformed, or over kMaxHeadSize
// without its end. A reader that appends to one buffer and parses again after
// each read passes the same `scanned` (starting at 0) each time: the bytes
// already checked are not scanned again.
absl::StatusOr<std::optional<HttpHead>> ParseRequestHead(
    std::string_view buf, size_t* scanned = nullptr);
// Same for a response head ("HTTP/1.1 101 Switching Protocols").
absl::StatusOr<std::optional<HttpHead>> ParseResponseHead(
    std::string_view buf, size_t* scanned = nullptr);

// Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key + GUID)).
std::string AcceptKey(std::string_view client_key);
// A fresh Sec-WebSocket-Key: 16 random bytes, base64.
std::string NewClientKey();
// True if `key` is base64 of exactly 16 bytes (a valid Sec-WebSocket-Key).
bool IsKeyOf16Bytes(std::string_view key);

// The dialer's upgrade request. `host` goes in the Host header as given
// ("127.0.0.1:5555"); `subprotocol` is the listener's role name
// ("rep.sp.nanomsg.org"). `extra` (opt::kWsRequestHeaders, already checked)
// holds more header lines, "\n"- or "\r\n"-separated.
std::string UpgradeRequest(std::string_view host, std::string_view path,
                           std::string_view key, std::string_view subprotocol,
                           std::string_view extra = "");
// The listener's 101 reply ("Upgrade: websocket", lower case, as NNG requires).
std::string UpgradeResponse(std::string_view accept_key,
                            std::string_view subprotocol);
// A complete small HTTP error response that closes the connection, e.g. (404,
// "Not Found", "no msock socket listens on /foo").
std::string ErrorResponse(int status, std::string_view reason,
                          std::string_view text);
// The head of a 200 response carrying `length` bytes of `content_type`.
std::string FileResponseHead(std::string_view content_type, size_t length);

// Why an upgrade failed, so that what to answer and which rejection to count
// never depend on an error's text (its message is for people).
enum class UpgradeRefusal {
  kMalformed,    // not a valid upgrade request / 101 reply
  kVersion,      // Sec-WebSocket-Version is not 13 (a listener answers 426)
  kSubprotocol,  // no subprotocol asked for or answered, or a wrong one
  kRefused,      // the listener answered with a status other than 101
};

// The HTTP status a listener answers a refused upgrade request with.
inline int HttpStatusFor(UpgradeRefusal why) {
  return why == UpgradeRefusal::kVersion ? 426 : 400;
}

// Checks a parsed upgrade request against what the listener offers. On success
// returns the Sec-WebSocket-Key; otherwise the HTTP status to answer with
// (400 bad upgrade / wrong or missing subprotocol, 426 wrong version) and a
// reason, as kInvalidArgument with the status code in the message prefix
// "400: ...", and (if `why` is not null) the kind of failure in *why (left
// alone on success).
// `subprotocol` is our own name, e.g. "rep.sp.nanomsg.org".
absl::StatusOr<std::string> CheckUpgradeRequest(const HttpHead& req,
                                                std::string_view subprotocol,
                                                UpgradeRefusal* why = nullptr);
// Checks the listener's reply to our upgrade request (status 101, Upgrade,
// Connection, Sec-WebSocket-Accept for `key`, Sec-WebSocket-Protocol equal to
// `subprotocol`). kUnavailable with the status and reason for a non-101
// answer (*why = kRefused), kDataLoss for a malformed 101 (*why = kSubprotocol
// for a missing or wrong subprotocol, else kMalformed).
absl::Status CheckUpgradeResponse(const HttpHead& resp, std::string_view key,
                                  std::string_view subprotocol,
                                  UpgradeRefusal* why = nullptr);

// ---- frames ----

enum Opcode : uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

// Largest frame header: 2 + 8 (length) + 4 (mask).
inline constexpr size_t kMaxFrameHeader = 14;

// Appends one frame to `out`: header, then the payload `parts` in order,
// masked with `mask` when `masked` (dialers mask, listeners do not).
void AppendFrame(std::string* out, Opcode opcode, bool fin, bool masked,
                 uint32_t mask, const std::vector<std::string_view>& parts);

// Appends message `msg` (its header words big-endian, then its body) as one or
// more frames of at most `max_frame` payload bytes each: the first kBinary (or
// kText), the rest kContinuation, FIN on the last. Dialers pass masked = true
// and a source of mask keys.
void AppendMessage(std::string* out, const Message& msg, bool text,
                   size_t max_frame, bool masked,
                   const std::function<uint32_t()>& next_mask);

// A close frame's payload: a 2-byte status code then a UTF-8 reason.
std::string ClosePayload(uint16_t code, std::string_view reason);

// Close codes used by msock.
inline constexpr uint16_t kCloseNormal = 1000;
inline constexpr uint16_t kCloseProtocolError = 1002;
inline constexpr uint16_t kCloseUnsupportedData = 1003;
inline constexpr uint16_t kCloseInvalidPayload = 1007;
inline constexpr uint16_t kCloseTooBig = 1009;
inline constexpr uint16_t kClosePolicyViolation = 1008;
inline constexpr uint16_t kCloseTryAgainLater = 1013;

// Turns the bytes after the handshake into whole messages. Data frames are
// reassembled (fragments concatenated) into one Message whose body is the whole
// SP payload (header words included; the protocol's filter splits them). Pings
// are reported so the owner can answer with a pong carrying the same payload.
// After an error the decoder stays failed.
//
// A message that does not arrive in one piece collects in a buffer that starts
// at kFirstPartial bytes at most and grows fourfold as its bytes arrive (a
// frame header's length alone reserves little), each growth taken from the
// budget first (recv_budget.h); the buffer is freed when the message ends.
class FrameDecoder {
 public:
  struct Options {
    bool expect_masked = false;  // a listener requires masked frames
    size_t max_message = 0;      // largest message, 0 = no limit
    bool allow_text = false;     // text frames accepted (else closed 1003)
    // Shared by the socket's pipes (kMaxUnfinishedBytes); null = none.
    UnfinishedBudget* budget = nullptr;
  };
  static constexpr size_t kFirstPartial = 64 * 1024;
  struct Events {
    std::function<void(Message msg, bool text)> message;
    std::function<void(std::string_view payload)> ping;
    std::function<void(std::string_view payload)> pong;
    // The peer's close frame: its code (1005 if none) and reason.
    std::function<void(uint16_t code, std::string_view reason)> close;
  };

  explicit FrameDecoder(Options options)
      : options_(options), held_(options.budget) {}

  // Consumes `data`, calling `events` for each complete message or control
  // frame. On a protocol violation returns an error whose message says what was
  // wrong, and sets close_code() to the code to send (1002 protocol error,
  // 1003 text not allowed, 1007 bad UTF-8 in text, 1009 too big, 1013 the
  // budget refused to grow the message's buffer: then over_budget() is true).
  absl::Status Feed(std::string_view data, const Events& events);

  uint16_t close_code() const { return close_code_; }
  bool over_budget() const { return close_code_ == kCloseTryAgainLater; }
  // True while a frame or a fragmented message has begun and not ended.
  bool mid_message() const {
    return in_frame_ || in_message_ || !header_.empty();
  }
  // Bytes of data frames (headers and payloads) consumed so far: grows when a
  // message progresses, not when only control frames come.
  uint64_t data_bytes() const { return data_bytes_; }
  // Bytes held for the unfinished message.
  size_t held_bytes() const { return message_.capacity(); }

 private:
  // The steps of Feed; each returns failed_ when it fails the decoder.
  absl::Status Fail(uint16_t code, std::string_view why);
  absl::Status Deliver(Message msg, bool text, const Events& events);
  // Reads the frame header from *data; the frame starts (in_frame_) once it
  // is whole, unless it was a whole one-frame message, delivered at once.
  absl::Status ReadHeader(std::string_view* data, const Events& events);
  // Acts on a frame whose payload is complete (ping, pong, close, message).
  absl::Status EndFrame(const Events& events);
  // Makes message_ hold at least `need` bytes, growing fourfold up to the end
  // of the current frame; fails the decoder if the budget refuses.
  absl::Status GrowMessage(size_t need);
  // Frees message_ and gives its bytes back to the budget.
  void DropMessage();

  Options options_;
  absl::Status failed_;
  uint16_t close_code_ = 0;
  // The frame being read.
  std::string header_;  // header bytes collected so far
  uint64_t payload_left_ = 0;
  bool in_frame_ = false;
  uint8_t opcode_ = 0;
  bool fin_ = false;
  bool masked_ = false;
  uint8_t mask_[4] = {0, 0, 0, 0};
  uint64_t mask_pos_ = 0;
  std::string control_;  // payload of a control frame being read
  // The data message being reassembled.
  bool in_message_ = false;
  bool message_text_ = false;
  std::string message_;
  HeldBytes held_;  // ~ message_.capacity()
  uint64_t data_bytes_ = 0;
};

}  // namespace msock::internal::ws

#endif  // MSOCK_TRANSPORTS_WS_WS_CODEC_H_
