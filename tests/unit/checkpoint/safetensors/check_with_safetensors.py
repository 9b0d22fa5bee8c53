#!/usr/bin/env python3
"""Our safetensors directories through the Python `safetensors` package (with torch), and directories that package
writes for our reader. Run where safetensors and torch are installed (the GPU machine):

  check_with_safetensors.py verify DIR...   every tensor of each directory (single file or shards + index) loaded
                                            with safe_open and load_file; bytes equal to an independent stdlib parse
                                            (check_safetensors.py), "formula.*" tensors equal to their formula,
                                            metadata has format=pt. Exit 1 on any difference.
  check_with_safetensors.py write DIR       DIR/single/model.safetensors (save_file) and DIR/sharded (huggingface_hub's
                                            save_torch_state_dict when present, else save_file per shard + index),
                                            "formula.*" tensors, for python_test.cpp (MSW_ST_PACKAGE_DIR=DIR).
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_safetensors as stdlib_check  # noqa: E402

import torch  # noqa: E402
import safetensors  # noqa: E402
from safetensors import safe_open  # noqa: E402
from safetensors.torch import load_file, save_file  # noqa: E402


def formula_tensor(name, shape, dtype):
    n = 1
    for d in shape:
        n *= d
    i = torch.arange(n, dtype=torch.float64)
    v = i * 1000003 - 5 if name.endswith("i64") else torch.remainder(i, 64) * 0.25 - 3
    return v.to(dtype).reshape(shape)


def files_of(d):
    index = os.path.join(d, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index) as f:
            return sorted(set(json.load(f)["weight_map"].values()))
    return ["model.safetensors"]


def verify(dirs):
    bad = 0
    for d in dirs:
        count = 0
        for fn in files_of(d):
            path = os.path.join(d, fn)
            _, raw = stdlib_check.read_file(path)
            whole = load_file(path)
            with safe_open(path, framework="pt") as f:
                meta = f.metadata() or {}
                if meta.get("format") != "pt":
                    print("%s: metadata %s lacks format=pt" % (path, meta))
                    bad += 1
                if set(f.keys()) != set(raw):
                    print("%s: keys differ: %s vs %s" % (path, sorted(f.keys()), sorted(raw)))
                    bad += 1
                for k in f.keys():
                    t = f.get_tensor(k)
                    dt, shape, data = raw[k]
                    got = t.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b""
                    if list(t.shape) != shape or got != data or not torch.equal(whole[k], t):
                        print("%s: tensor %s differs (%s %s)" % (path, k, t.dtype, list(t.shape)))
                        bad += 1
                    if k.startswith("formula.") and not torch.equal(t, formula_tensor(k, shape, t.dtype)):
                        print("%s: tensor %s does not hold its formula" % (path, k))
                        bad += 1
                    count += 1
        print("%s: %d tensors in %d file(s) loaded by safetensors %s, torch %s" %
              (d, count, len(files_of(d)), safetensors.__version__, torch.__version__))
    print("FAILED: %d difference(s)" % bad if bad else "OK")
    return 1 if bad else 0


def write(d):
    spec = [("formula.embed.bf16", [6, 4], torch.bfloat16), ("formula.bias.f32", [5], torch.float32),
            ("formula.step.i64", [3], torch.int64), ("formula.norm.f16", [2, 3], torch.float16),
            ("formula.lm_head.f32", [40, 6], torch.float32)]
    sd = {name: formula_tensor(name, shape, dt) for name, shape, dt in spec}
    os.makedirs(os.path.join(d, "single"), exist_ok=True)
    save_file(sd, os.path.join(d, "single", "model.safetensors"), metadata={"format": "pt"})
    sharded = os.path.join(d, "sharded")
    os.makedirs(sharded, exist_ok=True)  # save_torch_state_dict lists the directory first: it must exist
    try:
        from huggingface_hub import save_torch_state_dict
        save_torch_state_dict(sd, sharded, max_shard_size=600)
        how = "huggingface_hub.save_torch_state_dict"
    except ImportError:
        names = list(sd)
        parts = [names[:3], names[3:]]
        weight_map, total = {}, 0
        for i, part in enumerate(parts):
            fn = "model-%05d-of-%05d.safetensors" % (i + 1, len(parts))
            save_file({k: sd[k] for k in part}, os.path.join(sharded, fn), metadata={"format": "pt"})
            for k in part:
                weight_map[k] = fn
                total += sd[k].numel() * sd[k].element_size()
        with open(os.path.join(sharded, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2, sort_keys=True)
        how = "safetensors.torch.save_file per shard"
    print("wrote %s with %s: %s" % (d, how, sorted(os.listdir(sharded))))
    return 0


if __name__ == "__main__":
    sys.exit(verify(sys.argv[2:]) if sys.argv[1] == "verify" else write(sys.argv[2]))
