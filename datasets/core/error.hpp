// The one exception type of msw_datasets: a whole dataset cannot be used (file unreadable, bad JSON at a line,
// unknown id, bad spec). Its message names the file/line or the spec and says how to fix it. Single malformed rows
// never throw unless LoadOptions::strict is set; they are counted by reason instead (see issues.hpp).
#pragma once

#include <stdexcept>

namespace megaswift::datasets {

class DatasetError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace megaswift::datasets
