#!/usr/bin/env python3
"""The HF reference for loss_on_text_test.cpp: the qwen2 fixture model with the byte-level tokenizer fixture, the
text of the test, and the loss HF transformers computes for it (labels = input_ids), with and without the BOS token.

Also checks that HF tokenizers reads the tokenizer fixture as we do: ids are the UTF-8 bytes, vocab 256, BOS 1, EOS 2.
Needs torch, transformers and tokenizers (run it where they are installed, on the CPU); the numbers it printed with
transformers 5.17.0, torch 2.11.0, tokenizers 0.23.2 are the constants in loss_on_text_test.cpp.

Usage: hf_loss_on_text.py   (from anywhere; finds the fixtures relative to this file)
"""
import os
import shutil
import tempfile

import tokenizers
import torch
import transformers

TEXT = "Megaswift computes the loss of a tiny model on this text: na\u00efve caf\u00e9."
HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "..", "fixtures")


def main():
    with tempfile.TemporaryDirectory() as d:
        for f in ("config.json", "model.safetensors"):
            shutil.copy(os.path.join(FIXTURES, "models", "qwen2", f), d)
        for f in ("tokenizer.json", "tokenizer_config.json"):
            shutil.copy(os.path.join(FIXTURES, "tokenizers", "byte_level", f), d)

        data = list(TEXT.encode("utf-8"))
        raw = tokenizers.Tokenizer.from_file(os.path.join(d, "tokenizer.json"))
        ids = raw.encode(TEXT, add_special_tokens=False).ids
        assert ids == data and raw.decode(ids) == TEXT and raw.get_vocab_size() == 256
        auto = transformers.AutoTokenizer.from_pretrained(d)
        assert auto(TEXT, add_special_tokens=False)["input_ids"] == data
        assert (auto.bos_token_id, auto.eos_token_id) == (1, 2)

        model = transformers.AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32, attn_implementation="eager")
        for name, row in (("without BOS", data), ("with BOS", [1] + data)):
            x = torch.tensor([row])
            with torch.no_grad():
                loss = model(input_ids=x, labels=x).loss.item()
            print(f"{name}: {len(row)} tokens, loss {loss:.9g}")
    print(f"transformers {transformers.__version__}, torch {torch.__version__}, tokenizers {tokenizers.__version__}")


if __name__ == "__main__":
    main()
