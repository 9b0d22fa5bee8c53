// The data pipeline's error: the run cannot prepare its data (no usable model directory, no template for the
// model, a template that does not fit the tokenizer). The message names the thing and the fix.
#pragma once

#include <stdexcept>

namespace megaswift::data {

class DataPipelineError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace megaswift::data
