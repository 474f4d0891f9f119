// Tests of msock::Message (msock/message.h): body sharing by Clone,
// copy-on-write through mutable_data, TrimFront / PopFrontWord, header words,
// source path, move semantics, and bodies freed on another thread.
#include "msock/message.h"

#include <cstring>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace msock {
namespace {

TEST(MessageTest, DefaultIsEmpty) {
  Message m;
  EXPECT_TRUE(m.empty());
  EXPECT_EQ(m.size(), 0u);
  EXPECT_EQ(m.body(), "");
  EXPECT_TRUE(m.header().empty());
  EXPECT_TRUE(m.source().empty());
  EXPECT_EQ(m.header_size(), 0u);
  EXPECT_FALSE(m.shared());
}

TEST(MessageTest, ConstructorCopiesBody) {
  std::string text = "hello";
  Message m(text);
  text[0] = 'J';
  EXPECT_EQ(m.body(), "hello");
  EXPECT_EQ(m.size(), 5u);
  EXPECT_FALSE(m.empty());
  EXPECT_NE(m.data(), text.data());
}

TEST(MessageTest, WithSizeIsWritable) {
  Message m = Message::WithSize(4);
  ASSERT_EQ(m.size(), 4u);
  std::memcpy(m.mutable_data(), "abcd", 4);
  EXPECT_EQ(m.body(), "abcd");
  EXPECT_TRUE(Message::WithSize(0).empty());
}

TEST(MessageTest, CloneSharesBody) {
  Message m("shared bytes");
  m.header().push_back(7);
  m.source().push_back(3);
  Message c = m.Clone();
  EXPECT_EQ(c.data(), m.data());
  EXPECT_EQ(c.body(), "shared bytes");
  EXPECT_TRUE(m.shared());
  EXPECT_TRUE(c.shared());
  ASSERT_EQ(c.header().size(), 1u);
  EXPECT_EQ(c.header()[0], 7u);
  ASSERT_EQ(c.source().size(), 1u);
  EXPECT_EQ(c.source()[0], 3u);
  // Header words and path are copies, not shared.
  c.header().push_back(8);
  c.source().push_back(4);
  EXPECT_EQ(m.header().size(), 1u);
  EXPECT_EQ(m.source().size(), 1u);
}

TEST(MessageTest, DestroyingCloneUnshares) {
  Message m("x");
  {
    Message c = m.Clone();
    EXPECT_TRUE(m.shared());
  }
  EXPECT_FALSE(m.shared());
}

TEST(MessageTest, MutableDataOnSharedBodyCopies) {
  Message m("original");
  Message c = m.Clone();
  const char* before = c.data();
  char* p = m.mutable_data();
  ASSERT_NE(p, nullptr);
  EXPECT_NE(static_cast<const char*>(p), before)
      << "write access to a shared body must copy";
  p[0] = 'O';
  EXPECT_EQ(m.body(), "Original");
  EXPECT_EQ(c.body(), "original");
  EXPECT_EQ(c.data(), before);
  EXPECT_FALSE(m.shared());
  EXPECT_FALSE(c.shared());
}

TEST(MessageTest, MutableDataOnUnsharedBodyDoesNotCopy) {
  Message m("mine");
  const char* before = m.data();
  EXPECT_EQ(static_cast<const char*>(m.mutable_data()), before);
}

TEST(MessageTest, TrimFront) {
  Message m("abcdef");
  const char* start = m.data();
  m.TrimFront(2);
  EXPECT_EQ(m.body(), "cdef");
  EXPECT_EQ(m.data(), start + 2) << "TrimFront must not copy";
  m.TrimFront(0);
  EXPECT_EQ(m.body(), "cdef");
  m.TrimFront(4);
  EXPECT_TRUE(m.empty());
}

TEST(MessageTest, TrimFrontOnCloneLeavesOriginal) {
  Message m("abcdef");
  Message c = m.Clone();
  c.TrimFront(3);
  EXPECT_EQ(c.body(), "def");
  EXPECT_EQ(m.body(), "abcdef");
}

TEST(MessageTest, PopFrontWordIsBigEndian) {
  const char bytes[] = {'\x80', '\x00', '\x00', '\x01', '\x12',
                        '\x34', '\x56', '\x78', 'z'};
  Message m(std::string_view(bytes, sizeof(bytes)));
  EXPECT_EQ(m.PopFrontWord(), 0x80000001u);
  EXPECT_EQ(m.PopFrontWord(), 0x12345678u);
  EXPECT_EQ(m.body(), "z");
}

TEST(MessageTest, HeaderSizeCountsWords) {
  Message m("b");
  m.header().push_back(1);
  m.header().push_back(2);
  m.header().push_back(3);
  EXPECT_EQ(m.header_size(), 12u);
  EXPECT_EQ(m.size(), 1u) << "header words are not part of the body";
}

TEST(MessageTest, MoveLeavesSourceEmpty) {
  Message m("moving");
  m.header().push_back(9);
  m.source().push_back(5);
  const char* data = m.data();
  Message n(std::move(m));
  EXPECT_EQ(n.body(), "moving");
  EXPECT_EQ(n.data(), data) << "move must not copy the body";
  EXPECT_EQ(n.header().size(), 1u);
  EXPECT_EQ(n.source().size(), 1u);
  EXPECT_TRUE(m.empty());  // NOLINT(bugprone-use-after-move): documented state
  EXPECT_TRUE(m.header().empty());
  EXPECT_TRUE(m.source().empty());

  Message o("other");
  o = std::move(n);
  EXPECT_EQ(o.body(), "moving");
  EXPECT_TRUE(n.empty());  // NOLINT(bugprone-use-after-move)
  EXPECT_TRUE(n.header().empty());
}

TEST(MessageTest, MoveAssignKeepsCloneAlive) {
  Message a("one");
  Message keep = a.Clone();
  a = Message("two");
  EXPECT_EQ(keep.body(), "one");
  EXPECT_FALSE(keep.shared());
}

TEST(MessageTest, ClonesAcrossThreads) {
  Message m(std::string(1000, 'c'));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([clone = m.Clone()]() mutable {
      for (int i = 0; i < 1000; ++i) {
        Message c = clone.Clone();
        EXPECT_EQ(c.size(), 1000u);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_FALSE(m.shared());
  EXPECT_EQ(m.body(), std::string(1000, 'c'));
}

// Bodies made on one thread and freed on another go through the per-thread
// free lists (message.cc): every body must keep its bytes until freed, and a
// thread that exits with chunks in its lists hands them back (the sanitizer
// builds would report a leak or a use after free).
TEST(MessageTest, BodiesMadeOnOneThreadAndFreedOnAnotherKeepTheirBytes) {
  constexpr int kRounds = 5;
  constexpr int kMessages = 3000;
  for (int round = 0; round < kRounds; ++round) {
    std::vector<Message> made;
    std::thread producer([&] {
      for (int i = 0; i < kMessages; ++i) {
        const size_t size = static_cast<size_t>((i * 37) % 5000 + 1);
        made.emplace_back(std::string(size, static_cast<char>('a' + i % 26)));
        made.back().source().push_back(static_cast<uint32_t>(i));
      }
    });
    producer.join();
    std::thread consumer([&] {
      for (int i = 0; i < kMessages; ++i) {
        Message m = std::move(made[static_cast<size_t>(i)]);
        const size_t size = static_cast<size_t>((i * 37) % 5000 + 1);
        ASSERT_EQ(m.body(), std::string(size, static_cast<char>('a' + i % 26)));
        ASSERT_EQ(m.source().back(), static_cast<uint32_t>(i));
      }
    });
    consumer.join();
    // This thread, which made none of them, reuses what the others freed.
    Message fresh(std::string(64, 'z'));
    EXPECT_EQ(fresh.body(), std::string(64, 'z'));
  }
}

}  // namespace
}  // namespace msock
