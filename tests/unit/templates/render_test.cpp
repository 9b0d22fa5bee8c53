// Rendering and loss masks of the first-party templates, checked against ms-swift's rules
// (research/user-needs.md sections 3-4). Trained text is shown in [[...]].
#include "template_plugin.hpp"

#include "host/core/host_api.hpp"
#include "host/core/status.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

using megaswift::sdk::Error;
using megaswift::sdk::RenderedTemplate;
using megaswift::test::make_template;
using megaswift::test::marked;
using megaswift::test::conv;
using megaswift::test::render;
using megaswift::test::render_error;
using nlohmann::json;

namespace {

const std::string kTwoTurns = conv({{"user", "Hi"}, {"assistant", "Hello!"}, {"user", "Bye"}, {"assistant", "See you."}});

}  // namespace

TEST_CASE("qwen2_5 renders ChatML with its default system and trains on each answer with its <|im_end|> and newline") {
  CHECK(render("qwen2_5", kTwoTurns) ==
        "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
        "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n[[Hello!<|im_end|>\n]]"
        "<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n[[See you.<|im_end|>\n]]");
}

TEST_CASE("qwen's default system is 'You are a helpful assistant.' and qwen3 has none") {
  auto one = conv({{"user", "Hi"}, {"assistant", "Hello!"}});
  CHECK(render("qwen", one) ==
        "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
        "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n[[Hello!<|im_end|>\n]]");
  CHECK(std::string(make_template("qwen")->default_system()) == "You are a helpful assistant.");
  CHECK(std::string(make_template("qwen2_5")->default_system()) ==
        "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.");
  CHECK(make_template("qwen3")->default_system() == nullptr);
  CHECK(render("qwen3", one) ==
        "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n[[Hello!<|im_end|>\n]]");
}

TEST_CASE("--system replaces the template default and a row's system prompt wins over --system") {
  auto plain = conv({{"user", "Hi"}, {"assistant", "Yo"}});
  auto with_system = conv({{"system", "Row system."}, {"user", "Hi"}, {"assistant", "Yo"}});
  const std::string flag = R"({"system": "Flag system."})";
  CHECK(render("qwen", plain, flag).starts_with("<|im_start|>system\nFlag system.<|im_end|>\n"));
  CHECK(render("qwen", with_system, flag).starts_with("<|im_start|>system\nRow system.<|im_end|>\n"));
  // The "system" key of a row counts as the row's system prompt too.
  json keyed = json::parse(plain);
  keyed["system"] = "Key system.";
  CHECK(render("qwen", keyed.dump(), flag).starts_with("<|im_start|>system\nKey system.<|im_end|>\n"));
  // --system given at create() time is the default of every render.
  auto t = make_template("qwen3", flag);
  CHECK(marked(t->render(plain)).starts_with("<|im_start|>system\nFlag system.<|im_end|>\n"));
}

TEST_CASE("an empty system prompt drops the system block") {
  CHECK(render("qwen2_5", conv({{"user", "Hi"}, {"assistant", "Yo"}}), R"({"system": ""})") ==
        "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n[[Yo<|im_end|>\n]]");
}

TEST_CASE("loss_scale last_round trains only on the final answer") {
  CHECK(render("qwen", kTwoTurns, R"({"system": "", "loss_scale": "last_round"})") ==
        "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n"
        "<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n[[See you.<|im_end|>\n]]");
}

TEST_CASE("loss_scale all trains on every token") {
  auto r = make_template("qwen")->render(kTwoTurns, R"({"loss_scale": "all"})");
  for (const auto& s : r.segments()) CHECK(s.loss_weight == 1.0f);
  CHECK(marked(r) == "[[" + r.text() + "]]");
}

