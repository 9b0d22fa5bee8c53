// Reads the corpus format of tests/fixtures/tokenizers/make_corpus.py: per document, its byte
// length in decimal, '\n', the bytes, '\n'.
#pragma once

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace msw_tokenize_corpus {

inline std::vector<std::string> read_corpus(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open corpus '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string data = ss.str();
  std::vector<std::string> docs;
  size_t i = 0;
  while (i < data.size()) {
    size_t nl = data.find('\n', i);
    if (nl == std::string::npos) throw std::runtime_error("corpus '" + path + "': truncated length line");
    size_t len = std::stoull(data.substr(i, nl - i));
    if (nl + 1 + len > data.size()) throw std::runtime_error("corpus '" + path + "': truncated document");
    docs.push_back(data.substr(nl + 1, len));
    i = nl + 1 + len + 1;
  }
  return docs;
}

// One line of space-separated ids per document, as reference_encode.mjs writes.
inline std::vector<std::vector<int32_t>> read_id_lines(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open reference ids '" + path + "'");
  std::vector<std::vector<int32_t>> out;
  std::string line;
  while (std::getline(in, line)) {
    std::vector<int32_t> ids;
    std::istringstream ls(line);
    long long v;
    while (ls >> v) ids.push_back(static_cast<int32_t>(v));
    out.push_back(std::move(ids));
  }
  return out;
}

}  // namespace msw_tokenize_corpus
