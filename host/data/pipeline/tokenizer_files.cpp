#include "host/data/pipeline/tokenizer_files.hpp"

#include "host/core/text_io.hpp"
#include "host/data/pipeline/error.hpp"

#include <megaswift/sdk/regular_file.hpp>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

namespace megaswift::data {
namespace {

constexpr const char* kFiles[] = {"tokenizer.json", "tokenizer_config.json"};

}  // namespace

void require_regular_tokenizer_files(const std::filesystem::path& model_dir) {
  for (const char* name : kFiles) {
    struct stat st {};
    const std::filesystem::path file = model_dir / name;
    if (::stat(file.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
      throw DataPipelineError(sdk::not_regular_file_error("tokenizer file", file.string(), st.st_mode).what());
  }
}

std::optional<std::string> damaged_tokenizer_file(const std::filesystem::path& model_dir) {
  for (const char* name : kFiles) {
    const std::filesystem::path file = model_dir / name;
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) continue;
    std::string text;
    try {
      text = sdk::read_regular_file(file.string(), "tokenizer file", host::kMaxTextFileBytes);
    } catch (const sdk::Error& e) {
      return std::string(e.what());
    }
    try {
      if (!nlohmann::json::parse(text).is_object())
        return file.string() + " is not a JSON object; copy the model's " + name + " again";
    } catch (const nlohmann::json::parse_error& e) {
      // nlohmann's byte is 1-based and points just past the offending byte.
      return file.string() + " is not valid JSON (at byte " + std::to_string(e.byte) +
             "): the file is damaged or cut short; copy the model's " + name + " again";
    }
  }
  return std::nullopt;
}

}  // namespace megaswift::data
