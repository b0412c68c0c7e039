#!/usr/bin/env bash
# benchmarks/summarize_runs: the per-run table, means and paired t-tests from result files it is
# given, missing runs named, and a malformed result file an error naming the file.
set -u
bin=${SUMMARIZE_BIN:?set SUMMARIZE_BIN to the summarize_runs program}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
ok() { echo "ok   - $1"; }
bad() { echo "FAIL - $1"; fail=1; }

# result D R S NDCG5: a result file with test NDCG@5 = NDCG5 and fixed other metrics.
result() {
  printf '{"model":"%s","epochs":30,"best_epoch":10,"train_seconds":12.5,"test":{"HR@5":0.07,"HR@10":0.1,"HR@20":0.13,"NDCG@5":%s,"NDCG@10":0.06,"NDCG@20":0.07}}\n' \
    "$2" "$4" > "$tmp/$1-$2-$3.json"
}
# RPESA against SASRec-CE on Beauty, NDCG@5 (docs/REPRODUCTION.md): differences 4, 4, 2 x 1e-4.
result Beauty sasrec-ce 1 0.05104; result Beauty sasrec-ce 2 0.0486; result Beauty sasrec-ce 3 0.0503
result Beauty rpesa 1 0.0514; result Beauty rpesa 2 0.049; result Beauty rpesa 3 0.05049
out=$("$bin" --runs "$tmp" --recipes sasrec-ce,rpesa,mqsa --seeds 1,2,3 2>&1)
grep -q '^| sasrec-ce, 1 | 0.0700 | 0.1000 | 0.1300 | 0.0510 | 0.0600 | 0.0700 | 10 / 30, 12 |$' <<< "$out" \
  && ok "one row per run, metrics rounded to 4 digits" || { bad "run rows"; echo "$out"; }
grep -q '^| rpesa | 0.0700 (0.0000) | .* | 0.0503 (0.0012) |' <<< "$out" \
  && ok "mean (sample sd) per recipe" || { bad "means"; echo "$out"; }
grep -q '^| rpesa - sasrec-ce | +0.0000 (t 0.0, p 1) | .* | +0.0003 (t 5.0, p 0.038) | .* | 3 |$' <<< "$out" \
  && ok "paired t-test on the rounded figures" || { bad "paired test"; echo "$out"; }
grep -q 'Missing (not finished or not run): Beauty-mqsa-1 Beauty-mqsa-2 Beauty-mqsa-3$' <<< "$out" \
  && ok "missing runs listed" || { bad "missing runs"; echo "$out"; }

# Differences +2, -1, -1 x 1e-4 cancel (in binary fractions they leave -2.3e-18): exactly 0.
result Toys sasrec-ce 1 0.0513; result Toys sasrec-ce 2 0.0507; result Toys sasrec-ce 3 0.0521
result Toys rpesa 1 0.0515; result Toys rpesa 2 0.0506; result Toys rpesa 3 0.0520
out=$("$bin" --runs "$tmp" --datasets Toys --recipes sasrec-ce,rpesa 2>&1)
grep -q '^| rpesa - sasrec-ce | .* | +0.0000 (t 0.0, p 1) | .* | 3 |$' <<< "$out" && ! grep -q -- '-0\.0' <<< "$out" \
  && ok "differences that cancel print as +0" || { bad "cancelling differences"; echo "$out"; }

# One seed per recipe: no means table (an sd needs two), the paired differences still printed.
out=$("$bin" --runs "$tmp" --datasets Toys --recipes sasrec-ce,rpesa --seeds 1 2>&1)
grep -q 'no recipe has two or more seeds yet' <<< "$out" && ! grep -q '^| model |' <<< "$out" \
  && grep -q '^| rpesa - sasrec-ce | +0.0000 | .* | +0.0002 | .* | 1 |$' <<< "$out" \
  && ok "one seed: no empty means table" || { bad "one seed"; echo "$out"; }

echo '{"test": {"HR@5": 0.1' > "$tmp/Beauty-mqsa-1.json"
"$bin" --runs "$tmp" --recipes sasrec-ce,mqsa > /dev/null 2> "$tmp/err"; rc=$?
[[ $rc -eq 1 ]] && grep -q "Beauty-mqsa-1.json: not a JSON result file" "$tmp/err" \
  && ok "truncated result file: error naming it" || { bad "truncated file (exit $rc)"; cat "$tmp/err"; }
echo '{"test": {"HR@5": "x"}}' > "$tmp/Beauty-mqsa-1.json"
"$bin" --runs "$tmp" --recipes sasrec-ce,mqsa > /dev/null 2> "$tmp/err"; rc=$?
[[ $rc -eq 1 ]] && grep -q "Beauty-mqsa-1.json: no number at test.HR@5" "$tmp/err" \
  && ok "wrong field type: error naming file and field" || { bad "wrong field (exit $rc)"; cat "$tmp/err"; }
"$bin" --runs "$tmp" --pairs rpesa > /dev/null 2> "$tmp/err"; rc=$?
[[ $rc -eq 2 ]] && grep -q "B:A" "$tmp/err" && ok "bad --pairs: usage error" || { bad "bad --pairs (exit $rc)"; cat "$tmp/err"; }
exit $fail
