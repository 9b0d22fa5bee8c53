// A C++ SDK plugin that throws from every entry, loaded through the real registry: every entry returns a
// status carrying the exception's code and message, or its "nothing" value where it returns a plain
// value, and the process never reaches std::terminate (this test would abort).
#include "abi_test_support.hpp"

#include "host/core/host_api.hpp"
#include "host/core/status.hpp"
#include "host/plugin_host/registry.hpp"
#include "host/plugin_host/tokenizer_choice.hpp"

#include <megaswift/c/checkpoint.h>
#include <megaswift/c/model.h>
#include <megaswift/c/optimizer.h>
#include <megaswift/c/template.h>
#include <megaswift/c/tokenizer.h>

#include <doctest/doctest.h>

#include <string>

using megaswift::abi_test::cpu_f32;
using megaswift::abi_test::kPluginDir;
using megaswift::host::PluginRegistry;

namespace {

const PluginRegistry& registry() {
  static const PluginRegistry* r = [] {
    auto* reg = new PluginRegistry(megaswift::host::host_api());
    reg->load_library(kPluginDir / "libmegaswift_optimizer_throwing.so");
    return reg;
  }();
  return *r;
}

// What each mode throws and the status it must become.
struct Mode {
  const char* name;
  int32_t code;
  const char* message;  // a part of the status message
};
const Mode kModes[] = {
    {"error", MSW_STATUS_UNSUPPORTED, "throwing plugin: "},
    {"runtime", MSW_STATUS_INTERNAL, "throwing plugin: "},
    {"invalid", MSW_STATUS_INVALID_ARGUMENT, "throwing plugin: "},
    {"bad_alloc", MSW_STATUS_OUT_OF_MEMORY, "out of host memory"},
    {"int", MSW_STATUS_INTERNAL, "unknown exception"},
};

std::string config(const Mode& m, bool throw_in_create = false) {
  return std::string("{\"mode\": \"") + m.name + "\"" + (throw_in_create ? ", \"throw_in_create\": true" : "") + "}";
}

// The status of a failing entry: its code and message say what was thrown, and where.
void check_status(msw_status* s, const Mode& m, const char* entry) {
  INFO("mode " << m.name << ", entry " << entry);
  REQUIRE(s != nullptr);
  CHECK(s->code == m.code);
  CHECK(s->message.find(m.message) != std::string::npos);
  if (m.code != MSW_STATUS_OUT_OF_MEMORY && std::string(m.name) != "int")
    CHECK(s->message.find(entry) != std::string::npos);
  megaswift::host::status_free(s);
}

template <class VT>
VT vtable(msw_plugin_kind kind, const char* name) {
  return PluginRegistry::vtable_copy<VT>(registry().require(kind, name));
}

}  // namespace

TEST_CASE("a throwing constructor makes create return a status, for every kind and every exception type") {
  auto model = vtable<msw_model_vtable>(MSW_KIND_MODEL, "throwing_model");
  auto opt = vtable<msw_optimizer_vtable>(MSW_KIND_OPTIMIZER, "throwing_opt");
  auto tok = vtable<msw_tokenizer_vtable>(MSW_KIND_TOKENIZER, "throwing_tok");
  auto tmpl = vtable<msw_template_vtable>(MSW_KIND_TEMPLATE, "throwing_tmpl");
  auto ckpt = vtable<msw_checkpoint_vtable>(MSW_KIND_CHECKPOINT, "throwing_ckpt");
  for (const Mode& m : kModes) {
    void* self = nullptr;
    check_status(ckpt.create(config(m, true).c_str(), &self), m, "create");
    check_status(model.create(config(m, true).c_str(), &self), m, "create");
    check_status(opt.create(config(m, true).c_str(), &self), m, "create");
    check_status(tok.create(config(m, true).c_str(), &self), m, "create");
    check_status(tmpl.create(config(m, true).c_str(), &self), m, "create");
    CHECK(self == nullptr);
  }
}

