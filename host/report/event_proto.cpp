#include "host/report/event_proto.hpp"

#include <bit>
#include <stdexcept>

namespace megaswift::report {

namespace {

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void put_key(std::string& out, uint32_t field, WireType type) { put_varint(out, (field << 3) | type); }

void put_fixed(std::string& out, uint64_t bits, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((bits >> (8 * i)) & 0xFF));
}

void put_bytes(std::string& out, uint32_t field, std::string_view bytes) {
  put_key(out, field, kLengthDelimited);
  put_varint(out, bytes.size());
  out.append(bytes);
}

// Fields 1 and 2 of Event; proto3 leaves out a zero wall_time or step.
void put_event_header(std::string& out, double wall_time, int64_t step) {
  if (std::bit_cast<uint64_t>(wall_time) != 0) {
    put_key(out, 1, kFixed64);
    put_fixed(out, std::bit_cast<uint64_t>(wall_time), 8);
  }
  if (step != 0) {
    put_key(out, 2, kVarint);
    put_varint(out, static_cast<uint64_t>(step));  // negative int64s are ten-byte varints, as protobuf writes them
  }
}

// Reads one protobuf message's fields in order.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}
  bool done() const { return pos_ == bytes_.size(); }

  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= bytes_.size()) throw std::invalid_argument("varint runs past the end of the message");
      const auto b = static_cast<unsigned char>(bytes_[pos_++]);
      v |= static_cast<uint64_t>(b & 0x7F) << shift;
      if (!(b & 0x80)) return v;
    }
    throw std::invalid_argument("varint longer than ten bytes");
  }
  uint64_t fixed(int bytes) {
    need(bytes);
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(bytes_[pos_ + i])) << (8 * i);
    pos_ += bytes;
    return v;
  }
  std::string_view length_delimited() {
    const uint64_t n = varint();
    need(n);
    std::string_view s = bytes_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  void skip(uint32_t type) {
    switch (type) {
      case kVarint:
        varint();
        return;
      case kFixed64:
        fixed(8);
        return;
      case kLengthDelimited:
        length_delimited();
        return;
      case kFixed32:
        fixed(4);
        return;
      default:
        throw std::invalid_argument("unsupported wire type " + std::to_string(type));
    }
  }

 private:
  void need(uint64_t n) const {
    if (n > bytes_.size() - pos_) throw std::invalid_argument("field runs past the end of the message");
  }
  std::string_view bytes_;
  std::size_t pos_ = 0;
};

void expect(uint32_t type, WireType want, const char* field) {
  if (type != want) throw std::invalid_argument(std::string(field) + " has wire type " + std::to_string(type));
}

void decode_value(std::string_view bytes, DecodedEvent& event) {
  Reader r(bytes);
  std::string tag;
  std::optional<float> value;
  while (!r.done()) {
    const uint64_t key = r.varint();
    const auto field = key >> 3;
    const auto type = static_cast<uint32_t>(key & 7);
    if (field == 1) {
      expect(type, kLengthDelimited, "Summary.Value.tag");
      tag = r.length_delimited();
    } else if (field == 2) {
      expect(type, kFixed32, "Summary.Value.simple_value");
      value = std::bit_cast<float>(static_cast<uint32_t>(r.fixed(4)));
    } else {
      r.skip(type);
    }
  }
  if (value) event.simple_values.emplace_back(std::move(tag), *value);
}

void decode_summary(std::string_view bytes, DecodedEvent& event) {
  Reader r(bytes);
  while (!r.done()) {
    const uint64_t key = r.varint();
    const auto type = static_cast<uint32_t>(key & 7);
    if ((key >> 3) == 1) {
      expect(type, kLengthDelimited, "Summary.value");
      decode_value(r.length_delimited(), event);
    } else {
      r.skip(type);
    }
  }
}

}  // namespace

std::string encode_file_version_event(double wall_time, std::string_view file_version) {
  std::string out;
  put_event_header(out, wall_time, 0);
  put_bytes(out, 3, file_version);
  return out;
}

std::string encode_scalar_event(double wall_time, int64_t step, std::string_view tag, float value) {
  std::string value_msg;
  put_bytes(value_msg, 1, tag);
  // simple_value sits in a oneof, so protobuf writes it even when it is zero.
  put_key(value_msg, 2, kFixed32);
  put_fixed(value_msg, std::bit_cast<uint32_t>(value), 4);
  std::string summary;
  put_bytes(summary, 1, value_msg);
  std::string out;
  put_event_header(out, wall_time, step);
  put_bytes(out, 5, summary);
  return out;
}

DecodedEvent decode_event(std::string_view bytes) {
  DecodedEvent event;
  Reader r(bytes);
  while (!r.done()) {
    const uint64_t key = r.varint();
    const auto type = static_cast<uint32_t>(key & 7);
    switch (key >> 3) {
      case 1:
        expect(type, kFixed64, "Event.wall_time");
        event.wall_time = std::bit_cast<double>(r.fixed(8));
        break;
      case 2:
        expect(type, kVarint, "Event.step");
        event.step = static_cast<int64_t>(r.varint());
        break;
      case 3:
        expect(type, kLengthDelimited, "Event.file_version");
        event.file_version = std::string(r.length_delimited());
        break;
      case 5:
        expect(type, kLengthDelimited, "Event.summary");
        decode_summary(r.length_delimited(), event);
        break;
      default:
        r.skip(type);
    }
  }
  return event;
}

}  // namespace megaswift::report
