#!/usr/bin/env bash
# tools/demo.sh: the README demo. Installs dependencies, builds the `msock` command-line tool in
# build/ (only what is missing), then runs two msock processes on this host that exchange
# messages: push/pull and pair1 over ipc, tcp and ws. Exits non-zero if any exchange fails.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${MSOCK_BUILD_DIR:-$ROOT/build}"
MSOCK="$BUILD/tools/msock"
COUNT=3

bash "$ROOT/tools/setup-deps.sh"

# --- build the CLI (incremental; same build/ as tools/test.sh) ------------------------------
# Configure when build/ is new or was configured without the tool (a re-run is a no-op).
if [[ ! -f "$BUILD/build.ninja" ]] || ! grep -q '^MSOCK_BUILD_TOOLS:BOOL=ON' "$BUILD/CMakeCache.txt"
then
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMSOCK_BUILD_TOOLS=ON
fi
# Ninja accepts an output path as a target: build only the tool and what it needs.
if ! cmake --build "$BUILD" -j2 --target tools/msock; then
  cmake --build "$BUILD" -j2
fi
[[ -x "$MSOCK" ]] || { echo "demo: $MSOCK was not built" >&2; exit 1; }

# --- scratch space and clean-up -------------------------------------------------------------
SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/msock-demo.XXXXXX")"
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$SCRATCH"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A TCP port that was free a moment ago on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

FAILED=0
PASSED=0

# The arguments of one side: ROLE ENDPOINT DATA, where ENDPOINT is "--listen URL" or
# "--dial URL" and DATA is the text to send (empty: sends nothing). A side that can receive
# (pull, pair) must print COUNT messages; a side that sends sends COUNT messages.
side_args() {
  local role="$1" endpoint="$2" data="$3"
  # shellcheck disable=SC2206  # the endpoint is "--flag URL", split on purpose
  ARGS=("$role" $endpoint --count "$COUNT")
  [[ -n "$data" ]] && ARGS+=(--data "$data")
  [[ "$role" != push ]] && ARGS+=(--format ascii --recv-timeout 10)
  return 0
}

# Checks that side output file $1 holds COUNT lines equal to $2 (nothing expected if $2 empty).
check_output() {
  local file="$1" expected="$2" got
  [[ -z "$expected" ]] && return 0
  got="$(grep -c -x -F "$expected" "$file" || true)"
  echo "  ($got of $COUNT expected messages)"
  [[ "$got" -eq "$COUNT" ]]
}

# exchange TITLE ROLE_A ENDPOINT_A DATA_A ROLE_B ENDPOINT_B DATA_B
# Process A starts first, in the background; then B runs. Both are time-bounded.
exchange() {
  local title="$1"
  local a_role="$2" a_end="$3" a_data="$4" b_role="$5" b_end="$6" b_data="$7"
  local out="$SCRATCH/exchange$((PASSED + FAILED))"
  echo
  echo "=== $title"
  side_args "$a_role" "$a_end" "$a_data"
  local a_args=("${ARGS[@]}")
  side_args "$b_role" "$b_end" "$b_data"
  local b_args=("${ARGS[@]}")

  local shown
  printf -v shown '%q ' "${a_args[@]}"
  echo "  A\$ msock $shown&"
  timeout 30 "$MSOCK" "${a_args[@]}" >"$out.a" 2>"$out.a.err" &
  local a_pid=$!
  PIDS+=("$a_pid")
  printf -v shown '%q ' "${b_args[@]}"
  echo "  B\$ msock $shown"
  local a_rc=0 b_rc=0
  timeout 30 "$MSOCK" "${b_args[@]}" >"$out.b" 2>"$out.b.err" || b_rc=$?
  wait "$a_pid" || a_rc=$?
  local ok=1
  if [[ -s "$out.a" || -n "$b_data" ]]; then
    echo "  A received (exit $a_rc):"
    sed 's/^/    | /' "$out.a"
  fi
  check_output "$out.a" "$b_data" || ok=0
  if [[ -s "$out.b" || -n "$a_data" ]]; then
    echo "  B received (exit $b_rc):"
    sed 's/^/    | /' "$out.b"
  fi
  check_output "$out.b" "$a_data" || ok=0
  if [[ $a_rc -eq 0 && $b_rc -eq 0 && $ok -eq 1 ]]; then
    echo "  OK (A exit $a_rc, B exit $b_rc)"
    PASSED=$((PASSED + 1))
  else
    echo "  FAILED (A exit $a_rc, B exit $b_rc)"
    sed 's/^/    A stderr: /' "$out.a.err"
    sed 's/^/    B stderr: /' "$out.b.err"
    FAILED=$((FAILED + 1))
  fi
}

IPC="ipc://$SCRATCH"

# push/pull over tcp: pull listens, push dials.
port="$(free_port)"
exchange "push/pull over tcp" \
  pull "--listen tcp://127.0.0.1:$port" "" \
  push "--dial tcp://127.0.0.1:$port" "hello over tcp"
# push/pull over ipc, the other way round: push listens, pull dials (and re-dials until it is up).
exchange "push/pull over ipc" \
  pull "--dial $IPC/pipeline.sock" "" \
  push "--listen $IPC/pipeline.sock" "hello over ipc"
# pair1 over ipc and tcp: both sides send and receive.
exchange "pair1 over ipc" \
  pair1 "--listen $IPC/pair.sock" "ping from A" \
  pair1 "--dial $IPC/pair.sock" "pong from B"
port="$(free_port)"
exchange "pair1 over tcp" \
  pair1 "--listen tcp://127.0.0.1:$port" "ping from A" \
  pair1 "--dial tcp://127.0.0.1:$port" "pong from B"
# The same over WebSocket (ws://host:port/path, the mapping NNG and browsers use).
port="$(free_port)"
exchange "push/pull over ws" \
  pull "--listen ws://127.0.0.1:$port/jobs" "" \
  push "--dial ws://127.0.0.1:$port/jobs" "hello over ws"
port="$(free_port)"
exchange "pair1 over ws" \
  pair1 "--listen ws://127.0.0.1:$port/pair" "ping from A" \
  pair1 "--dial ws://127.0.0.1:$port/pair" "pong from B"

echo
if [[ $FAILED -ne 0 ]]; then
  echo "demo: $FAILED of $((PASSED + FAILED)) exchanges FAILED"
  exit 1
fi
echo "demo: all $PASSED exchanges passed"
