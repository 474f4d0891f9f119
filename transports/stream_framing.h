// The SP stream mapping shared by tcp and ipc: the 8-byte connection header and
// the length-prefixed message frames (ipc adds a leading 0x01 type byte per
// message). Pure functions and a resumable decoder, no I/O, so they can be
// tested and fuzzed alone. See shared/spec/sp-wire.md sections 3 and 4.
#ifndef MSOCK_TRANSPORTS_STREAM_FRAMING_H_
#define MSOCK_TRANSPORTS_STREAM_FRAMING_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "msock/message.h"
#include "transports/recv_budget.h"

namespace msock::internal {

inline constexpr size_t kHelloSize = 8;
inline constexpr uint8_t kIpcMessageType = 0x01;

// Writes our connection header for protocol `self_id` into out[0..7].
void EncodeHello(uint16_t self_id, uint8_t out[kHelloSize]);

// Checks a received connection header. OK if it is well formed and its protocol
// id is `expected_peer_id`; kDataLoss for a malformed header;
// kFailedPrecondition (with both ids in the message) for a well-formed header
// of another protocol.
absl::Status CheckHello(const uint8_t in[kHelloSize],
                        uint16_t expected_peer_id);

// Writes msg's header words big-endian at out[0 .. msg.header_size()).
void WriteHeaderWords(const Message& msg, char* out);

// Appends the frame of `msg` (optional type byte, u64 length, header words,
// body) to `out`.
void AppendFrame(const Message& msg, bool ipc, std::string* out);
// Appends only the frame prefix (type byte, length, header words): the body
// follows as is.
void AppendFramePrefix(const Message& msg, bool ipc, std::string* out);
// Size of the prefix AppendFramePrefix writes.
inline size_t FramePrefixSize(const Message& msg, bool ipc) {
  return (ipc ? 1 : 0) + 8 + msg.header_size();
}

// Turns a byte stream into whole messages. Feed it every byte read, in order;
// complete messages are appended to `out` (body = SP header words || user body,
// path empty). A decoder that returned an error stays failed.
//
// The body of a message that does not arrive whole is not allocated from its
// length prefix alone: its buffer starts at most kFirstPartial bytes (or a few
// times what came with the prefix) and grows fourfold as bytes arrive, each
// growth taken from `budget` first (see recv_budget.h).
class StreamDecoder {
 public:
  // The first buffer of a message that arrives in parts is at most this large
  // unless more of it came with its prefix.
  static constexpr size_t kFirstPartial = 64 * 1024;

  // max_size: largest accepted payload, 0 = no limit. budget: shared by the
  // socket's pipes, or null for none.
  StreamDecoder(bool ipc, size_t max_size, UnfinishedBudget* budget = nullptr)
      : ipc_(ipc), max_size_(max_size), held_(budget) {}

  // kResourceExhausted for a length over max_size, or for a buffer the budget
  // refused (then over_budget() is true); kDataLoss for an ipc type byte other
  // than 0x01. Messages decoded before the bad frame are still appended to
  // `out`.
  absl::Status Feed(const char* data, size_t size, std::vector<Message>* out);

  // While a message body is being filled and its buffer has room: where its
  // next bytes go; *len = the room left (never more than the bytes still
  // missing). Null when there is none. Reading straight there saves a copy.
  char* direct_buffer(size_t* len);
  // `n` (<= *len of direct_buffer) bytes were written at direct_buffer(); a
  // completed message is appended to `out`.
  void CommitDirect(size_t n, std::vector<Message>* out);

  // True while part of a message has been read but not all of it.
  bool mid_message() const { return have_ > 0 || body_needed_ > 0; }
  // True if the last error was the budget refusing a buffer.
  bool over_budget() const { return over_budget_; }
  // Bytes this decoder holds for its unfinished message.
  size_t held_bytes() const { return partial_.size(); }
  // Drops the unfinished message and gives its bytes back to the budget.
  void Release();

 private:
  // Makes the body buffer hold at least `need` bytes (<= body_needed_),
  // growing it fourfold at a time. False if the budget refused.
  bool Grow(size_t need);
  void Complete(std::vector<Message>* out);

  bool ipc_;
  size_t max_size_;
  absl::Status failed_;
  bool over_budget_ = false;
  uint8_t prefix_[9];  // type byte (ipc) + u64 length being collected
  size_t have_ = 0;    // prefix bytes collected
  Message partial_;    // the body buffer (its size is its capacity)
  size_t body_filled_ = 0;
  size_t body_needed_ = 0;
  HeldBytes held_;  // = partial_.size()
};

}  // namespace msock::internal

#endif  // MSOCK_TRANSPORTS_STREAM_FRAMING_H_
