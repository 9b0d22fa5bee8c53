#include "datasets/core/registry.hpp"

#include "datasets/core/error.hpp"
#include "datasets/core/record_reader.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <optional>

namespace megaswift::datasets {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const std::string kDefault = "default";
const std::string kAll = "all";

bool wants_default(const std::vector<std::string>& subsets) {
  return subsets.empty() || (subsets.size() == 1 && subsets[0] == kDefault);
}

std::string suffix_list() {
  std::string s;
  for (std::string_view ext : kDataFileSuffixes) {
    if (!s.empty()) s += ',';
    s += ext.substr(1);
  }
  return "{" + s + "}";
}

std::vector<fs::path> data_files_in(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.is_regular_file(ec) && is_data_file(entry.path())) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

std::optional<fs::path> file_with_stem(const fs::path& dir, const std::string& stem) {
  std::error_code ec;
  for (std::string_view ext : kDataFileSuffixes) {
    fs::path candidate = dir / (stem + std::string(ext));
    if (fs::is_regular_file(candidate, ec)) return candidate;
  }
  return std::nullopt;
}

std::vector<ResolvedSource> sources_of(const std::vector<fs::path>& files, const std::string& subset) {
  std::vector<ResolvedSource> out;
  for (const auto& f : files) out.push_back(ResolvedSource{f, subset, false, {}});
  return out;
}

std::string available_subsets(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_directory(ec) && !data_files_in(entry.path()).empty()) names.push_back(entry.path().filename().string());
    if (entry.is_regular_file(ec) && is_data_file(entry.path())) names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s.empty() ? "none" : s;
}

std::vector<ResolvedSource> folder_sources(const fs::path& dir, const std::vector<std::string>& subsets,
                                           const std::string& what) {
  std::vector<ResolvedSource> out;
  if (wants_default(subsets)) {
    for (const char* stem : {"train", "default"})
      if (auto f = file_with_stem(dir, stem)) return sources_of({*f}, kDefault);
    out = sources_of(data_files_in(dir), kDefault);
  } else {
    for (const std::string& subset : subsets) {
      std::vector<ResolvedSource> part;
      std::error_code ec;
      if (subset == kAll)
        part = sources_of(data_files_in(dir), kAll);
      else if (auto f = file_with_stem(dir, subset))
        part = sources_of({*f}, subset);
      else if (fs::is_directory(dir / subset, ec))
        part = sources_of(data_files_in(dir / subset), subset);
      if (part.empty())
        throw DatasetError(what + ": no subset '" + subset + "' in " + dir.string() + " (no " + subset + "." +
                           suffix_list() + " and no data files in " + subset + "/); available: " + available_subsets(dir));
      out.insert(out.end(), part.begin(), part.end());
    }
  }
  if (out.empty())
    throw DatasetError(what + ": the folder " + dir.string() + " has no " + suffix_list() + " data files");
  return out;
}

// ---- registry.json ----

[[noreturn]] void bad_registry(const fs::path& registry, const std::string& id, const std::string& why) {
  throw DatasetError(registry.string() + ": entry '" + id + "' " + why);
}

json load_registry(const fs::path& registry) {
  std::ifstream in(registry, std::ios::binary);
  if (!in) throw DatasetError("cannot read dataset registry " + registry.string());
  try {
    json j = json::parse(in);
    if (!j.is_object()) throw DatasetError(registry.string() + ": expected a JSON object mapping dataset ids to entries");
    return j;
  } catch (const json::exception& e) {
    throw DatasetError(registry.string() + ": invalid JSON: " + e.what());
  }
}

std::string string_field(const json& obj, const char* key, const fs::path& registry, const std::string& id) {
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return {};
  if (!it->is_string()) bad_registry(registry, id, std::string("has a non-string \"") + key + "\"");
  return it->get<std::string>();
}

