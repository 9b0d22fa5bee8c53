#!/usr/bin/env python3
"""Copies small seeds out of our fixtures into fuzz/corpus/<target>/ (the inputs make_seeds.cpp cannot write).

Run from the repository root: python3 fuzz/seeds/fixture_seeds.py [shared fixtures dir]. Seeds are cut small
(a few rows, one tensor) because libFuzzer mutates small inputs far faster, and the committed corpus stays
under 2 MB.
"""
import io
import json
import os
import struct
import sys
import tarfile

ROOT = os.getcwd()
OUT = os.path.join(ROOT, "fuzz", "corpus")
SHARED = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "..", "shared", "fixtures")


def put(target, name, data):
    os.makedirs(os.path.join(OUT, target), exist_ok=True)
    with open(os.path.join(OUT, target, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def read(*parts):
    with open(os.path.join(ROOT, *parts), "rb") as f:
        return f.read()


def small_safetensors(blob, keep):
    """The first `keep` tensors of a safetensors file (by data offset), offsets rebased, metadata kept."""
    n = struct.unpack("<Q", blob[:8])[0]
    header = json.loads(blob[8:8 + n])
    data = blob[8 + n:]
    entries = sorted((k for k in header if k != "__metadata__"), key=lambda k: header[k]["data_offsets"][0])
    out, body = {}, b""
    if "__metadata__" in header:
        out["__metadata__"] = header["__metadata__"]
    for k in entries[:keep]:
        b, e = header[k]["data_offsets"]
        out[k] = dict(header[k], data_offsets=[len(body), len(body) + e - b])
        body += data[b:e]
    text = json.dumps(out, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + body


def main():
    for model in ("qwen2", "llama3_1", "qwen3"):
        st = small_safetensors(read("tests", "fixtures", "models", model, "reference.safetensors"), 3)
        for target in ("safetensors_host", "safetensors_plugin"):
            put(target, model + ".safetensors", st)
    for model in ("qwen2", "qwen2_5_tied", "qwen3", "llama3_1", "mistral", "gemma"):
        put("hf_config", model + ".json", read("tests", "fixtures", "models", model, "config.json"))

    put("tokenizer_json", "byte_level.json", read("tests", "fixtures", "tokenizers", "byte_level", "tokenizer.json"))

    def head_lines(name, n):
        return b"".join(read("datasets", "data", name).splitlines(keepends=True)[:n])
    alpaca = head_lines("alpaca_mini_en.jsonl", 4)
    put("dataset_rows", "alpaca.jsonl", b"\x00" + alpaca)
    put("dataset_rows", "alpaca_zh.jsonl", b"\x00" + head_lines("alpaca_mini_zh.jsonl", 3))
    put("dataset_rows", "self_cognition.jsonl", b"\x00" + head_lines("self_cognition.jsonl", 3))
    put("dataset_rows", "pt_corpus.jsonl", b"\x00" + head_lines("pt_corpus.jsonl", 2))
    rows = [json.loads(line) for line in alpaca.splitlines()]
    put("dataset_rows", "alpaca_list.json", b"\x01" + json.dumps(rows, ensure_ascii=False).encode())
    columnar = {k: [r[k] for r in rows] for k in rows[0]}
    put("dataset_rows", "alpaca_columnar.json", b"\x01" + json.dumps(columnar).encode())
    put("dataset_rows", "messages.jsonl", b"\x00" + json.dumps({"messages": [
        {"role": "system", "content": "You are helpful."}, {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"}]}).encode() + b"\n")
    put("dataset_rows", "alpaca.csv",
        b'\x02instruction,input,output\n"Add 2 and 3.",,"2 + 3 = 5."\n"Quote ""this""","a,b","line\none"\n')
    put("dataset_rows", "corpus.txt", b"\x03" + b"First line of text.\n\nSecond line.\n")

    put("dcp_metadata", "dcp_torch.metadata", read("tests", "fixtures", "checkpoints", "dcp_torch", "dcp", ".metadata"))
    tgz = os.path.join(SHARED, "megatron-core", "mc-qwen2-tiny.tgz")
    if os.path.exists(tgz):
        with tarfile.open(tgz) as t:
            put("dcp_metadata", "mcore_qwen2.metadata", t.extractfile("mc-qwen2-tiny/iter_0000007/.metadata").read())

    events = read("tests", "fixtures", "report", "torch_events", "events.out.tfevents.1796249851.vm.562.0")
    put("tfrecord", "torch_events_raw", b"\x01" + events)
    records, pos = [], 0
    while pos + 12 <= len(events):
        n = struct.unpack("<Q", events[pos:pos + 8])[0]
        records.append(events[pos + 12:pos + 12 + n])
        pos += 16 + n
    put("tfrecord", "torch_events_unframed", b"\x00" + b"\n--\n".join(records))

    cli = {
        "sft_quickstart": (1, ["--load", "Qwen2.5-7B-Instruct-mcore", "--dataset", "AI-ModelScope/alpaca-gpt4-data-zh#500",
                               "swift/self-cognition#500", "--tensor_model_parallel_size", "2", "--micro_batch_size",
                               "4", "--global_batch_size", "16", "--recompute_granularity", "selective",
                               "--train_iters", "100", "--finetune", "true", "--lr", "1e-5", "--max_length", "2048",
                               "--model_author", "swift", "--model_name", "swift-robot"]),
        "pt": (0, ["--model", "Qwen/Qwen2.5-0.5B", "--dataset", "pt_corpus.jsonl", "--seq_length", "512",
                   "--bf16", "--lr-decay-style", "cosine", "--columns", '{"content": "text"}']),
        "export": (2, ["--mcore_model", "out/iter_0000100", "--to_hf", "true", "--output_dir", "hf"]),
        "infer": (3, ["--model", "Qwen2.5-0.5B", "--max_new_tokens", "64", "--temperature", "0.7",
                      "--stream=true"]),
    }
    for name, (command, words) in cli.items():
        put("cli_args", name, bytes([command]) + "\n".join(words).encode())


if __name__ == "__main__":
    main()
