// The reference-counted byte buffer behind a Message body: one allocation
// holding the count, the capacity and the bytes. Shared by clones and fan-out;
// never written once shared.
#ifndef MSOCK_BASE_CHUNK_H_
#define MSOCK_BASE_CHUNK_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace msock::internal {

struct Chunk {
  std::atomic<uint32_t> refs;
  size_t capacity;
  char* bytes() { return reinterpret_cast<char*>(this + 1); }

  static Chunk* New(size_t capacity);
  void Ref() { refs.fetch_add(1, std::memory_order_relaxed); }
  void Unref() {
    if (refs.load(std::memory_order_acquire) == 1 ||
        refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      Free();
    }
  }

 private:
  void Free();  // back to this thread's free list (message.cc)
};

}  // namespace msock::internal

#endif  // MSOCK_BASE_CHUNK_H_