ResolvedSource registry_source(const fs::path& dir, const fs::path& registry, const std::string& id, const json& entry,
                               const std::string& subset, const json* subset_entry) {
  std::string file = subset_entry ? string_field(*subset_entry, "file", registry, id) : std::string();
  if (file.empty()) file = string_field(entry, "file", registry, id);
  if (file.empty()) bad_registry(registry, id, "has no \"file\" for subset '" + subset + "'");
  ResolvedSource src;
  src.file = dir / file;
  src.subset = subset;
  const auto sc = entry.find("self_cognition");
  src.self_cognition = sc != entry.end() && sc->is_boolean() && sc->get<bool>();
  if (subset_entry) {
    src.transform.query_suffix = string_field(*subset_entry, "query_suffix", registry, id);
    src.transform.response_prefix = string_field(*subset_entry, "response_prefix", registry, id);
  }
  std::error_code ec;
  if (!fs::is_regular_file(src.file, ec)) bad_registry(registry, id, "names " + src.file.string() + ", which does not exist");
  return src;
}

std::vector<ResolvedSource> registry_sources(const fs::path& dir, const fs::path& registry, const json& index,
                                             std::string id, const std::vector<std::string>& subsets) {
  const json* entry = &index.at(id);
  for (int depth = 0; entry->is_object() && entry->contains("alias_of"); ++depth) {
    const std::string target = string_field(*entry, "alias_of", registry, id);
    if (depth > 8 || !index.contains(target)) bad_registry(registry, id, "is an alias of unknown or cyclic '" + target + "'");
    id = target;
    entry = &index.at(id);
  }
  if (!entry->is_object()) bad_registry(registry, id, "must be an object such as {\"file\": \"name.jsonl\"}");
  const json empty = json::object();
  const auto subsets_it = entry->find("subsets");
  const json& declared = subsets_it != entry->end() && subsets_it->is_object() ? *subsets_it : empty;

  std::vector<ResolvedSource> out;
  auto add = [&](const std::string& subset) {
    const auto it = declared.find(subset);
    out.push_back(registry_source(dir, registry, id, *entry, subset, it == declared.end() ? nullptr : &*it));
  };
  if (wants_default(subsets)) {
    add(kDefault);
    return out;
  }
  for (const std::string& subset : subsets) {
    if (subset == kAll) {
      if (!declared.contains(kDefault) && entry->contains("file")) add(kDefault);
      for (const auto& [name, _] : declared.items()) add(name);
    } else if (declared.contains(subset) || subset == kDefault) {
      add(subset);
    } else {
      std::string names = kDefault;
      for (const auto& [name, _] : declared.items())
        if (name != kDefault) names += ", " + name;
      throw DatasetError("dataset '" + id + "' has no subset '" + subset + "'; available: " + names + ", all (" +
                         registry.string() + ")");
    }
  }
  return out;
}

bool looks_like_path(const std::string& s) {
  return s.starts_with('/') || s.starts_with("./") || s.starts_with("../") || s.starts_with('~') || s == "." ||
         is_data_file(fs::path(s));
}

void check_id(const DatasetSpec& spec) {
  const std::string& id = spec.name;
  std::size_t start = 0;
  while (true) {
    const std::size_t slash = id.find('/', start);
    const std::string part = id.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (part.empty() || part == "." || part == ".." || part.find('\\') != std::string::npos)
      throw DatasetError("dataset '" + spec.text + "' is neither an existing file or folder nor a valid id "
                         "('organization/name', optionally ':subset' and '#N')");
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
}

// parse_dataset_spec keeps a '#' suffix that is not a row count as part of the name (a file name may contain '#'),
// so "data.jsonl#-1" arrives here as a location that does not exist. No dataset id contains '#' either, so the suffix
// was meant as '#N': say what is wrong with it rather than "not found".
void refuse_bad_sample_suffix(const DatasetSpec& spec) {
  const std::size_t hash = spec.location.rfind('#');
  if (hash == std::string::npos) return;
  const std::string before = spec.location.substr(0, hash);
  const std::string suffix = spec.location.substr(hash + 1);
  const std::string what = suffix.empty() ? "'#' is not followed by a row count"
                                          : "'#" + suffix + "' is not a row count";
  throw DatasetError("dataset '" + spec.text + "': " + what + ": write '#N' with N a whole number of rows, at least 1 "
                     "(e.g. " + before + "#1000), or leave it out to use every row (no file named " + spec.location +
                     " exists either)");
}

}  // namespace

