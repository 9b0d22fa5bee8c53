// Protocol-2 pickle writer: the opcode shapes Python's pickle (and torch.save) emit (formats.md 1.4, 3.4).
#include "pickle.hpp"

#include <cstring>

namespace torchfmt {

namespace {
void put_le(std::string& out, uint64_t v, int k) {
  for (int b = 0; b < k; ++b) out.push_back(static_cast<char>((v >> (8 * b)) & 0xff));
}
}  // namespace

PickleWriter::PickleWriter() { out_ += "\x80\x02"; }
void PickleWriter::none() { out_ += 'N'; }
void PickleWriter::boolean(bool v) { out_ += v ? '\x88' : '\x89'; }

void PickleWriter::integer(int64_t v) {
  if (v >= 0 && v <= 0xff) {
    out_ += 'K';
    put_le(out_, static_cast<uint64_t>(v), 1);
  } else if (v >= 0 && v <= 0xffff) {
    out_ += 'M';
    put_le(out_, static_cast<uint64_t>(v), 2);
  } else if (v >= INT32_MIN && v <= INT32_MAX) {
    out_ += 'J';
    put_le(out_, static_cast<uint64_t>(static_cast<uint32_t>(static_cast<int32_t>(v))), 4);
  } else {
    // LONG1: the shortest two's-complement little-endian form, as Python's encode_long.
    const uint64_t u = static_cast<uint64_t>(v);
    int n = 8;
    while (n > 1) {
      const uint8_t top = (u >> (8 * (n - 1))) & 0xff;
      const uint8_t next_sign = (u >> (8 * (n - 2) + 7)) & 1;
      if ((top == 0x00 && !next_sign) || (top == 0xff && next_sign)) --n;
      else break;
    }
    out_ += '\x8a';
    out_ += static_cast<char>(n);
    put_le(out_, u, n);
  }
}

void PickleWriter::floating(double v) {
  out_ += 'G';
  uint64_t bits;
  std::memcpy(&bits, &v, 8);
  for (int b = 7; b >= 0; --b) out_.push_back(static_cast<char>((bits >> (8 * b)) & 0xff));  // big-endian
}

void PickleWriter::str(std::string_view v) {
  out_ += 'X';
  put_le(out_, v.size(), 4);
  out_ += v;
}

void PickleWriter::bytes(std::string_view v) {
  out_ += 'B';
  put_le(out_, v.size(), 4);
  out_ += v;
}

void PickleWriter::global(std::string_view module, std::string_view name) {
  out_ += 'c';
  out_ += module;
  out_ += '\n';
  out_ += name;
  out_ += '\n';
}

void PickleWriter::mark() { out_ += '('; }
void PickleWriter::empty_dict() { out_ += '}'; }
void PickleWriter::empty_list() { out_ += ']'; }
void PickleWriter::empty_tuple() { out_ += ')'; }
void PickleWriter::setitems() { out_ += 'u'; }
void PickleWriter::appends() { out_ += 'e'; }
void PickleWriter::tuple_from_mark() { out_ += 't'; }
void PickleWriter::tuple_n(int n) {
  if (n < 1 || n > 3) throw Error(MSW_STATUS_INTERNAL, "PickleWriter::tuple_n: n must be 1..3");
  out_ += static_cast<char>(0x84 + n);
}
void PickleWriter::reduce() { out_ += 'R'; }
void PickleWriter::newobj() { out_ += '\x81'; }
void PickleWriter::build() { out_ += 'b'; }
void PickleWriter::binpersid() { out_ += 'Q'; }
void PickleWriter::stop() { out_ += '.'; }

void PickleWriter::int_tuple(const std::vector<int64_t>& v) {
  if (v.empty()) return empty_tuple();
  if (v.size() > 3) mark();
  for (int64_t x : v) integer(x);
  if (v.size() > 3) tuple_from_mark();
  else tuple_n(static_cast<int>(v.size()));
}

}  // namespace torchfmt
