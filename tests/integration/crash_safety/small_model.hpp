// The crash-safety run's model and scratch folder: a Qwen2 model with the real Qwen tokenizer (its 151936-row
// vocabulary), made as small as the architecture allows so that a save (weights and both Adam moments, about
// 30 MB) and a step take tens of milliseconds and dozens of kills fit in a CI minute.
#pragma once

#include <filesystem>

namespace crash_test {

// This process's scratch folder, removed at exit.
std::filesystem::path scratch();
// tests/fixtures/training/make_tiny_qwen2.py with hidden size 16 (made once per process).
std::filesystem::path small_model();

}  // namespace crash_test
