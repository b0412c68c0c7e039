# Sourced by the reproduction scripts: one training run that survives being stopped.
#   resumable_train SEQREC_BIN RUN DATA_FILE [seqrec train options for a fresh run ...]
# RUN.json finished: nothing to do. RUN/ holds a resumable checkpoint: continue it (seqrec train
# --resume). Otherwise start the run with the given options. The result is written to RUN.json.tmp
# and renamed to RUN.json only when the run ends; RUN.jsonl is the per-epoch log, RUN.err stderr.
resumable_train() {
    local bin=$1 run=$2 data=$3
    shift 3
    if [ -s "$run.json" ]; then return 0; fi
    if [ -f "$run/config.json" ] && grep -q train_state "$run/config.json"; then
        "$bin" train --resume "$run" --data "$data" --log "$run.jsonl" \
            > "$run.json.tmp" 2> "$run.err"
    else
        "$bin" train --data "$data" "$@" --save "$run" --log "$run.jsonl" \
            > "$run.json.tmp" 2> "$run.err"
    fi
    mv "$run.json.tmp" "$run.json"
}
