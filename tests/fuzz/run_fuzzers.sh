#!/usr/bin/env bash
# Runs every fuzzer for SECONDS from the generated seeds: run_fuzzers.sh BUILD_DIR [SECONDS].
# Exits non-zero on the first crash (libFuzzer leaves the input as crash-* in the work dir).
set -euo pipefail
build=$1
seconds=${2:-60}
work=$(mktemp -d)
"$build/tests/fuzz/fuzz_seeds" "$work/seeds"
cd "$work"
for name in readers config checkpoint request; do
  mkdir -p "corpus_$name"
  echo "== fuzz_$name for ${seconds}s"
  "$build/tests/fuzz/fuzz_$name" -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=4096 \
    -print_final_stats=1 "corpus_$name" "seeds/$name" 2>"log_$name.txt" || {
    tail -60 "log_$name.txt"; echo "fuzz_$name FAILED (inputs in $work)"; exit 1; }
  grep -E "^Done|stat::number_of_executed_units|stat::peak_rss_mb" "log_$name.txt" || true
done
rm -rf "$work"