TEST_CASE("every model entry of a throwing plugin returns a status or its nothing value") {
  auto vt = vtable<msw_model_vtable>(MSW_KIND_MODEL, "throwing_model");
  // Part 1 has no instance: hf_model_types answers an empty list, config_from_hf a status.
  const char* const* types = vt.hf_model_types();
  REQUIRE(types != nullptr);
  CHECK(types[0] == nullptr);
  char text[64];
  size_t needed = 0;
  check_status(vt.config_from_hf("{}", text, sizeof text, &needed), kModes[1], "config_from_hf");
  REQUIRE(static_cast<bool>(vt.layer_decode));
  for (const Mode& m : kModes) {
    void* self = nullptr;
    REQUIRE(vt.create(config(m).c_str(), &self) == nullptr);
    msw_model_info info{};
    info.struct_size = sizeof(info);
    check_status(vt.describe(self, &info), m, "describe");
    msw_model_caps caps{};
    caps.struct_size = sizeof(caps);
    check_status(vt.capabilities(self, &caps), m, "capabilities");
    check_status(vt.config_json(self, text, sizeof text, &needed), m, "config_json");
    check_status(vt.config_to_hf(self, text, sizeof text, &needed), m, "config_to_hf");
    CHECK(vt.param_count(self) == -1);
    CHECK(vt.hf_mapping_count(self) == -1);
    msw_param_info param{};
    param.struct_size = sizeof(param);
    check_status(vt.param_info(self, 0, &param), m, "param_info");
    msw_hf_mapping mapping{};
    mapping.struct_size = sizeof(mapping);
    check_status(vt.hf_mapping(self, 0, &mapping), m, "hf_mapping");
    float x[1] = {0};
    msw_tensor t = cpu_f32(x, 1);
    check_status(vt.hf_to_megatron(self, 0, &t, 1, &t), m, "hf_to_megatron");
    check_status(vt.megatron_to_hf(self, 0, &t, &t, 1), m, "megatron_to_hf");
    msw_model_shape shape{};
    shape.struct_size = sizeof(shape);
    msw_model_memory_args margs{};
    margs.struct_size = sizeof(margs);
    margs.shape = &shape;
    msw_model_memory mem{};
    mem.struct_size = sizeof(mem);
    check_status(vt.memory(self, &margs, &mem), m, "memory");
    msw_model_batch batch{};
    batch.struct_size = sizeof(batch);
    msw_model_call call{};
    call.struct_size = sizeof(call);
    call.batch = &batch;
    msw_exec_ctx ctx{};
    ctx.struct_size = sizeof(ctx);
    check_status(vt.embedding_forward(self, &ctx, &call), m, "embedding_forward");
    check_status(vt.embedding_backward(self, &ctx, &call), m, "embedding_backward");
    check_status(vt.layer_forward(self, &ctx, &call), m, "layer_forward");
    check_status(vt.layer_backward(self, &ctx, &call), m, "layer_backward");
    check_status(vt.head_forward(self, &ctx, &call), m, "head_forward");
    check_status(vt.head_backward(self, &ctx, &call), m, "head_backward");
    check_status(vt.layer_decode(self, &ctx, &call), m, "layer_decode");
    vt.destroy(self);
  }
}

TEST_CASE("every optimizer entry of a throwing plugin returns a status or its nothing value") {
  auto vt = vtable<msw_optimizer_vtable>(MSW_KIND_OPTIMIZER, "throwing_opt");
  for (const Mode& m : kModes) {
    void* self = nullptr;
    REQUIRE(vt.create(config(m).c_str(), &self) == nullptr);
    CHECK(vt.state_count(self) == -1);
    CHECK(vt.state_name(self, 0) == nullptr);
    float w[1] = {1.0f};
    msw_optimizer_param p{};
    p.struct_size = sizeof(p);
    p.param = cpu_f32(w, 1);
    p.grad = cpu_f32(w, 1);
    msw_optimizer_step_args args{};
    args.struct_size = sizeof(args);
    args.params = &p;
    args.count = 1;
    args.param_size = sizeof(p);
    msw_exec_ctx ctx{};
    ctx.struct_size = sizeof(ctx);
    // state_count throws inside the step's trampoline too; the step reports it instead of running.
    check_status(vt.step(self, &ctx, &args), m, "state_count");
    vt.destroy(self);

    // With a state count, the step itself throws.
    std::string with_states = config(m);
    with_states.insert(with_states.size() - 1, ", \"states_ok\": true");
    REQUIRE(vt.create(with_states.c_str(), &self) == nullptr);
    CHECK(vt.state_count(self) == 0);
    check_status(vt.step(self, &ctx, &args), m, "step");
    vt.destroy(self);
  }
}

TEST_CASE("every tokenizer entry of a throwing plugin returns a status or its nothing value") {
  auto vt = vtable<msw_tokenizer_vtable>(MSW_KIND_TOKENIZER, "throwing_tok");
  REQUIRE(static_cast<bool>(vt.probe));
  CHECK(vt.probe("/tmp") == 0);
  for (const Mode& m : kModes) {
    void* self = nullptr;
    REQUIRE(vt.create(config(m).c_str(), &self) == nullptr);
    int32_t ids[4] = {1, 2, 3, 4};
    char text[16];
    size_t offsets[2] = {0, 0};
    size_t needed = 0;
    const char* texts[1] = {"hi"};
    size_t lens[1] = {2};
    check_status(vt.encode(self, "hi", 2, 0, ids, 4, &needed), m, "encode");
    check_status(vt.encode_batch(self, texts, lens, 1, 0, 1, ids, 4, offsets, &needed), m, "encode_batch");
    check_status(vt.decode(self, ids, 4, 0, text, sizeof text, &needed), m, "decode");
    CHECK(vt.vocab_size(self) == 0);
    CHECK(vt.token_to_id(self, "hi", 2) == -1);
    size_t len = 7;
    CHECK(vt.id_to_token(self, 1, &len) == nullptr);
    CHECK(vt.special_token_id(self, MSW_TOKENIZER_EOS) == -1);
    CHECK(vt.is_special(self, 1) == 0);
    msw_tokenizer_stream* stream = nullptr;
    REQUIRE(vt.stream_create(self, 0, &stream) == nullptr);
    const char* out = nullptr;
    check_status(vt.stream_step(stream, 1, &out, &len), m, "stream_step");
    check_status(vt.stream_flush(stream, &out, &len), m, "stream_flush");
    vt.stream_destroy(stream);
    vt.destroy(self);
  }
}

