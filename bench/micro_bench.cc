// bench/micro_bench.cc: Google Benchmark micro-benchmarks of msock's hot paths:
// Message allocation and Clone, one-thread Send->Recv over inproc, and SP
// stream frame encoding and decoding (the internal
// transports/stream_framing.h).
//   build-bench/bench/msock_micro_bench --benchmark_filter=Frame
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "msock/msock.h"
#include "transports/stream_framing.h"

namespace msock {
namespace {

void BM_MessageWithSize(benchmark::State& state) {
  const size_t size = static_cast<size_t>(state.range(0));
  for (auto _ : state) {
    Message m = Message::WithSize(size);
    benchmark::DoNotOptimize(m.mutable_data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MessageWithSize)->Arg(64)->Arg(1024);

void BM_MessageCopyIn(benchmark::State& state) {
  const std::string bytes(static_cast<size_t>(state.range(0)), 'x');
  for (auto _ : state) {
    Message m(bytes);
    benchmark::DoNotOptimize(m.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_MessageCopyIn)->Arg(64)->Arg(1024);

void BM_MessageClone(benchmark::State& state) {
  Message original(std::string(static_cast<size_t>(state.range(0)), 'x'));
  for (auto _ : state) {
    Message copy = original.Clone();
    benchmark::DoNotOptimize(copy.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MessageClone)->Arg(64)->Arg(1024);

// One thread: TrySend on one end of an inproc Pair0, TryRecv on the other. If
// the message is not there yet (delivery went through the I/O thread) it falls
// back to a blocking call and counts it in "blocked_send" / "blocked_recv".
void BM_InprocSendRecv(benchmark::State& state) {
  const std::string bytes(static_cast<size_t>(state.range(0)), 'x');
  static std::atomic<int> seq{0};
  std::string url = "inproc://micro-bench-" + std::to_string(getpid()) + "-" +
                    std::to_string(seq.fetch_add(1));
  Pair0 a, b;
  absl::StatusOr<std::string> bound = a.Listen(url);
  absl::Status st = bound.ok() ? b.Dial(*bound) : bound.status();
  if (st.ok()) st = b.WaitForPeers(1, absl::Now() + absl::Seconds(5));
  if (st.ok()) st = a.WaitForPeers(1, absl::Now() + absl::Seconds(5));
  if (!st.ok()) {
    state.SkipWithError(("setup: " + st.ToString()).c_str());
    return;
  }
  int64_t blocked_send = 0, blocked_recv = 0;
  for (auto _ : state) {
    Message m(bytes);
    if (!a.TrySend(m).ok()) {
      ++blocked_send;
      if (!a.Send(m, absl::Now() + absl::Seconds(5)).ok()) {
        state.SkipWithError("send failed");
        break;
      }
    }
    absl::StatusOr<Message> got = b.TryRecv();
    if (!got.ok()) {
      ++blocked_recv;
      got = b.Recv(absl::Now() + absl::Seconds(5));
      if (!got.ok()) {
        state.SkipWithError("recv failed");
        break;
      }
    }
    benchmark::DoNotOptimize(got->data());
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["blocked_send"] = static_cast<double>(blocked_send);
  state.counters["blocked_recv"] = static_cast<double>(blocked_recv);
}
BENCHMARK(BM_InprocSendRecv)->Arg(64)->Arg(1024)->UseRealTime();

// Frame encoding: args are body size and ipc (0/1).
void BM_AppendFrame(benchmark::State& state) {
  Message m(std::string(static_cast<size_t>(state.range(0)), 'x'));
  const bool ipc = state.range(1) != 0;
  std::string out;
  out.reserve(static_cast<size_t>(state.range(0)) + 64);
  for (auto _ : state) {
    out.clear();
    internal::AppendFrame(m, ipc, &out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_AppendFrame)
    ->Args({64, 0})
    ->Args({64, 1})
    ->Args({1024, 0})
    ->Args({65536, 0});

// Frame decoding: a stream of 256 frames of range(0) bytes fed in reads of
// range(1) bytes (0 = the whole stream in one read).
void BM_StreamDecode(benchmark::State& state) {
  constexpr int kFrames = 256;
  const size_t size = static_cast<size_t>(state.range(0));
  Message m(std::string(size, 'x'));
  std::string stream;
  for (int i = 0; i < kFrames; ++i)
    internal::AppendFrame(m, /*ipc=*/false, &stream);
  const size_t chunk =
      state.range(1) > 0 ? static_cast<size_t>(state.range(1)) : stream.size();
  std::vector<Message> out;
  out.reserve(kFrames);
  for (auto _ : state) {
    internal::StreamDecoder decoder(/*ipc=*/false, /*max_size=*/0);
    out.clear();
    for (size_t pos = 0; pos < stream.size(); pos += chunk) {
      size_t n = std::min(chunk, stream.size() - pos);
      if (!decoder.Feed(stream.data() + pos, n, &out).ok()) {
        state.SkipWithError("decode failed");
        return;
      }
    }
    if (out.size() != kFrames) {
      state.SkipWithError("wrong frame count");
      return;
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * kFrames);
  state.SetBytesProcessed(state.iterations() *
                          static_cast<int64_t>(stream.size()));
}
BENCHMARK(BM_StreamDecode)
    ->Args({64, 0})
    ->Args({64, 1460})
    ->Args({64, 7})
    ->Args({1024, 0})
    ->Args({1024, 1460});

}  // namespace
}  // namespace msock

BENCHMARK_MAIN();
