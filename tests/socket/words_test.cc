// Tests of msock::Words (msock/words.h), the word vector of message headers
// and paths: inline and heap storage, moves that leave the source empty,
// copies, insert and erase at every position, comparison.
#include "msock/words.h"

#include <cstdint>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace msock {
namespace {

std::vector<uint32_t> Vec(const Words& w) { return {w.begin(), w.end()}; }

TEST(WordsTest, PushBackGrowsFromInlineToHeapKeepingOrder) {
  Words w;
  EXPECT_TRUE(w.empty());
  std::vector<uint32_t> want;
  for (uint32_t i = 0; i < 100; ++i) {
    w.push_back(i * 7);
    want.push_back(i * 7);
    ASSERT_EQ(Vec(w), want) << i;
    ASSERT_EQ(w.back(), i * 7);
    ASSERT_GE(w.capacity(), w.size());
  }
  EXPECT_EQ(w.front(), 0u);
  EXPECT_EQ(w[99], 693u);
  w.pop_back();
  EXPECT_EQ(w.size(), 99u);
  w.clear();
  EXPECT_TRUE(w.empty());
}

TEST(WordsTest, MoveTakesTheWordsAndLeavesTheSourceEmptyAndUsable) {
  for (size_t n : {0u, 1u, 2u, 3u, 40u}) {
    Words a;
    for (uint32_t i = 0; i < n; ++i) a.push_back(i + 1);
    const std::vector<uint32_t> want = Vec(a);
    Words b(std::move(a));
    EXPECT_EQ(Vec(b), want) << n;
    EXPECT_TRUE(a.empty()) << n;  // NOLINT(bugprone-use-after-move)
    a.push_back(9);               // still usable
    EXPECT_EQ(Vec(a), std::vector<uint32_t>{9});
    Words c{5, 6, 7};
    c = std::move(b);  // frees c's heap words
    EXPECT_EQ(Vec(c), want) << n;
    EXPECT_TRUE(b.empty()) << n;  // NOLINT(bugprone-use-after-move)
  }
}

TEST(WordsTest, CopiesAreIndependent) {
  Words a{1, 2, 3, 4};
  Words b = a;
  b[0] = 10;
  b.push_back(5);
  EXPECT_EQ(Vec(a), (std::vector<uint32_t>{1, 2, 3, 4}));
  EXPECT_EQ(Vec(b), (std::vector<uint32_t>{10, 2, 3, 4, 5}));
  Words small{8};
  small = b;  // inline to heap
  EXPECT_EQ(small, b);
  b = Words{1};  // heap target, inline source
  EXPECT_EQ(Vec(b), std::vector<uint32_t>{1});
  EXPECT_NE(a, b);
  EXPECT_EQ(Words{}, Words());
}

TEST(WordsTest, InsertAndEraseAtEveryPosition) {
  for (size_t n = 0; n < 5; ++n) {
    for (size_t at = 0; at <= n; ++at) {
      Words w;
      std::vector<uint32_t> want;
      for (uint32_t i = 0; i < n; ++i) {
        w.push_back(i);
        want.push_back(i);
      }
      auto it = w.insert(w.begin() + at, 0x80000001u);
      want.insert(want.begin() + at, 0x80000001u);
      ASSERT_EQ(*it, 0x80000001u);
      ASSERT_EQ(Vec(w), want) << n << " " << at;
      it = w.erase(w.begin() + at);
      want.erase(want.begin() + at);
      ASSERT_EQ(Vec(w), want) << n << " " << at;
      ASSERT_EQ(it, w.begin() + at);
    }
  }
  Words w{1, 2, 3, 4, 5};
  w.erase(w.begin() + 1, w.begin() + 4);
  EXPECT_EQ(Vec(w), (std::vector<uint32_t>{1, 5}));
}

}  // namespace
}  // namespace msock
