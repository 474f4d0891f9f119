// Tests of msock::Context (msock/context.h): Post runs work on the loop thread,
// in order, IsLoopThread tells the loop thread apart, sockets run on a
// private context, and a context with several loops deals sockets to them.
#include "msock/context.h"

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "base/context_access.h"
#include "gtest/gtest.h"
#include "msock/protocols/recipes.h"
#include "msock/socket.h"
#include "tests/support/test_support.h"

namespace msock {
namespace {

using test::Deadline;

TEST(ContextTest, PostRunsOnLoopThreadInOrder) {
  Context ctx;
  EXPECT_FALSE(ctx.IsLoopThread());
  std::mutex mu;
  std::vector<int> order;
  std::atomic<int> off_loop{0};
  test::Notification done;
  constexpr int kCount = 1000;
  for (int i = 0; i < kCount; ++i) {
    ctx.Post([&, i] {
      if (!ctx.IsLoopThread()) off_loop++;
      std::lock_guard<std::mutex> lock(mu);
      order.push_back(i);
    });
  }
  ctx.Post([&] { done.Notify(); });
  ASSERT_TRUE(done.WaitFor(absl::Seconds(10)));
  EXPECT_EQ(off_loop.load(), 0);
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(order.size(), static_cast<size_t>(kCount));
  for (int i = 0; i < kCount; ++i) ASSERT_EQ(order[i], i);
}

TEST(ContextTest, PostsFromManyThreadsKeepPerThreadOrder) {
  Context ctx;
  constexpr int kThreads = 4;
  constexpr int kEach = 2000;
  std::mutex mu;
  std::vector<std::vector<int>> seen(kThreads);
  std::atomic<int> ran{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        ctx.Post([&, t, i] {
          std::lock_guard<std::mutex> lock(mu);
          seen[t].push_back(i);
          ran++;
        });
      }
    });
  }
  for (std::thread& th : threads) th.join();
  ASSERT_TRUE(test::WaitUntil([&] { return ran.load() == kThreads * kEach; },
                              Deadline(10)));
  std::lock_guard<std::mutex> lock(mu);
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(seen[t].size(), static_cast<size_t>(kEach));
    for (int i = 0; i < kEach; ++i) ASSERT_EQ(seen[t][i], i);
  }
}

TEST(ContextTest, WorkMayPostMoreWork) {
  Context ctx;
  test::Notification done;
  std::atomic<bool> inner_on_loop{false};
  ctx.Post([&] {
    ctx.Post([&] {
      inner_on_loop = ctx.IsLoopThread();
      done.Notify();
    });
  });
  ASSERT_TRUE(done.WaitFor(absl::Seconds(10)));
  EXPECT_TRUE(inner_on_loop.load());
}

TEST(ContextTest, IsLoopThreadIsPerContext) {
  Context a;
  Context b;
  test::Notification done;
  std::atomic<bool> a_on_a{false}, b_on_a{true};
  a.Post([&] {
    a_on_a = a.IsLoopThread();
    b_on_a = b.IsLoopThread();
    done.Notify();
  });
  ASSERT_TRUE(done.WaitFor(absl::Seconds(10)));
  EXPECT_TRUE(a_on_a.load());
  EXPECT_FALSE(b_on_a.load());
}

TEST(ContextTest, DefaultIsOneInstance) {
  EXPECT_EQ(&Context::Default(), &Context::Default());
  EXPECT_FALSE(Context::Default().IsLoopThread());
}

TEST(ContextTest, DestroyWithPendingPostsReturns) {
  for (int round = 0; round < 20; ++round) {
    Context ctx;
    for (int i = 0; i < 100; ++i) ctx.Post([] {});
  }
}

TEST(ContextTest, SocketsOnPrivateContext) {
  Context ctx;
  Socket pull(protocols::kPull, ctx);
  Socket push(protocols::kPush, ctx);
  absl::StatusOr<std::string> url = pull.Listen("tcp://127.0.0.1:0");
  ASSERT_TRUE(url.ok()) << url.status();
  ASSERT_TRUE(push.Dial(*url).ok());
  ASSERT_TRUE(push.WaitForPeers(1, Deadline(10)).ok());
  ASSERT_TRUE(test::SendString(push, "private loop", Deadline(5)).ok());
  EXPECT_EQ(test::RecvString(pull, Deadline(5)).value_or("?"), "private loop");
  push.Close();
  pull.Close();
}

TEST(ContextTest, IoThreadsAreCountedAndBounded) {
  EXPECT_EQ(Context().io_threads(), 1);
  EXPECT_EQ(Context(0).io_threads(), 1);
  EXPECT_EQ(Context(-3).io_threads(), 1);
  EXPECT_EQ(Context(3).io_threads(), 3);
  EXPECT_EQ(Context(Context::kMaxIoThreads + 1).io_threads(),
            Context::kMaxIoThreads);
}

// Sockets made on a Context with several loops are dealt out to its loops in
// turn: each runs on a thread of its own loop, and the turn comes round again.
TEST(ContextTest, SocketsAreDealtToTheLoopsInTurn) {
  Context ctx(3);
  std::vector<Context*> placed;
  for (int i = 0; i < 4; ++i) {
    placed.push_back(&internal::ContextAccess::ForSocket(ctx));
  }
  EXPECT_EQ(placed[0], &ctx);
  EXPECT_EQ(placed[3], placed[0]);
  std::mutex mu;
  std::vector<std::thread::id> threads;
  test::Notification done[3];
  for (int i = 0; i < 3; ++i) {
    placed[static_cast<size_t>(i)]->Post([&, i] {
      {
        std::lock_guard<std::mutex> lock(mu);
        threads.push_back(std::this_thread::get_id());
      }
      done[i].Notify();
    });
  }
  for (auto& d : done) ASSERT_TRUE(d.WaitFor(absl::Seconds(10)));
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(threads.size(), 3u);
  EXPECT_NE(threads[0], threads[1]);
  EXPECT_NE(threads[1], threads[2]);
  EXPECT_NE(threads[0], threads[2]);
}

// Pairs whose two ends sit on different loops deliver everything, in order,
// over every transport.
TEST(ContextTest, SocketsOnSeveralLoopsTalkOverEveryTransport) {
  Context ctx(2);
  for (const char* scheme : {"inproc", "ipc", "tcp"}) {
    SCOPED_TRACE(scheme);
    Socket pull(protocols::kPull, ctx);
    Socket push(protocols::kPush, ctx);  // on the other loop
    absl::StatusOr<std::string> url = pull.Listen(test::ListenUrlFor(scheme));
    ASSERT_TRUE(url.ok()) << url.status();
    ASSERT_TRUE(push.Dial(*url).ok());
    ASSERT_TRUE(push.WaitForPeers(1, Deadline(10)).ok());
    constexpr int kCount = 2000;
    std::thread sender([&] {
      for (int i = 0; i < kCount; ++i) {
        ASSERT_TRUE(
            test::SendString(push, std::to_string(i), Deadline(10)).ok());
      }
    });
    for (int i = 0; i < kCount; ++i) {
      ASSERT_EQ(test::RecvString(pull, Deadline(10)).value_or("?"),
                std::to_string(i));
    }
    sender.join();
    push.Close();
    pull.Close();
  }
}

}  // namespace
}  // namespace msock
