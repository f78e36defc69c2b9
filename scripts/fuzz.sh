#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz, clang with ASan + UBSan) into
# build-fuzz and runs each one for SECONDS_PER_TARGET (default 600), one at a
# time, under nice -n 19. Each run starts from a scratch copy of its seed corpus
# (tests/fuzz/corpus/<target>, never grown here); crash inputs are saved under
# build-fuzz/crashes/. Prints executions, exec/s, coverage and crashes per
# target; exits non-zero if any target crashed.
# usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-600}
[ $# -gt 0 ] && shift
all=(fuzz_bencode fuzz_frame_decoder fuzz_message_parser fuzz_meta_parser fuzz_state_loader fuzz_tracker_request fuzz_lan_announce)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all[@]}")

scripts/setup-deps.sh clang libclang-rt-dev

CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DP2P_FUZZ=ON \
  -DP2P_SANITIZE=address,undefined -DBUILD_TESTING=OFF >/dev/null
nice -n 19 cmake --build build-fuzz --target "${targets[@]}" -j2

mkdir -p build-fuzz/crashes build-fuzz/logs
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
rows=()
failed=0
for t in "${targets[@]}"; do
  work=build-fuzz/corpus-work/$t
  rm -rf "$work" && mkdir -p "$work"
  cp tests/fuzz/corpus/"$t"/* "$work"/ 2>/dev/null || true
  dict=()
  [ -f tests/fuzz/"$t".dict ] && dict=(-dict=tests/fuzz/"$t".dict)
  log=build-fuzz/logs/$t.log
  echo "=== fuzz.sh: $t for ${secs}s (log: $log)"
  before=$(ls build-fuzz/crashes | grep -c "^$t-" || true)
  rc=0
  nice -n 19 build-fuzz/fuzz/"$t" -max_total_time="$secs" -print_final_stats=1 -timeout=25 -rss_limit_mb=2048 \
    -max_len=65536 -artifact_prefix=build-fuzz/crashes/"$t"- "${dict[@]}" "$work" >"$log" 2>&1 || rc=$?
  after=$(ls build-fuzz/crashes | grep -c "^$t-" || true)
  crashes=$((after - before))
  [ $rc -ne 0 ] && [ $crashes -eq 0 ] && crashes=1  # died without saving an input
  [ $crashes -gt 0 ] && { failed=1; grep -m1 -A12 "ERROR\|==ERROR\|runtime error\|deadly signal" "$log" || tail -20 "$log"; }
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  status=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1)
  cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$status")
  ft=$(sed -n 's/.*ft: \([0-9]*\).*/\1/p' <<<"$status")
  if [ -z "$execs" ]; then execs=$(sed -n 's/^#\([0-9]*\).*/\1/p' <<<"$status"); fi
  rows+=("$(printf '| %-22s | %12s | %7s | %6s | %7s | %7s |' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$crashes")")
done

echo
printf '| %-22s | %12s | %7s | %6s | %7s | %7s |\n' target executions exec/s cov ft crashes
echo "| ---------------------- | -----------: | ------: | -----: | ------: | ------: |"
printf '%s\n' "${rows[@]}"
[ $failed -eq 0 ] || { echo "fuzz.sh: crashes saved in build-fuzz/crashes/" >&2; exit 1; }
