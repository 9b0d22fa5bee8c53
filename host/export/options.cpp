#include "host/export/options.hpp"

#include "host/checkpoint/dtype_cast.hpp"
#include "host/core/status.hpp"

#include <cctype>
#include <cstdio>
#include <cstdlib>

using nlohmann::json;

namespace megaswift::exporter {

uint64_t parse_size(const std::string& text) {
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  std::string unit = text.substr(i);
  for (char& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  double scale = 0;
  if (unit.empty() || unit == "B") scale = 1;
  else if (unit == "KB") scale = 1e3;
  else if (unit == "MB") scale = 1e6;
  else if (unit == "GB") scale = 1e9;
  else if (unit == "TB") scale = 1e12;
  else if (unit == "KIB") scale = 1024.0;
  else if (unit == "MIB") scale = 1024.0 * 1024;
  else if (unit == "GIB") scale = 1024.0 * 1024 * 1024;
  double v = 0;
  try {
    v = i ? std::stod(text.substr(0, i)) : 0;
  } catch (const std::exception&) {
    v = 0;
  }
  if (scale == 0 || v <= 0)
    throw host::HostError(MSW_STATUS_INVALID_ARGUMENT, "--max_shard_size '" + text +
                                                           "' is not a size: write e.g. 5GB, 500MB, 2GiB or a byte count");
  return static_cast<uint64_t>(v * scale);
}

std::string rate_text(double bytes, double seconds) {
  char buf[64];
  const double rate = seconds > 0 ? bytes / seconds : 0;
  if (rate >= 1e9) std::snprintf(buf, sizeof buf, "%.2f GB/s", rate / 1e9);
  else std::snprintf(buf, sizeof buf, "%.1f MB/s", rate / 1e6);
  return buf;
}

ExportOptions export_options(const json& v) {
  auto text = [&](const char* k) { return v.contains(k) && v[k].is_string() ? v[k].get<std::string>() : std::string(); };
  auto flag = [&](const char* k, bool def) { return v.contains(k) && v[k].is_boolean() ? v[k].get<bool>() : def; };
  ExportOptions o;
  o.to_mcore = flag("to_mcore", false);
  o.to_hf = flag("to_hf", false);
  o.model = text("model");
  o.mcore_model = text("mcore_model");
  o.output_dir = text("output_dir");
  if (!text("torch_dtype").empty()) o.dtype = host::dtype_from_torch_name(text("torch_dtype"));
  if (!text("ckpt_format").empty()) o.ckpt_format = text("ckpt_format");
  o.load.ckpt_format = o.ckpt_format;
  o.load.auto_detect = flag("auto_detect_ckpt_format", true);
  o.load.exit_on_missing = true;
  o.load.finetune = true;  // export reads weights only
  if (!text("max_shard_size").empty()) o.max_shard_size = parse_size(text("max_shard_size"));
  o.exist_ok = flag("exist_ok", false);
  const char* host_writer = std::getenv("MEGASWIFT_EXPORT_HOST_WRITER");
  o.host_hf_writer = host_writer && std::string(host_writer) == "1";
  o.test_convert_precision = flag("test_convert_precision", false);
  if (!text("test_convert_dtype").empty()) o.test_convert_dtype = text("test_convert_dtype");
  o.args = v;
  return o;
}

}  // namespace megaswift::exporter
