// The torch.save zip container: 64-byte aligned stored records, validation of what we read.
#include "zip.hpp"

#include "test_paths.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

using namespace torchfmt;
namespace fs = std::filesystem;

namespace {

fs::path tmp(const std::string& name) {
  fs::path d = fs::temp_directory_path() / "msw_torch_formats_zip";
  fs::create_directories(d);
  return d / name;
}

std::string make_zip(const std::vector<std::pair<std::string, std::string>>& recs, const std::string& prefix = "",
                     bool zip64 = false) {
  const fs::path p = tmp("z.zip");
  {
    OutFile f(p.string());
    f.write(prefix);
    ZipWriter z(f, zip64);
    for (const auto& [n, d] : recs) z.add(n, d);
    z.finish();
    f.close(false);
  }
  MappedFile m(p.string());
  return std::string(reinterpret_cast<const char*>(m.data()), m.size());
}

std::string error_of(const std::string& bytes) {
  try {
    ZipReader r(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "t.zip");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

size_t find(const std::string& s, const char* sig) { return s.find(std::string(sig, 4)); }

}  // namespace

TEST_CASE("zip: records are stored, 64-byte aligned, and read back with their CRC") {
  const std::string z = make_zip({{"a/data.pkl", "hello"}, {"a/data/0", std::string(1000, 'x')}, {"a/version", "3\n"}});
  ZipReader r(reinterpret_cast<const uint8_t*>(z.data()), z.size(), "t.zip");
  REQUIRE(r.records().size() == 3);
  for (const ZipRecord& rec : r.records()) {
    CHECK(rec.data_offset % 64 == 0);
    r.verify_crc(rec);
  }
  CHECK(r.data(*r.find("a/data.pkl")) == "hello");
  CHECK(r.data(*r.find("a/data/0")) == std::string(1000, 'x'));
  CHECK(r.find("missing") == nullptr);
}

TEST_CASE("zip: an archive inside a larger file is read relative to its own start") {
  const std::string z = make_zip({{"x/a", "abc"}}, std::string(100, '#'));
  ZipReader r(reinterpret_cast<const uint8_t*>(z.data()) + 100, z.size() - 100, "inner");
  CHECK(r.data(r.records()[0]) == "abc");
  CHECK(r.records()[0].data_offset % 64 == 0);
}

TEST_CASE("zip: Python's zipfile reads what we write (when python3 is present)") {
  const std::string z = make_zip({{"m/data.pkl", "hello"}, {"m/version", "3\n"}});
  const fs::path p = tmp("py.zip");
  {
    OutFile f(p.string());
    f.write(z);
    f.close(false);
  }
  const std::string cmd = "python3 -c \"import zipfile,sys; z=zipfile.ZipFile(sys.argv[1]); "
                          "assert z.testzip() is None; assert z.read('m/data.pkl')==b'hello'\" " + p.string();
  if (std::system("python3 -c 'import zipfile' >/dev/null 2>&1") != 0) {
    MESSAGE("python3 is absent: skipping the zipfile cross-check");
    return;
  }
  CHECK(std::system(cmd.c_str()) == 0);
}

TEST_CASE("zip: malformed archives are refused with the field that is wrong") {
  const std::string good = make_zip({{"a/data.pkl", "hello"}, {"a/version", "3\n"}});
  CHECK(error_of(good).empty());
  CHECK(error_of(good.substr(0, good.size() - 5)).find("end-of-central-directory") != std::string::npos);
  CHECK(error_of("short").find("smaller than") != std::string::npos);

  std::string bad_cd = good;  // central directory signature broken
  bad_cd[find(good, "PK\x01\x02")] = 'X';
  CHECK(error_of(bad_cd).find("bad signature") != std::string::npos);

  std::string cd_out = good;  // central directory offset beyond the file
  const size_t eocd = find(good, "PK\x05\x06");
  cd_out[eocd + 16] = '\xf0';
  cd_out[eocd + 17] = '\xff';
  CHECK(error_of(cd_out).find("outside the archive") != std::string::npos);

  std::string deflated = good;  // method 8 in the central directory
  deflated[find(good, "PK\x01\x02") + 10] = 8;
  const std::string e = error_of(deflated);
  CHECK(e.find("compression method 8 (deflate)") != std::string::npos);

  std::string bad_local = good;  // local header signature broken
  bad_local[0] = 'Q';
  CHECK(error_of(bad_local).find("local header") != std::string::npos);

  std::string big = good;  // record size larger than the space before the central directory
  const size_t c = find(good, "PK\x01\x02");
  big[c + 20] = big[c + 24] = '\x00';
  big[c + 22] = big[c + 26] = '\x01';
  CHECK(error_of(big).find("runs into the central directory") != std::string::npos);

  std::string crc = good;  // CRC mismatch
  ZipReader ok(reinterpret_cast<const uint8_t*>(good.data()), good.size(), "t.zip");
  crc[ok.records()[0].data_offset] = 'J';
  ZipReader r(reinterpret_cast<const uint8_t*>(crc.data()), crc.size(), "t.zip");
  CHECK_THROWS_WITH_AS(r.verify_crc(r.records()[0]), doctest::Contains("CRC-32"), Error);
}

TEST_CASE("zip: CRC-32 matches the standard check value and is incremental") {
  const std::string s = "123456789";
  CHECK(crc32_of(s.data(), s.size()) == 0xCBF43926u);
  CHECK(crc32_of(s.data() + 4, 5, crc32_of(s.data(), 4)) == 0xCBF43926u);
  std::string big(1000, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7);
  uint32_t bytewise = 0;
  for (char c : big) bytewise = crc32_of(&c, 1, bytewise);
  CHECK(crc32_of(big.data(), big.size()) == bytewise);
  CHECK(crc32_of(nullptr, 0) == 0u);
}

TEST_CASE("zip: ZIP64 extra fields and end records are written and read (and Python's zipfile agrees)") {
  const std::string z = make_zip({{"m/data.pkl", "hello"}, {"m/data/0", std::string(300, 'q')}, {"m/version", "3\n"}}, "", true);
  CHECK(z.find(std::string("PK\x06\x06", 4)) != std::string::npos);
  CHECK(z.find(std::string("PK\x06\x07", 4)) != std::string::npos);
  ZipReader r(reinterpret_cast<const uint8_t*>(z.data()), z.size(), "z64");
  REQUIRE(r.records().size() == 3);
  CHECK(r.data(*r.find("m/data/0")) == std::string(300, 'q'));
  for (const ZipRecord& rec : r.records()) {
    CHECK(rec.data_offset % 64 == 0);
    r.verify_crc(rec);
  }
  if (std::system("python3 -c 'import zipfile' >/dev/null 2>&1") != 0) {
    MESSAGE("python3 is absent: skipping the zipfile cross-check");
    return;
  }
  const fs::path p = tmp("py64.zip");
  {
    OutFile f(p.string());
    f.write(z);
    f.close(false);
  }
  CHECK(std::system(("python3 -c \"import zipfile,sys; z=zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; "
                     "assert z.read('m/data/0')==b'q'*300\" " + p.string()).c_str()) == 0);
  // A ZIP64 locator pointing outside the archive is refused.
  std::string bad = z;
  const size_t loc = bad.find(std::string("PK\x06\x07", 4));
  bad[loc + 8] = '\xff';
  bad[loc + 12] = '\x7f';
  CHECK(error_of(bad).find("ZIP64 end record offset") != std::string::npos);
}
