#!/usr/bin/env bash
# tests/install/examples_between_processes.sh: runs the broker and forwarder
# examples as separate processes over ipc, the way their usage text says, and
# checks what the client and the subscriber print.
# Usage: examples_between_processes.sh BROKER_BIN FORWARDER_BIN
set -euo pipefail
broker="$1"
forwarder="$2"
dir="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

# --- broker: device + two workers + a client (start order does not matter:
# dialers retry until the device listens).
"$broker" worker "ipc://$dir/back.sock" alice & pids+=($!)
"$broker" worker "ipc://$dir/back.sock" bob & pids+=($!)
"$broker" device "ipc://$dir/front.sock" "ipc://$dir/back.sock" >"$dir/device.out" &
device_pid=$!
pids+=($device_pid)
timeout 60 "$broker" client "ipc://$dir/front.sock" 20 >"$dir/client.out"
test "$(wc -l <"$dir/client.out")" -eq 20
for i in $(seq 0 19); do
  grep -Eq "^(alice|bob): request $i\$" "$dir/client.out" || {
    echo "no reply to request $i"; cat "$dir/client.out"; exit 1; }
done
kill -TERM "$device_pid"
wait "$device_pid"
grep -q "forwarded 20 requests, 20 replies" "$dir/device.out" || {
  cat "$dir/device.out"; exit 1; }
echo "broker: 20 requests answered through the device"

# --- forwarder: device + publisher + a subscriber to "news:" only.
"$forwarder" device "ipc://$dir/in.sock" "ipc://$dir/out.sock" >/dev/null & pids+=($!)
"$forwarder" publisher "ipc://$dir/in.sock" & pids+=($!)
timeout 60 "$forwarder" subscriber "ipc://$dir/out.sock" news: 5 >"$dir/sub.out"
test "$(wc -l <"$dir/sub.out")" -eq 5
if grep -v '^news: [0-9]*$' "$dir/sub.out"; then
  echo "the subscriber got a message it did not subscribe to"; exit 1
fi
echo "forwarder: 5 filtered messages through the device"