TEST_CASE("a message's loss field overrides the loss_scale strategy, end-of-turn tokens included") {
  json c = json::parse(kTwoTurns);
  c["messages"][1]["loss"] = false;
  CHECK(render("qwen", c.dump(), R"({"system": ""})") ==
        "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n"
        "<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n[[See you.<|im_end|>\n]]");
  c["messages"][1]["loss"] = true;
  CHECK(render("qwen", c.dump(), R"({"system": "", "loss_scale": "last_round"})") ==
        "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n[[Hello!<|im_end|>\n]]"
        "<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n[[See you.<|im_end|>\n]]");
  c["messages"][1]["loss"] = nullptr;
  c["messages"][3]["loss"] = false;
  CHECK(render("qwen", c.dump(), R"({"system": ""})") ==
        "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n[[Hello!<|im_end|>\n]]"
        "<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\nSee you.<|im_end|>\n");
  // A number is the weight of the trained text; loss on a user message is ignored, as in ms-swift.
  c["messages"][3]["loss"] = 2.5;
  c["messages"][0]["loss"] = true;
  auto r = make_template("qwen")->render(c.dump(), R"({"system": ""})");
  bool found = false;
  for (const auto& s : r.segments()) {
    if (r.segment_text(s) == "See you.") {
      CHECK(s.loss_weight == 2.5f);
      CHECK(s.message_index == 3);
      found = true;
    }
    if (r.segment_text(s) == "Hi") CHECK(s.loss_weight == 0.0f);
  }
  CHECK(found);
}

TEST_CASE("a generation prompt ends with the assistant header; qwen3 adds the empty think block unless thinking") {
  auto q = conv({{"system", "S"}, {"user", "Hi"}, {"assistant", "Yo"}, {"user", "Again"}});
  const std::string gen = R"({"add_generation_prompt": true})";
  CHECK(make_template("qwen2_5")->render(q, gen).text() ==
        "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nYo<|im_end|>\n"
        "<|im_start|>user\nAgain<|im_end|>\n<|im_start|>assistant\n");
  CHECK(make_template("qwen3")->render(q, gen).text().ends_with(
      "<|im_start|>user\nAgain<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"));
  CHECK(make_template("qwen3")->render(q, R"({"add_generation_prompt": true, "enable_thinking": true})")
            .text()
            .ends_with("<|im_start|>assistant\n"));
  CHECK(make_template("llama3")->render(q, gen).text().ends_with(
      "<|start_header_id|>user<|end_header_id|>\n\nAgain<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"));
}

TEST_CASE("qwen3 gives answers without a think block the empty one and trains on none of it") {
  auto c = conv({{"user", "Q1"}, {"assistant", "A1"}, {"user", "Q2"}, {"assistant", "<think>\nhmm\n</think>\n\nA2"}});
  CHECK(render("qwen3", c) ==
        "<|im_start|>user\nQ1<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n[[A1<|im_end|>\n]]"
        "<|im_start|>user\nQ2<|im_end|>\n<|im_start|>assistant\n[[<think>\nhmm\n</think>\n\nA2<|im_end|>\n]]");
  // --disable_ignore_empty_think trains on the empty block too.
  CHECK(render("qwen3", c, R"({"disable_ignore_empty_think": true})")
            .starts_with("<|im_start|>user\nQ1<|im_end|>\n<|im_start|>assistant\n[[<think>\n\n</think>\n\nA1"));
  // add_non_thinking_prefix false leaves plain answers as they are.
  CHECK(render("qwen3", c, R"({"add_non_thinking_prefix": false})")
            .starts_with("<|im_start|>user\nQ1<|im_end|>\n<|im_start|>assistant\n[[A1<|im_end|>\n]]"));
}

TEST_CASE("qwen3 keeps earlier reasoning when training on every round and drops it for last_round and prompts") {
  auto c = conv({{"user", "Q1"}, {"assistant", "<think>\nold\n</think>\n\nA1"}, {"user", "Q2"}, {"assistant", "A2"}});
  CHECK(render("qwen3", c).find("<think>\nold\n</think>") != std::string::npos);
  CHECK(render("qwen3", c, R"({"loss_scale": "last_round"})") ==
        "<|im_start|>user\nQ1<|im_end|>\n<|im_start|>assistant\nA1<|im_end|>\n"
        "<|im_start|>user\nQ2<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n[[A2<|im_end|>\n]]");
  // Dropping reasoning strips whitespace as Python's str.strip() does, Unicode spaces included.
  auto prompt = conv({{"user", "Q1"}, {"assistant", "<think>\nold\n</think>\n\nA1 \u3000\u00a0"}, {"user", "Q2"}});
  CHECK(make_template("qwen3")->render(prompt, R"({"add_generation_prompt": true})").text() ==
        "<|im_start|>user\nQ1<|im_end|>\n<|im_start|>assistant\nA1<|im_end|>\n"
        "<|im_start|>user\nQ2<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n");
}

