#!/usr/bin/env bash
# Long libFuzzer runs of msock's fuzz targets, one summary line each, and the
# minimisation of what they found into the committed seed corpus.
#
#   tests/fuzz/run_long.sh [options] [fuzz_NAME...]             # fuzz
#   tests/fuzz/run_long.sh --minimize DIR [options] [fuzz_NAME...]
#
# Fuzzing: every fuzz_* executable of the build dir (or those named) runs for
# --seconds N (default 600) or --runs N executions, under nice, on a work
# corpus WORK/fuzz_NAME (WORK defaults to BUILD/long-corpus) into which its
# seeds tests/fuzz/corpus/NAME are merged first; the work corpus is kept, so
# runs add up. Crashing inputs go to BUILD/long-artifacts/fuzz_NAME-*, logs to
# WORK/fuzz_NAME.log. Then, per target: executions, exec/s, cov: and ft: (from
# libFuzzer's last status line), corpus size, and crashes (0 or the artifact
# paths). Exits 1 if any target crashed (or leaked, timed out, ran out of
# memory), 2 on a usage error.
#
# Minimising: --minimize DIR merges (-merge=1) each work corpus DIR/fuzz_NAME
# (DIR is a WORK of an earlier run) into tests/fuzz/corpus/NAME: the named
# seeds stay, and only inputs that add coverage to them are added (named by
# libFuzzer, by content hash). With --replace the seed directory becomes the
# minimal set covering seeds and work corpus together (names are lost). Add
# -- -set_cover_merge=1 for a smaller set (greedy set cover).
#
# Options:
#   --build DIR    the fuzz build (default build-fuzz; see tests/fuzz/CMakeLists.txt)
#   --seconds N    fuzzing time per target (default 600)
#   --runs N       executions per target instead of a time
#   --jobs N       targets fuzzed at the same time (default 1)
#   --work DIR     the work corpora (default BUILD/long-corpus)
#   --max-len N    libFuzzer -max_len (default: libFuzzer's choice)
#   --nice N       niceness (default 15: the machine is shared)
#   --replace      with --minimize: replace the seeds by the minimal set
#   -- ARGS        more libFuzzer flags, e.g. -- -dict=my.dict
# Example: tests/fuzz/run_long.sh --runs 10000000 --jobs 2 fuzz_url fuzz_hello
set -uo pipefail

usage() {
  sed -n '2,/^set -uo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
  exit 2
}

here="$(cd "$(dirname "$0")" && pwd)"
build="build-fuzz"
seconds=600
runs=""
jobs=1
work=""
max_len=""
niceness=15
minimize=""
replace=0
targets=()
extra=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) build="${2:?}"; shift 2 ;;
    --seconds) seconds="${2:?}"; runs=""; shift 2 ;;
    --runs) runs="${2:?}"; shift 2 ;;
    --jobs) jobs="${2:?}"; shift 2 ;;
    --work) work="${2:?}"; shift 2 ;;
    --max-len) max_len="${2:?}"; shift 2 ;;
    --nice) niceness="${2:?}"; shift 2 ;;
    --minimize) minimize="${2:?}"; shift 2 ;;
    --replace) replace=1; shift ;;
    --) shift; extra=("$@"); break ;;
    -h | --help) usage ;;
    -*) echo "run_long.sh: unknown option $1" >&2; usage ;;
    *) targets+=("$1"); shift ;;
  esac
done
for n in "$seconds" "$jobs" "$niceness" ${runs:+"$runs"} ${max_len:+"$max_len"}; do
  [[ "$n" =~ ^[0-9]+$ ]] || { echo "run_long.sh: '$n' is not a number" >&2; exit 2; }
done
[[ "$jobs" -ge 1 ]] || jobs=1
work="${work:-$build/long-corpus}"
artifacts="$build/long-artifacts"

