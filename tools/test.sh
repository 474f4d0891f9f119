#!/usr/bin/env bash
# tools/test.sh: the project's test command (README "Tests", and stage 2 of .ci/run).
# Configures a RelWithDebInfo build with Ninja in build/, builds everything with -j2 and runs
# every test. Extra arguments are passed to ctest (e.g. `bash tools/test.sh -R pair`).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${MSOCK_BUILD_DIR:-$ROOT/build}"

# Options are given explicitly so that an existing build/ configured otherwise still runs
# the whole suite.
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMSOCK_SANITIZE= -DMSOCK_WERROR=ON \
  -DMSOCK_BUILD_TESTS=ON -DMSOCK_BUILD_TOOLS=ON -DMSOCK_BUILD_EXAMPLES=ON -DMSOCK_BUILD_BENCH=ON
cmake --build "$BUILD" -j2
cd "$BUILD"
ctest --output-on-failure -j2 --timeout 300 "$@"