TEST_CASE("llama3 uses begin_of_text, role headers and <|eot_id|> without a newline, and has no default system") {
  CHECK(make_template("llama3")->default_system() == nullptr);
  CHECK(render("llama3", kTwoTurns) ==
        "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n[[Hello!<|eot_id|>]]"
        "<|start_header_id|>user<|end_header_id|>\n\nBye<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n[[See you.<|eot_id|>]]");
  CHECK(render("llama3", conv({{"system", "S"}, {"user", "Hi"}, {"assistant", "Yo"}})) ==
        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nS<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n[[Yo<|eot_id|>]]");
}

TEST_CASE("special tokens are SPECIAL segments and everything else is TEXT") {
  auto r = make_template("llama3")->render(conv({{"user", "Hi"}, {"assistant", "Yo"}}));
  std::vector<std::string> specials;
  for (const auto& s : r.segments())
    if (s.kind == MSW_TEMPLATE_SEGMENT_SPECIAL) specials.emplace_back(r.segment_text(s));
  CHECK(specials == std::vector<std::string>{"<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>",
                                             "<|eot_id|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"});
}

TEST_CASE("the default template is plain text with BOS first and EOS after the final answer only") {
  CHECK(std::string(make_template("default")->default_system()) == "You are a helpful assistant.");
  CHECK(render("default", kTwoTurns) ==
        "<BOS>You are a helpful assistant.\n\n### Human:\nHi\n\n### Assistant:\n[[Hello!]]\n\n"
        "### Human:\nBye\n\n### Assistant:\n[[See you.<EOS>]]");
}

TEST_CASE("the generative template is BOS, the text and EOS, and accepts {text} rows") {
  CHECK(render("generative", R"({"text": "Once upon a time."})", R"({"loss_scale": "all"})") ==
        "[[<BOS>Once upon a time.<EOS>]]");
  // A system prompt and roles play no part; multi-round rows keep the last round, as in ms-swift.
  CHECK(render("generative", conv({{"system", "S"}, {"user", "Q"}, {"assistant", "A"}}), R"({"loss_scale": "all"})") ==
        "[[<BOS>QA<EOS>]]");
  CHECK(render("generative", conv({{"user", "Q1"}, {"assistant", "A1"}, {"user", "Q2"}, {"assistant", "A2"}}),
               R"({"loss_scale": "all"})") == "[[<BOS>Q2A2<EOS>]]");
  CHECK(make_template("generative")->render(R"({"text": "x"})").segments().size() == 3);
}

TEST_CASE("consecutive user messages are joined and consecutive assistant messages keep their own loss") {
  json c = json::parse(conv({{"user", "A"}, {"user", "B"}, {"assistant", "C"}, {"assistant", "D"}}));
  c["messages"][2]["loss"] = false;
  CHECK(render("qwen", c.dump(), R"({"system": ""})") ==
        "<|im_start|>user\nAB<|im_end|>\n<|im_start|>assistant\nC[[D<|im_end|>\n]]");
}

TEST_CASE("a final answer that already ends with a stop word gets no second end-of-turn") {
  CHECK(render("qwen", conv({{"user", "Hi"}, {"assistant", "Yo<|im_end|>"}}), R"({"system": ""})") ==
        "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n[[Yo<|im_end|>]]");
  CHECK(render("generative", R"({"text": "end</s>"})", R"({"loss_scale": "all", "eos_token": "</s>"})") ==
        "[[<BOS>end</s>]]");
}

TEST_CASE("stop words and the end-of-turn token follow ms-swift's registrations") {
  CHECK(make_template("qwen2_5")->stop_words() == std::vector<std::string>{"<|endoftext|>", "<|im_end|>"});
  CHECK(std::string(make_template("qwen3")->end_of_turn()) == "<|im_end|>");
  CHECK(make_template("llama3")->stop_words() == std::vector<std::string>{"<|eot_id|>"});
  CHECK(std::string(make_template("llama3")->end_of_turn()) == "<|eot_id|>");
  CHECK(make_template("default")->stop_words().empty());
  CHECK(make_template("default")->end_of_turn() == nullptr);
  CHECK(make_template("qwen3")->model_types() == std::vector<std::string>{"qwen3", "qwen3_moe"});
  CHECK(make_template("llama3")->model_types() == std::vector<std::string>{"llama"});
  CHECK(make_template("generative")->model_types() == std::vector<std::string>{"*"});
}

TEST_CASE("segments tile the rendered text and name the message they come from") {
  auto r = make_template("qwen2_5")->render(conv({{"system", "S"}, {"user", "Q"}, {"assistant", "A"}}));
  uint64_t offset = 0;
  for (const auto& s : r.segments()) {
    CHECK(s.text_offset == offset);
    offset += s.text_size;
    std::string text(r.segment_text(s));
    if (text == "S") CHECK(s.message_index == 0);
    if (text == "Q") CHECK(s.message_index == 1);
    if (text == "A<|im_end|>\n" || text == "A") CHECK(s.message_index == 2);
    if (s.kind == MSW_TEMPLATE_SEGMENT_SPECIAL) CHECK(s.message_index == -1);
  }
  CHECK(offset == r.text().size());
}

TEST_CASE("malformed conversations are refused with a message naming the problem") {
  std::string m;
  CHECK(render_error("qwen", "{not json", "{}", &m) == MSW_STATUS_INVALID_ARGUMENT);
  CHECK(m.find("not valid JSON") != std::string::npos);
  CHECK(render_error("qwen", R"({"rows": []})", "{}", &m) == MSW_STATUS_INVALID_ARGUMENT);
  CHECK(m.find("neither \"messages\" nor \"text\"") != std::string::npos);
  CHECK(render_error("qwen", R"({"messages": []})", "{}", &m) == MSW_STATUS_INVALID_ARGUMENT);
  CHECK(m.find("no messages") != std::string::npos);
  CHECK(render_error("qwen", conv({{"user", "Q"}, {"system", "S"}, {"assistant", "A"}}), "{}", &m) ==
        MSW_STATUS_INVALID_ARGUMENT);
  CHECK(m.find("message 1: a system message may only come first") != std::string::npos);
  CHECK(render_error("qwen", conv({{"human", "Q"}, {"assistant", "A"}}), "{}", &m) == MSW_STATUS_INVALID_ARGUMENT);
  CHECK(m.find("unknown role \"human\"") != std::string::npos);
  CHECK(render_error("qwen", R"({"messages": [{"role": "user", "content": 5}]})", "{}", &m) ==
        MSW_STATUS_INVALID_ARGUMENT);
  CHECK(m.find("no string \"content\"") != std::string::npos);
  CHECK(render_error("qwen", conv({{"user", "Q"}}), "{}", &m) == MSW_STATUS_INVALID_ARGUMENT);
  CHECK(m.find("ends with a user message") != std::string::npos);
  CHECK(render_error("qwen", conv({{"user", "Q"}, {"assistant", "A"}}), R"({"add_generation_prompt": true})", &m) ==
        MSW_STATUS_INVALID_ARGUMENT);
  CHECK(render_error("llama3", conv({{"user", "Q"}, {"assistant", "A"}, {"tool", "42"}, {"assistant", "B"}}), "{}",
                     &m) == MSW_STATUS_UNSUPPORTED);
  CHECK(m.find("role \"tool_response\"") != std::string::npos);
  CHECK(render_error("qwen", R"({"messages": [{"role": "assistant", "content": "A", "loss": "yes"}]})", "{}", &m) ==
        MSW_STATUS_INVALID_ARGUMENT);
  CHECK(m.find("\"loss\"") != std::string::npos);
}

TEST_CASE("bad options are refused naming the key") {
  auto c = conv({{"user", "Q"}, {"assistant", "A"}});
  std::string m;
  CHECK(render_error("qwen", c, R"({"loss_scale": "hermes"})", &m) == MSW_STATUS_UNSUPPORTED);
  CHECK(m.find("'hermes' is not supported") != std::string::npos);
  CHECK(render_error("qwen", c, R"({"add_generation_prompt": "yes"})", &m) == MSW_STATUS_INVALID_ARGUMENT);
  CHECK(m.find("add_generation_prompt") != std::string::npos);
  CHECK(render_error("qwen", c, "[1]", &m) == MSW_STATUS_INVALID_ARGUMENT);
  CHECK_THROWS_AS(make_template("qwen", R"({"system": 3})"), Error);
  // ms-swift's modifier after a base strategy is accepted.
  CHECK(render_error("qwen", c, R"({"loss_scale": "last_round+ignore_empty_think"})") == MSW_STATUS_OK);
}

namespace {

// render() through the raw C entry: args of the caller's struct_size, records of `segment_size` bytes.
struct RawRender {
  explicit RawRender(const char* name) : vt(megaswift::test::template_vtable(name)) {
    REQUIRE(vt.create("{}", &self) == nullptr);
  }
  ~RawRender() { vt.destroy(self); }
  msw_status* operator()(const std::string& conversation, void* segments, size_t capacity, size_t segment_size,
                         char* text, size_t text_capacity, uint32_t args_size = sizeof(msw_render_args)) {
    msw_render_args a{};
    a.struct_size = args_size;
    a.conversation_json = conversation.c_str();
    a.options_json = nullptr;
    a.segments = static_cast<msw_template_segment*>(segments);
    a.segment_capacity = capacity;
    a.segment_size = segment_size;
    a.segment_count = &count;
    a.text = text;
    a.text_capacity = text_capacity;
    a.text_needed = &text_needed;
    return vt.render(self, &a);
  }
  const msw_template_vtable& vt;
  void* self = nullptr;
  size_t count = 0, text_needed = 0;
};

}  // namespace

TEST_CASE("render reports the sizes it needs (text with its NUL) and writes nothing into buffers that are too small") {
  RawRender render("qwen");
  const std::string c = conv({{"user", "Q"}, {"assistant", "A"}});
  REQUIRE(render(c, nullptr, 0, sizeof(msw_template_segment), nullptr, 0) == nullptr);
  const size_t count = render.count, needed = render.text_needed;
  CHECK(count > 0);
  CHECK(needed > 1);
  std::vector<msw_template_segment> segs(count);
  std::string text(needed - 1, '#');  // room for the text but not its NUL
  REQUIRE(render(c, segs.data(), segs.size(), sizeof(msw_template_segment), text.data(), text.size()) == nullptr);
  CHECK(render.count == count);
  CHECK(render.text_needed == needed);
  CHECK(text == std::string(needed - 1, '#'));
  CHECK(segs[0].struct_size == 0);
  text.assign(needed, '#');
  REQUIRE(render(c, segs.data(), segs.size(), sizeof(msw_template_segment), text.data(), text.size()) == nullptr);
  CHECK(text.back() == '\0');
  CHECK(text.starts_with("<|im_start|>system\nYou are a helpful assistant."));
  CHECK(segs.back().loss_weight == 1.0f);
  CHECK(segs[0].struct_size == sizeof(msw_template_segment));
}

TEST_CASE("render writes records of the caller's segment_size and zeroes what it does not know") {
  RawRender render("qwen");
  const std::string c = conv({{"user", "Q"}, {"assistant", "A"}});
  REQUIRE(render(c, nullptr, 0, sizeof(msw_template_segment), nullptr, 0) == nullptr);
  const size_t count = render.count;
  std::vector<msw_template_segment> expected(count);
  std::string text(render.text_needed, '\0');
  REQUIRE(render(c, expected.data(), count, sizeof(msw_template_segment), text.data(), text.size()) == nullptr);

  // A newer host's records, 16 bytes longer: the plugin fills its members, zeroes the rest, and walks the
  // array by the caller's size.
  struct Longer {
    msw_template_segment s;
    uint64_t future[2];
  };
  std::vector<Longer> longer(count + 1);
  std::memset(longer.data(), 0xAB, longer.size() * sizeof(Longer));
  REQUIRE(render(c, longer.data(), count, sizeof(Longer), text.data(), text.size()) == nullptr);
  for (size_t i = 0; i < count; ++i) {
    INFO("segment " << i);
    CHECK(longer[i].s.struct_size == sizeof(msw_template_segment));
    CHECK(longer[i].s.kind == expected[i].kind);
    CHECK(longer[i].s.text_offset == expected[i].text_offset);
    CHECK(longer[i].s.text_size == expected[i].text_size);
    CHECK(longer[i].s.loss_weight == expected[i].loss_weight);
    CHECK(longer[i].future[0] == 0);
    CHECK(longer[i].future[1] == 0);
  }
  CHECK(longer[count].s.struct_size == 0xABABABABu);  // past segment_capacity: untouched

  // A record size too small for the members every segment has is refused, naming both sizes.
  msw_status* s = render(c, longer.data(), count, 8, text.data(), text.size());
  REQUIRE(s != nullptr);
  CHECK(s->code == MSW_STATUS_INVALID_ARGUMENT);
  CHECK(std::string(s->message).find("segment_size 8") != std::string::npos);
  megaswift::host::status_free(s);
}

TEST_CASE("render reads its args through the caller's struct_size") {
  RawRender render("qwen");
  const std::string c = conv({{"user", "Q"}, {"assistant", "A"}});
  msw_status* s = render(c, nullptr, 0, sizeof(msw_template_segment), nullptr, 0, 16);
  REQUIRE(s != nullptr);
  CHECK(s->code == MSW_STATUS_INVALID_ARGUMENT);
  CHECK(std::string(s->message).find("args has struct_size 16") != std::string::npos);
  megaswift::host::status_free(s);
}

namespace {

// A fake template plugin whose render writes one TEXT segment with the struct_size and extent the test sets,
// to pin down how the host-side reader (TemplateHandle) treats what a plugin wrote.
uint32_t g_fake_struct_size = sizeof(msw_template_segment);
uint64_t g_fake_text_size = 2;
msw_status* fake_create(const char*, void** self) {
  static int instance;
  *self = &instance;
  return nullptr;
}
void fake_destroy(void*) {}
msw_status* fake_render(const void*, const msw_render_args* a) {
  *a->segment_count = 1;
  *a->text_needed = 3;
  if (a->segment_capacity >= 1 && a->text_capacity >= 3) {
    msw_template_segment s{};
    s.struct_size = g_fake_struct_size;
    s.kind = MSW_TEMPLATE_SEGMENT_TEXT;
    s.text_size = g_fake_text_size;
    s.loss_weight = 1;
    std::memcpy(a->segments, &s, sizeof s);
    std::memcpy(a->text, "hi", 3);
  }
  return nullptr;
}
const char* fake_none(const void*) { return nullptr; }
size_t fake_count(const void*) { return 0; }
const char* fake_word(const void*, size_t) { return nullptr; }
const char* const* fake_types(const void*) { return nullptr; }

}  // namespace

TEST_CASE("the host refuses segment records too short for a 2.0 record or pointing outside the text") {
  msw_template_vtable vt{sizeof(msw_template_vtable), fake_create, fake_destroy, fake_render, fake_none,
                         fake_count,                  fake_word,   fake_none,    fake_types};
  megaswift::sdk::TemplateHandle handle(vt, megaswift::host::host_api(), "{}");
  g_fake_struct_size = sizeof(msw_template_segment);
  g_fake_text_size = 2;
  CHECK(handle.render("{}").text() == "hi");
  CHECK(handle.model_types().empty());  // NULL: the template does not say

  g_fake_struct_size = 12;
  CHECK_THROWS_WITH_AS(handle.render("{}"), doctest::Contains("segment with struct_size 12"), Error);
  g_fake_struct_size = sizeof(msw_template_segment);
  g_fake_text_size = 5;
  CHECK_THROWS_WITH_AS(handle.render("{}"), doctest::Contains("outside its text"), Error);
  g_fake_text_size = 2;
}

TEST_CASE("a row of many turns renders in time linear in its turns, and past 65536 messages it is refused by name") {
  auto turns = [](size_t pairs) {
    std::vector<std::pair<std::string, std::string>> m;
    for (size_t i = 0; i < pairs; ++i) {
      m.emplace_back("user", "q");
      m.emplace_back("assistant", "a");
    }
    return conv(m);
  };
  // qwen3 adds an empty think block to every answer and splits it off: that split used to move the tail of the
  // list once per answer (quadratic). 30000 answers took minutes; linear, they take well under a second.
  auto tmpl = make_template("qwen3");
  const std::string row = turns(30000);
  RenderedTemplate out;
  const auto start = std::chrono::steady_clock::now();
  tmpl->render(row, R"({"loss_scale": "all"})", out);
  CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < 5.0);
  CHECK(out.segments().size() > 60000);

  std::string m;
  CHECK(render_error("qwen3", turns(32769), "{}", &m) == MSW_STATUS_INVALID_ARGUMENT);
  CHECK(m.find("65538 messages, more than the 65536 one row may have; split it into several rows") != std::string::npos);
}
