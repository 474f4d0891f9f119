#!/usr/bin/env bash
# tests/install/check_install.sh: installs a built msock into a temporary prefix, then builds and
# runs examples/push_pull.cc against it twice: as a CMake consumer (find_package(msock) +
# msock::msock) and with `pkg-config --cflags --libs msock`. A shared build (BUILD_SHARED_LIBS)
# is also checked for its SONAME and for exporting nothing internal. Every step is time-bounded.
# Usage: check_install.sh BUILD_DIR SOURCE_DIR CXX [EXTRA_FLAGS]
set -euo pipefail

if [[ $# -lt 3 ]]; then
  echo "usage: $0 BUILD_DIR SOURCE_DIR CXX [EXTRA_FLAGS]" >&2
  exit 2
fi
BUILD_DIR="$1"
SOURCE_DIR="$2"
CXX="$3"
EXTRA_FLAGS="${4:-}"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/msock-install-test.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
PREFIX="$WORK/prefix"

step() { echo "--- check_install: $*"; }

step "install into $PREFIX"
timeout 120 cmake --install "$BUILD_DIR" --prefix "$PREFIX" >"$WORK/install.log" 2>&1 || {
  cat "$WORK/install.log"
  exit 1
}
for f in include/msock/msock.h include/msock/protocols/pipeline.h; do
  [[ -f "$PREFIX/$f" ]] || { echo "missing $PREFIX/$f" >&2; exit 1; }
done
# A shared libmsock: versioned SONAME, and only the public API exported (internal code is hidden
# behind MSOCK_EXPORT, include/msock/export.h).
so="$(find "$PREFIX" -name 'libmsock.so.*.*' -print -quit)"
if [[ -n "$so" ]]; then
  step "shared library $(basename "$so")"
  soname="$(readelf -d "$so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')"
  [[ "$soname" == "libmsock.so.0" ]] || { echo "SONAME is '$soname', not libmsock.so.0" >&2; exit 1; }
  exported="$(nm -DC --defined-only "$so")"
  grep -q 'msock::Socket::Listen' <<<"$exported" || {
    echo "libmsock.so does not export msock::Socket::Listen" >&2; exit 1; }
  if grep -q 'msock::internal::SocketCore::' <<<"$exported"; then
    echo "libmsock.so exports internal symbols (msock::internal::SocketCore)" >&2
    exit 1
  fi
fi
config="$(find "$PREFIX" -name msockConfig.cmake -print -quit)"
pcfile="$(find "$PREFIX" -name msock.pc -print -quit)"
[[ -n "$config" ]] || { echo "msockConfig.cmake not installed" >&2; exit 1; }
[[ -n "$pcfile" ]] || { echo "msock.pc not installed" >&2; exit 1; }

# The output of a consumer run must show every message arriving.
run_consumer() {
  local exe="$1"
  local out
  out="$(timeout 60 "$exe" 3)" || { echo "$out"; echo "$exe failed" >&2; return 1; }
  echo "$out"
  grep -q '^ok: 3 messages$' <<<"$out" || { echo "$exe: no 'ok' line" >&2; return 1; }
}

step "CMake consumer: find_package(msock) + msock::msock"
mkdir -p "$WORK/consumer"
cp "$SOURCE_DIR/examples/push_pull.cc" "$WORK/consumer/main.cc"
cat >"$WORK/consumer/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.16)
project(msock_consumer CXX)
set(CMAKE_CXX_STANDARD 20)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
find_package(msock 0.1 REQUIRED)
add_executable(consumer main.cc)
target_link_libraries(consumer PRIVATE msock::msock)
CMAKE
generator=()
command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
timeout 120 cmake -S "$WORK/consumer" -B "$WORK/consumer/build" "${generator[@]}" \
  -DCMAKE_PREFIX_PATH="$PREFIX" -DCMAKE_CXX_COMPILER="$CXX" \
  -DCMAKE_CXX_FLAGS="$EXTRA_FLAGS" -DCMAKE_EXE_LINKER_FLAGS="$EXTRA_FLAGS" \
  >"$WORK/configure.log" 2>&1 || { cat "$WORK/configure.log"; exit 1; }
timeout 180 cmake --build "$WORK/consumer/build" >"$WORK/build.log" 2>&1 || {
  cat "$WORK/build.log"
  exit 1
}
run_consumer "$WORK/consumer/build/consumer"

step "pkg-config consumer: pkg-config --cflags --libs msock"
PKG_CONFIG_PATH="$(dirname "$pcfile")${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export PKG_CONFIG_PATH
pc_flags="$(pkg-config --cflags --libs msock)"
libdir="$(pkg-config --variable=libdir msock)"
echo "pkg-config: $pc_flags"
# shellcheck disable=SC2086  # the flags are meant to be split into words
timeout 180 "$CXX" -std=c++20 $EXTRA_FLAGS "$WORK/consumer/main.cc" -o "$WORK/pc_consumer" \
  $pc_flags -Wl,-rpath,"$libdir"
run_consumer "$WORK/pc_consumer"

echo "check_install: PASS"
