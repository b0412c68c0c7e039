#!/usr/bin/env bash
# SASRec-CE on ML-1M against SASRec+ (Klenitskiy and Vasilev 2023; docs/REPRODUCTION.md): maxlen
# 200, 2 blocks, 1 head, batch 128, full-softmax CE, Adam (beta2 0.999) without weight decay, each setting of the grid trained to early
# stopping on validation NDCG@10 and tested at its best epoch. The setting to report is the one
# with the best validation NDCG@10, never the best test figure.
#   benchmarks/reproduce_sasrec_plus.sh SEQREC_BIN DATA_DIR OUT_DIR
# Environment (optional): GRID="DIM:DROPOUT:LR ..." (default: SASRec+'s own 64:0.1:0.001, then
# one change at a time), SEEDS="1", EPOCHS=100, PATIENCE=10 (SASRec+'s budget), THREADS=2.
# Resumable (resumable_train.sh): finished runs are skipped, stopped ones continue.
set -euo pipefail
source "$(dirname "$0")/resumable_train.sh"
if [ $# -ne 3 ]; then
    echo "usage: $0 SEQREC_BIN DATA_DIR OUT_DIR" >&2
    exit 2
fi
bin=$1
data=$2/ml-1m.txt
out=$3
if [ ! -f "$data" ]; then
    echo "skipped: $data not found" >&2
    exit 0
fi
mkdir -p "$out"
for s in ${SEEDS:-1}; do
    for g in ${GRID:-64:0.1:0.001 128:0.1:0.001 64:0.2:0.001 64:0.1:0.002}; do
        IFS=: read -r dim dropout lr <<< "$g"
        resumable_train "$bin" "$out/ml-1m-sasrec-ce-d$dim-p$dropout-lr$lr-$s" "$data" \
            --recipe sasrec-ce --maxlen 200 --blocks 2 --heads 1 --batch 128 --weight-decay 0 \
            --dim "$dim" --dropout "$dropout" --lr "$lr" --seed "$s" --epochs "${EPOCHS:-100}" \
            --patience "${PATIENCE:-10}" --metric NDCG@10 --threads "${THREADS:-2}"
    done
done
