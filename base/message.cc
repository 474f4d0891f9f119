// Message: a move-only body reference plus header words and source path
// (msock/message.h).
#include "msock/message.h"

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <utility>
#include <vector>

#include "base/chunk.h"

namespace msock {
namespace internal {
namespace {

// Bodies up to about 64 KiB come from per-thread free lists instead of
// malloc. A message is usually allocated on one thread (the sender, or the loop
// that decodes it) and freed on another (the loop that wrote it, or the
// receiver), which defeats glibc's per-thread cache: every free then takes the
// arena lock the allocating thread is using, and large frees make glibc trim
// the heap and grow it again for the next body. Here each thread keeps a short
// free list per size class and trades whole batches with a global stack under
// a mutex, so a chunk costs one lock per batch of allocations or frees.
struct SizeClass {
  size_t capacity;      // bytes a body of this class may hold
  int batch;            // chunks per list traded with the global stack
  size_t global_bytes;  // what the global stack keeps before frees go to malloc
};
constexpr size_t kMiB = size_t{1} << 20;
// Capacities keep each allocation (Chunk header included) just under a power
// of two; the largest class holds a 64 KiB body plus room for header words.
constexpr SizeClass kClass[] = {
    {112, 64, 4 * kMiB},
    {2048 - sizeof(Chunk), 64, 4 * kMiB},
    {16384 - sizeof(Chunk), 16, 8 * kMiB},
    {65536 + 4096 - sizeof(Chunk), 8, 16 * kMiB},
};
constexpr int kClasses = sizeof(kClass) / sizeof(kClass[0]);

constexpr int kMaxBatch = 64;
static_assert([] {
  for (const SizeClass& k : kClass)
    if (k.batch > kMaxBatch) return false;
  return true;
}());

// Free chunks of one class, as an array of pointers: taking one does not read
// the chunk, which was usually last touched by another thread (the one that
// freed it). Its first touch is then the write of the new body.
struct FreeList {
  void* chunks[kMaxBatch];
  int count;
};

struct GlobalPool {
  std::mutex mu;
  std::vector<FreeList> batches[kClasses];  // each holds a class's batch
};

GlobalPool& Global() {
  static GlobalPool* pool = new GlobalPool;  // outlives every thread
  return *pool;
}

void FreeAll(FreeList& list) {
  for (int i = 0; i < list.count; ++i) std::free(list.chunks[i]);
  list.count = 0;
}

// Hands a list to the global stack whole if it is a full batch and there is
// room, else frees it.
void Release(int c, FreeList& list) {
  const SizeClass& k = kClass[c];
  if (list.count == k.batch) {
    GlobalPool& g = Global();
    std::lock_guard<std::mutex> lock(g.mu);
    if (g.batches[c].size() * k.batch * (sizeof(Chunk) + k.capacity) <
        k.global_bytes) {
      g.batches[c].push_back(list);
      list.count = 0;
      return;
    }
  }
  FreeAll(list);
}

// The calling thread's free lists: `cur` serves allocations and takes frees;
// a full `cur` moves to `spare`, a full `spare` goes to the global stack.
// Trivially constructible and destructible, so that a thread reaches it
// without a TLS guard: the fast paths (New with `cur` non-empty, Unref with
// `cur` neither empty nor full) touch nothing else. Every way a list becomes
// non-empty goes through a slow path, which makes sure this thread's Flusher
// exists; its destructor (thread exit) empties the lists.
struct ThreadCache {
  FreeList cur[kClasses], spare[kClasses];
  bool flusher;  // this thread's Flusher was made
  bool gone;     // ... and has run: chunks go straight back to malloc
};
thread_local ThreadCache cache;

struct Flusher {
  ~Flusher() {
    cache.gone = true;
    for (int c = 0; c < kClasses; ++c) {
      Release(c, cache.cur[c]);
      Release(c, cache.spare[c]);
    }
  }
};

// False once this thread is exiting: the caller uses malloc/free then.
bool CacheUsable() {
  if (cache.gone) return false;
  if (!cache.flusher) {
    thread_local Flusher flusher;  // registers its destructor
    cache.flusher = true;
  }
  return true;
}

int ClassOf(size_t capacity) {
  for (int c = 0; c < kClasses; ++c) {
    if (capacity <= kClass[c].capacity) return c;
  }
  return -1;
}

Chunk* Init(void* p, size_t capacity) {
  if (p == nullptr) throw std::bad_alloc();
  Chunk* chunk = static_cast<Chunk*>(p);
  new (&chunk->refs) std::atomic<uint32_t>(1);
  chunk->capacity = capacity;
  return chunk;
}

// New when this thread's `cur` list of class c (-1: none) is empty.
[[gnu::noinline]] Chunk* NewSlow(int c, size_t capacity) {
  if (c < 0 || !CacheUsable()) {
    return Init(std::malloc(sizeof(Chunk) + capacity), capacity);
  }
  FreeList& l = cache.cur[c];
  if (cache.spare[c].count > 0) {
    std::swap(l, cache.spare[c]);
  } else {
    GlobalPool& g = Global();
    std::lock_guard<std::mutex> lock(g.mu);
    if (!g.batches[c].empty()) {
      l = g.batches[c].back();
      g.batches[c].pop_back();
    }
  }
  void* p =
      l.count > 0 ? l.chunks[--l.count] : std::malloc(sizeof(Chunk) + capacity);
  return Init(p, capacity);
}

// Frees a chunk when this thread's `cur` list of class c (-1: none) is empty
// or full.
[[gnu::noinline]] void FreeSlow(int c, Chunk* chunk) {
  if (c < 0 || !CacheUsable()) {
    std::free(chunk);
    return;
  }
  FreeList& l = cache.cur[c];
  if (l.count == kClass[c].batch) {
    if (cache.spare[c].count > 0) Release(c, cache.spare[c]);
    std::swap(cache.spare[c], l);
    l.count = 0;
  }
  l.chunks[l.count++] = chunk;
}

}  // namespace

Chunk* Chunk::New(size_t capacity) {
  const int c = ClassOf(capacity);
  if (c < 0) return NewSlow(c, capacity);
  // Unref finds the class again by the capacity.
  capacity = kClass[c].capacity;
  FreeList& l = cache.cur[c];
  if (l.count == 0) return NewSlow(c, capacity);
  return Init(l.chunks[--l.count], capacity);
}

void Chunk::Free() {
  // Every chunk small enough for a class was allocated with exactly its
  // class's capacity (New rounds up), so the class is found again here.
  const int c = ClassOf(capacity);
  if (c >= 0) {
    FreeList& l = cache.cur[c];
    if (l.count > 0 && l.count < kClass[c].batch) {
      l.chunks[l.count++] = this;
      return;
    }
  }
  FreeSlow(c, this);
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

Message& Message::operator=(Message&& other) noexcept {
  if (this != &other) {
    if (chunk_ != nullptr) chunk_->Unref();
    chunk_ = std::exchange(other.chunk_, nullptr);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    header_ = std::move(other.header_);
    source_ = std::move(other.source_);
  }
  return *this;
}

void Message::Unref() { chunk_->Unref(); }

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
