#!/usr/bin/env bash
# tools/storm.sh: a connection storm of 10,000 rooms clients (5 processes x 2,000, or
# $1 processes x $2 clients) dialing one hub at once, over tcp, ipc and ws (or $3). Builds
# tests/reliability/msock_storm in build/ (or $MSOCK_BUILD_DIR) and prints, per transport, the
# time until the hub knew every client and until the last welcome arrived, and the kernel's
# TCP listen-queue overflows during the run (nstat; machine-wide, so other traffic counts).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${MSOCK_BUILD_DIR:-$ROOT/build}"
PROCS="${1:-5}"
CLIENTS="${2:-2000}"
TRANSPORTS="${3:-tcp ipc ws}"

if [[ ! -f "$BUILD/build.ninja" && ! -f "$BUILD/Makefile" ]]; then
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMSOCK_BUILD_TESTS=ON
fi
cmake --build "$BUILD" -j2 --target msock_storm
overflows() { nstat -az TcpExtListenOverflows 2>/dev/null | awk '/Overflows/ {print $2}'; }
for t in $TRANSPORTS; do
  before="$(overflows || true)"
  "$BUILD/tests/reliability/msock_storm" --procs "$PROCS" --clients "$CLIENTS" --transport "$t"
  after="$(overflows || true)"
  if [[ -n "$before" && -n "$after" ]]; then
    echo "  tcp listen overflows during the run: $((after - before))"
  fi
done
