#!/usr/bin/env bash
# The seqrec CLI contract: train -> save -> eval -> recommend, and bad input exits non-zero with
# a one-line message naming file and line (never a crash, never a half-written model).
set -u
bin=${SEQREC_BIN:?set SEQREC_BIN to the seqrec program}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
ok() { echo "ok   - $1"; }
bad() { echo "FAIL - $1"; fail=1; }

# expect_error NAME PATTERN CMD...: exit status 1 or 2, stderr matches PATTERN, no core dump.
expect_error() {
  local name=$1 pattern=$2; shift 2
  "$@" >"$tmp/out" 2>"$tmp/err"; local rc=$?
  if [[ $rc -ne 1 && $rc -ne 2 ]]; then bad "$name: exit status $rc"; cat "$tmp/err"; return; fi
  if ! grep -q -- "$pattern" "$tmp/err"; then bad "$name: stderr lacks '$pattern'"; cat "$tmp/err"; return; fi
  ok "$name"
}

printf '1 10 11 12 13 14 15\n2 11 12 13 14\n3 10 12 14 15 16\n4 13 14 15 16 10\n' > "$tmp/good.txt"
"$bin" train --data "$tmp/good.txt" --epochs 2 --maxlen 5 --dim 8 --save "$tmp/model" --quiet >"$tmp/train.json" 2>"$tmp/err" \
  && grep -q '"test":{"HR@1"' "$tmp/train.json" && grep -q '"NDCG@10"' "$tmp/train.json" \
  && [[ -f "$tmp/model/config.json" ]] && ls "$tmp/model"/weights-*.bin >/dev/null && ok "train + save" || { bad "train + save"; cat "$tmp/err"; }
"$bin" eval --load "$tmp/model" --data "$tmp/good.txt" >"$tmp/eval.json" 2>"$tmp/err" \
  && grep -q '"test":{"HR@1"' "$tmp/eval.json" && ok "eval" || { bad "eval"; cat "$tmp/err"; }
"$bin" recommend --load "$tmp/model" --history "10 11 12" --k 3 >"$tmp/rec.json" 2>"$tmp/err" \
  && grep -q '^\[{"item":1[3-6],"score":' "$tmp/rec.json" && ok "recommend" || { bad "recommend"; cat "$tmp/rec.json" "$tmp/err"; }
printf '10 11\n12\n' > "$tmp/requests.txt"
[[ $("$bin" recommend --load "$tmp/model" --requests "$tmp/requests.txt" --k 2 2>/dev/null | wc -l) -eq 2 ]] \
  && ok "recommend --requests" || bad "recommend --requests"

"$bin" train --data "$tmp/good.txt" --epochs 2 --maxlen 5 --dim 8 --log "$tmp/run.jsonl" --quiet >/dev/null 2>"$tmp/err" \
  && [[ $(wc -l <"$tmp/run.jsonl") -eq 2 ]] && grep -q '^{"epoch":1,"loss":[0-9.e-]*,"grad_norm":[0-9.e-]*,' "$tmp/run.jsonl" \
  && grep -q '"epoch":2,.*"valid":{"HR@1"' "$tmp/run.jsonl" && ok "train --log" || { bad "train --log"; cat "$tmp/err" "$tmp/run.jsonl"; }
"$bin" plot "$tmp/run.jsonl" "$tmp/run.jsonl" --labels "a,b" --metric NDCG@10 --out "$tmp/chart.svg" 2>"$tmp/err" \
  && head -c 5 "$tmp/chart.svg" | grep -q '<?xml' && grep -q 'data-label="b"' "$tmp/chart.svg" && ok "plot" || { bad "plot"; cat "$tmp/err"; }
expect_error "plot: metric not in the log" "run.jsonl: no validated epoch has \"NDCG@7\"" "$bin" plot "$tmp/run.jsonl" --metric NDCG@7
expect_error "--log to a missing directory fails before training" "no/such/run.jsonl" "$bin" train --epochs 50 --log "$tmp/no/such/run.jsonl"
for m in "stosa --refine stochastic" "mqsa --distill ted" "rpesa --distill cad" "sasrec --refine additive"; do
  "$bin" train --data "$tmp/good.txt" --model $m --epochs 1 --maxlen 5 --dim 8 --heads 2 --save "$tmp/m2" --quiet >"$tmp/t.json" 2>"$tmp/err" \
    && "$bin" recommend --load "$tmp/m2" --history "10 11" --k 2 >"$tmp/r.json" 2>>"$tmp/err" && grep -q '"item"' "$tmp/r.json" \
    && "$bin" eval --load "$tmp/m2" --data "$tmp/good.txt" >"$tmp/e.json" 2>>"$tmp/err" && grep -q '"NDCG@10"' "$tmp/e.json" \
    && "$bin" attention --load "$tmp/m2" --history "10 11 12 13" --out "$tmp/att.svg" 2>>"$tmp/err" \
    && grep -q '<g class="heatmap" data-title="[a-z0-9, ]*layer 1, head 1: A"' "$tmp/att.svg" \
    && { [[ "$m" != *refine* ]] || grep -q 'head 1: refined R' "$tmp/att.svg"; } \
    && ok "train/recommend/eval/attention --model $m" || { bad "--model $m"; cat "$tmp/err"; }
