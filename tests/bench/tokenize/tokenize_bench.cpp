// Tokenizer throughput: MB/s of hf_bpe on a corpus, single-thread and multi-thread, and optionally
// the ids (one line per document) for comparison with the references.
//
//   tokenize_bench --model <dir with tokenizer.json> --corpus <file> [--threads N] [--repeat R]
//                  [--dump <ids.txt>] [--reference <ids.txt>] [--roundtrip]
//
// --reference compares the ids with a reference (one line per document, as reference_encode.mjs
// and hf_reference.py write) and --roundtrip checks decode(encode(x)) == x, where x has invalid UTF-8
// repaired and is normalized as the tokenizer does (NFC for Qwen); a difference makes the exit
// status non-zero.
//
// Each measurement is the best of R passes over the whole corpus (the first pass also fills the
// merge cache, as it does in HF tokenizers' own runs).
#include "corpus_file.hpp"
#include "hf_tokenizer.hpp"
#include "utf8.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::vector<std::vector<int32_t>> encode_all(const hf_bpe::HfTokenizer& tok, const std::vector<std::string>& docs,
                                             int threads) {
  std::vector<std::vector<int32_t>> out(docs.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < docs.size(); i = next++) out[i] = tok.encode(docs[i], false);
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string model, corpus, dump, reference;
  bool roundtrip = false;
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  int repeat = 3;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "tokenize_bench: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--model") model = value();
    else if (a == "--corpus") corpus = value();
    else if (a == "--threads") threads = std::stoi(value());
    else if (a == "--repeat") repeat = std::stoi(value());
    else if (a == "--dump") dump = value();
    else if (a == "--reference") reference = value();
    else if (a == "--roundtrip") roundtrip = true;
    else {
      std::fprintf(stderr, "tokenize_bench: unknown argument '%s'\n", a.c_str());
      return 2;
    }
  }
  if (model.empty() || corpus.empty()) {
    std::fprintf(stderr, "usage: tokenize_bench --model DIR --corpus FILE [--threads N] [--repeat R] [--dump FILE]\n");
    return 2;
  }
  try {
    double t0 = now();
    hf_bpe::HfTokenizer tok(hf_bpe::TokenizerFiles::from_config("{\"model_dir\": \"" + model + "\"}"));
    double load = now() - t0;
    auto docs = msw_tokenize_corpus::read_corpus(corpus);
    size_t bytes = 0;
    for (const auto& d : docs) bytes += d.size();

    std::vector<std::vector<int32_t>> ids;
    double single = 1e30, multi = 1e30;
    for (int r = 0; r < repeat; ++r) {
      t0 = now();
      ids = encode_all(tok, docs, 1);
      single = std::min(single, now() - t0);
    }
    for (int r = 0; r < repeat; ++r) {
      t0 = now();
      auto m = encode_all(tok, docs, threads);
      multi = std::min(multi, now() - t0);
      if (m != ids) {
        std::fprintf(stderr, "tokenize_bench: multi-thread ids differ from single-thread ids\n");
        return 1;
      }
    }
    size_t tokens = 0;
    for (const auto& v : ids) tokens += v.size();
    std::printf("model=%s corpus=%s docs=%zu MB=%.2f tokens=%zu load_s=%.2f\n", model.c_str(), corpus.c_str(),
                docs.size(), bytes / 1e6, tokens, load);
    std::printf("hf_bpe single-thread: %.2f MB/s\n", bytes / 1e6 / single);
    std::printf("hf_bpe %d threads: %.2f MB/s\n", threads, bytes / 1e6 / multi);
    if (!dump.empty()) {
      std::ofstream out(dump);
      for (const auto& v : ids) {
        for (size_t i = 0; i < v.size(); ++i) out << (i ? " " : "") << v[i];
        out << '\n';
      }
    }
    int status = 0;
    if (!reference.empty()) {
      auto ref = msw_tokenize_corpus::read_id_lines(reference);
      size_t bad = 0;
      for (size_t i = 0; i < docs.size(); ++i) {
        if (i < ref.size() && ref[i] == ids[i]) continue;
        if (bad++ < 3) {
          size_t k = 0;
          while (i < ref.size() && k < ids[i].size() && k < ref[i].size() && ids[i][k] == ref[i][k]) ++k;
          std::printf("  document %zu differs at token %zu\n", i, k);
        }
      }
      std::printf("reference %s: %zu of %zu documents differ\n", reference.c_str(), bad, docs.size());
      if (bad || ref.size() < docs.size()) status = 1;
    }
    if (roundtrip) {
      size_t bad = 0;
      for (size_t i = 0; i < docs.size(); ++i)
        if (tok.decode(ids[i].data(), ids[i].size(), false) != tok.canonical_text(docs[i])) ++bad;
      std::printf("roundtrip decode(encode(x)) == x: %zu of %zu documents differ\n", bad, docs.size());
      if (bad) status = 1;
    }
    return status;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tokenize_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
