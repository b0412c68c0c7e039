#!/usr/bin/env bash
# Build cost: wall time of a fresh full build (every target) and each compile job's peak memory.
# Usage: benchmarks/build_cost.sh [BUILD_DIR] [JOBS] [extra cmake args...]
# Prints the total wall time, the five largest jobs by peak resident memory, and the five slowest.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build-cost}
jobs=${2:-2}
shift $(( $# > 2 ? 2 : $# ))
rm -rf "$build"
mkdir -p "$build"
log=$(cd "$build" && pwd)/compile_jobs.tsv
: > "$log"
# Every compiler call goes through /usr/bin/time (GNU time): seconds, peak KiB, the output file.
launcher="$(cd "$build" && pwd)/time_job.sh"
cat > "$launcher" <<LAUNCH
#!/usr/bin/env bash
out=\$(printf '%s\n' "\$@" | awk 'p{print; exit} /^-o\$/{p=1}')
exec /usr/bin/time -a -o "$log" -f "%e\t%M\t\$out" "\$@"
LAUNCH
chmod +x "$launcher"
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER_LAUNCHER="$launcher" \
  "$@" > "$build/configure.log"
start=$(date +%s.%N)
cmake --build "$build" -j"$jobs" > "$build/build.log" 2>&1 || { tail -30 "$build/build.log"; exit 1; }
end=$(date +%s.%N)
awk -v s="$start" -v e="$end" -v j="$jobs" -F'\t' '
  { n++; if ($2 > max) { max = $2; which = $3 }; sum += $1 }
  END { printf "full build: %.0f s wall with -j%s, %d compile jobs, %.0f s of job time\n", e - s, j, n, sum
        printf "largest job: %.2f GiB (%s)\n", max / 1048576, which }' "$log"
echo "five largest jobs (GiB, seconds, output):"
sort -t$'\t' -k2,2nr "$log" | head -5 | awk -F'\t' '{ printf "  %.2f  %6.1f  %s\n", $2 / 1048576, $1, $3 }'
echo "five slowest jobs (seconds, GiB, output):"
sort -t$'\t' -k1,1nr "$log" | head -5 | awk -F'\t' '{ printf "  %6.1f  %.2f  %s\n", $1, $2 / 1048576, $3 }'