done
expect_error "M4 needs STOSA" "needs a STOSA host" "$bin" train --refine stochastic --epochs 1
expect_error "bad --refine-init" "refine-init must be host or identity" "$bin" train --refine simple --refine-init idnetity --epochs 1

# Exit codes: usage and config errors 2, data / IO / model errors 1.
expect_status() {
  local name=$1 want=$2; shift 2
  "$@" >/dev/null 2>"$tmp/err"; local rc=$?
  [[ $rc -eq $want ]] && ok "$name exits $want" || { bad "$name: exit status $rc, want $want"; cat "$tmp/err"; }
}
printf '{"train": {"bogus_key": 1}}' > "$tmp/badkey.json"; printf '{"epochs": ' > "$tmp/broken2.json"
printf '1 10 11\n2 x 12\n' > "$tmp/nonnum2.txt"
expect_status "heads not dividing dim" 2 "$bin" train --heads 3 --epochs 1
expect_status "unknown config key" 2 "$bin" train --config "$tmp/badkey.json"
expect_status "malformed JSON config" 2 "$bin" train --config "$tmp/broken2.json"
printf '{"config": {"dim": -5}}' > "$tmp/baddim.json"
expect_error "a config value is checked even when a flag replaces it" "baddim.json: /config: dim must be >= 1, got -5" "$bin" train --config "$tmp/baddim.json" --dim 8 --epochs 1
printf '{"config": {"variant": "mqsa"}}' > "$tmp/badvariant.json"
expect_error "config variant against its fields" 'badvariant.json: /config/variant is "mqsa" but the other fields describe "sasrec"' "$bin" train --config "$tmp/badvariant.json" --epochs 1
expect_status "malformed data" 1 "$bin" train --data "$tmp/nonnum2.txt" --epochs 1
expect_status "missing model" 1 "$bin" eval --load "$tmp/nomodel" --data "$tmp/good.txt"
printf '1 10 \x01\xff\x02\n' > "$tmp/binary.txt"
expect_error "binary input is quoted printably" "item id '\\\\x01\\\\xff\\\\x02' is not an integer" "$bin" train --data "$tmp/binary.txt" --epochs 1
printf '1 10 11 12\n2 11 12 13\n1 14 15\n' > "$tmp/dupuser.txt"
expect_error "duplicate user line" "dupuser.txt:3: user 1 already has a line (line 1)" "$bin" train --data "$tmp/dupuser.txt" --epochs 1
"$bin" train --data "$tmp/dupuser.txt" --merge-duplicate-users --epochs 1 --maxlen 5 --dim 8 --quiet >/dev/null 2>"$tmp/err" \
  && ok "--merge-duplicate-users" || { bad "--merge-duplicate-users"; cat "$tmp/err"; }
printf '1 10\n2 11\n3 12 13\n' > "$tmp/short.txt"
expect_error "no evaluable user" "short.txt: no user has 3 or more interactions" "$bin" train --data "$tmp/short.txt" --epochs 1
printf '1 10 11\n2 x 12\n' > "$tmp/nonnum.txt"
expect_error "non-numeric id" "nonnum.txt:2: item id 'x' is not an integer" "$bin" train --data "$tmp/nonnum.txt" --epochs 1
printf '1 10 0\n' > "$tmp/zero.txt"
expect_error "id 0" "zero.txt:1: item id 0 must be positive" "$bin" train --data "$tmp/zero.txt" --epochs 1
printf '1 10\n-2 5\n' > "$tmp/neg.txt"
expect_error "negative id" "neg.txt:2: user id -2 must be positive" "$bin" train --data "$tmp/neg.txt" --format pairs --epochs 1
: > "$tmp/empty.txt"
expect_error "empty file" "empty.txt:0: no interactions" "$bin" train --data "$tmp/empty.txt" --epochs 1
expect_error "missing file" "cannot open" "$bin" train --data "$tmp/nope.txt"
if [ -e /dev/zero ]; then  # no newline ever: refused at the line limit, not read until killed
  expect_error "endless input" "/dev/zero:1: the line is longer than" "$bin" train --data /dev/zero --epochs 1
