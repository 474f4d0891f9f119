// msock/message.h: the unit every socket sends and receives.
//
// A Message is move-only. Its body is a reference-counted,
// immutable-once-shared buffer, so fan-out (one message to many pipes) and
// Clone() share the bytes instead of copying them. Besides the body a message
// carries
//   - header words: 32-bit words a protocol puts in front of the body on the
//     wire (SP's request ids, backtraces, pair1's hop count), written
//     big-endian before the body;
//   - its source path: the stack of pipe ids it came through. A socket pushes
//     the id of the pipe a message arrived on; Socket::SendTo(path, ...)
//     routes a reply back along it.
//
// Example:
//   msock::Message m("hello");        // copies "hello" into a new body
//   msock::Message copy = m.Clone();  // shares the body; copies header, path
//   std::string_view bytes = m.body();  // "hello"
//   msock::Message big = msock::Message::WithSize(4);
//   std::memcpy(big.mutable_data(), "abcd", 4);  // fill a new body in place
//
// Thread-safety: a Message is a value; one thread at a time may use it. Clones
// may be used from different threads (the shared body is never written once
// shared).
#ifndef MSOCK_MESSAGE_H_
#define MSOCK_MESSAGE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "msock/export.h"
#include "msock/words.h"

namespace msock {

namespace internal {
struct Chunk;
}  // namespace internal

// 32-bit protocol header words, in host byte order here (big-endian on the
// wire).
using HeaderWords = Words;
// Pipe ids a message came through; back() is the pipe it arrived on at this
// socket.
using Path = Words;

class MSOCK_EXPORT Message {
 public:
  // An empty message (zero-length body, no header words, empty path).
  Message() = default;
  // A message whose body is a copy of `body`.
  explicit Message(std::string_view body);
  // A message with an uninitialised body of `size` bytes, to be filled via
  // mutable_data().
  static Message WithSize(size_t size);

  // Inline: a message moves several times on its way through a socket.
  Message(Message&& other) noexcept
      : chunk_(other.chunk_),
        data_(other.data_),
        size_(other.size_),
        header_(std::move(other.header_)),
        source_(std::move(other.source_)) {
    other.chunk_ = nullptr;
    other.data_ = nullptr;
    other.size_ = 0;
  }
  Message& operator=(Message&& other) noexcept;
  Message(const Message&) = delete;
  Message& operator=(const Message&) = delete;
  ~Message() {
    if (chunk_ != nullptr) Unref();
  }

  // A second message sharing this body (no byte copy); header words and path
  // are copied.
  Message Clone() const;

  std::string_view body() const { return std::string_view(data_, size_); }
  const char* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // Writable view of the body. Copies the body first if it is shared with
  // another message.
  char* mutable_data();

  // Drops the first `n` bytes of the body (no copy). Requires n <= size().
  void TrimFront(size_t n);
  // Removes the first 4 body bytes and returns them as a big-endian word.
  // Requires size() >= 4.
  uint32_t PopFrontWord();

  const HeaderWords& header() const { return header_; }
  HeaderWords& header() { return header_; }
  // Bytes the header words take on the wire.
  size_t header_size() const { return header_.size() * 4; }

  const Path& source() const { return source_; }
  Path& source() { return source_; }

  // True if another message shares the body (Clone or fan-out).
  bool shared() const;

 private:
  void Unref();  // lets go of the body
  // Owns one reference, or null for an empty body.
  internal::Chunk* chunk_ = nullptr;
  const char* data_ = nullptr;
  size_t size_ = 0;
  HeaderWords header_;
  Path source_;
};

}  // namespace msock

#endif  // MSOCK_MESSAGE_H_
