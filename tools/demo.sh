#!/usr/bin/env bash
# tools/demo.sh: the README demo. Installs dependencies, builds the `msock` command-line tool and
# the chat example in build/ (only what is missing), then runs msock processes on this host that
# exchange messages: push/pull and pair1 over ipc, tcp and ws, push/pull over wss (TLS, with a
# certificate made here by openssl), a chat in a room through a rooms hub, and topics and
# services through `msock hub` (with its inspector page), and durable queue posts that survive
# kill -9 of the server. Exits non-zero if any exchange fails.
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
if ! cmake --build "$BUILD" -j2 --target tools/msock examples/chat_hub examples/chat_client; then
  cmake --build "$BUILD" -j2
fi
[[ -x "$MSOCK" ]] || { echo "demo: $MSOCK was not built" >&2; exit 1; }
CHAT_HUB="$BUILD/examples/chat_hub"
CHAT_CLIENT="$BUILD/examples/chat_client"

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

# wss: TLS with a self-signed certificate for 127.0.0.1 made now (nothing secret is stored);
# the dialer checks it against that certificate as its CA.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
  -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
  -keyout "$SCRATCH/key.pem" -out "$SCRATCH/cert.pem" 2>/dev/null
port="$(free_port)"
exchange "push/pull over wss (TLS)" \
  pull "--listen wss://127.0.0.1:$port/jobs --cert $SCRATCH/cert.pem --key $SCRATCH/key.pem" "" \
  push "--dial wss://127.0.0.1:$port/jobs --cacert $SCRATCH/cert.pem" "hello over wss"

