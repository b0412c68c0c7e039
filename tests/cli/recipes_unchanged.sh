#!/usr/bin/env bash
# Behaviour unchanged across the architecture-v2 redesign: every recipe (and every AWRSR
# mechanism on both hosts) trains 3 epochs on the built-in data at 1 and 2 threads and must print
# exactly the metrics the release before the redesign printed (recipes_expected.txt).
# The figures are bit-exact only for the build they came from (Release, -march=native, AVX-512,
# GCC); elsewhere the script skips (exit 77) rather than compare different floating point.
set -u
bin=${SEQREC_BIN:?set SEQREC_BIN to the seqrec program}
expected=${1:-$(dirname "$0")/recipes_expected.txt}
if ! grep -qw avx512f /proc/cpuinfo 2>/dev/null; then
  echo "skipped: the expected figures were recorded with AVX-512 code"; exit 77
fi
fail=0
while IFS='|' read -r flags threads want; do
  [[ -z "$flags" || "$flags" == \#* ]] && continue
  # shellcheck disable=SC2086
  out=$("$bin" train --epochs 3 --threads "$threads" --quiet $flags 2>&1) || { echo "FAIL - $flags ($threads threads): $out"; fail=1; continue; }
  got="$(grep -o '"best_epoch":[0-9]*' <<<"$out"),$(grep -o '"valid":{[^}]*},"test":{[^}]*}' <<<"$out")"
  if [[ "$got" == "$want" ]]; then
    echo "ok   - $flags ($threads threads)"
  else
    echo "FAIL - $flags ($threads threads)"; echo "  want $want"; echo "  got  $got"; fail=1
  fi
done < "$expected"
exit $fail
