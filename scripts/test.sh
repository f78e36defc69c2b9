#!/usr/bin/env bash
# Builds everything and runs every test (unit + end-to-end on loopback) with ctest,
# then again under sanitizers. Modes, in this order:
#   plain  build/       RelWithDebInfo, the whole suite
#   asan   build-asan/  AddressSanitizer + LeakSanitizer + UBSan, the whole suite
#   tsan   build-tsan/  ThreadSanitizer, the tests whose code runs threads:
#                       unit [meta] (parallel hashing), [piece_store] (parallel verify),
#                       [session], [hash_pool], but not [one_thread] (big inputs parsed on
#                       one thread: nothing for TSan to check, and 2.3 of the pass's 7.8
#                       minutes under it); e2e transfer_sizes, resume_after_kill, bad_peers
# P2P_TEST_MODES="plain asan" scripts/test.sh runs a subset (default: all three).
# Any sanitizer report fails the run, including one from a process an e2e test
# started in the background: reports go to files that are checked afterwards.
set -euo pipefail
# No port mapping requests or LAN announces leave this run (docs: README "Across networks").
export P2P_NO_DISCOVERY=1
cd "$(dirname "$0")/.."
root=$PWD
modes="${P2P_TEST_MODES:-plain asan tsan}"
for m in $modes; do
  case "$m" in plain|asan|tsan) ;; *) echo "test.sh: unknown mode '$m' (plain, asan, tsan)" >&2; exit 2 ;; esac
done
jobs=$(nproc 2>/dev/null || echo 2)
# Tests at once: twice the cores. The end-to-end tests mostly wait (timers, peers,
# namespaces): at two at once the suite kept 0.7 of 2 cores busy (CI, 32 min in all);
# at four the plain suite took 244 s instead of 402 s here. Tests that assert a rate or
# a delay count as two (tests/CMakeLists.txt, PROCESSORS).
test_jobs=$((2 * jobs))

# Fails (and prints them) if sanitizer reports were written to $1.
check_reports() {
  local dir=$1 found=0 f
  for f in "$dir"/*; do
    [ -s "$f" ] || continue
    found=1
    echo "=== sanitizer report: $f" >&2
    cat "$f" >&2
  done
  if [ "$found" = 1 ]; then
    echo "test.sh: sanitizer reports in $dir" >&2
    return 1
  fi
}

# -O1 -g1 (line tables) halves compile time against -O2 -g and keeps usable
# stack traces; no NDEBUG, so library assertions (nlohmann's) are checked too.
# Unity builds (16 sources per compiler run, CMakeLists.txt) cut the CPU time of these cold builds by about
# a third: each run instantiates and instruments nlohmann, fmt and Asio templates once, not
# per file (measured: 3.6 against 5.2 CPU-min for the TSan library and executables). File-local
# names must therefore be unique within a target. scripts/build.sh (the plain mode) does the same.
# The ASan+UBSan build uses clang: GCC 12 took 1,120 CPU-s for it, clang 14 830 (the largest
# source 99 s against 49 s), and its test pass 336 s against 423-431 s here; the fuzz targets
# (scripts/fuzz.sh) build with clang too. The TSan build stays GCC's (clang's took 307 CPU-s
# against 240), as does the plain one, so both compilers check the code. CC and CXX count
# when a directory is first configured: a build-asan/ GCC made earlier stays GCC's (delete
# it to switch; -DCMAKE_CXX_COMPILER on an existing cache would reset -DP2P_SANITIZE with it).
sanitizer_build() {  # dir sanitizers compiler [targets...] (default: all); compiler: gcc or clang
  local dir=$1 sanitizers=$2 cc=gcc cxx=g++
  [ "$3" = clang ] && cc=clang cxx=clang++
  shift 3
  CC=$cc CXX=$cxx cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
    -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1" -DP2P_SANITIZE="$sanitizers" -DBUILD_TESTING=ON \
    -DCMAKE_UNITY_BUILD=ON >/dev/null
  cmake --build "$dir" -j"$jobs" ${1:+--target "$@"}
}

status=0
for mode in $modes; do
  start=$SECONDS
  echo "=== test.sh: $mode"
  case "$mode" in
    plain)
      scripts/build.sh
      (cd build && ctest --output-on-failure -j"$test_jobs" --timeout 600) || status=1
      ;;
    asan)
      # netns_swarm's second case makes the seeder leave once it has sent one copy's bytes;
      # ASan's slowdown lets endgame ask the seeder for a block twice, so "one copy" of bytes
      # can leave a piece unsent (seen once here). It is a timing test of swarm dynamics, run
      # in the plain mode; its code runs under ASan in every other swarm test.
      # wan_window asserts a throughput shape (a window that follows a 100 ms round trip),
      # which ASan's slowdown would decide instead; it skips itself in sanitizer builds too.
      asan_skip='^e2e\.(netns_swarm|wan_window)$'
      scripts/setup-deps.sh clang libclang-rt-dev
      sanitizer_build build-asan address,undefined clang
      logs=$root/build-asan/sanitizer-reports
      rm -rf "$logs" && mkdir -p "$logs"
      (cd build-asan &&
        ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:log_path=$logs/asan" \
        LSAN_OPTIONS="suppressions=$root/tests/lsan.supp:print_suppressions=0" \
        UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$logs/ubsan" \
        ctest --output-on-failure -j"$test_jobs" --timeout 900 -E "$asan_skip") || status=1
      check_reports "$logs" || status=1
      ;;
    tsan)
      scripts/setup-deps.sh
      # Only what its tests run: the unit tests that run threads (thread_unit_tests,
      # tests/CMakeLists.txt), three executables, two test peers.
      sanitizer_build build-tsan thread gcc thread_unit_tests p2p-create p2p-seed p2p-download bad_peer count_valid_pieces
      logs=$root/build-tsan/sanitizer-reports
      rm -rf "$logs" && mkdir -p "$logs"
      export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$root/tests/tsan.supp:log_path=$logs/tsan"
      # Catch tags select the unit tests (ctest names them by title, not tag).
      build-tsan/tests/thread_unit_tests "[meta]~[one_thread],[piece_store],[session],[hash_pool]" || status=1
      (cd build-tsan &&
        ctest --output-on-failure -j"$test_jobs" --timeout 900 -R '^e2e\.(transfer_sizes|resume_after_kill|bad_peers)$') || status=1
      unset TSAN_OPTIONS
      check_reports "$logs" || status=1
      ;;
  esac
  echo "=== test.sh: $mode took $((SECONDS - start)) s"
done
exit $status
