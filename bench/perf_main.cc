// bench/perf_main.cc: msock_perf, throughput and latency of msock next to
// libzmq, NNG and nanomsg, measured by the same loops in the same run,
// interleaved (perf_runner.cc runs each measurement), printed as one table.
// Run `msock_perf --help` for the options; bench/README.md explains the method.
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "bench/perf_harness.h"
#include "bench/perf_runner.h"

namespace msock::bench {

namespace {

struct Cell {
  Test test;
  Transport transport;
  size_t size;
  int64_t count;            // before the library's count_scale
  bool msock_only = false;  // the other libraries have no such option
  std::string name() const {
    return std::string(TestName(test)) + "/" + TransportName(transport) + "/" +
           SizeName(size);
  }
  static std::string SizeName(size_t size) {
    if (size >= 1024 && size % 1024 == 0)
      return std::to_string(size / 1024) + "KiB";
    return std::to_string(size) + "B";
  }
};

struct Options {
  RunMode mode;
  int runs = 5;
  std::string filter;
  bool quick = false;
  bool spread = false;  // show min-max over runs next to each median
  double time_limit = 1.5;
  std::vector<std::string> libs;  // empty = all built
};

std::vector<Library> AllLibraries() {
  std::vector<Library> libs;
  libs.push_back({"msock", "msock", true, 1.0, MsockVersion, MakeMsockPeer});
#ifdef MSOCK_BENCH_HAVE_ZMQ
  libs.push_back({"zmq", "libzmq", false, 1.0, ZmqVersion, MakeZmqPeer});
#endif
#ifdef MSOCK_BENCH_HAVE_NNG
  // NNG moves 14-20k msgs/s here: fewer messages, so its cells end in about the
  // same time.
  libs.push_back({"nng", "NNG", true, 1.0 / 32, NngVersion, MakeNngPeer});
#endif
#ifdef MSOCK_BENCH_HAVE_NANOMSG
  libs.push_back(
      {"nanomsg", "nanomsg", true, 1.0, NanomsgVersion, MakeNanomsgPeer});
#endif
  return libs;
}

std::vector<Cell> AllCells(bool quick) {
  std::vector<Cell> cells;
  const Transport transports[] = {Transport::kInproc, Transport::kIpc,
                                  Transport::kTcp, Transport::kWs};
  for (Transport t : transports) {
    cells.push_back({Test::kThroughput, t, 64, quick ? 20000 : 1000000});
    // ws: 64 B and 64 KiB only (issue 4).
    if (t != Transport::kWs)
      cells.push_back({Test::kThroughput, t, 1024, quick ? 10000 : 500000});
    cells.push_back({Test::kThroughput, t, 65536, quick ? 500 : 20000});
  }
  for (Transport t : transports) {
    cells.push_back({Test::kLatency, t, 64, quick ? 300 : 10000});
  }
  for (Transport t : transports) {
    cells.push_back({Test::kReqRep, t, 64, quick ? 300 : 10000});
  }
  // Fan-out is bounded by the time limit; the count only caps --quick.
  int64_t fanout = quick ? 100000 : int64_t{1} << 40;
  cells.push_back({Test::kFanout, Transport::kTcp, 64, fanout});
  cells.push_back({Test::kFanoutBlock, Transport::kTcp, 64, fanout, true});
  return cells;
}

std::string FormatRate(double r) {
  char buf[32];
  if (r >= 1e6) {
    std::snprintf(buf, sizeof(buf), "%.2fM", r / 1e6);
  } else if (r >= 1e3) {
    std::snprintf(buf, sizeof(buf), "%.1fk", r / 1e3);
  } else {
    std::snprintf(buf, sizeof(buf), "%.0f", r);
  }
  return buf;
}

std::string FormatUs(double us) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), us < 10 ? "%.1f" : "%.0f", us);
  return buf;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string Describe(const Cell& c, const Sample& s) {
  if (!s.ok) return "FAILED: " + s.error;
  std::string out;
  if (c.test == Test::kThroughput) {
    out = FormatRate(s.rate) + " msgs/s (" + std::to_string(s.messages) +
          " msgs" + (s.capped ? ", time limit" : "") + ")";
  } else if (IsFanout(c.test)) {
    out = FormatRate(s.rate) + " msgs/s delivered (" +
          std::to_string(s.messages) + " of " + std::to_string(s.sent) + "x" +
          std::to_string(kSubscribers) + ", sent " + FormatRate(s.send_rate) +
          "/s), lost " + std::to_string(s.lost) + ", library counted " +
          (s.counted < 0 ? "-" : std::to_string(s.counted)) + ", end marker " +
          std::to_string(s.sentinels) + "/" + std::to_string(kSubscribers);
  } else {
    out = "p50 " + FormatUs(s.p50) + " us, p99 " + FormatUs(s.p99) + " us (" +
          std::to_string(s.round_trips) + " round trips)";
  }
  if (s.teardown_hung) out += ", teardown hung (killed)";
  return out;
}

