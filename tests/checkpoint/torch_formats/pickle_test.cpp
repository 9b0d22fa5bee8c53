// The restricted pickle reader and the protocol-2 writer: round trips, the opcodes Python emits for the
// shapes torch and DCP use, and a refusal (with a clear message) for everything else.
#include "common_state.hpp"
#include "pickle.hpp"
#include "region.hpp"

#include <cmath>
#include <cstring>

#include <doctest/doctest.h>

#include <string>

using namespace torchfmt;
using namespace std::string_literals;

namespace {

Pickle parse(const std::string& s) { return parse_pickle(reinterpret_cast<const uint8_t*>(s.data()), s.size(), "test.pkl"); }

std::string error_of(const std::string& s) {
  try {
    parse(s);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("pickle: JSON common state round-trips through the protocol-2 writer and the reader") {
  const Json j = Json::parse(R"({"iteration": 100, "checkpoint_version": 3.0, "big": 1099511627776,
    "neg": -5, "neg_big": -1099511627777, "i32min": -2147483648, "u16": 65535, "b": true, "n": null,
    "s": "héllo", "l": [1, 2.5, "x", [], {}], "args": {"hidden_size": 32, "lr": 0.0001, "name": "q"},
    "rng_state": null})");
  PickleWriter w;
  pickle_json(w, j, true);
  w.stop();
  const std::string bytes = w.take();
  CHECK(bytes.substr(0, 2) == std::string("\x80\x02", 2));
  Pickle p = parse(bytes);
  const PyValue* args = p.root()->get("args");
  REQUIRE(args);
  CHECK(args->is_object("argparse.Namespace"));
  CHECK(to_json(p.root(), "t") == j);
  CHECK(to_json(p.root(), "t")["checkpoint_version"].is_number_float());
  CHECK(to_json(p.root(), "t")["iteration"].is_number_integer());
}

TEST_CASE("pickle: integers take Python's shortest encodings") {
  auto enc = [](int64_t v) {
    PickleWriter w;
    w.integer(v);
    return w.take().substr(2);
  };
  CHECK(enc(7) == std::string("K\x07", 2));
  CHECK(enc(300) == std::string("M\x2c\x01", 3));
  CHECK(enc(-1) == std::string("J\xff\xff\xff\xff", 5));
  CHECK(enc(1LL << 40) == std::string("\x8a\x06\x00\x00\x00\x00\x00\x01", 8));
  CHECK(enc(-(1LL << 40)) == std::string("\x8a\x06\x00\x00\x00\x00\x00\xff", 8));
  CHECK(enc(2147483648LL) == std::string("\x8a\x05\x00\x00\x00\x80\x00", 7));
  for (int64_t v : std::initializer_list<int64_t>{0, 255, 256, 65536, -129, 1LL << 31, -(1LL << 31) - 1, INT64_MAX, INT64_MIN}) {
    PickleWriter w;
    w.integer(v);
    w.stop();
    CHECK(parse(w.take()).root()->i == v);
  }
}

TEST_CASE("pickle: protocol-4 opcodes (FRAME, SHORT_BINUNICODE, MEMOIZE, STACK_GLOBAL) as torch 2.x writes") {
  // pickle.dumps(torch.Size([2, 3]), protocol=4) shape, by hand.
  std::string s = "\x80\x04\x95\x20\x00\x00\x00\x00\x00\x00\x00"s;
  s += "\x8c\x05" "torch\x94\x8c\x04" "Size\x94\x93\x94K\x02K\x03\x86\x94\x85\x94R\x94."s;
  Pickle p = parse(s);
  CHECK(p.root()->is_object("torch.Size"));
  CHECK(as_int_vector(p.root(), "size") == std::vector<int64_t>{2, 3});
}

TEST_CASE("pickle: an unknown opcode is refused with its name and byte offset") {
  const std::string e = error_of(std::string("\x80\x02}\x8f.", 5));  // EMPTY_SET
  CHECK(e.find("0x8f") != std::string::npos);
  CHECK(e.find("EMPTY_SET") != std::string::npos);
  CHECK(e.find("byte 3") != std::string::npos);
  CHECK(error_of("\x80\x02(i__builtin__\nobject\n.").find("INST") != std::string::npos);
}

TEST_CASE("pickle: a class outside the allow-list is refused, never imported") {
  const std::string e = error_of("\x80\x02" "cos\nsystem\nX\x02\x00\x00\x00ls\x85R.");
  CHECK(e.find("'os.system'") != std::string::npos);
  CHECK(e.find("byte 2") != std::string::npos);
  CHECK(error_of("\x80\x04\x8c\x08" "builtins\x8c\x04" "eval\x93.").find("'builtins.eval'") != std::string::npos);
}

TEST_CASE("pickle: Megatron enums, BytesIO and numpy arrays in the common state are recorded, never built") {
  PickleWriter w;
  w.empty_dict();
  w.mark();
  w.str("attention_backend");
  w.global("megatron.core.transformer.enums", "AttnBackend");
  w.integer(5);
  w.tuple_n(1);
  w.reduce();
  w.str("extra");
  w.global("_io", "BytesIO");
  w.global("_codecs", "encode");
  w.str("ab");
  w.str("latin1");
  w.tuple_n(2);
  w.reduce();
  w.tuple_n(1);
  w.reduce();
  w.setitems();
  w.stop();
  Pickle p = parse(w.take());
  const Json j = to_json(p.root(), "t");
  CHECK(j["attention_backend"]["__class__"] == "megatron.core.transformer.enums.AttnBackend");
  CHECK(j["attention_backend"]["args"] == Json::array({5}));
  CHECK(j["extra"]["__class__"] == "_io.BytesIO");
  CHECK(error_of("\x80\x02" "cmegatron.core.utils\nsomething\n.").find("allow-list") != std::string::npos);
}

TEST_CASE("pickle: lengths, memo indices and stack use are checked against the input") {
  CHECK(error_of(std::string("\x80\x02X\xff\xff\xff\x7f" "abc.", 10)).find("more bytes") != std::string::npos);
  CHECK(error_of(std::string("\x80\x02\x8d\xff\xff\xff\xff\xff\xff\xff\xff.", 12)).find("more bytes") != std::string::npos);
  CHECK(error_of("\x80\x02h\x05.").find("memo entry 5") != std::string::npos);
  CHECK(error_of("\x80\x02" "a.").find("stack") != std::string::npos);
  CHECK(error_of("\x80\x02N").find("before its STOP") != std::string::npos);
  CHECK(error_of("\x80\x02NN.").find("exactly one") != std::string::npos);
  CHECK(error_of("\x80\x02" "e.").find("MARK") != std::string::npos);
  CHECK(error_of("\x80\x02" "cfoo").find("past the end") != std::string::npos);
  CHECK(error_of(std::string("\x80\x02\x8a\x09" "123456789.", 14)).find("64 bits") != std::string::npos);
  CHECK(error_of("\x80\x07N.").find("protocol 7") != std::string::npos);
  CHECK(error_of("\x80\x02NN\x85R.").find("REDUCE") != std::string::npos);
  CHECK(error_of("\x80\x02]N}b.").find("BUILD") != std::string::npos);
  CHECK(error_of("\x80\x02}Nu.").find("MARK") != std::string::npos);
  CHECK(error_of("").find("before its STOP") != std::string::npos);
}

TEST_CASE("pickle: deep nesting and cycles do not overflow the stack") {
  // 100000 nested lists: the VM is iterative; the JSON walk stops at its depth limit.
  std::string s = "\x80\x02";
  for (int k = 0; k < 100000; ++k) s += "]";
  for (int k = 0; k < 99999; ++k) s += "a";
  s += ".";
  Pickle p = parse(s);
  CHECK_THROWS_WITH_AS(to_json(p.root(), "deep"), doctest::Contains("nested deeper"), Error);
  // A list that contains itself: EMPTY_LIST, BINPUT 0, BINGET 0, APPEND.
  Pickle c = parse("\x80\x02]q\x00h\x00" "a."s);
  CHECK_THROWS_WITH_AS(to_json(c.root(), "cycle"), doctest::Contains("nested deeper"), Error);
}

TEST_CASE("float conversions: exact widening, round-to-nearest-even narrowing") {
  // Every finite half and bfloat16 survives widening to F32 and narrowing back.
  for (uint32_t h = 0; h < 65536; ++h) {
    const uint16_t x = static_cast<uint16_t>(h);
    const float f = f16_to_f32(x);
    if (!std::isnan(f)) REQUIRE(f32_to_f16(f) == x);
    const float b = bf16_to_f32(x);
    if (!std::isnan(b)) REQUIRE(f32_to_bf16(b) == x);
  }
  auto bits = [](float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
  };
  auto from = [](uint32_t u) {
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  };
  // bf16: halfway cases go to even, others to nearest.
  CHECK(f32_to_bf16(from(0x3f808000)) == 0x3f80);  // tie, even stays
  CHECK(f32_to_bf16(from(0x3f818000)) == 0x3f82);  // tie, odd rounds up
  CHECK(f32_to_bf16(from(0x3f808001)) == 0x3f81);
  CHECK(std::isnan(bf16_to_f32(f32_to_bf16(std::nanf("")))));
  // f16: 1 + 2^-11 is a tie (to 1.0), 1 + 3*2^-11 rounds to even upward, overflow to inf, subnormals.
  CHECK(f32_to_f16(1.0f + std::ldexp(1.0f, -11)) == 0x3c00);
  CHECK(f32_to_f16(1.0f + 3 * std::ldexp(1.0f, -11)) == 0x3c02);
  CHECK(f32_to_f16(65504.0f) == 0x7bff);
  CHECK(f32_to_f16(65520.0f) == 0x7c00);
  CHECK(f32_to_f16(std::ldexp(1.0f, -24)) == 0x0001);
  CHECK(f32_to_f16(std::ldexp(1.0f, -25)) == 0x0000);           // tie to even (zero)
  CHECK(f32_to_f16(std::ldexp(3.0f, -25)) == 0x0002);           // 1.5 units: tie to even (2)
  CHECK(f32_to_f16(-std::ldexp(1.0f, -14)) == 0x8400);          // smallest normal
  CHECK(bits(f16_to_f32(0x0001)) == bits(std::ldexp(1.0f, -24)));
}
