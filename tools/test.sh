#!/usr/bin/env bash
# tools/test.sh: the project's test command (README "Tests", and stage 2 of .ci/run).
# Configures a RelWithDebInfo build with Ninja in build/, builds everything with -j2 and runs
# every test. Extra arguments are passed to ctest (e.g. `bash tools/test.sh -R pair`).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${MSOCK_BUILD_DIR:-$ROOT/build}"

# Options are given explicitly so that an existing build/ configured otherwise still runs
# the whole suite.
# -g1 (line tables: file and line in a backtrace) instead of -g: full debug info of the test
# binaries was 40% of the build time. Set MSOCK_TEST_DEBUG_FLAGS to change it (e.g. -g).
DEBUG_FLAGS="${MSOCK_TEST_DEBUG_FLAGS:--g1}"
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMSOCK_SANITIZE= -DMSOCK_WERROR=ON \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 $DEBUG_FLAGS -DNDEBUG" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 $DEBUG_FLAGS -DNDEBUG" \
  -DMSOCK_BUILD_TESTS=ON -DMSOCK_BUILD_TOOLS=ON -DMSOCK_BUILD_EXAMPLES=ON -DMSOCK_BUILD_BENCH=ON
cmake --build "$BUILD" -j2
cd "$BUILD"
ctest --output-on-failure -j2 --timeout 300 "$@"
