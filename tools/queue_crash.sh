#!/usr/bin/env bash
# tools/queue_crash.sh: the durable queue's crash test at length: 100 trials (or $1) of
# `msock queue serve` killed with SIGKILL mid-traffic and restarted on the same store
# (tests/crash/queue_crash_test.cc; ctest runs 20 as `queue_crash`). Builds the test and the
# tool in build/ (or $MSOCK_BUILD_DIR), then prints each trial and the figures: trials, posts
# answered, deliveries, redeliveries, lost (must be 0), re-delivered-after-ack (must be 0),
# time. Extra arguments go to the test (e.g. --seed S to replay a run).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${MSOCK_BUILD_DIR:-$ROOT/build}"
TRIALS="${1:-100}"
shift || true

if [[ ! -f "$BUILD/build.ninja" && ! -f "$BUILD/Makefile" ]]; then
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release
fi
cmake --build "$BUILD" -j2 --target msock_cli msock_queue_crash_test
start=$SECONDS
"$BUILD/tests/crash/msock_queue_crash_test" --trials "$TRIALS" "$@"
echo "queue_crash.sh: $TRIALS trials in $((SECONDS - start)) s (wall clock, build excluded)"
