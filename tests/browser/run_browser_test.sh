#!/usr/bin/env bash
# tests/browser/run_browser_test.sh: the browser end-to-end test as one command (ctest label
# "browser"). Starts the ws peers (nng_ws_peer, built by CMake), waits for their "ready" line,
# runs run.mjs in headless Debian chromium against them and stops the peers on any exit.
#
#   bash tests/browser/run_browser_test.sh PATH/TO/PEER [PEER options... --] [run.mjs options...]
#
# The peer prints "ready ws://127.0.0.1:PORT [PAGE-URL]"; with a page URL (msock's peer serves
# the page itself) the browser loads it from there.
#
# Needs /usr/bin/chromium, node >= 20 and tests/browser/node_modules (tools/setup-deps.sh
# installs all three). Exit status: run.mjs's (0 all passed, 1 a case failed), 2 for setup.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TIMEOUT_S="${MSOCK_BROWSER_TIMEOUT_S:-120}"

fail_setup() {
  echo "run_browser_test: $*" >&2
  exit 2
}

[[ $# -ge 1 ]] || fail_setup "usage: run_browser_test.sh PATH/TO/nng_ws_peer [run.mjs options]"
PEER="$1"
shift
PEER_ARGS=()
if [[ " $* " == *" -- "* ]]; then
  while [[ $# -gt 0 && "$1" != "--" ]]; do
    PEER_ARGS+=("$1")
    shift
  done
  shift  # the --
fi
[[ -x "$PEER" ]] || fail_setup "peer program '$PEER' is not an executable"
command -v node >/dev/null 2>&1 || fail_setup "node not found; run tools/setup-deps.sh"
[[ -x "${CHROMIUM:-/usr/bin/chromium}" ]] ||
  fail_setup "${CHROMIUM:-/usr/bin/chromium} not found; run tools/setup-deps.sh (apt chromium)"
[[ -f "$HERE/node_modules/playwright-core/package.json" ]] ||
  fail_setup "playwright-core missing in $HERE/node_modules; run tools/setup-deps.sh" \
    "(it runs 'npm ci' there)"

WORK="$(mktemp -d)"
PEER_PID=""
NODE_PID=""
cleanup() {
  if [[ -n "$NODE_PID" ]]; then
    kill "$NODE_PID" 2>/dev/null || true
    wait "$NODE_PID" 2>/dev/null || true
  fi
  if [[ -n "$PEER_PID" ]]; then
    kill "$PEER_PID" 2>/dev/null || true
    wait "$PEER_PID" 2>/dev/null || true
  fi
  exec 3<&- 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The peer outlives the test by a margin at most, even if this script is killed with -9.
mkfifo "$WORK/ready"
"$PEER" "${PEER_ARGS[@]}" --lifetime-s $((TIMEOUT_S + 30)) >"$WORK/ready" 2>"$WORK/peer.err" &
PEER_PID=$!
exec 3<"$WORK/ready"
page=""
if ! read -r -t 10 -u 3 word base page; then
  cat "$WORK/peer.err" >&2
  fail_setup "peer printed no ready line within 10 s"
fi
[[ "$word" == ready && "$base" == ws://* ]] || fail_setup "unexpected peer line: $word $base"
echo "run_browser_test: peers at $base (pid $PEER_PID)"

# In the background so that a TERM from ctest runs the trap at once (bash defers traps
# while a foreground child runs); `timeout` passes the TERM on to node.
status=0
timeout --kill-after=10 $((TIMEOUT_S + 15)) \
  node "$HERE/run.mjs" --ws-base "$base" ${page:+--page "$page"} --timeout-s "$TIMEOUT_S" "$@" &
NODE_PID=$!
wait "$NODE_PID" || status=$?
NODE_PID=""
if [[ -s "$WORK/peer.err" ]]; then
  echo "run_browser_test: peer stderr:" >&2
  cat "$WORK/peer.err" >&2
fi
exit "$status"
