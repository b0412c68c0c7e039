#!/usr/bin/env bash
# Data-parallel training under mpirun (issue #14): 2 and 3 processes must print exactly the
# results of one process for the same seed, global batch and epochs (train_seconds aside), for
# every model family and loss; only rank 0 prints and saves; a saved model evaluates the same
# sharded as alone.
set -u
bin=${SEQREC_BIN:?set SEQREC_BIN to the seqrec program}
mpiexec=${MPIEXEC:-mpirun}
# Open MPI refuses root without these (CI containers run as root); harmless otherwise.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# Shared-memory transport without ptrace-based single copy, which containers often forbid.
export OMPI_MCA_btl_vader_single_copy_mechanism=none
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
fail=0
# 200 users over 80 items, with sequential structure to learn (one line per user).
for ((u = 1; u <= 200; u++)); do
  line="$u"
  for ((k = 0; k < 6 + u % 15; k++)); do line+=" $(( (u * 7 + k * (1 + u % 4)) % 80 + 1 ))"; done
  echo "$line"
done > "$work/data.txt"
strip() { sed -E 's/"train_seconds":[0-9.e+-]+,//; s/"saved":"[^"]*"/"saved":_/'; }
cases=(
  "--recipe sasrec"
  "--recipe sasrec-ce --batch 48"
  "--recipe mqsa-ted --batch 40"
  "--recipe rpesa-cad --batch 40"
  "--recipe stosa --batch 50"
  "--recipe sasrec --refine simple --batch 64"
  "--recipe sasrec-ce --loss sampled-ce --negatives 20 --lazy-adam 1 --batch 48"
)
for flags in "${cases[@]}"; do
  # shellcheck disable=SC2086
  want=$("$bin" train --data "$work/data.txt" --epochs 2 --threads 1 --quiet $flags 2>&1 | strip)
  for np in 2 3; do
    # shellcheck disable=SC2086
    got=$("$mpiexec" --oversubscribe -np "$np" "$bin" train --data "$work/data.txt" --epochs 2 --threads 1 --quiet $flags 2>"$work/err" | strip)
    if [[ "$got" == "$want" && -n "$want" && $(wc -l <<<"$got") -eq 1 ]]; then
      echo "ok   - $flags, $np processes"
    else
      echo "FAIL - $flags, $np processes"; echo "  want $want"; echo "  got  $got"; cat "$work/err"; fail=1
    fi
  done
done

# Saving from rank 0, then sharded evaluation of the saved model.
"$mpiexec" --oversubscribe -np 2 "$bin" train --data "$work/data.txt" --epochs 1 --threads 1 --quiet --save "$work/m" \
  > "$work/train.json" 2>"$work/err" || { echo "FAIL - train --save under mpirun"; cat "$work/err"; fail=1; }
if [[ -f "$work/m/config.json" && -s "$work/data.txt" ]]; then
  want=$("$bin" eval --load "$work/m" --data "$work/data.txt" --threads 1 2>/dev/null)
  got=$("$mpiexec" --oversubscribe -np 3 "$bin" eval --load "$work/m" --data "$work/data.txt" --threads 1 2>"$work/err")
  if [[ -n "$want" && "$got" == "$want" ]]; then echo "ok   - eval sharded over 3 processes"; else
    echo "FAIL - eval sharded over 3 processes"; echo "  want $want"; echo "  got  $got"; cat "$work/err"; fail=1; fi
else
  echo "FAIL - no saved model"; fail=1
fi

# A command that does not run data-parallel is refused, not run twice.
if "$mpiexec" --oversubscribe -np 2 "$bin" info --load "$work/m" > "$work/out" 2>&1; then
  echo "FAIL - info under mpirun should be refused"; fail=1
elif grep -q "only train and eval run under mpirun" "$work/out"; then
  echo "ok   - other commands refused under mpirun"
else
  echo "FAIL - unexpected refusal"; cat "$work/out"; fail=1
fi
exit $fail
