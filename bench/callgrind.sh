#!/usr/bin/env bash
# bench/callgrind.sh: instructions per message (valgrind --tool=callgrind) for send+recv of
# small push/pull messages over inproc, ipc and tcp. Instruction counts barely move on a noisy
# machine, unlike wall-clock time: use them to judge each change on the hot path.
#
#   bench/callgrind.sh                      # Ir/msg for inproc, ipc, tcp
#   bench/callgrind.sh --top tcp            # ... plus the top 10 functions of the tcp stream
#   N=50000 SIZE=1024 bench/callgrind.sh inproc
#
# Each transport runs twice (N and N/10 messages after a warm-up); the driver zeroes the counts
# after its warm-up and dumps them when the last message is received, and the script reports
# (Ir(N) - Ir(N/10)) / (N - N/10), so what a run costs once (threads, first wake-ups) cancels.
# Counted: every thread (sender, receiver, loop), user space only (syscalls count as one
# instruction each, the kernel's work is not seen).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build-callgrind}
n=${N:-20000}
size=${SIZE:-64}
top=""
transports=()
while [ $# -gt 0 ]; do
  case "$1" in
    --top) top=$2; shift 2 ;;
    inproc | ipc | tcp) transports+=("$1"); shift ;;
    *) echo "usage: $0 [--top inproc|ipc|tcp] [inproc] [ipc] [tcp]" >&2; exit 2 ;;
  esac
done
[ ${#transports[@]} -gt 0 ] || transports=(inproc ipc tcp)

# Release, as the benchmarks, plus -g so that callgrind_annotate can name functions and lines.
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS=-g \
  -DMSOCK_BUILD_BENCH=ON -DMSOCK_BUILD_TESTS=OFF -DMSOCK_BUILD_EXAMPLES=OFF \
  -DMSOCK_BUILD_TOOLS=OFF -DMSOCK_SANITIZE= >/dev/null
ninja -C "$build" -j"${JOBS:-1}" msock_callgrind_driver >&2
driver=$build/bench/msock_callgrind_driver

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# Runs the driver under callgrind with `count` messages over `transport`; prints the Ir total of
# the dumped stream phase and leaves the dump in $out/<transport>.<count>.
measure() {
  local transport=$1 count=$2 file=$out/$1.$2
  valgrind --tool=callgrind --callgrind-out-file="$file" --dump-instr=no \
    "$driver" --transport "$transport" --messages "$count" --size "$size" \
    >"$out/log" 2>&1 || { cat "$out/log" >&2; return 1; }
  # The client request's dump is <file>.1; <file> itself holds the teardown.
  mv "$file.1" "$file.stream"
  sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$file.stream"
}

small=$((n / 10))
printf '%-8s %10s %14s %14s\n' transport "Ir/msg" "Ir($n)" "Ir($small)"
for t in "${transports[@]}"; do
  big_ir=$(measure "$t" "$n")
  small_ir=$(measure "$t" "$small")
  printf '%-8s %10d %14d %14d\n' "$t" $(((big_ir - small_ir) / (n - small))) "$big_ir" \
    "$small_ir"
done

# Functions of the profile, costliest first, without the frames every thread starts in (main,
# thread entry points) and without callgrind_annotate's per-inlined-file duplicates. (sed, not
# head: an early close would be a SIGPIPE, fatal under pipefail.)
functions() {
  callgrind_annotate --threshold=100 "$@" 2>/dev/null |
    sed -n '/file:function/,$p' | grep -E '^ *[0-9,]+ .*\[' |
    grep -vE '\?\?\?:0x|below main|libc-start|clone|start_thread|ld-linux|_M_run|:main |callgrind_driver.cc' |
    sed -E 's/ \[[^]]*\]$//; s/\(([^()]|\([^()]*\))*\)$//' | sed -n 1,10p || true
}

if [ -n "$top" ]; then
  [ -f "$out/$top.$n.stream" ] || measure "$top" "$n" >/dev/null
  echo
  echo "== $top, $n messages: top 10 functions by inclusive cost"
  functions --inclusive=yes "$out/$top.$n.stream"
  echo
  echo "== $top, $n messages: top 10 functions by self cost"
  functions "$out/$top.$n.stream"
fi