ResolvedDataset resolve_dataset(const DatasetSpec& spec, const std::vector<fs::path>& search_dirs) {
  ResolvedDataset out;
  out.spec = spec;
  std::error_code ec;

  // Local paths first: the whole location (a path may contain ':'), then the name with subsets of a folder.
  if (fs::exists(spec.location, ec)) {
    out.local = true;
    out.sources = fs::is_directory(spec.location, ec) ? folder_sources(spec.location, {}, "dataset '" + spec.text + "'")
                                                      : sources_of({fs::path(spec.location)}, kDefault);
    return out;
  }
  if (!spec.subsets.empty() && fs::exists(spec.name, ec)) {
    if (!fs::is_directory(spec.name, ec))
      throw DatasetError("dataset '" + spec.text + "': subsets (':" + spec.subsets[0] +
                         "') apply to dataset ids and folders, not to the file " + spec.name);
    out.local = true;
    out.sources = folder_sources(spec.name, spec.subsets, "dataset '" + spec.text + "'");
    return out;
  }
  // A link that loops or dangles is there but cannot be followed: say so, not "not found".
  if (std::error_code link_ec; fs::is_symlink(fs::symlink_status(spec.location, link_ec))) {
    std::error_code target_ec;
    static_cast<void>(fs::status(spec.location, target_ec));
    throw DatasetError("dataset file " + spec.location + " is a symbolic link that cannot be followed (" +
                       target_ec.message() + "); fix the link or pass the file it should point to");
  }
  refuse_bad_sample_suffix(spec);
  if (looks_like_path(spec.location))
    throw DatasetError("dataset file not found: " + spec.location + " (absolute: " +
                       fs::absolute(spec.location, ec).string() + ")");
  check_id(spec);

  std::vector<std::string> looked;
  for (const fs::path& dir : search_dirs) {
    const fs::path registry = dir / "registry.json";
    if (fs::is_regular_file(registry, ec)) {
      const json index = load_registry(registry);
      if (index.contains(spec.name)) {
        out.found_in = dir;
        out.sources = registry_sources(dir, registry, index, spec.name, spec.subsets);
        return out;
      }
      looked.push_back(registry.string() + " (no entry '" + spec.name + "')");
    }
    if (wants_default(spec.subsets)) {
      if (auto f = file_with_stem(dir / fs::path(spec.name).parent_path(), fs::path(spec.name).filename().string())) {
        out.found_in = dir;
        out.sources = sources_of({*f}, kDefault);
        return out;
      }
      looked.push_back((dir / spec.name).string() + "." + suffix_list());
    }
    if (fs::is_directory(dir / spec.name, ec)) {
      out.found_in = dir;
      out.sources = folder_sources(dir / spec.name, spec.subsets, "dataset '" + spec.text + "'");
      return out;
    }
    looked.push_back((dir / spec.name).string() + "/ (folder)");
  }

  std::string message = "dataset '" + spec.text + "' not found.";
  if (search_dirs.empty()) {
    message += " No search directories: the bundled datasets folder was not found and MEGASWIFT_DATASETS is unset.";
  } else {
    message += " Looked in:";
    for (const auto& place : looked) message += "\n  " + place;
  }
  message += "\nPut the data at one of these places (or in a folder listed in MEGASWIFT_DATASETS, ':'-separated), "
             "or pass the path of a local .jsonl/.json/.csv/.txt file.";
  throw DatasetError(message);
}

}  // namespace megaswift::datasets
