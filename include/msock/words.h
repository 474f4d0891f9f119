// msock/words.h: a short vector of 32-bit words, the type of a Message's
// header words and source path.
//
// Up to two words live inside the object; more go to the heap. Unlike a
// general small vector it moves with a plain copy of its 16 bytes (the moved-
// from vector is left empty), which matters because a message moves several
// times on its way through a socket. The interface is the part of
// std::vector a protocol needs: push_back, pop_back, insert and erase of one
// word, iterators, indexing, comparison.
//
// Example:
//   msock::Words w{7, 0x80000001u};  // two words, no allocation
//   w.insert(w.begin(), 5);          // {5, 7, 0x80000001}: now on the heap
//   w.erase(w.begin());              // {7, 0x80000001}
//   uint32_t last = w.back();        // 0x80000001
//   msock::Words moved = std::move(w);  // w is empty now
//
// Thread-safety: a value; one thread at a time.
#ifndef MSOCK_WORDS_H_
#define MSOCK_WORDS_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>

#include "msock/export.h"

namespace msock {

class MSOCK_EXPORT Words {
 public:
  using value_type = uint32_t;
  using size_type = size_t;
  using iterator = uint32_t*;
  using const_iterator = const uint32_t*;
  using reference = uint32_t&;
  using const_reference = const uint32_t&;

  Words() { words_.heap = nullptr; }
  Words(std::initializer_list<uint32_t> words);
  Words(const Words& other);
  Words& operator=(const Words& other);
  Words(Words&& other) noexcept {
    std::memcpy(static_cast<void*>(this), &other, sizeof(Words));
    other.Reset();
  }
  Words& operator=(Words&& other) noexcept {
    if (this != &other) {
      if (OnHeap()) delete[] words_.heap;
      std::memcpy(static_cast<void*>(this), &other, sizeof(Words));
      other.Reset();
    }
    return *this;
  }
  ~Words() {
    if (OnHeap()) delete[] words_.heap;
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t capacity() const { return capacity_; }

  uint32_t* data() { return OnHeap() ? words_.heap : words_.inline_words; }
  const uint32_t* data() const {
    return OnHeap() ? words_.heap : words_.inline_words;
  }
  iterator begin() { return data(); }
  iterator end() { return data() + size_; }
  const_iterator begin() const { return data(); }
  const_iterator end() const { return data() + size_; }
  uint32_t& operator[](size_t i) { return data()[i]; }
  uint32_t operator[](size_t i) const { return data()[i]; }
  uint32_t& front() { return data()[0]; }
  uint32_t front() const { return data()[0]; }
  uint32_t& back() { return data()[size_ - 1]; }
  uint32_t back() const { return data()[size_ - 1]; }

  void push_back(uint32_t w) {
    if (size_ == capacity_) Grow(size_ + 1);
    data()[size_++] = w;
  }
  void pop_back() { --size_; }
  void clear() { size_ = 0; }
  void reserve(size_t n) {
    if (n > capacity_) Grow(n);
  }
  // Inserts w before pos; returns where w is.
  iterator insert(const_iterator pos, uint32_t w);
  // Removes the word at pos; returns the word after it.
  iterator erase(const_iterator pos);
  // Removes [first, last); returns the word after them.
  iterator erase(const_iterator first, const_iterator last);

  friend bool operator==(const Words& a, const Words& b) {
    return a.size_ == b.size_ &&
           (a.size_ == 0 ||
            std::memcmp(a.data(), b.data(), a.size_ * sizeof(uint32_t)) == 0);
  }
  friend bool operator!=(const Words& a, const Words& b) { return !(a == b); }

 private:
  static constexpr uint32_t kInline = 2;

  bool OnHeap() const { return capacity_ > kInline; }
  void Reset() {
    size_ = 0;
    capacity_ = kInline;
  }
  void Grow(size_t at_least);  // capacity_ >= at_least, on the heap

  uint32_t size_ = 0;
  uint32_t capacity_ = kInline;  // > kInline: the words are on the heap
  union {
    uint32_t inline_words[kInline];
    uint32_t* heap;
  } words_;
};

}  // namespace msock

#endif  // MSOCK_WORDS_H_
