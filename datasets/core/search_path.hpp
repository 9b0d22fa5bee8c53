// Where dataset ids are looked up: the bundled folder, then the folders in MEGASWIFT_DATASETS.
#pragma once

#include <filesystem>
#include <string_view>
#include <vector>

namespace megaswift::datasets {

// The running executable (/proc/self/exe); empty when it cannot be read.
std::filesystem::path current_executable();

// The bundled datasets: <executable's folder>/../share/megaswift/datasets (install tree) when it exists, else the
// source tree's datasets/data (binaries run from the build tree); an empty path when neither exists.
std::filesystem::path bundled_data_dir(const std::filesystem::path& executable);

// The bundled folder (when found), then every non-empty entry of `datasets_env` (':'-separated) in order.
std::vector<std::filesystem::path> default_search_dirs(const std::filesystem::path& executable,
                                                       std::string_view datasets_env);

// default_search_dirs(current_executable(), $MEGASWIFT_DATASETS).
std::vector<std::filesystem::path> default_search_dirs();

}  // namespace megaswift::datasets
