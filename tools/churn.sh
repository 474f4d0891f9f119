#!/usr/bin/env bash
# tools/churn.sh: the churn test at length: 10,000 (or $1) connect/close cycles against one
# listener over tcp, ipc and ws (tests/reliability/churn_test.cc; ctest runs 1,000 per
# transport). Builds the test in build/ (or $MSOCK_BUILD_DIR) and prints, per transport, the
# time, open fds and RSS before/after, the slowest cycle and the failed dials. Extra
# arguments go to the test binary (e.g. --gtest_filter='*ws').
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${MSOCK_BUILD_DIR:-$ROOT/build}"
CYCLES="${1:-10000}"
shift || true

if [[ ! -f "$BUILD/build.ninja" && ! -f "$BUILD/Makefile" ]]; then
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMSOCK_BUILD_TESTS=ON
fi
cmake --build "$BUILD" -j2 --target msock_reliability_test
MSOCK_CHURN_CYCLES="$CYCLES" "$BUILD/tests/reliability/msock_reliability_test" \
  --gtest_filter='Transports/ChurnTest.*' "$@"
