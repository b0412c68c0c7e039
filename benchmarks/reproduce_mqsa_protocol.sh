#!/usr/bin/env bash
# MQSA-TED's protocol (docs/REPRODUCTION.md): every recipe trained to early stopping on validation
# NDCG@20 (patience 20, at most 300 epochs), tested at its best epoch, on each dataset and seed.
#   benchmarks/reproduce_mqsa_protocol.sh SEQREC_BIN DATA_DIR OUT_DIR
# Environment (optional): DATASETS="Beauty Sports_and_Outdoors Toys_and_Games", SEEDS="1 2 3",
# RECIPES="sasrec-ce mqsa mqsa-ted rpesa rpesa-cad", THREADS=2.
# Runs are resumable: a finished run (OUT_DIR/D-R-S.json) is skipped, a stopped one continues from
# its checkpoint (seqrec train --resume), so the script can be killed and started again.
set -euo pipefail
source "$(dirname "$0")/resumable_train.sh"
if [ $# -ne 3 ]; then
    echo "usage: $0 SEQREC_BIN DATA_DIR OUT_DIR" >&2
    exit 2
fi
bin=$1
data=$2
out=$3
mkdir -p "$out"
for d in ${DATASETS:-Beauty}; do
    if [ ! -f "$data/$d.txt" ]; then
        echo "skip $d: $data/$d.txt not found" >&2
        continue
    fi
    for s in ${SEEDS:-1}; do
        for r in ${RECIPES:-sasrec-ce mqsa mqsa-ted rpesa rpesa-cad}; do
            resumable_train "$bin" "$out/$d-$r-$s" "$data/$d.txt" --recipe "$r" --seed "$s" \
                --epochs 300 --patience 20 --threads "${THREADS:-2}"
        done
    done
done
