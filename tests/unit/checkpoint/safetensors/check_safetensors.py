#!/usr/bin/python3
"""Independent check of safetensors directories, with the standard library only (numpy when present).

  check_safetensors.py verify DIR   parse DIR (model.safetensors, or shards + model.safetensors.index.json) from
                                    the bytes up, check the layout the reference writer produces, and print JSON:
                                    {"files": [...], "metadata": {...}, "tensors": {name: {dtype, shape, file,
                                    fnv1a64}}, "formula_ok": {name: bool}, "numpy": bool}
  check_safetensors.py write DIR    write a 2-shard HF directory the way the Python safetensors package lays files
                                    out (metadata {"format": "pt"}, alignment-descending then name order, header
                                    padded with spaces to 8 bytes), for the C++ reader to load.

Tensors named "formula.*" hold value(i) = (i % 64) * 0.25 - 3 (floats) or i * 1000003 - 5 (I64) at flat index i;
verify decodes them with struct (and numpy) and reports whether every element matches.
"""
import json
import os
import struct
import sys

SIZES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1,
         "F8_E4M3": 1, "F8_E5M2": 1}
STRUCT = {"F64": "d", "F32": "f", "F16": "e", "I64": "q", "I32": "i", "I16": "h", "I8": "b", "U8": "B"}


class Bad(Exception):
    pass


