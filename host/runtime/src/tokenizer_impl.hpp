// Tokenizer's pimpl, shared with Template (which tokenizes through it). Private to libmegaswift_runtime.so.
#pragma once

#include "host/runtime/src/state.hpp"

#include <megaswift/runtime/tokenizer.hpp>
#include <megaswift/sdk/tokenizer.hpp>

#include <memory>
#include <string>

namespace megaswift::runtime {

struct Tokenizer::Impl {
  std::shared_ptr<const detail::RuntimeState> runtime;  // the Runtime it came from
  std::string plugin;
  std::unique_ptr<sdk::TokenizerHandle> handle;
};

}  // namespace megaswift::runtime