void PrintUsage() {
  std::printf(
      "usage: msock_perf [options]\n"
      "  --runs N          runs per cell, interleaved across libraries "
      "(default 5); medians\n"
      "  --filter S        only cells whose name contains S (e.g. "
      "throughput/tcp, latency)\n"
      "  --libs a,b        libraries among msock,zmq,nng,nanomsg (default: all "
      "built)\n"
      "  --spread          also show min-max over the runs in each cell\n"
      "  --quick           small message counts and a 0.5 s time limit (smoke "
      "test)\n"
      "  --time-limit SEC  stop timing a cell after SEC seconds (default 1.5)\n"
      "  --procs           ipc/tcp/ws: receiver (fan-out: each subscriber) "
      "in a\n"
      "                    separate process (default: threads)\n"
      "  --pin             pin each measurement to CPU 0\n"
      "  --inline          no fork: run in this process (for gdb/perf; a hang "
      "exits)\n"
      "Cells: throughput/{inproc,ipc,tcp}/{64B,1KiB,64KiB}, "
      "throughput/ws/{64B,64KiB},\n"
      "       latency/{inproc,ipc,tcp,ws}/64B, "
      "reqrep/{inproc,ipc,tcp,ws}/64B, fanout/tcp/64B,\n"
      "       fanout-block/tcp/64B (msock only). ws: "
      "ws://127.0.0.1:PORT/bench, no libzmq.\n"
      "Exit status 1 if an msock measurement failed or hung.\n");
}

bool ParseArgs(int argc, char** argv, Options* opt) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](std::string* out) {
      size_t eq = a.find('=');
      if (eq != std::string::npos) {
        *out = a.substr(eq + 1);
        a = a.substr(0, eq);
        return true;
      }
      if (i + 1 >= argc) return false;
      *out = argv[++i];
      return true;
    };
    std::string v;
    if (a == "--help" || a == "-h") {
      PrintUsage();
      std::exit(0);
    } else if (a == "--spread") {
      opt->spread = true;
    } else if (a == "--quick") {
      opt->quick = true;
    } else if (a == "--procs") {
      opt->mode.procs = true;
    } else if (a == "--pin") {
      opt->mode.pin = true;
    } else if (a == "--inline") {
      opt->mode.inline_mode = true;
    } else if (a.rfind("--runs", 0) == 0 && value(&v)) {
      opt->runs = std::max(1, std::atoi(v.c_str()));
    } else if (a.rfind("--filter", 0) == 0 && value(&v)) {
      opt->filter = v;
    } else if (a.rfind("--time-limit", 0) == 0 && value(&v)) {
      opt->time_limit = std::atof(v.c_str());
      if (opt->time_limit <= 0) return false;
    } else if (a.rfind("--libs", 0) == 0 && value(&v)) {
      size_t pos = 0;
      while (pos <= v.size()) {
        size_t comma = v.find(',', pos);
        if (comma == std::string::npos) comma = v.size();
        if (comma > pos) opt->libs.push_back(v.substr(pos, comma - pos));
        pos = comma + 1;
      }
    } else {
      std::fprintf(stderr, "msock_perf: bad argument %s\n", argv[i]);
      return false;
    }
  }
  return true;
}

std::string FormatPct(double share) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f%%", 100 * share);
  return buf;
}

