#!/usr/bin/env bash
# CPU decode speed of `swift infer` (greedy, KV cache) on an HF model directory, measured the way
# tests/bench/baselines/hf_generate_cpu.py measures transformers' generate on the same model and CPU:
#   - decode tokens/s at batch 1 and 8: prompts of about 32 tokens, a run with 1 new token (the prefill) and one
#     with 129; decode tokens/s = batch x 128 / (t129 - t1);
#   - the per-token cost as the context grows: one prompt of about C tokens (C = 128, 512, 1024, 2048), runs with 1
#     and 33 new tokens; ms per token = (t33 - t1) / 32.
# The times are swift infer's own "tokens generated in X s" (generation only, not the model load).
#
#   run.sh <install prefix or build dir with bin/swift> <HF model dir with tokenizer> [json out]
#
# DEVICE (default cpu) is passed as --device: DEVICE=cuda measures the same on the GPU. BATCHES (default "1 8")
# lists the batch sizes of the decode tokens/s runs, CONTEXTS (default "128 512 1024 2048") the context lengths.
set -euo pipefail
prefix=$1 model=$2 out=${3:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# <rows> <words>: a jsonl of `rows` questions of `words` words each (one token per word with the Qwen tokenizer).
prompts() {
  /usr/bin/env python3 - "$1" "$2" > "$work/prompts.jsonl" <<'PY'
import json, sys
rows, words = int(sys.argv[1]), int(sys.argv[2])
vocab = ["apple", "river", "stone", "cloud", "green", "light", "paper", "music"]
for r in range(rows):
    text = " ".join(vocab[(r + i) % len(vocab)] for i in range(words))
    print(json.dumps({"messages": [{"role": "user", "content": text}]}))
PY
}
# <batch> <new tokens>: seconds swift infer spent generating.
timed() {
  "$prefix/bin/swift" infer --model "$model" --device "${DEVICE:-cpu}" --val_dataset "$work/prompts.jsonl" --max_batch_size "$1" \
    --max_new_tokens "$2" --temperature 0 --result_path "$work/r.jsonl" > "$work/log.txt" 2>&1 || { cat "$work/log.txt"; exit 1; }
  rm -f "$work/r.jsonl"
  grep "tokens generated in" "$work/log.txt" | sed -E 's/.* generated in ([0-9.]+) s.*/\1/'
}
declare -A batch_tps context_ms
for b in ${BATCHES:-1 8}; do
  prompts "$b" 32
  t1=$(timed "$b" 1); tn=$(timed "$b" 129)
  batch_tps[$b]=$(python3 -c "print(round($b * 128 / ($tn - $t1), 2))")
  echo "batch $b: prefill ${t1}s, decode ${batch_tps[$b]} tokens/s"
done
for c in ${CONTEXTS:-128 512 1024 2048}; do
  prompts 1 "$c"
  t1=$(timed 1 1); tn=$(timed 1 33)
  context_ms[$c]=$(python3 -c "print(round(($tn - $t1) / 32 * 1000, 2))")
  echo "context $c: ${context_ms[$c]} ms per token"
done
if [[ -n "$out" ]]; then
  context_json=$(for c in "${!context_ms[@]}"; do printf '"%s": %s, ' "$c" "${context_ms[$c]}"; done)
  batch_json=$(for b in "${!batch_tps[@]}"; do printf '"%s": {"decode_tok_s": %s}, ' "$b" "${batch_tps[$b]}"; done)
  python3 - "$out" <<PY
import json, sys
json.dump({"batch": {${batch_json%, }},
           "per_token_ms_by_context": {${context_json%, }}}, open(sys.argv[1], "w"), indent=1)
PY
fi
