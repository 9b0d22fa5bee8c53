#include "host/config/declare.hpp"

namespace megaswift::config {

static OptionRegistry build_registry() {
  OptionRegistry registry;
  detail::Declarer d(registry);
  // Declaration order is help order: what a user sets most first, the Megatron groups in the seed's order.
  detail::declare_basic_options(d);
  detail::declare_megatron_options(d);
  detail::declare_command_options(d);
  registry.check_consistency();
  return registry;
}

const OptionRegistry& registry() {
  static const OptionRegistry instance = build_registry();
  return instance;
}

}  // namespace megaswift::config
