#!/usr/bin/env bash
# The training epoch with glibc's malloc as it comes and with glibc told to keep freed memory
# (the set-up that hid allocator churn before the library reused its memory), alternating
# runs of the same binary. Prints each run's epoch line and the ratio of the medians.
#   benchmarks/compare_allocator.sh BUILD_DIR [bench_sasrec options, e.g. --data ml-1m.txt]
set -euo pipefail
bin="$1/benchmarks/bench_sasrec"
shift
tuned=(env MALLOC_TRIM_THRESHOLD_=1073741824 MALLOC_MMAP_THRESHOLD_=1073741824
       MALLOC_TOP_PAD_=268435456)
as_is=() keep=()
for i in 1 2 3; do
  as_is+=("$("$bin" "$@" | grep '^| train epoch (' | cut -d'|' -f4)")
  keep+=("$("${tuned[@]}" "$bin" "$@" | grep '^| train epoch (' | cut -d'|' -f4)")
  echo "run $i: epoch median as it comes ${as_is[-1]} s, glibc keeping memory ${keep[-1]} s"
done
median() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
a=$(median "${as_is[@]}") k=$(median "${keep[@]}")
awk -v a="$a" -v k="$k" 'BEGIN { printf "median of medians: as it comes %.3f s, kept %.3f s, ratio %.3f\n", a, k, a / k }'