// One table cell from the runs that succeeded; *key gets the median the ratio
// column compares (rate or p50).
std::string FormatCell(const Cell& c, const std::vector<const Sample*>& good,
                       bool spread, double* key) {
  std::vector<double> a, b, lost, counted;
  bool rate = c.test == Test::kThroughput || IsFanout(c.test);
  for (const Sample* s : good) {
    a.push_back(rate ? s->rate : s->p50);
    b.push_back(s->p99);
    double expected = static_cast<double>(s->sent) * kSubscribers;
    lost.push_back(expected > 0 ? s->lost / expected : 0);
    if (s->counted >= 0)
      counted.push_back(expected > 0 ? s->counted / expected : 0);
  }
  *key = Median(a);
  std::string cell;
  if (c.test == Test::kThroughput) {
    cell = FormatRate(*key);
    if (c.size >= 65536) {
      char gb[32];
      std::snprintf(gb, sizeof(gb), " (%.2f GB/s)", *key * c.size / 1e9);
      cell += gb;
    }
  } else if (IsFanout(c.test)) {
    cell = FormatRate(*key) + ", lost " + FormatPct(Median(lost)) + " (" +
           (counted.empty() ? "no counter"
                            : "counted " + FormatPct(Median(counted))) +
           ")";
  } else {
    cell = FormatUs(*key) + " / " + FormatUs(Median(b));
  }
  if (spread && a.size() > 1) {  // range of the rate or p50
    auto [lo, hi] = std::minmax_element(a.begin(), a.end());
    cell += rate ? " [" + FormatRate(*lo) + "-" + FormatRate(*hi) + "]"
                 : " [p50 " + FormatUs(*lo) + "-" + FormatUs(*hi) + "]";
  }
  return cell;
}

using Samples = std::vector<std::vector<std::vector<Sample>>>;  // [cell][lib]

