#include "datasets/core/spec.hpp"

#include "datasets/core/error.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace megaswift::datasets {

DatasetSpec parse_dataset_spec(std::string_view text) {
  DatasetSpec spec;
  spec.text = std::string(text);
  std::string_view rest = text;

  if (const std::size_t hash = rest.rfind('#'); hash != std::string_view::npos) {
    const std::string_view digits = rest.substr(hash + 1);
    const bool numeric = !digits.empty() && std::all_of(digits.begin(), digits.end(),
                                                        [](unsigned char c) { return std::isdigit(c); });
    if (numeric) {  // a '#' followed by anything else is part of a file name
      std::size_t n = 0;
      const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
      if (ec != std::errc() || end != digits.data() + digits.size())
        throw DatasetError("dataset '" + spec.text + "': the row count after '#' is too large");
      if (n == 0)
        throw DatasetError("dataset '" + spec.text + "': '#0' asks for no rows; leave out '#N' to use every row");
      spec.sample = n;
      rest = rest.substr(0, hash);
    }
  }
  if (rest.empty()) throw DatasetError("empty dataset name in '" + spec.text + "'");
  spec.location = std::string(rest);

  const std::size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos) {
    spec.name = spec.location;
    return spec;
  }
  spec.name = std::string(rest.substr(0, colon));
  std::string_view subsets = rest.substr(colon + 1);
  if (spec.name.empty()) throw DatasetError("empty dataset name in '" + spec.text + "'");
  while (true) {
    const std::size_t slash = subsets.find('/');
    const std::string_view subset = subsets.substr(0, slash);
    if (subset.empty())
      throw DatasetError("dataset '" + spec.text + "': empty subset name; write id:subset or id:subset1/subset2");
    spec.subsets.emplace_back(subset);
    if (slash == std::string_view::npos) break;
    subsets.remove_prefix(slash + 1);
  }
  return spec;
}

}  // namespace megaswift::datasets