def fnv1a64(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


def formula(name, i):
    return i * 1000003 - 5 if name.endswith("i64") else (i % 64) * 0.25 - 3


def decode(dtype, raw):
    if dtype == "BF16":
        return [struct.unpack("<f", struct.pack("<I", w << 16))[0] for (w,) in struct.iter_unpack("<H", raw)]
    return [v for (v,) in struct.iter_unpack("<" + STRUCT[dtype], raw)]


def read_file(path):
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        if size < 8:
            raise Bad("%s: shorter than 8 bytes" % path)
        (n,) = struct.unpack("<Q", f.read(8))
        if n > 100_000_000 or 8 + n > size:
            raise Bad("%s: header length %d invalid" % (path, n))
        text = f.read(n).decode("utf-8")
        if (8 + n) % 8:
            raise Bad("%s: data area not 8-byte aligned (header length %d)" % (path, n))
        if not text.startswith("{") or text.rstrip(" ") != text.rstrip():
            raise Bad("%s: header must be a JSON object padded with spaces" % path)
        pairs = json.loads(text, object_pairs_hook=lambda p: p)
        keys = [k for k, _ in pairs]
        if len(set(keys)) != len(keys):
            raise Bad("%s: duplicate keys" % path)
        header = dict(pairs)
        meta = dict(header.pop("__metadata__", []))
        if keys and "__metadata__" in keys and keys[0] != "__metadata__":
            raise Bad("%s: __metadata__ is not first" % path)
        if meta.get("format") != "pt":
            raise Bad("%s: __metadata__ lacks format=pt" % path)
        entries = []
        for name, info in header.items():
            info = dict(info)
            dt, shape, (b, e) = info["dtype"], info["shape"], info["data_offsets"]
            numel = 1
            for d in shape:
                numel *= d
            if e - b != numel * SIZES[dt]:
                raise Bad("%s: %s spans %d bytes, shape needs %d" % (path, name, e - b, numel * SIZES[dt]))
            entries.append((b, e, name, dt, shape))
        entries.sort()
        cursor = 0
        for b, e, name, dt, shape in entries:
            if b != cursor:
                raise Bad("%s: %s starts at %d, expected %d" % (path, name, b, cursor))
            if b % SIZES[dt]:
                raise Bad("%s: %s is not aligned to its element size" % (path, name))
            cursor = e
        if 8 + n + cursor != size:
            raise Bad("%s: data ends at %d, file has %d" % (path, 8 + n + cursor, size))
        # The reference order: alignment descending, then name (order in the header JSON == order on disk).
        order = [(-SIZES[dt], name) for b, e, name, dt, shape in entries]
        if order != sorted(order):
            raise Bad("%s: tensors are not in alignment-then-name order" % path)
        tensors = {}
        for b, e, name, dt, shape in entries:
            f.seek(8 + n + b)
            tensors[name] = (dt, shape, f.read(e - b))
        return meta, tensors


def verify(d):
    index_path = os.path.join(d, "model.safetensors.index.json")
    if os.path.exists(index_path):
        with open(index_path) as f:
            index = json.load(f)
        files = sorted(set(index["weight_map"].values()))
        n = len(files)
        if files != ["model-%05d-of-%05d.safetensors" % (i + 1, n) for i in range(n)]:
            raise Bad("shard names are not HF's: %s" % files)
    else:
        index, files = None, ["model.safetensors"]
    out = {"files": files, "metadata": {}, "tensors": {}, "formula_ok": {}}
    total = 0
    for i, fn in enumerate(files):
        meta, tensors = read_file(os.path.join(d, fn))
        if i == 0:
            out["metadata"] = meta
        for name, (dt, shape, raw) in tensors.items():
            if name in out["tensors"]:
                raise Bad("%s is in two files" % name)
            if index is not None and index["weight_map"].get(name) != fn:
                raise Bad("index puts %s in %s, found in %s" % (name, index["weight_map"].get(name), fn))
            total += len(raw)
            out["tensors"][name] = {"dtype": dt, "shape": shape, "file": fn, "fnv1a64": fnv1a64(raw)}
            if name.startswith("formula."):
                vals = decode(dt, raw)
                out["formula_ok"][name] = all(v == formula(name, k) for k, v in enumerate(vals))
    if index is not None:
        if index["metadata"]["total_size"] != total:
            raise Bad("total_size %s != %d" % (index["metadata"]["total_size"], total))
        if set(index["weight_map"]) != set(out["tensors"]):
            raise Bad("weight_map and the files disagree")
    try:
        import numpy as np
    except ImportError:
        out["numpy"] = False
    else:
        out["numpy"] = True
        for fn in files:
            _, tensors = read_file(os.path.join(d, fn))
            for name, (dt, shape, raw) in tensors.items():
                if not name.startswith("formula."):
                    continue
                if dt == "BF16":
                    arr = (np.frombuffer(raw, "<u2").astype(np.uint32) << 16).view(np.float32)
                else:
                    arr = np.frombuffer(raw, {"F32": "<f4", "F16": "<f2", "I64": "<i8", "F64": "<f8"}[dt])
                arr = arr.reshape(shape)
                i = np.arange(arr.size).reshape(shape)
                want = i * 1000003 - 5 if name.endswith("i64") else (i % 64) * 0.25 - 3
                out["formula_ok"][name] = bool(out["formula_ok"][name] and np.array_equal(arr, want))
    print(json.dumps(out, sort_keys=True))


def pack(dtype, values):
    if dtype == "BF16":
        return b"".join(struct.pack("<H", struct.unpack("<I", struct.pack("<f", v))[0] >> 16) for v in values)
    return struct.pack("<%d%s" % (len(values), STRUCT[dtype]), *values)


def write_file(path, tensors):
    tensors = sorted(tensors, key=lambda t: (-SIZES[t[1]], t[0]))
    header, data = {"__metadata__": {"format": "pt"}}, b""
    for name, dt, shape in tensors:
        numel = 1
        for d in shape:
            numel *= d
        raw = pack(dt, [formula(name, i) for i in range(numel)])
        header[name] = {"dtype": dt, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header, separators=(",", ":"))
    text += " " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text.encode() + data)
    return {name: len(data) for name, _, _ in tensors}


def write(d):
    shards = [[("formula.embed.bf16", "BF16", [6, 4]), ("formula.bias.f32", "F32", [5]), ("formula.step.i64", "I64", [3])],
              [("formula.norm.f16", "F16", [2, 3]), ("formula.lm_head.f32", "F32", [4, 6])]]
    weight_map, total = {}, 0
    for i, tensors in enumerate(shards):
        fn = "model-%05d-of-%05d.safetensors" % (i + 1, len(shards))
        write_file(os.path.join(d, fn), tensors)
        for name, dt, shape in tensors:
            weight_map[name] = fn
        total += os.path.getsize(os.path.join(d, fn))
    with open(os.path.join(d, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2, sort_keys=True)


if __name__ == "__main__":
    try:
        {"verify": verify, "write": write}[sys.argv[1]](sys.argv[2])
    except Bad as e:
        print("check_safetensors: " + str(e), file=sys.stderr)
        sys.exit(1)
