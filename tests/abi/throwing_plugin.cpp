// A C++ SDK plugin whose every entry throws, in every kind with a C++ layer (model, optimizer, tokenizer,
// template, checkpoint): the SDK's trampolines must turn each exception into a status, or into the entry's "nothing"
// value for entries that return plain values, and never let it reach std::terminate. The config's "mode"
// picks what is thrown, so each of the trampolines' catch clauses is exercised:
//   "error" megaswift::sdk::Error(UNSUPPORTED), "runtime" std::runtime_error, "invalid" std::invalid_argument,
//   "bad_alloc" std::bad_alloc, "int" an int (not a std::exception).
// A config containing "throw_in_create" makes the constructor throw. (Destructors cannot throw here: the
// SDK's base classes have virtual noexcept destructors, so the language already forbids it.)
#include <megaswift/sdk/checkpoint.hpp>
#include <megaswift/sdk/model.hpp>
#include <megaswift/sdk/optimizer.hpp>
#include <megaswift/sdk/plugin.hpp>
#include <megaswift/sdk/template.hpp>
#include <megaswift/sdk/tokenizer.hpp>

#include <new>
#include <stdexcept>
#include <string>
#include <string_view>

namespace {

enum class Mode { error, runtime, invalid, bad_alloc, integer };

Mode mode_of(std::string_view config) {
  if (config.find("\"runtime\"") != std::string_view::npos) return Mode::runtime;
  if (config.find("\"invalid\"") != std::string_view::npos) return Mode::invalid;
  if (config.find("\"bad_alloc\"") != std::string_view::npos) return Mode::bad_alloc;
  if (config.find("\"int\"") != std::string_view::npos) return Mode::integer;
  return Mode::error;
}

[[noreturn]] void boom(Mode mode, const char* where) {
  const std::string what = std::string("throwing plugin: ") + where;
  switch (mode) {
    case Mode::error: throw megaswift::sdk::Error(MSW_STATUS_UNSUPPORTED, what);
    case Mode::runtime: throw std::runtime_error(what);
    case Mode::invalid: throw std::invalid_argument(what);
    case Mode::bad_alloc: throw std::bad_alloc();
    case Mode::integer: throw 42;
  }
  throw 0;
}

// Every class throws from its constructor when asked.
class Thrower {
 public:
  explicit Thrower(std::string_view config) : mode_(mode_of(config)) {
    if (config.find("throw_in_create") != std::string_view::npos) boom(mode_, "create");
  }
  Mode mode() const { return mode_; }

 private:
  Mode mode_;
};

// With "states_ok" in the config state_count answers 0, so that the step's own throw is reached (the step's
// trampoline asks for the state count first).
class ThrowingOptimizer final : public megaswift::sdk::Optimizer, Thrower {
 public:
  explicit ThrowingOptimizer(std::string_view config)
      : Thrower(config), states_ok_(config.find("states_ok") != std::string_view::npos) {}
  int32_t state_count() const override {
    if (states_ok_) return 0;
    boom(mode(), "state_count");
  }
  const char* state_name(int32_t) const override { boom(mode(), "state_name"); }
  void step(const msw_exec_ctx&, const megaswift::sdk::OptimizerStep&) override { boom(mode(), "step"); }

 private:
  bool states_ok_;
};

class ThrowingStream final : public megaswift::sdk::TokenizerStream {
 public:
  explicit ThrowingStream(Mode mode) : mode_(mode) {}
  std::string_view step(int32_t) override { boom(mode_, "stream_step"); }
  std::string_view flush() override { boom(mode_, "stream_flush"); }

