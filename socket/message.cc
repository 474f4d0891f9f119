// Message: a move-only body reference plus header words and source path
// (msock/message.h).
#include "msock/message.h"

#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

#include "socket/chunk.h"

namespace msock {
namespace internal {

Chunk* Chunk::New(size_t capacity) {
  void* p = std::malloc(sizeof(Chunk) + capacity);
  if (p == nullptr) throw std::bad_alloc();
  Chunk* c = static_cast<Chunk*>(p);
  new (&c->refs) std::atomic<uint32_t>(1);
  c->capacity = capacity;
  return c;
}

void Chunk::Unref() {
  if (refs.load(std::memory_order_acquire) == 1 ||
      refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    std::free(this);
  }
}

}  // namespace internal

Message::Message(std::string_view body) {
  if (body.empty()) return;
  chunk_ = internal::Chunk::New(body.size());
  std::memcpy(chunk_->bytes(), body.data(), body.size());
  data_ = chunk_->bytes();
  size_ = body.size();
}

Message Message::WithSize(size_t size) {
  Message m;
  if (size == 0) return m;
  m.chunk_ = internal::Chunk::New(size);
  m.data_ = m.chunk_->bytes();
  m.size_ = size;
  return m;
}

Message::Message(Message&& other) noexcept
    : chunk_(std::exchange(other.chunk_, nullptr)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      header_(std::move(other.header_)),
      source_(std::move(other.source_)) {
  other.header_.clear();
  other.source_.clear();
}

Message& Message::operator=(Message&& other) noexcept {
  if (this != &other) {
    if (chunk_ != nullptr) chunk_->Unref();
    chunk_ = std::exchange(other.chunk_, nullptr);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    header_ = std::move(other.header_);
    source_ = std::move(other.source_);
    other.header_.clear();
    other.source_.clear();
  }
  return *this;
}

Message::~Message() {
  if (chunk_ != nullptr) chunk_->Unref();
}

Message Message::Clone() const {
  Message m;
  if (chunk_ != nullptr) chunk_->Ref();
  m.chunk_ = chunk_;
  m.data_ = data_;
  m.size_ = size_;
  m.header_ = header_;
  m.source_ = source_;
  return m;
}

bool Message::shared() const {
  return chunk_ != nullptr && chunk_->refs.load(std::memory_order_acquire) > 1;
}

char* Message::mutable_data() {
  if (chunk_ == nullptr) return nullptr;
  if (shared()) {
    internal::Chunk* copy = internal::Chunk::New(size_);
    std::memcpy(copy->bytes(), data_, size_);
    chunk_->Unref();
    chunk_ = copy;
    data_ = copy->bytes();
  }
  return const_cast<char*>(data_);
}

void Message::TrimFront(size_t n) {
  if (n > size_) n = size_;
  data_ += n;
  size_ -= n;
}

uint32_t Message::PopFrontWord() {
  const auto* p = reinterpret_cast<const unsigned char*>(data_);
  uint32_t w = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) |
               (uint32_t{p[2]} << 8) | p[3];
  TrimFront(4);
  return w;
}

}  // namespace msock