fi
expect_error "a directory as data" "is a directory" "$bin" train --data "$tmp" --epochs 1
expect_error "bad number" "\-\-epochs = 'ten' is not an integer" "$bin" train --epochs ten
expect_error "heads must divide dim" "heads = 3 must divide dim = 50" "$bin" train --heads 3 --epochs 1
expect_error "unknown flag, nearest named" "unknown flag --epoch; did you mean --epochs?" "$bin" train --epoch 3
expect_error "unknown flag, nothing near" "unknown flag --frobnicate (.seqrec train --help. lists its flags)" "$bin" train --frobnicate 1
expect_error "unknown last flag" "unknown flag --quiett; did you mean --quiet?" "$bin" train --quiett
expect_error "unknown command, nearest named" "unknown command .trian.; did you mean .train.?" "$bin" trian
for c in train eval recommend info attention plot convert; do
  "$bin" $c --help >"$tmp/help" 2>"$tmp/err" && grep -q "seqrec $c" "$tmp/help" && ok "$c --help" || bad "$c --help: exit status or text"
done
"$bin" train --help | grep -q -- "--epochs" && ! "$bin" recommend --help | grep -q -- "--epochs" && ok "a command's help is its own" || bad "a command's help is its own"
expect_error "unknown command" "unknown command" "$bin" fly
expect_error "bad loss" "loss must be bce, ce, sampled-ce or bpr" "$bin" train --loss mse --epochs 1
expect_error "CE on STOSA" "STOSA trains with BPR" "$bin" train --recipe stosa --loss ce --epochs 1
expect_error "no negatives" "negatives must be >= 1, got 0" "$bin" train --loss sampled-ce --negatives 0 --epochs 1
expect_error "bad sampler" "sampler must be uniform or popularity" "$bin" train --loss sampled-ce --sampler zipf --epochs 1
expect_error "TED needs MQSA" "distill ted is MQSA" "$bin" train --recipe rpesa --distill ted --epochs 1
expect_error "flag of another kind" "pvn is not an option of model kind 'sasrec'" "$bin" train --pvn 0.1 --epochs 1
expect_error "unknown recipe" "unknown recipe 'sasrek' (known: sasrec, sasrec-ce" "$bin" train --recipe sasrek
expect_error "bad metric" "metric 'NDCG@7' is not one of" "$bin" train --metric NDCG@7 --epochs 1
printf '{"train": {"epochs": 1}, "config": {"dimm": 8}}' > "$tmp/cfg.json"
expect_error "unknown config key" 'cfg.json: /config: unknown key "dimm"' "$bin" train --config "$tmp/cfg.json"
printf '{"train": {"epochs": "1"}}' > "$tmp/cfg2.json"
expect_error "config type" 'cfg2.json: /train/epochs must be an integer, got a string' "$bin" train --config "$tmp/cfg2.json"
printf '{"epochs": 1}' > "$tmp/cfg3.json"
expect_error "flat config" 'cfg3.json: unknown key "epochs"' "$bin" train --config "$tmp/cfg3.json"
# A saved model's config.json is a run config: training again from it gives the same run.
"$bin" train --config "$tmp/model/config.json" --data "$tmp/good.txt" --quiet >"$tmp/again.json" 2>"$tmp/err" \
  && [[ "$(grep -o '"test":{[^}]*}' "$tmp/again.json")" == "$(grep -o '"test":{[^}]*}' "$tmp/train.json")" ]] \
  && ok "saved config.json trains the same run" || { bad "saved config.json as --config"; cat "$tmp/err" "$tmp/again.json" "$tmp/train.json"; }
printf '{"epochs": ' > "$tmp/broken.json"
expect_error "broken config" "broken.json: not valid JSON" "$bin" train --config "$tmp/broken.json"
expect_error "load missing model" "config.json: cannot open" "$bin" recommend --load "$tmp/nomodel" --history "1"
cp -r "$tmp/model" "$tmp/model2"; w=$(cd "$tmp/model2" && ls weights-*.bin); head -c 100 "$tmp/model/$w" > "$tmp/model2/$w"
expect_error "truncated weights" "$w: the file has 100 bytes, config.json lists" "$bin" eval --load "$tmp/model2" --data "$tmp/good.txt"
expect_error "unwritable --save fails before training" "good.txt/model: cannot create directory" \
  "$bin" train --data "$tmp/good.txt" --epochs 100000 --save "$tmp/good.txt/model"
expect_error "bad history" "--history: item id 'abc' is not an integer" "$bin" recommend --load "$tmp/model" --history "10 abc"
expect_error "empty candidate list" "--candidates is empty: leave it out to rank every item" "$bin" recommend --load "$tmp/model" --history "10 11" --candidates ""