 private:
  Mode mode_;
};

class ThrowingTokenizer final : public megaswift::sdk::Tokenizer, Thrower {
 public:
  explicit ThrowingTokenizer(std::string_view config) : Thrower(config) {}
  static int32_t probe(std::string_view) { boom(Mode::runtime, "probe"); }
  std::vector<int32_t> encode(std::string_view, uint32_t) const override { boom(mode(), "encode"); }
  std::vector<std::vector<int32_t>> encode_batch(const std::vector<std::string_view>&, uint32_t, int) const override {
    boom(mode(), "encode_batch");
  }
  std::string decode(const int32_t*, size_t, uint32_t) const override { boom(mode(), "decode"); }
  int32_t vocab_size() const override { boom(mode(), "vocab_size"); }
  int32_t token_to_id(std::string_view) const override { boom(mode(), "token_to_id"); }
  const std::string* id_to_token(int32_t) const override { boom(mode(), "id_to_token"); }
  int32_t special_token_id(msw_tokenizer_special) const override { boom(mode(), "special_token_id"); }
  bool is_special(int32_t) const override { boom(mode(), "is_special"); }
  // The stream is made, so that its own entries can throw.
  std::unique_ptr<megaswift::sdk::TokenizerStream> make_stream(uint32_t) const override {
    return std::make_unique<ThrowingStream>(mode());
  }
};

class ThrowingTemplate final : public megaswift::sdk::Template, Thrower {
 public:
  explicit ThrowingTemplate(std::string_view config) : Thrower(config) {}
  void render(std::string_view, std::string_view, megaswift::sdk::RenderedTemplate&) const override {
    boom(mode(), "render");
  }
  const char* default_system() const override { boom(mode(), "default_system"); }
  const std::vector<std::string>& stop_words() const override { boom(mode(), "stop_words"); }
  const char* end_of_turn() const override { boom(mode(), "end_of_turn"); }
  const char* const* model_types() const override { boom(mode(), "model_types"); }
};

// The model's static entries (part 1) have no instance, so they throw a std::runtime_error.
class ThrowingModel final : public megaswift::sdk::Model, Thrower {
 public:
  explicit ThrowingModel(std::string_view config) : Thrower(config) {}
  static const char* const* hf_model_types() { boom(Mode::runtime, "hf_model_types"); }
  static std::string config_from_hf(std::string_view) { boom(Mode::runtime, "config_from_hf"); }
  msw_model_info describe() const override { boom(mode(), "describe"); }
  msw_model_caps capabilities() const override { boom(mode(), "capabilities"); }
  const std::string& config_json() const override { boom(mode(), "config_json"); }
  std::string config_to_hf() const override { boom(mode(), "config_to_hf"); }
  int64_t param_count() const override { boom(mode(), "param_count"); }
  msw_param_info param_info(int64_t) const override { boom(mode(), "param_info"); }
  int64_t hf_mapping_count() const override { boom(mode(), "hf_mapping_count"); }
  msw_hf_mapping hf_mapping(int64_t) const override { boom(mode(), "hf_mapping"); }
  void hf_to_megatron(int64_t, const msw_tensor*, size_t, const msw_tensor&) const override {
    boom(mode(), "hf_to_megatron");
  }
  void megatron_to_hf(int64_t, const msw_tensor&, const msw_tensor*, size_t) const override {
    boom(mode(), "megatron_to_hf");
  }
  megaswift::sdk::ModelMemory memory(const msw_model_shape&, bool) const override { boom(mode(), "memory"); }
  void embedding_forward(const msw_exec_ctx&, const msw_model_call&) override { boom(mode(), "embedding_forward"); }
  void embedding_backward(const msw_exec_ctx&, const msw_model_call&) override { boom(mode(), "embedding_backward"); }
  void layer_forward(const msw_exec_ctx&, const msw_model_call&) override { boom(mode(), "layer_forward"); }
  void layer_backward(const msw_exec_ctx&, const msw_model_call&) override { boom(mode(), "layer_backward"); }
  void head_forward(const msw_exec_ctx&, const msw_model_call&) override { boom(mode(), "head_forward"); }
  void head_backward(const msw_exec_ctx&, const msw_model_call&) override { boom(mode(), "head_backward"); }
  void layer_decode(const msw_exec_ctx&, const msw_model_call&) { boom(mode(), "layer_decode"); }
};

// The format's writer and reader throw from every method; the format hands them out only with "objects_ok" in
// the config, so both the format's own throws and its objects' are reached.
class ThrowingWriter final : public megaswift::sdk::CheckpointWriter {
 public:
  explicit ThrowingWriter(Mode mode) : mode_(mode) {}
  void write(const std::vector<megaswift::sdk::Shard>&) override { boom(mode_, "write"); }
  void finish() override { boom(mode_, "finish"); }

 private:
  Mode mode_;
};

class ThrowingReader final : public megaswift::sdk::CheckpointReader {
 public:
  explicit ThrowingReader(Mode mode) : mode_(mode) {}
  std::string common_state_json() const override { boom(mode_, "common_state_json"); }
  size_t tensor_count() const override { boom(mode_, "tensor_count"); }
  megaswift::sdk::TensorInfo tensor_info(size_t) const override { boom(mode_, "tensor_info"); }
  void read_region(const std::string&, const std::vector<int64_t>&, const msw_tensor&) override {
    boom(mode_, "read_region");
  }

 private:
  Mode mode_;
};

class ThrowingCheckpoint final : public megaswift::sdk::CheckpointFormat, Thrower {
 public:
  explicit ThrowingCheckpoint(std::string_view config)
      : Thrower(config), objects_ok_(config.find("objects_ok") != std::string_view::npos) {}
  int32_t probe(const std::string&) override { boom(mode(), "probe"); }
  std::unique_ptr<megaswift::sdk::CheckpointWriter> begin_save(const megaswift::sdk::SaveArgs&) override {
    if (objects_ok_) return std::make_unique<ThrowingWriter>(mode());
    boom(mode(), "begin_save");
  }
  void commit_save(const megaswift::sdk::SaveArgs&) override { boom(mode(), "commit_save"); }
  std::unique_ptr<megaswift::sdk::CheckpointReader> open(const megaswift::sdk::OpenArgs&) override {
    if (objects_ok_) return std::make_unique<ThrowingReader>(mode());
    boom(mode(), "open");
  }

 private:
  bool objects_ok_;
};

}  // namespace

MEGASWIFT_PLUGIN("throwing", "1.0.0",
                 megaswift::sdk::model_component<ThrowingModel>("throwing_model", "1.0.0", "throws (ABI test)"),
                 megaswift::sdk::optimizer_component<ThrowingOptimizer>("throwing_opt", "1.0.0", "throws (ABI test)"),
                 megaswift::sdk::tokenizer_component<ThrowingTokenizer>("throwing_tok", "1.0.0", "throws (ABI test)"),
                 megaswift::sdk::template_component<ThrowingTemplate>("throwing_tmpl", "1.0.0", "throws (ABI test)"),
                 megaswift::sdk::checkpoint_component<ThrowingCheckpoint>("throwing_ckpt", "1.0.0", "throws (ABI test)"))