if [[ ${#targets[@]} -eq 0 ]]; then
  mapfile -t targets < <(find "$build/tests/fuzz" -maxdepth 1 -type f -perm -u+x \
    -name 'fuzz_*' -printf '%f\n' 2>/dev/null | sort)
fi
if [[ ${#targets[@]} -eq 0 ]]; then
  echo "run_long.sh: no fuzz targets in $build/tests/fuzz (build with -DMSOCK_BUILD_FUZZ=ON)" >&2
  exit 2
fi
for t in "${targets[@]}"; do
  if [[ ! -x "$build/tests/fuzz/$t" ]]; then
    echo "run_long.sh: no fuzz target $build/tests/fuzz/$t" >&2
    exit 2
  fi
done

# The committed seeds of target $1: corpus/NAME, NAME with or without fuzz_.
seeds_of() {
  local d
  for d in "$here/corpus/${1#fuzz_}" "$here/corpus/$1"; do
    [[ -d "$d" ]] && { echo "$d"; return; }
  done
  echo "$here/corpus/${1#fuzz_}"
}

len_flag=()
[[ -n "$max_len" ]] && len_flag=("-max_len=$max_len")

# ---- minimising ----
if [[ -n "$minimize" ]]; then
  status=0
  for t in "${targets[@]}"; do
    seeds="$(seeds_of "$t")"
    grown="$minimize/$t"
    if [[ ! -d "$grown" ]]; then
      echo "$t: no work corpus $grown, skipped"
      continue
    fi
    mkdir -p "$seeds"
    before=$(find "$seeds" -type f | wc -l)
    log="$(mktemp)"
    if [[ "$replace" -eq 1 ]]; then
      fresh="$(mktemp -d)"
      nice -n "$niceness" "$build/tests/fuzz/$t" -merge=1 "${len_flag[@]}" "${extra[@]}" \
        "$fresh" "$seeds" "$grown" >"$log" 2>&1
      ok=$?
      # Only a non-empty minimal set replaces the seeds.
      if [[ $ok -eq 0 && -n "$(ls -A "$fresh")" ]]; then
        find "$seeds" -type f -delete && cp "$fresh"/* "$seeds"/
        ok=$?
      fi
      rm -rf "$fresh"
    else
      nice -n "$niceness" "$build/tests/fuzz/$t" -merge=1 "${len_flag[@]}" "${extra[@]}" \
        "$seeds" "$grown" >"$log" 2>&1
      ok=$?
    fi
    after=$(find "$seeds" -type f | wc -l)
    if [[ $ok -ne 0 ]]; then
      echo "$t: merge FAILED (log: $log)"
      status=1
      continue
    fi
    echo "$t: $(find "$grown" -type f | wc -l) grown inputs -> $seeds: $before -> $after files"
    rm -f "$log"
  done
  exit $status
fi

# ---- fuzzing ----
mkdir -p "$work" "$artifacts"

# Fuzzes target $1; its log is WORK/$1.log.
fuzz_one() {
  local t="$1" corpus="$work/$1" log="$work/$1.log" seeds
  seeds="$(seeds_of "$t")"
  mkdir -p "$corpus"
  touch "$work/$t.start"  # artifacts newer than this are this run's
  {
    if [[ -d "$seeds" ]]; then
      nice -n "$niceness" "$build/tests/fuzz/$t" -merge=1 "${len_flag[@]}" "$corpus" "$seeds" 2>&1 |
        tail -n 2
    fi
    local limit="-max_total_time=$seconds"
    [[ -n "$runs" ]] && limit="-runs=$runs"
    nice -n "$niceness" "$build/tests/fuzz/$t" "$limit" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$artifacts/$t-" "${len_flag[@]}" "${extra[@]}" \
      "$corpus" 2>&1
    echo "run_long: exit status $?"
  } >"$log"
}

# One summary line from target $1's log, corpus and artifacts; false if it crashed.
summary() {
  local t="$1" log="$work/$1.log" corpus="$work/$1"
  local execs rate cov ft last files kib crashes exit_status
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  last=$(grep -E '^#[0-9]+.* cov: ' "$log" | tail -n 1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  [[ -z "$execs" ]] && execs=$(sed -n 's/^#\([0-9]*\).*/\1/p' <<<"$last")
  [[ -z "$rate" ]] && rate=$(sed -n 's/.* exec\/s: \([0-9]*\).*/\1/p' <<<"$last")
  files=$(find "$corpus" -type f | wc -l)
  kib=$(find "$corpus" -type f -printf '%s\n' | awk '{s += $1} END {print int((s + 1023) / 1024)}')
  exit_status=$(sed -n 's/^run_long: exit status //p' "$log" | tail -n 1)
  mapfile -t found < <(find "$artifacts" -maxdepth 1 -type f -newer "$work/$t.start" \
    \( -name "$t-crash-*" -o -name "$t-leak-*" -o -name "$t-timeout-*" -o -name "$t-oom-*" \) |
    sort)
  if [[ ${#found[@]} -gt 0 ]]; then
    crashes="${#found[@]}: ${found[*]}"
  elif [[ "${exit_status:-1}" != 0 ]]; then
    crashes="exit status ${exit_status:-none}, see $log"
  else
    crashes=0
  fi
  printf '%-26s execs %10s  exec/s %7s  cov %6s  ft %7s  corpus %6s files %6s KiB  crashes %s\n' \
    "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$files" "$kib" "$crashes"
  [[ "$crashes" == 0 ]]
}

limit_text="${runs:+$runs runs}"
echo "run_long: ${#targets[@]} targets, ${limit_text:-${seconds}s} each, $jobs at a time," \
  "work corpora in $work"
running=0
for t in "${targets[@]}"; do
  if [[ $running -ge $jobs ]]; then
    wait -n
    running=$((running - 1))
  fi
  fuzz_one "$t" &
  running=$((running + 1))
done
wait

status=0
for t in "${targets[@]}"; do
  summary "$t" || status=1
done
exit $status