# Rooms: a chat hub and two chat clients (examples/chat), each a process. alice joins "lobby"
# and listens; bob joins it and says something; the hub relays it to alice (not back to bob).
# waits_for FILE TEXT: true once FILE has a line containing TEXT (up to 10 s).
waits_for() {
  local i
  for ((i = 0; i < 100; i++)); do
    grep -q -F "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
echo
echo "=== chat in a room through a rooms hub (examples/chat)"
port="$(free_port)"
hub_url="tcp://127.0.0.1:$port"
echo "  hub\$ chat_hub $hub_url &"
timeout 30 stdbuf -oL "$CHAT_HUB" "$hub_url" >"$SCRATCH/hub.out" 2>&1 &
PIDS+=($!)
mkfifo "$SCRATCH/alice.in"
echo "  alice\$ chat_client $hub_url alice   (types: /join lobby)"
timeout 30 stdbuf -oL "$CHAT_CLIENT" "$hub_url" alice <"$SCRATCH/alice.in" \
  >"$SCRATCH/alice.out" 2>&1 &
PIDS+=($!)
exec 3>"$SCRATCH/alice.in"
echo "/join lobby" >&3
chat_ok=1
waits_for "$SCRATCH/hub.out" "alice joins lobby" || chat_ok=0
echo "  bob\$ chat_client $hub_url bob   (types: /join lobby, hello from bob, /quit)"
printf '/join lobby\nhello from bob\n/quit\n' |
  timeout 30 stdbuf -oL "$CHAT_CLIENT" "$hub_url" bob >"$SCRATCH/bob.out" 2>&1 || chat_ok=0
waits_for "$SCRATCH/alice.out" "hello from bob" || chat_ok=0
echo "/quit" >&3
exec 3>&-
echo "  hub printed:"
sed 's/^/    | /' "$SCRATCH/hub.out"
echo "  alice printed:"
sed 's/^/    | /' "$SCRATCH/alice.out"
if [[ $chat_ok -eq 1 ]] && ! grep -q -F "hello from bob" "$SCRATCH/bob.out"; then
  echo "  ok"
  PASSED=$((PASSED + 1))
else
  echo "  FAILED (bob printed:)"
  sed 's/^/    | /' "$SCRATCH/bob.out"
  FAILED=$((FAILED + 1))
fi

# Topics and services: `msock hub` with a shared list that two CLI clients change while a third
# watches, a service call, and the live inspector page (served by the hub on its ws port).
echo
echo "=== topics and services through msock hub (with the inspector page)"
port="$(free_port)"
wsport="$(free_port)"
hub_url="tcp://127.0.0.1:$port"
echo "  hub\$ msock hub --listen $hub_url --listen ws://127.0.0.1:$wsport/hub --allow-client-topics --inspector &"
timeout 60 "$MSOCK" hub --listen "$hub_url" --listen "ws://127.0.0.1:$wsport/hub" \
  --allow-client-topics --inspector >"$SCRATCH/thub.out" 2>"$SCRATCH/thub.err" &
PIDS+=($!)
topics_ok=1
waits_for "$SCRATCH/thub.out" "$hub_url" || topics_ok=0
topic() {
  echo "  \$ msock topic --dial $hub_url $*"
  timeout 15 "$MSOCK" topic --dial "$hub_url" "$@" 2>&1 | sed 's/^/    | /'
  return "${PIPESTATUS[0]}"
}
topic create todo list || topics_ok=0
echo "  watcher\$ msock topic --dial $hub_url watch todo --count 2 &"
timeout 15 "$MSOCK" topic --dial "$hub_url" watch todo --count 2 >"$SCRATCH/watch.out" 2>&1 &
watch_pid=$!
waits_for "$SCRATCH/watch.out" "[]" || topics_ok=0
topic apply todo '{"type":"insert","item":"milk","position":-1}' || topics_ok=0
topic apply todo '{"type":"insert","item":"eggs","position":0}' || topics_ok=0
if topic apply todo '{"type":"pop","position":5}'; then topics_ok=0; fi  # refused
topic get todo || topics_ok=0
wait "$watch_pid" || topics_ok=0
echo "  the watcher printed:"
sed 's/^/    | /' "$SCRATCH/watch.out"
echo "  \$ msock call --dial $hub_url hub.echo '{\"hi\":1}'"
timeout 15 "$MSOCK" call --dial "$hub_url" hub.echo '{"hi":1}' | sed 's/^/    | /' || topics_ok=0
page="$(grep -o 'http://[^ ]*inspector.html[^ ]*' "$SCRATCH/thub.err" || true)"
echo "  inspector page (open it in a browser while the hub runs): ${page:-none}"
if [[ -z "$page" ]] || ! python3 -c 'import sys, urllib.request
sys.exit(0 if b"msock hub inspector" in urllib.request.urlopen(sys.argv[1], timeout=5).read() else 1)' \
  "${page%%\?*}"; then
  topics_ok=0
fi
if [[ $topics_ok -eq 1 ]] && [[ "$(grep -c '"type":"insert"' "$SCRATCH/watch.out")" -eq 2 ]]; then
  echo "  ok"
  PASSED=$((PASSED + 1))
else
  echo "  FAILED"
  sed 's/^/    hub stderr: /' "$SCRATCH/thub.err"
  FAILED=$((FAILED + 1))
fi

echo "=== durable queue: posts survive kill -9 of the server (msock queue)"
port="$(free_port)"
q_url="tcp://127.0.0.1:$port"
q_db="$SCRATCH/queue.db"
queue_ok=1
start_queue() {
  # Not under `timeout`: the kill -9 below must reach the server itself (the clean-up stops it).
  "$MSOCK" queue serve --listen "$q_url" --db "$q_db" >"$SCRATCH/q.out" 2>&1 &
  Q_PID=$!
  PIDS+=("$Q_PID")
  waits_for "$SCRATCH/q.out" "$q_url"
}
echo "  server\$ msock queue serve --listen $q_url --db queue.db &"
start_queue || queue_ok=0
A="$(timeout 15 "$MSOCK" queue register --dial "$q_url" --user alice --node laptop)" || queue_ok=0
B="$(timeout 15 "$MSOCK" queue register --dial "$q_url" --user bob --node phone)" || queue_ok=0
echo "  \$ msock queue post --dial $q_url --user alice --node laptop --secret ... --to bob --data note --count 3"
timeout 15 "$MSOCK" queue post --dial "$q_url" --user alice --node laptop --secret "$A" \
  --to bob --data note --count 3 2>&1 | sed 's/^/    | durable as message /' || queue_ok=0
echo "  \$ kill -9 <server>; msock queue serve ... (same file)"
kill -9 "$Q_PID" 2>/dev/null || true
{ wait "$Q_PID"; } 2>/dev/null || true
: >"$SCRATCH/q.out"
start_queue || queue_ok=0
echo "  \$ msock queue recv --dial $q_url --user bob --node phone --secret ... --count 3"
timeout 15 "$MSOCK" queue recv --dial "$q_url" --user bob --node phone --secret "$B" \
  --count 3 --recv-timeout 10 >"$SCRATCH/q.recv" 2>&1 || queue_ok=0
sed 's/^/    | /' "$SCRATCH/q.recv"
if [[ $queue_ok -eq 1 ]] && [[ "$(cat "$SCRATCH/q.recv")" == $'note-1\nnote-2\nnote-3' ]]; then
  echo "  ok"
  PASSED=$((PASSED + 1))
else
  echo "  FAILED"
  sed 's/^/    server: /' "$SCRATCH/q.out"
  FAILED=$((FAILED + 1))
fi

echo
if [[ $FAILED -ne 0 ]]; then
  echo "demo: $FAILED of $((PASSED + FAILED)) exchanges FAILED"
  exit 1
fi
echo "demo: all $PASSED exchanges passed"