// Renders the Markdown table of the medians; sets *msock_failed if an msock
// measurement failed or hung in teardown.
std::string RenderTable(const Options& opt, const std::string& command,
                        const std::vector<Library>& libs,
                        const std::vector<Cell>& cells, const Samples& samples,
                        double elapsed, bool* msock_failed) {
  std::string out;
  auto add = [&](const std::string& s) { out += s; };
  char line[512];
  std::time_t now = std::time(nullptr);
  char date[64];
  std::strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S %Z",
                std::localtime(&now));
  add("## msock_perf\n\n");
  std::snprintf(line, sizeof(line),
                "%s; %u CPUs; %s; %s; %d run%s per cell, interleaved, medians; "
                "time limit %.1f s per cell%s; took %.0f s.\n\n",
                date, std::thread::hardware_concurrency(),
                opt.mode.procs
                    ? "ipc/tcp: every side (sender, receiver, each "
                      "subscriber) in its own process (inproc: threads)"
                    : "every side a thread of one process",
                opt.mode.pin ? "pinned to CPU 0" : "not pinned", opt.runs,
                opt.runs == 1 ? "" : "s", opt.time_limit,
                opt.quick ? " (--quick counts)" : "", elapsed);
  add(line);
  add("Command: `" + command + "`.\n\n");
  add("Versions:");
  for (size_t li = 0; li < libs.size(); ++li) {
    add(std::string(li ? ", " : " ") + libs[li].column + " " +
        libs[li].version());
  }
  add(".\n\n");
  add("Throughput: push/pull, msgs/s from the first message received to the "
      "last (64 KiB: also GB/s). Latency: pair0 ping-pong, round trip p50 / "
      "p99 in us. Reqrep: req/rep round trip p50 / p99 in us. Fanout: 1 pub "
      "-> " +
      std::to_string(kSubscribers) +
      " subs, messages delivered per second (summed over the subscribers), "
      "lost = share of sent x subscribers that never arrived, counted = share "
      "the library's own drop counter reports (fanout-block: msock with "
      "Overflow::kBlock). Ratio: msock/libzmq throughput or fanout rate (>1: "
      "msock faster) or p50 (<1: msock faster); ws cells: msock/NNG instead "
      "(libzmq has no ws), marked \"vs NNG\".");
  if (opt.spread) add(" [a-b]: lowest and highest of the runs.");
  add("\n\n");
  bool any_ws = std::any_of(cells.begin(), cells.end(), [](const Cell& c) {
    return c.transport == Transport::kWs;
  });
  if (any_ws) {
    add("ws: ws://127.0.0.1:PORT/bench, binary frames, each library with "
        "its defaults. For context, lws-notes.md section 2 measured bare "
        "libwebsockets 4.1.6 on this machine at 114-147k msgs/s for a 64 B "
        "stream with lws defaults (one process; 66-69k across processes) "
        "and 557-732k msgs/s with frames coalesced into one write; issue 4 "
        "aims for at least 5x the default rate (about 570-735k msgs/s).\n\n");
  }

  size_t zmq_i = libs.size(), nng_i = libs.size(), msock_i = libs.size();
  for (size_t li = 0; li < libs.size(); ++li) {
    if (std::string(libs[li].key) == "zmq") zmq_i = li;
    if (std::string(libs[li].key) == "nng") nng_i = li;
    if (std::string(libs[li].key) == "msock") msock_i = li;
  }
  // ws cells compare with NNG (libzmq has no ws).
  bool ws_ratio = any_ws && nng_i < libs.size() && msock_i < libs.size();
  bool ratio = (zmq_i < libs.size() && msock_i < libs.size()) || ws_ratio;
  add("| test | transport | size |");
  for (const Library& l : libs) add(std::string(" ") + l.column + " |");
  if (ratio) {
    bool zmq = zmq_i < libs.size();
    add(zmq ? (ws_ratio ? " msock/libzmq (ws: msock/NNG) |" : " msock/libzmq |")
            : " msock/NNG (ws) |");
  }
  add("\n|---|---|---|");
  for (size_t li = 0; li < libs.size(); ++li) add("---|");
  if (ratio) add("---|");
  add("\n");

  std::vector<std::string> notes;
  *msock_failed = false;
  for (size_t ci = 0; ci < cells.size(); ++ci) {
    const Cell& c = cells[ci];
    add(std::string("| ") + TestName(c.test) + " | " +
        TransportName(c.transport) + " | " + Cell::SizeName(c.size) + " |");
    std::vector<double> key(libs.size(), 0);  // for the ratio
    for (size_t li = 0; li < libs.size(); ++li) {
      const std::vector<Sample>& runs = samples[ci][li];
      if (runs.empty()) {  // a cell of msock only
        add(" n/a |");
        continue;
      }
      std::string who = std::string(libs[li].column) + " " + c.name() + ": ";
      std::vector<const Sample*> good;
      int failed = 0, hung = 0;
      for (const Sample& s : runs) {
        if (s.teardown_hung) ++hung;
        if (!s.ok) {
          ++failed;
          notes.push_back(who + s.error);
          continue;
        }
        good.push_back(&s);
        if (!s.note.empty()) notes.push_back(who + s.note);
        if (!IsFanout(c.test)) continue;
        if (s.sentinels < kSubscribers) {
          notes.push_back(who + "the end marker reached only " +
                          std::to_string(s.sentinels) + " of " +
                          std::to_string(kSubscribers) +
                          " subscribers (the others stopped " +
                          std::to_string(static_cast<int>(kDrainSeconds)) +
                          " s after the last send)");
        }
        if (s.counted >= 0 && s.counted != s.lost) {
          notes.push_back(who + "lost " + std::to_string(s.lost) +
                          " messages but counted " + std::to_string(s.counted) +
                          " drops");
        }
      }
      if (li == msock_i && (failed > 0 || hung > 0)) *msock_failed = true;
      if (hung > 0) {
        notes.push_back(who + "teardown hung > " +
                        std::to_string(static_cast<int>(kTeardownSeconds)) +
                        " s in " + std::to_string(hung) + " of " +
                        std::to_string(runs.size()) + " runs (killed)");
      }
      std::string cell =
          good.empty() ? "FAILED" : FormatCell(c, good, opt.spread, &key[li]);
      if (failed > 0 && !good.empty()) {
        cell += " [" + std::to_string(failed) + "/" +
                std::to_string(runs.size()) + " failed]";
      }
      if (hung > 0) cell += " [teardown hung]";
      add(" " + cell + " |");
    }
    if (ratio) {
      bool ws = c.transport == Transport::kWs;
      size_t peer_i = ws ? nng_i : zmq_i;
      if (peer_i < libs.size() && key[msock_i] > 0 && key[peer_i] > 0) {
        std::snprintf(line, sizeof(line), " %.2fx%s |",
                      key[msock_i] / key[peer_i], ws ? " vs NNG" : "");
        add(line);
      } else {
        add(" - |");
      }
    }
    add("\n");
  }
  if (!notes.empty()) {
    add("\nNotes:\n");
    std::map<std::string, int> counted;
    std::vector<std::string> order;
    for (const std::string& n : notes) {
      if (counted[n]++ == 0) order.push_back(n);
    }
    for (const std::string& n : order) {
      add("- " + n +
          (counted[n] > 1 ? " (x" + std::to_string(counted[n]) + ")" : "") +
          "\n");
    }
  }
  return out;
}

