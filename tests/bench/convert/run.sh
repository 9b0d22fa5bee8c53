#!/usr/bin/env bash
# Conversion benchmark (issue 8): HF -> torch_dist -> HF of a synthetic Qwen2.5-1.5B-shaped model in bf16, beside
# `cp` of the same bytes on the same disk, with each command's wall time and peak resident memory.
#
#   tests/bench/convert/run.sh BUILD_DIR WORK_DIR [FORMAT]
#
# BUILD_DIR holds bin/swift (a Release build or an install prefix); WORK_DIR is a scratch folder on the disk to
# measure (about 13 GB free needed). FORMAT is the --ckpt_format of the Megatron side (default torch_dist). The page
# cache is dropped before each timed command when this runs as root, so every run reads from the disk.
set -euo pipefail
build=$(cd "$1" && pwd)
work=$2
format=${3:-torch_dist}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work"
hf=$work/qwen2.5-1.5b-synthetic

[ -f "$hf/config.json" ] || /usr/bin/python3 "$here/make_synthetic_hf.py" "$hf"
bytes=$(du -sb --apparent-size "$hf" | cut -f1)

drop_caches() {
  sync
  if [ "$(id -u)" -eq 0 ]; then echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true; fi
}

# Runs a command under /usr/bin/time; prints "<seconds> <peak RSS kB>".
timed() {
  local log
  log=$(mktemp)
  drop_caches
  /usr/bin/time -f "%e %M" -o "$log" "$@" >"$log.out" 2>&1 || { cat "$log.out"; rm -f "$log" "$log.out"; return 1; }
  tail -1 "$log"
  rm -f "$log" "$log.out"
}

report() {  # name seconds rss_kb
  awk -v n="$1" -v s="$2" -v r="$3" -v b="$bytes" \
    'BEGIN { printf "%-34s %7.2f s  %7.0f MB/s  peak RSS %6.0f MB\n", n, s, b / s / 1e6, r / 1024 }'
}

rm -rf "$work/cp-copy" "$work/mcore" "$work/hf-back"
read -r cp_s cp_rss < <(timed cp -r "$hf" "$work/cp-copy")
read -r tm_s tm_rss < <(timed "$build/bin/swift" export --model "$hf" --to_mcore true --torch_dtype bfloat16 \
                              --ckpt_format "$format" --output_dir "$work/mcore")
read -r th_s th_rss < <(timed "$build/bin/swift" export --mcore_model "$work/mcore" --to_hf true \
                              --output_dir "$work/hf-back")

echo "model: $(basename "$hf"), $(awk -v b="$bytes" 'BEGIN { printf "%.2f GB", b / 1e9 }') of bf16 safetensors"
echo "disk: $(df -h "$work" | tail -1 | awk '{print $1}'), $(nproc) cores, $(date -u +%Y-%m-%d)"
report "cp -r (baseline)" "$cp_s" "$cp_rss"
report "swift export --to_mcore ($format)" "$tm_s" "$tm_rss"
report "swift export --to_hf" "$th_s" "$th_rss"

# The round trip is exact: every HF tensor comes back with the same bytes.
/usr/bin/python3 - "$hf" "$work/hf-back" <<'PY'
import json, struct, sys, os
def tensors(d):
    idx = os.path.join(d, "model.safetensors.index.json")
    files = sorted(set(json.load(open(idx))["weight_map"].values())) if os.path.exists(idx) else ["model.safetensors"]
    out = {}
    for f in files:
        with open(os.path.join(d, f), "rb") as fh:
            n = struct.unpack("<Q", fh.read(8))[0]
            header = json.loads(fh.read(n))
            base = 8 + n
            for k, v in header.items():
                if k == "__metadata__": continue
                out[k] = (os.path.join(d, f), base + v["data_offsets"][0], v["data_offsets"][1] - v["data_offsets"][0], v["dtype"], v["shape"])
    return out
a, b = tensors(sys.argv[1]), tensors(sys.argv[2])
assert set(a) == set(b), sorted(set(a) ^ set(b))[:5]
for k in a:
    fa, oa, na, da, sa = a[k]; fb, ob, nb, db, sb = b[k]
    assert (na, da, sa) == (nb, db, sb), k
    with open(fa, "rb") as x, open(fb, "rb") as y:
        x.seek(oa); y.seek(ob)
        while na:
            step = min(na, 1 << 26)
            assert x.read(step) == y.read(step), k
            na -= step
print(f"round trip: {len(a)} tensors bit-exact")
PY
