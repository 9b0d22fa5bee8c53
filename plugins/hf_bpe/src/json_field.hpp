// Reading tokenizer.json / tokenizer_config.json with errors that name the file and the field:
//   tokenizer.json '/m/tokenizer.json': field 'model.merges[7]': expected "a b" or ["a", "b"]
#pragma once

#include <megaswift/sdk/status.hpp>
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace hf_bpe {

using Json = nlohmann::json;

class Field {
 public:
  Field(const Json& value, std::string file, std::string path)
      : value_(&value), file_(std::move(file)), path_(std::move(path)) {}

  const Json& json() const { return *value_; }
  const std::string& path() const { return path_; }
  const std::string& file() const { return file_; }

  [[noreturn]] void fail(const std::string& what) const {
    throw megaswift::sdk::Error(MSW_STATUS_INVALID_ARGUMENT,
                                "'" + file_ + "': field '" + (path_.empty() ? "<root>" : path_) + "': " + what);
  }

  bool has(std::string_view key) const {
    return value_->is_object() && value_->contains(key) && !(*value_)[std::string(key)].is_null();
  }
  // A required member.
  Field operator[](std::string_view key) const {
    if (!value_->is_object()) fail("expected an object");
    auto it = value_->find(key);
    if (it == value_->end()) child_path_fail(key, "missing");
    return Field(*it, file_, child_path(key));
  }
  // An optional member; null counts as absent.
  std::optional<Field> get(std::string_view key) const {
    if (!value_->is_object()) fail("expected an object");
    auto it = value_->find(key);
    if (it == value_->end() || it->is_null()) return std::nullopt;
    return Field(*it, file_, child_path(key));
  }
  Field at(size_t i) const {
    if (!value_->is_array()) fail("expected an array");
    if (i >= value_->size()) fail("index " + std::to_string(i) + " out of range");
    return Field((*value_)[i], file_, path_ + "[" + std::to_string(i) + "]");
  }
  size_t size() const {
    if (!value_->is_array()) fail("expected an array");
    return value_->size();
  }

  std::string str() const {
    if (!value_->is_string()) fail("expected a string, got " + std::string(value_->type_name()));
    return value_->get<std::string>();
  }
  bool boolean() const {
    if (!value_->is_boolean()) fail("expected true or false, got " + std::string(value_->type_name()));
    return value_->get<bool>();
  }
  int64_t integer() const {
    if (!value_->is_number_integer()) fail("expected an integer, got " + std::string(value_->type_name()));
    return value_->get<int64_t>();
  }
  std::string str_or(std::string_view key, std::string fallback) const {
    auto f = get(key);
    return f ? f->str() : fallback;
  }
  bool bool_or(std::string_view key, bool fallback) const {
    auto f = get(key);
    return f ? f->boolean() : fallback;
  }
  int64_t int_or(std::string_view key, int64_t fallback) const {
    auto f = get(key);
    return f ? f->integer() : fallback;
  }

 private:
  std::string child_path(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }
  [[noreturn]] void child_path_fail(std::string_view key, const std::string& what) const {
    throw megaswift::sdk::Error(MSW_STATUS_INVALID_ARGUMENT, "'" + file_ + "': field '" + child_path(key) + "': " + what);
  }

  const Json* value_;
  std::string file_;
  std::string path_;
};

}  // namespace hf_bpe
