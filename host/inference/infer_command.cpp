#include "host/inference/flag_values.hpp"
#include "host/inference/infer_command.hpp"

#include "datasets/core/loader.hpp"
#include "datasets/core/search_path.hpp"
#include "host/core/status.hpp"
#include "host/inference/chat_engine.hpp"
#include "host/inference/text/chat_cli.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <iostream>

namespace fs = std::filesystem;
using nlohmann::json;

namespace megaswift::inference {

using host::HostError;

namespace {

std::string timestamp() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
  return stamp;
}

// Appends one record per line, flushed, so an interrupted run keeps every answer it gave.
class ResultWriter {
 public:
  explicit ResultWriter(fs::path path) : path_(std::move(path)) {
    if (path_.has_parent_path()) fs::create_directories(path_.parent_path());
    out_.open(path_, std::ios::app);
    if (!out_) throw HostError(MSW_STATUS_IO, "cannot write the results to " + path_.string());
  }
  void write(const json& record) {
    out_ << record.dump(-1, ' ', false, json::error_handler_t::replace) << '\n';
    out_.flush();
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
  std::ofstream out_;
};

Conversation conversation_of(const ChatState& state) {
  Conversation c;
  c.system = state.system;
  for (const auto& m : state.messages) c.messages.emplace_back(m.role, m.content);
  return c;
}

int answer_datasets(const config::ParsedArgs& a, const host::PluginRegistry& registry) {
  ChatEngine engine(a, registry);
  datasets::LoadOptions lo;
  lo.search_dirs = datasets::default_search_dirs();
  lo.seed = static_cast<uint64_t>(a.get<int64_t>("seed"));
  lo.purpose = datasets::Purpose::infer;
  const auto specs = a.get<std::vector<std::string>>("val_dataset");
  const datasets::TrainValRows rows = datasets::load_train_val(specs, {}, 0.0, lo);

  // Each row's conversation up to its last user message; a trailing assistant message is the label.
  std::vector<Conversation> conversations;
  std::vector<json> records;
  const auto system = text_flag(a, "system");
  for (const datasets::Row& row : rows.train) {
    Conversation c;
    c.system = system;
    json messages = json::array();
    for (const auto& m : row.messages) messages.push_back({{"role", m.role}, {"content", m.content}});
    size_t end = row.messages.size();
    if (end && row.messages[end - 1].role == "assistant") --end;
    for (size_t i = 0; i < end; ++i) {
      const auto& m = row.messages[i];
      if (m.role == "system" && i == 0) c.system = c.system ? c.system : std::optional<std::string>(m.content);
      else c.messages.emplace_back(m.role, m.content);
    }
    json record = {{"messages", messages}};
    if (end < row.messages.size()) record["labels"] = row.messages.back().content;
    conversations.push_back(std::move(c));
    records.push_back(std::move(record));
  }
  ResultWriter writer(result_path(a));
  spdlog::info("infer: answering {} conversations of {} ({} at a time) into {}", conversations.size(),
               json(specs).dump(), a.get<int64_t>("max_batch_size"), writer.path().string());
  const auto start = std::chrono::steady_clock::now();
  int64_t generated = 0;
  if (a.get<bool>("stream")) {
    for (size_t i = 0; i < conversations.size(); ++i) {
      const Answer ans = engine.answer(conversations[i], [](const std::string& t) { std::cout << t << std::flush; });
      std::cout << "\n" << std::string(50, '-') << std::endl;
      records[i]["response"] = ans.text;
      generated += ans.completion_tokens;
      writer.write(records[i]);
    }
  } else {
    const std::vector<Answer> answers = engine.answer_all(conversations);
    for (size_t i = 0; i < answers.size(); ++i) {
      records[i]["response"] = answers[i].text;
      generated += answers[i].completion_tokens;
      writer.write(records[i]);
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  spdlog::info("infer: {} answers, {} tokens generated in {:.2f} s ({:.1f} tokens/s); results in {}", records.size(),
               generated, seconds, seconds > 0 ? static_cast<double>(generated) / seconds : 0.0, writer.path().string());
  return 0;
}

int chat(const config::ParsedArgs& a, const host::PluginRegistry& registry) {
  ChatEngine engine(a, registry);
  const bool stream = a.get<bool>("stream");
  std::optional<ResultWriter> writer;
  if (text_flag(a, "result_path")) writer.emplace(result_path(a));
  ChatCliOptions options;
  options.initial_system = text_flag(a, "system");
  const Responder respond = [&](const ChatState& state) {
    const Conversation c = conversation_of(state);
    if (stream) return engine.answer(c, [](const std::string& t) { std::cout << t << std::flush; }).text;
    const std::string text = engine.answer(c).text;
    std::cout << text << std::flush;
    return text;
  };
  run_chat_cli(std::cin, std::cout, respond, options, [&](const json& record) {
    if (writer) writer->write(record);
  });
  return 0;
}

}  // namespace

fs::path result_path(const config::ParsedArgs& a) {
  if (const auto p = text_flag(a, "result_path")) return *p;
  const std::string file = timestamp() + ".jsonl";
  if (const auto ckpt = text_flag(a, "mcore_model")) return fs::path(*ckpt) / "infer_result" / file;
  // The model directory's name ("Qwen2.5-7B-Instruct"); a trailing slash leaves an empty last component.
  const auto model = text_flag(a, "model");
  fs::path dir = model ? fs::path(*model).lexically_normal() : fs::path("model");
  if (dir.filename().empty()) dir = dir.parent_path();
  return fs::path("result") / dir.filename() / "infer_result" / file;
}

int run_infer(const config::ParsedArgs& a, const host::PluginRegistry& registry) {
  const auto specs = a.get<std::vector<std::string>>("val_dataset");
  return specs.empty() ? chat(a, registry) : answer_datasets(a, registry);
}

}  // namespace megaswift::inference
