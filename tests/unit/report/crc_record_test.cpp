// CRC32C against published vectors, TFRecord masking, framing, and the hand-written Event protobuf codec.
#include "host/report/crc32c.hpp"
#include "host/report/event_proto.hpp"
#include "host/report/tfrecord.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace megaswift::report;

TEST_CASE("crc32c matches the Castagnoli check value and the iSCSI test vectors") {
  CHECK(crc32c("123456789") == 0xE3069283u);
  CHECK(crc32c("") == 0u);
  CHECK(crc32c("a") == 0xC1D04330u);
  // RFC 3720 appendix B.4: 32 bytes of zeros, 32 of 0xFF, and 0..31 ascending.
  CHECK(crc32c(std::string(32, '\0')) == 0x8A9136AAu);
  CHECK(crc32c(std::string(32, '\xFF')) == 0x62A8AB43u);
  std::string ascending;
  for (int i = 0; i < 32; ++i) ascending.push_back(static_cast<char>(i));
  CHECK(crc32c(ascending) == 0x46DD794Eu);
}

TEST_CASE("crc32c continues across chunks as over the whole buffer") {
  const std::string s = "The quick brown fox jumps over the lazy dog";
  CHECK(crc32c(s.data() + 10, s.size() - 10, crc32c(s.data(), 10)) == crc32c(s));
}

TEST_CASE("the TFRecord mask rotates right by 15 bits and adds 0xa282ead8") {
  CHECK(mask_crc(0) == 0xa282ead8u);
  CHECK(mask_crc(0xE3069283u) == 0xC78AB0E5u);
  CHECK(mask_crc(0x00008000u) == 0xa282ead9u);  // bit 15 lands in bit 0
}

TEST_CASE("a framed record splits back into its data and offsets") {
  const std::string a = frame_record("first"), b = frame_record(std::string(300, 'x'));
  CHECK(a.size() == 16 + 5);
  CHECK(static_cast<unsigned char>(a[0]) == 5);
  const std::string file = a + b;
  const auto records = split_records(file, "mem");
  REQUIRE(records.size() == 2);
  CHECK(records[0].offset == 0);
  CHECK(records[0].data == "first");
  CHECK(records[1].offset == a.size());
  CHECK(records[1].data == std::string(300, 'x'));
}

TEST_CASE("a scalar Event encodes as protobuf does and decodes back") {
  const std::string bytes = encode_scalar_event(1.5, 300, "train/loss", 2.25f);
  // wall_time (tag 0x09, double 1.5), step (0x10, varint 300 = ac 02), summary (0x2a) > value (0x0a) > tag (0x0a),
  // simple_value (0x15, float 2.25).
  const std::string expected =
      std::string("\x09\x00\x00\x00\x00\x00\x00\xf8\x3f\x10\xac\x02\x2a\x13\x0a\x11\x0a\x0a", 18) + "train/loss" +
      std::string("\x15\x00\x00\x10\x40", 5);
  CHECK(bytes == expected);
  const DecodedEvent e = decode_event(bytes);
  CHECK(e.wall_time == 1.5);
  CHECK(e.step == 300);
  CHECK_FALSE(e.file_version.has_value());
  REQUIRE(e.simple_values.size() == 1);
  CHECK(e.simple_values[0].first == "train/loss");
  CHECK(e.simple_values[0].second == 2.25f);
}

TEST_CASE("Event encoding leaves out a zero step, keeps a zero value, and round-trips a negative step") {
  const DecodedEvent zero = decode_event(encode_scalar_event(2.0, 0, "lr", 0.0f));
  CHECK(zero.step == 0);
  REQUIRE(zero.simple_values.size() == 1);
  CHECK(zero.simple_values[0].second == 0.0f);
  CHECK(encode_scalar_event(2.0, 0, "lr", 0.0f).find('\x10') == std::string::npos);
  CHECK(decode_event(encode_scalar_event(2.0, -7, "lr", 1.0f)).step == -7);
  const DecodedEvent v = decode_event(encode_file_version_event(3.0, "brain.Event:2"));
  CHECK(v.file_version == "brain.Event:2");
  CHECK(v.simple_values.empty());
}

TEST_CASE("Event decoding skips unknown fields and values without simple_value") {
  // Event.source_metadata-like field 10 (length-delimited), a fixed32 field 11, a varint field 12; a Summary.Value
  // carrying only a tag and a metadata message (field 9), as new-style tensor summaries do.
  std::string value_without_scalar = std::string("\x0a\x03", 2) + "img" + std::string("\x4a\x00", 2);
  std::string summary = std::string("\x0a", 1) + static_cast<char>(value_without_scalar.size()) + value_without_scalar;
  std::string bytes =
      std::string("\x52\x02zz\x5d\x01\x02\x03\x04\x60\x05", 11) + "\x2a" + static_cast<char>(summary.size()) + summary;
  const DecodedEvent e = decode_event(bytes);
  CHECK(e.simple_values.empty());
  CHECK_THROWS_WITH_AS(decode_event(std::string("\x2a\x05\x0a", 3)), doctest::Contains("past the end"),
                       std::invalid_argument);
}
