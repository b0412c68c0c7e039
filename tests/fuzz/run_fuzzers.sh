#!/usr/bin/env bash
# Runs every fuzzer from the generated seeds: run_fuzzers.sh BUILD_DIR [RUNS] [SEED].
# A fixed seed and number of inputs make a run repeatable (CI fails on what a developer can
# reproduce, not on luck); 90 s bounds each in any case. RUNS=0 runs until stopped, for hunting.
# Exits non-zero on the first crash (libFuzzer leaves the input as crash-* in the work dir).
set -euo pipefail
build=$1
runs=${2:-500000}
seed=${3:-1}
work=$(mktemp -d)
"$build/tests/fuzz/fuzz_seeds" "$work/seeds"
cd "$work"
for name in readers config checkpoint request http; do
  mkdir -p "corpus_$name"
  echo "== fuzz_$name: $runs inputs from seed $seed"
  limit=(-runs="$runs" -max_total_time=90)
  [[ $runs -eq 0 ]] && limit=()
  "$build/tests/fuzz/fuzz_$name" "${limit[@]}" -seed="$seed" -rss_limit_mb=2048 -max_len=4096 \
    -print_final_stats=1 "corpus_$name" "seeds/$name" 2>"log_$name.txt" || {
    tail -60 "log_$name.txt"; echo "fuzz_$name FAILED (inputs in $work)"; exit 1; }
  grep -E "^Done|stat::number_of_executed_units|stat::peak_rss_mb|^#[0-9]+.*DONE" "log_$name.txt" || true
done
rm -rf "$work"