# Resume: 2 epochs, then --resume to 4, gives the weights of 4 epochs in one go (bitwise: the
# weights file's checksum).
small=(--data "$tmp/good.txt" --maxlen 5 --dim 8 --patience 0 --quiet)
"$bin" train "${small[@]}" --epochs 4 --save "$tmp/straight" >"$tmp/s.json" 2>"$tmp/err" \
  && "$bin" train "${small[@]}" --epochs 2 --save "$tmp/part" >/dev/null 2>>"$tmp/err" \
  && "$bin" train --resume "$tmp/part" --data "$tmp/good.txt" --epochs 4 --quiet >"$tmp/r.json" 2>>"$tmp/err" \
  && [[ "$(grep -o '"fnv1a64": "[0-9]*"' "$tmp/straight/config.json" | head -1)" == \
        "$(grep -o '"fnv1a64": "[0-9]*"' "$tmp/part/config.json" | head -1)" ]] \
  && [[ "$(grep -o '"test":{[^}]*}' "$tmp/s.json")" == "$(grep -o '"test":{[^}]*}' "$tmp/r.json")" ]] \
  && ok "stop after 2 epochs, --resume to 4: the straight run's weights" \
  || { bad "resume differs from a straight run"; cat "$tmp/err" "$tmp/s.json" "$tmp/r.json"; }
expect_error "resume with other settings" "cannot be given (only --epochs" "$bin" train --resume "$tmp/part" --data "$tmp/good.txt" --lr 0.1
printf '1 10 11 12 13\n' > "$tmp/other.txt"
expect_error "resume on other data" "was trained on other data" "$bin" train --resume "$tmp/part" --data "$tmp/other.txt"
"$bin" train "${small[@]}" --epochs 0 --save "$tmp/untrained" >/dev/null 2>&1
expect_error "resume without a state" "holds no training state" "$bin" train --resume "$tmp/untrained" --data "$tmp/good.txt"

# Timestamped logs: MovieLens ratings.dat layout, sorted by time (file order on ties), k-core.
printf '1::10::5::300\n1::11::3::100\n2::10::4::50\n1::12::4::100\n2::11::1::60\n3::13::2::1\n2::12::5::70\n' > "$tmp/ratings.dat"
"$bin" convert --data "$tmp/ratings.dat" --k-core 2 --out "$tmp/ml.txt" 2>"$tmp/err" \
  && [[ "$(cat "$tmp/ml.txt")" == $'1 11 12 10\n2 10 11 12' ]] \
  && ok "convert ratings.dat with a 2-core" || { bad "convert"; cat "$tmp/err" "$tmp/ml.txt"; }
printf 'rating,timestamp,item_id,user_id\n5,3,10,1\n4,1,11,1\n3,2,12,1\n1,1,10,2\n2,2,11,2\n3,3,12,2\n' > "$tmp/log.csv"
"$bin" train --data "$tmp/log.csv" --epochs 1 --maxlen 5 --dim 8 --quiet >/dev/null 2>"$tmp/err" \
  && ok "train on a csv log with named columns" || { bad "csv log"; cat "$tmp/err"; }
expect_error "a missing column is named" "log.csv:1: no user column (looked for uid" "$bin" train --data "$tmp/log.csv" --user-column uid --epochs 1

# A model too large for the memory there is: a message with a hint, exit 1, not a bare
# std::bad_alloc. (Address space capped so that the failure is certain; sanitizer builds reserve
# terabytes of shadow memory and cannot run under such a cap.)
if ! ldd "$bin" 2>/dev/null | grep -q -e libasan -e libtsan; then
  (ulimit -v 3000000; "$bin" train --dim 100000 --epochs 1 >/dev/null 2>"$tmp/err"; echo $? >"$tmp/rc")
  [[ $(cat "$tmp/rc") -eq 1 ]] && grep -q "out of memory (the model or data is too large for this machine: try a smaller --dim" "$tmp/err" \
    && ok "out of memory is a message with a hint" || { bad "out of memory"; cat "$tmp/err"; }
fi

# The README's first command must work on a fresh machine where you are root and there is no
# sudo: it may use sudo only when not root.
readme="$(dirname "$0")/../../README.md"
first=$(awk '/^```sh/{f=1; next} f && /^```/{exit} f' "$readme")
if [[ "$first" == sudo* ]] || ! grep -q 'id -u' <<<"$first"; then
  bad "README's first command needs sudo even as root: $first"
else
  ok "README's first command runs as root without sudo"
fi

# A failed save must not leave a half-written model behind.
mkdir -p "$tmp/ro"; touch "$tmp/ro/weights.bin.tmp"; chmod 0555 "$tmp/ro" 2>/dev/null
if [[ $(id -u) -ne 0 ]]; then
  expect_error "unwritable model dir" "cannot open" "$bin" train --data "$tmp/good.txt" --epochs 1 --maxlen 5 --dim 8 --save "$tmp/ro" --quiet
  [[ ! -f "$tmp/ro/config.json" ]] && ok "no half-written model" || bad "half-written model left"
fi
exit $fail
