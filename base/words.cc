// Words: the short word vector of message headers and paths (msock/words.h).
#include "msock/words.h"

#include <algorithm>

namespace msock {

Words::Words(std::initializer_list<uint32_t> words) : Words() {
  reserve(words.size());
  std::copy(words.begin(), words.end(), data());
  size_ = static_cast<uint32_t>(words.size());
}

Words::Words(const Words& other) : Words() {
  reserve(other.size_);
  if (other.size_ > 0) {
    std::memcpy(data(), other.data(), other.size_ * sizeof(uint32_t));
  }
  size_ = other.size_;
}

Words& Words::operator=(const Words& other) {
  if (this != &other) {
    size_ = 0;
    reserve(other.size_);
    if (other.size_ > 0) {
      std::memcpy(data(), other.data(), other.size_ * sizeof(uint32_t));
    }
    size_ = other.size_;
  }
  return *this;
}

void Words::Grow(size_t at_least) {
  size_t cap = std::max<size_t>(capacity_ * 2, at_least);
  auto* heap = new uint32_t[cap];
  if (size_ > 0) std::memcpy(heap, data(), size_ * sizeof(uint32_t));
  if (OnHeap()) delete[] words_.heap;
  words_.heap = heap;
  capacity_ = static_cast<uint32_t>(cap);
}

Words::iterator Words::insert(const_iterator pos, uint32_t w) {
  const size_t at = static_cast<size_t>(pos - data());
  if (size_ == capacity_) Grow(size_ + 1);
  uint32_t* p = data();
  std::memmove(p + at + 1, p + at, (size_ - at) * sizeof(uint32_t));
  p[at] = w;
  ++size_;
  return p + at;
}

Words::iterator Words::erase(const_iterator pos) { return erase(pos, pos + 1); }

Words::iterator Words::erase(const_iterator first, const_iterator last) {
  uint32_t* p = data();
  const size_t from = static_cast<size_t>(first - p);
  const size_t to = static_cast<size_t>(last - p);
  std::memmove(p + from, p + to, (size_ - to) * sizeof(uint32_t));
  size_ -= static_cast<uint32_t>(to - from);
  return p + from;
}

}  // namespace msock