int Main(int argc, char** argv) {
  Options opt;
  if (!ParseArgs(argc, argv, &opt)) {
    PrintUsage();
    return 2;
  }
  if (opt.quick && opt.time_limit == 1.5) opt.time_limit = 0.5;

  std::vector<Library> all = AllLibraries();
  std::vector<Library> libs;
  if (opt.libs.empty()) {
    libs = all;
  } else {
    for (const std::string& key : opt.libs) {
      auto it = std::find_if(all.begin(), all.end(),
                             [&](const Library& l) { return key == l.key; });
      if (it == all.end()) {
        std::fprintf(stderr, "msock_perf: library '%s' unknown or not built\n",
                     key.c_str());
        return 2;
      }
      libs.push_back(*it);
    }
  }
  std::vector<Cell> cells;
  for (const Cell& c : AllCells(opt.quick)) {
    if (c.name().find(opt.filter) != std::string::npos) cells.push_back(c);
  }
  if (cells.empty()) {
    std::fprintf(stderr, "msock_perf: no cell matches --filter %s\n",
                 opt.filter.c_str());
    return 2;
  }

  char dir_template[] = "/tmp/msock-bench-XXXXXX";
  if (mkdtemp(dir_template) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  std::string scratch = dir_template;
  InitRunner();

  // samples[cell][lib]
  Samples samples(cells.size(), std::vector<std::vector<Sample>>(libs.size()));
  Clock::time_point t_start = Clock::now();
  int seq = 0;
  for (int run = 0; run < opt.runs; ++run) {
    for (size_t ci = 0; ci < cells.size(); ++ci) {
      const Cell& c = cells[ci];
      for (size_t k = 0; k < libs.size(); ++k) {
        size_t li = (k + run) % libs.size();  // rotate who goes first
        const Library& lib = libs[li];
        if (c.msock_only && std::string(lib.key) != "msock") continue;
        if (c.transport == Transport::kWs && !lib.has_ws) continue;
        SideArgs args;
        args.transport = c.transport;
        args.size = c.size;
        args.block = c.test == Test::kFanoutBlock;
        double scale = c.test == Test::kThroughput ? lib.count_scale : 1.0;
        // Scaled down (NNG), but never below 5000 messages: a cell should last
        // > 0.1 s.
        args.count = std::max<int64_t>(std::min<int64_t>(c.count, 5000),
                                       static_cast<int64_t>(c.count * scale));
        args.time_limit = opt.time_limit;
        args.scratch_dir = scratch;
        char tag[64];
        std::snprintf(tag, sizeof(tag), "b%d-%d", static_cast<int>(getpid()),
                      ++seq);
        args.tag = tag;
        Sample s = Measure(lib, c.test, args, opt.mode);
        std::fprintf(stderr, "[run %d/%d] %-24s %-8s %s\n", run + 1, opt.runs,
                     c.name().c_str(), lib.key, Describe(c, s).c_str());
        samples[ci][li].push_back(std::move(s));
      }
    }
  }
  double elapsed = SecondsSince(t_start);
  std::error_code ec;
  std::filesystem::remove_all(scratch, ec);

  std::string command = "msock_perf";
  for (int i = 1; i < argc; ++i) command += std::string(" ") + argv[i];
  bool msock_failed = false;
  std::string table =
      RenderTable(opt, command, libs, cells, samples, elapsed, &msock_failed);
  std::fputs(table.c_str(), stdout);
  std::fflush(stdout);
  return msock_failed ? 1 : 0;
}

}  // namespace
}  // namespace msock::bench

int main(int argc, char** argv) { return msock::bench::Main(argc, argv); }
