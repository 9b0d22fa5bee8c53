#include "zip.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <unordered_set>

namespace torchfmt {

namespace {

constexpr uint32_t kLocalSig = 0x04034b50, kCentralSig = 0x02014b50, kEndSig = 0x06054b50;
constexpr uint32_t kEnd64Sig = 0x06064b50, kLocator64Sig = 0x07064b50;
constexpr uint64_t kMax32 = 0xffffffffu;
constexpr size_t kAlign = 64;

uint64_t rd(const uint8_t* p, int k) {
  uint64_t v = 0;
  for (int b = 0; b < k; ++b) v |= static_cast<uint64_t>(p[b]) << (8 * b);
  return v;
}

void put(std::string& s, uint64_t v, int k) {
  for (int b = 0; b < k; ++b) s.push_back(static_cast<char>((v >> (8 * b)) & 0xff));
}

const char* method_name(uint64_t m) {
  switch (m) {
    case 8: return "deflate";
    case 9: return "deflate64";
    case 12: return "bzip2";
    case 14: return "lzma";
    case 93: return "zstd";
    default: return "unknown";
  }
}

}  // namespace

void ZipReader::fail(const std::string& msg) const { throw Error(MSW_STATUS_IO, what_ + ": malformed zip: " + msg); }

ZipReader::ZipReader(const uint8_t* base, size_t size, std::string what)
    : base_(base), size_(size), what_(std::move(what)) {
  if (size_ < 22) fail("only " + std::to_string(size_) + " bytes, smaller than an end-of-central-directory record");
  // The end record sits at the end, followed only by its comment (at most 65535 bytes).
  size_t eocd = std::numeric_limits<size_t>::max();
  const size_t lowest = size_ > 22 + 65535 ? size_ - 22 - 65535 : 0;
  for (size_t p = size_ - 22 + 1; p-- > lowest;) {
    if (rd(base_ + p, 4) == kEndSig && p + 22 + rd(base_ + p + 20, 2) == size_) {
      eocd = p;
      break;
    }
  }
  if (eocd == std::numeric_limits<size_t>::max())
    fail("no end-of-central-directory record (the file is truncated or not a zip archive)");
  uint64_t count = rd(base_ + eocd + 10, 2), cd_size = rd(base_ + eocd + 12, 4), cd_off = rd(base_ + eocd + 16, 4);
  uint64_t cd_limit = eocd;
  if (eocd >= 20 && rd(base_ + eocd - 20, 4) == kLocator64Sig) {
    const uint64_t e64 = rd(base_ + eocd - 20 + 8, 8);
    if (e64 > eocd - 20 || eocd - 20 - e64 < 56) fail("ZIP64 end record offset " + std::to_string(e64) + " out of range");
    if (rd(base_ + e64, 4) != kEnd64Sig) fail("no ZIP64 end record where its locator points");
    count = rd(base_ + e64 + 32, 8);
    cd_size = rd(base_ + e64 + 40, 8);
    cd_off = rd(base_ + e64 + 48, 8);
    cd_limit = e64;
  } else if (count == 0xffff || cd_size == kMax32 || cd_off == kMax32) {
    fail("the end record asks for ZIP64 values but there is no ZIP64 locator");
  }
  if (cd_off > cd_limit || cd_size > cd_limit - cd_off)
    fail("central directory [" + std::to_string(cd_off) + ", +" + std::to_string(cd_size) +
         ") lies outside the archive's " + std::to_string(cd_limit) + " bytes before its end records");
  // Each central entry takes at least 46 bytes, so the count is bounded by the directory size.
  if (count > cd_size / 46) fail("central directory claims " + std::to_string(count) + " entries in " +
                                 std::to_string(cd_size) + " bytes");
  std::unordered_set<std::string> names;
  std::vector<std::pair<uint64_t, uint64_t>> spans;  // local header start, data end
  size_t p = cd_off;
  const size_t cd_end = cd_off + cd_size;
  for (uint64_t e = 0; e < count; ++e) {
    if (cd_end - p < 46) fail("central directory entry " + std::to_string(e) + " is truncated");
    const uint8_t* c = base_ + p;
    if (rd(c, 4) != kCentralSig) fail("central directory entry " + std::to_string(e) + " has a bad signature");
    const uint64_t flags = rd(c + 8, 2), method = rd(c + 10, 2);
    uint64_t csize = rd(c + 20, 4), usize = rd(c + 24, 4), lho = rd(c + 42, 4);
    const uint64_t nlen = rd(c + 28, 2), xlen = rd(c + 30, 2), clen = rd(c + 32, 2);
    if (cd_end - p - 46 < nlen + xlen + clen) fail("central directory entry " + std::to_string(e) + " runs past the directory");
    ZipRecord r;
    r.name.assign(reinterpret_cast<const char*>(c + 46), nlen);
    r.crc = static_cast<uint32_t>(rd(c + 16, 4));
    // ZIP64 extra: the 0xffffffff fields, in the order uncompressed, compressed, local offset.
    for (size_t x = 0; x + 4 <= xlen;) {
      const uint8_t* f = c + 46 + nlen + x;
      const uint64_t id = rd(f, 2), flen = rd(f + 2, 2);
      if (x + 4 + flen > xlen) fail("record '" + r.name + "': extra field runs past its block");
      if (id == 1) {
        size_t q = 4;
        auto take = [&](uint64_t& v) {
          if (v != kMax32) return;
          if (q + 8 > 4 + flen) fail("record '" + r.name + "': ZIP64 extra field too short");
          v = rd(f + q, 8);
          q += 8;
        };
        take(usize);
        take(csize);
        take(lho);
      }
      x += 4 + flen;
    }
    if (flags & 1) throw Error(MSW_STATUS_UNSUPPORTED, what_ + ": record '" + r.name + "' is encrypted");
    if (method != 0)
      throw Error(MSW_STATUS_UNSUPPORTED, what_ + ": record '" + r.name + "' uses compression method " +
                                              std::to_string(method) + " (" + method_name(method) +
                                              "); torch.save archives store records uncompressed (method 0) "
                                              "and only that is implemented");
    if (csize != usize) fail("stored record '" + r.name + "' has compressed size " + std::to_string(csize) +
                             " but uncompressed size " + std::to_string(usize));
    if (!names.insert(r.name).second) fail("record '" + r.name + "' appears twice");
    // The local header must agree with the central directory.
    if (lho > cd_off || cd_off - lho < 30) fail("record '" + r.name + "': local header offset " + std::to_string(lho) + " out of range");
    const uint8_t* l = base_ + lho;
    if (rd(l, 4) != kLocalSig) fail("record '" + r.name + "': bad local header signature at " + std::to_string(lho));
    const uint64_t lnlen = rd(l + 26, 2), lxlen = rd(l + 28, 2);
    if (rd(l + 8, 2) != 0) fail("record '" + r.name + "': local header method differs from the central directory");
    if (lnlen != nlen || cd_off - lho - 30 < lnlen + lxlen || std::memcmp(l + 30, c + 46, nlen) != 0)
      fail("record '" + r.name + "': local header name differs from the central directory");
    r.data_offset = lho + 30 + lnlen + lxlen;
    r.size = usize;
    if (r.size > cd_off - r.data_offset)
      fail("record '" + r.name + "': data [" + std::to_string(r.data_offset) + ", +" + std::to_string(r.size) +
           ") runs into the central directory at " + std::to_string(cd_off));
    spans.emplace_back(lho, r.data_offset + r.size);
    records_.push_back(std::move(r));
    p += 46 + nlen + xlen + clen;
  }
  std::sort(spans.begin(), spans.end());
  for (size_t k = 1; k < spans.size(); ++k)
    if (spans[k].first < spans[k - 1].second) fail("two records overlap at byte " + std::to_string(spans[k].first));
}

const ZipRecord* ZipReader::find(std::string_view name) const {
  for (const ZipRecord& r : records_)
    if (r.name == name) return &r;
  return nullptr;
}

void ZipReader::verify_crc(const ZipRecord& r) const {
  if (crc32_of(base_ + r.data_offset, r.size) != r.crc) fail("record '" + r.name + "' fails its CRC-32 check");
}

ZipWriter::ZipWriter(OutFile& out, bool force_zip64) : out_(out), start_(out.position()), force64_(force_zip64) {}

void ZipWriter::add(std::string_view name, const void* data, size_t n) {
  const uint64_t local = out_.position() - start_;
  const bool z64 = force64_ || n >= kMax32 || local >= kMax32;
  std::string h;
  put(h, kLocalSig, 4);
  put(h, z64 ? 45 : 20, 2);
  put(h, 0x0800, 2);  // UTF-8 names
  put(h, 0, 2);       // stored
  put(h, 0, 4);       // time, date
  const uint32_t crc = crc32_of(data, n);
  put(h, crc, 4);
  put(h, z64 ? kMax32 : n, 4);
  put(h, z64 ? kMax32 : n, 4);
  put(h, name.size(), 2);
  std::string extra;
  if (z64) {
    put(extra, 1, 2);
    put(extra, 16, 2);
    put(extra, n, 8);
    put(extra, n, 8);
  }
  // Pad with an "FB" field so the data starts 64-aligned (torch's mmap-friendly layout).
  const uint64_t natural = local + 30 + name.size() + extra.size();
  if (natural % kAlign) {
    uint64_t pad = (kAlign - (natural + 4) % kAlign) % kAlign;
    put(extra, 0x4246, 2);  // 'F','B'
    put(extra, pad, 2);
    extra.append(pad, 'Z');
  }
  put(h, extra.size(), 2);
  h += name;
  h += extra;
  out_.write(h);
  out_.write(data, n);
  central_.push_back({std::string(name), crc, n, local});
}

void ZipWriter::finish() {
  const uint64_t cd_off = out_.position() - start_;
  std::string cd;
  for (const Central& c : central_) {
    const bool big_size = force64_ || c.size >= kMax32, big_off = force64_ || c.local_offset >= kMax32;
    std::string extra;
    if (big_size || big_off) {
      std::string f;
      if (big_size) {
        put(f, c.size, 8);
        put(f, c.size, 8);
      }
      if (big_off) put(f, c.local_offset, 8);
      put(extra, 1, 2);
      put(extra, f.size(), 2);
      extra += f;
    }
    const bool z64 = !extra.empty();
    put(cd, kCentralSig, 4);
    put(cd, z64 ? 45 : 20, 2);
    put(cd, z64 ? 45 : 20, 2);
    put(cd, 0x0800, 2);
    put(cd, 0, 2);
    put(cd, 0, 4);
    put(cd, c.crc, 4);
    put(cd, big_size ? kMax32 : c.size, 4);
    put(cd, big_size ? kMax32 : c.size, 4);
    put(cd, c.name.size(), 2);
    put(cd, extra.size(), 2);
    put(cd, 0, 2);  // comment
    put(cd, 0, 2);  // disk
    put(cd, 0, 2);  // internal attributes
    put(cd, 0, 4);  // external attributes
    put(cd, big_off ? kMax32 : c.local_offset, 4);
    cd += c.name;
    cd += extra;
  }
  out_.write(cd);
  const uint64_t cd_size = cd.size(), count = central_.size();
  const bool z64 = force64_ || count >= 0xffff || cd_off >= kMax32 || cd_size >= kMax32;
  std::string end;
  if (z64) {
    const uint64_t e64 = out_.position() - start_;
    put(end, kEnd64Sig, 4);
    put(end, 44, 8);
    put(end, 45, 2);
    put(end, 45, 2);
    put(end, 0, 4);
    put(end, 0, 4);
    put(end, count, 8);
    put(end, count, 8);
    put(end, cd_size, 8);
    put(end, cd_off, 8);
    put(end, kLocator64Sig, 4);
    put(end, 0, 4);
    put(end, e64, 8);
    put(end, 1, 4);
  }
  put(end, kEndSig, 4);
  put(end, 0, 4);
  put(end, z64 ? 0xffff : count, 2);
  put(end, z64 ? 0xffff : count, 2);
  put(end, z64 ? kMax32 : cd_size, 4);
  put(end, z64 ? kMax32 : cd_off, 4);
  put(end, 0, 2);
  out_.write(end);
}

}  // namespace torchfmt