TEST_CASE("every template entry of a throwing plugin returns a status or its nothing value") {
  auto vt = vtable<msw_template_vtable>(MSW_KIND_TEMPLATE, "throwing_tmpl");
  for (const Mode& m : kModes) {
    void* self = nullptr;
    REQUIRE(vt.create(config(m).c_str(), &self) == nullptr);
    msw_template_segment segs[4];
    char text[64];
    size_t count = 99, needed = 99;
    msw_render_args a{};
    a.struct_size = sizeof(a);
    a.conversation_json = R"({"messages": [{"role": "user", "content": "hi"}]})";
    a.segments = segs;
    a.segment_capacity = 4;
    a.segment_size = sizeof(msw_template_segment);
    a.segment_count = &count;
    a.text = text;
    a.text_capacity = sizeof text;
    a.text_needed = &needed;
    check_status(vt.render(self, &a), m, "render");
    CHECK(count == 99);  // a failing call leaves its out-parameters untouched
    CHECK(vt.default_system(self) == nullptr);
    CHECK(vt.stop_word_count(self) == 0);
    CHECK(vt.stop_word(self, 0) == nullptr);
    CHECK(vt.end_of_turn(self) == nullptr);
    CHECK(vt.model_types(self) == nullptr);
    vt.destroy(self);
  }
}

TEST_CASE("every checkpoint entry of a throwing plugin returns a status or its nothing value") {
  auto vt = vtable<msw_checkpoint_vtable>(MSW_KIND_CHECKPOINT, "throwing_ckpt");
  for (const Mode& m : kModes) {
    msw_save_args save{};
    save.struct_size = sizeof(save);
    save.dir = "/nonexistent";
    save.world_size = 1;
    msw_open_args open{};
    open.struct_size = sizeof(open);
    open.dir = "/nonexistent";
    void* out = reinterpret_cast<void*>(0x1);  // a failing call leaves it untouched

    // The format's own entries.
    void* self = nullptr;
    REQUIRE(vt.create(config(m).c_str(), &self) == nullptr);
    CHECK(vt.probe(self, "/tmp") == 0);
    check_status(vt.begin_save(self, &save, &out), m, "begin_save");
    check_status(vt.commit_save(self, &save), m, "commit_save");
    check_status(vt.open(self, &open, &out), m, "open");
    CHECK(out == reinterpret_cast<void*>(0x1));
    vt.destroy(self);

    // Its writer's and reader's.
    std::string objects = config(m);
    objects.insert(objects.size() - 1, ", \"objects_ok\": true");
    REQUIRE(vt.create(objects.c_str(), &self) == nullptr);
    void* writer = nullptr;
    REQUIRE(vt.begin_save(self, &save, &writer) == nullptr);
    float x[2] = {1.0f, 2.0f};
    msw_shard shard{};
    shard.struct_size = sizeof(shard);
    shard.key = "w";
    shard.ndim = 1;
    shard.global_shape[0] = 2;
    shard.data = cpu_f32(x, 2);
    check_status(vt.write_shards(writer, &shard, 1, sizeof(shard)), m, "write");
    check_status(vt.finish_save(writer), m, "finish");  // frees the writer also on failure
    void* reader = nullptr;
    REQUIRE(vt.open(self, &open, &reader) == nullptr);
    char text[32];
    size_t needed = 0;
    check_status(vt.read_common(reader, text, sizeof text, &needed), m, "common_state_json");
    CHECK(vt.tensor_count(reader) == 0);
    msw_tensor_info info{};
    info.struct_size = sizeof(info);
    check_status(vt.tensor_info(reader, 0, &info), m, "tensor_count");
    const int64_t offset[1] = {0};
    msw_read_args read{};
    read.struct_size = sizeof(read);
    read.key = "w";
    read.offset = offset;
    read.out = cpu_f32(x, 2);
    check_status(vt.read_region(reader, &read), m, "read_region");
    vt.reader_destroy(reader);
    vt.destroy(self);
  }
}

TEST_CASE("a tokenizer probe that throws scores 0 and the registry's choice names it") {
  const auto dir = megaswift::abi_test::fresh_temp_dir("throwing_probe");
  try {
    megaswift::host::choose_tokenizer(registry(), dir);
    FAIL("choose_tokenizer accepted a directory no plugin reads");
  } catch (const megaswift::host::HostError& e) {
    const std::string m = e.what();
    CHECK(m.find("no tokenizer plugin reads the model directory " + dir.string()) != std::string::npos);
    CHECK(m.find("throwing_tok 0") != std::string::npos);
    CHECK(m.find("no tokenizer files") != std::string::npos);
  }
}
