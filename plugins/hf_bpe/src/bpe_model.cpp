#include "bpe_model.hpp"

#include "byte_level.hpp"
#include "utf8.hpp"

#include <cstdio>
#include <algorithm>

namespace hf_bpe {

void BpeModel::PairMap::reserve(size_t n) {
  size_t cap = 16;
  while (cap < n * 2) cap <<= 1;
  keys_.assign(cap, ~uint64_t(0));
  values_.assign(cap, Merge{0, -1});
  mask_ = cap - 1;
}

static inline size_t mix(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdull;
  k ^= k >> 33;
  return static_cast<size_t>(k);
}

void BpeModel::PairMap::insert(int32_t a, int32_t b, Merge m) {
  uint64_t k = key(a, b);
  for (size_t i = mix(k) & mask_;; i = (i + 1) & mask_) {
    if (keys_[i] == k || keys_[i] == ~uint64_t(0)) {
      keys_[i] = k;
      values_[i] = m;  // a repeated pair keeps its last rank, as HF's HashMap insert does
      return;
    }
  }
}

const BpeModel::Merge* BpeModel::PairMap::find(int32_t a, int32_t b) const {
  uint64_t k = key(a, b);
  for (size_t i = mix(k) & mask_;; i = (i + 1) & mask_) {
    if (keys_[i] == k) return &values_[i];
    if (keys_[i] == ~uint64_t(0)) return nullptr;
  }
}

BpeModel::BpeModel(const Field& model, bool byte_level) : byte_level_(byte_level) {
  std::string type = model.str_or("type", "BPE");
  if (type != "BPE") model["type"].fail("unsupported model type '" + type + "' (hf_bpe reads BPE models only)");
  if (auto d = model.get("dropout")) {
    if (!d->json().is_number() || d->json().get<double>() != 0.0)
      d->fail("BPE dropout is a training-time option and is not supported; set it to null");
  }
  ignore_merges_ = model.bool_or("ignore_merges", false);
  byte_fallback_ = model.bool_or("byte_fallback", false);
  fuse_unk_ = model.bool_or("fuse_unk", false);
  prefix_ = model.str_or("continuing_subword_prefix", "");
  suffix_ = model.str_or("end_of_word_suffix", "");

  Field vocab = model["vocab"];
  if (!vocab.json().is_object()) vocab.fail("expected an object mapping token strings to ids");
  // An empty vocabulary encodes every text to nothing (or only to added tokens): a damaged file, not a tokenizer.
  if (vocab.json().empty()) vocab.fail("the vocabulary is empty; copy the model's tokenizer.json again");
  vocab_.reserve(vocab.json().size());
  int64_t max_id = -1;
  for (auto it = vocab.json().begin(); it != vocab.json().end(); ++it) {
    if (!it.value().is_number_integer() || it.value().get<int64_t>() < 0 || it.value().get<int64_t>() > INT32_MAX)
      Field(it.value(), vocab.file(), vocab.path() + "." + it.key()).fail("expected a non-negative integer id");
    // The id table below has max id + 1 slots: one stray huge id would allocate tens of gigabytes.
    if (it.value().get<int64_t>() >= kMaxTokenId)
      Field(it.value(), vocab.file(), vocab.path() + "." + it.key())
          .fail("id " + std::to_string(it.value().get<int64_t>()) + " is not below " + std::to_string(kMaxTokenId) +
                " (no vocabulary is that large; the file looks damaged)");
    int64_t id = it.value().get<int64_t>();
    vocab_[it.key()] = static_cast<int32_t>(id);
    max_id = std::max(max_id, id);
  }
  id_to_token_.assign(static_cast<size_t>(max_id + 1), std::string());
  has_id_.assign(static_cast<size_t>(max_id + 1), 0);
  for (const auto& [token, id] : vocab_) {
    id_to_token_[id] = token;
    has_id_[id] = 1;
  }
  if (byte_level_) {
    vocab_internal_.reserve(vocab_.size());
    for (const auto& [token, id] : vocab_)
      if (auto bytes = byte_level::to_bytes(token)) vocab_internal_.emplace(std::move(*bytes), id);
  } else {
    vocab_internal_ = vocab_;
  }
  for (int b = 0; b < 256; ++b) {
    byte_ids_[b] = lookup_internal(std::string(1, static_cast<char>(b)));
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    auto it = vocab_.find(name);
    fallback_ids_[b] = it == vocab_.end() ? -1 : it->second;
  }
  if (auto unk = model.get("unk_token")) {
    auto it = vocab_.find(unk->str());
    if (it == vocab_.end()) unk->fail("the unk_token '" + unk->str() + "' is not in model.vocab");
    unk_id_ = it->second;
  }

  Field merges = model["merges"];
  size_t n = merges.size();
  merges_.reserve(n);
  for (size_t rank = 0; rank < n; ++rank) {
    const Json& m = merges.json()[rank];
    std::string a, b;
    if (m.is_string()) {
      const std::string& s = m.get_ref<const std::string&>();
      size_t space = s.find(' ');
      if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos)
        merges.at(rank).fail("expected \"left right\" with exactly one space, got \"" + s + "\"");
      a = s.substr(0, space);
      b = s.substr(space + 1);
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      a = m[0].get<std::string>();
      b = m[1].get<std::string>();
    } else {
      merges.at(rank).fail("expected \"left right\" or [\"left\", \"right\"]");
    }
    auto ia = vocab_.find(a), ib = vocab_.find(b);
    if (ia == vocab_.end()) merges.at(rank).fail("token '" + a + "' is not in model.vocab");
    if (ib == vocab_.end()) merges.at(rank).fail("token '" + b + "' is not in model.vocab");
    std::string merged = a + b.substr(std::min(prefix_.size(), b.size()));
    auto im = vocab_.find(merged);
    if (im == vocab_.end()) merges.at(rank).fail("the merged token '" + merged + "' is not in model.vocab");
    merges_.insert(ia->second, ib->second, Merge{static_cast<uint32_t>(rank), im->second});
  }
}

int32_t BpeModel::lookup_internal(std::string_view s) const {
  auto it = vocab_internal_.find(s);
  return it == vocab_internal_.end() ? -1 : it->second;
}

int32_t BpeModel::token_to_id(std::string_view token) const {
  auto it = vocab_.find(token);
  return it == vocab_.end() ? -1 : it->second;
}

const std::string* BpeModel::id_to_token(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= id_to_token_.size() || !has_id_[id]) return nullptr;
  return &id_to_token_[id];
}

void BpeModel::initial_symbols(std::string_view w, std::vector<Symbol>& symbols) const {
  symbols.clear();
  auto add = [&](int32_t id, size_t len) {
    int32_t index = static_cast<int32_t>(symbols.size());
    symbols.push_back(Symbol{id, index - 1, index + 1, static_cast<uint32_t>(len)});
  };
  if (byte_level_ && prefix_.empty() && suffix_.empty()) {
    bool complete = true;
    for (unsigned char c : w) complete &= byte_ids_[c] >= 0;
    if (complete) {
      for (unsigned char c : w) add(byte_ids_[c], 1);
      if (!symbols.empty()) symbols.back().next = -1;
      return;
    }
  }
  // General path, HF's merge_word: one unit per byte (byte-level) or per character.
  int32_t pending_unk = -1;
  size_t pending_unk_len = 0;
  size_t i = 0;
  std::string s;
  while (i < w.size()) {
    size_t end = byte_level_ ? i + 1 : i;
    if (!byte_level_) utf8::next(w, end);
    bool first = i == 0, last = end >= w.size();
    s.clear();
    if (!first) s += prefix_;
    s.append(w.substr(i, end - i));
    if (last) s += suffix_;
    int32_t id = lookup_internal(s);
    if (id >= 0) {
      if (pending_unk >= 0) {
        add(pending_unk, pending_unk_len);
        pending_unk = -1;
      }
      add(id, end - i);
    } else {
      bool done = false;
      if (byte_fallback_) {
        bool all = true;
        for (unsigned char c : s) all &= fallback_ids_[c] >= 0;
        if (all) {
          // HF flushes no pending unk here; a fused unk stays pending across the fallback bytes.
          for (unsigned char c : s) add(fallback_ids_[c], 1);
          done = true;
        }
      }
      if (!done && unk_id_ >= 0) {
        if (pending_unk >= 0 && fuse_unk_) {
          pending_unk_len += end - i;
        } else {
          if (pending_unk >= 0) add(pending_unk, pending_unk_len);
          pending_unk = unk_id_;
          pending_unk_len = end - i;
        }
      }
    }
    i = end;
  }
  if (pending_unk >= 0) add(pending_unk, pending_unk_len);
  if (!symbols.empty()) symbols.back().next = -1;
}

void BpeModel::merge_all(std::vector<Symbol>& symbols) const {
  struct Entry {
    uint32_t rank;
    int32_t pos;
    int32_t new_id;
    bool operator<(const Entry& o) const {  // std::push_heap keeps the lowest (rank, pos) on top
      return rank != o.rank ? rank > o.rank : pos > o.pos;
    }
  };
  thread_local std::vector<Entry> heap;
  heap.clear();
  auto push = [&](Entry e) {
    heap.push_back(e);
    std::push_heap(heap.begin(), heap.end());
  };
  for (size_t i = 0; i + 1 < symbols.size(); ++i) {
    if (const Merge* m = merges_.find(symbols[i].id, symbols[i + 1].id))
      push(Entry{m->rank, static_cast<int32_t>(i), m->new_id});
  }
  const int32_t n = static_cast<int32_t>(symbols.size());
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end());
    Entry top = heap.back();
    heap.pop_back();
    Symbol& cur = symbols[top.pos];
    if (cur.len == 0 || cur.next == -1) continue;
    int32_t next_pos = cur.next;
    Symbol right = symbols[next_pos];
    // An expired entry: the pair at this position changed since it was queued.
    const Merge* m = merges_.find(cur.id, right.id);
    if (!m || m->new_id != top.new_id) continue;
    cur.id = top.new_id;
    cur.len += right.len;
    cur.next = right.next;
    symbols[next_pos].len = 0;
    if (right.next > -1 && right.next < n) symbols[right.next].prev = top.pos;
    if (cur.prev >= 0) {
      if (const Merge* pm = merges_.find(symbols[cur.prev].id, cur.id))
        push(Entry{pm->rank, cur.prev, pm->new_id});
    }
    if (cur.next >= 0 && cur.next < n) {
      if (const Merge* nm = merges_.find(cur.id, symbols[cur.next].id))
        push(Entry{nm->rank, top.pos, nm->new_id});
    }
  }
}

void BpeModel::tokenize(std::string_view piece, std::vector<int32_t>& out) const {
  if (piece.empty()) return;
  if (ignore_merges_) {
    int32_t id = lookup_internal(piece);
    if (id >= 0) {
      out.push_back(id);
      return;
    }
  }
  size_t h = MergeCache::hash(piece);
  if (cache_.lookup(piece, h, out)) return;
  thread_local std::vector<Symbol> symbols;
  initial_symbols(piece, symbols);
  merge_all(symbols);
  size_t first = out.size();
  for (const Symbol& s : symbols)
    if (s.len != 0) out.push_back(s.id);
  cache_.insert(piece, h, out.data() + first, out.size() - first);
}

}  // namespace hf_bpe
