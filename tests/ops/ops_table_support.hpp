// The host's ops table as a plugin sees it: megaswift::sdk::Ops (sdk/ops.hpp) over host::ops_api(), on a CPU
// context. Op-level tests call ops through it, so the args structs, the dispatch and the C++ wrapper are all
// exercised; a failing op throws megaswift::sdk::Error with the status code and message.
#pragma once

#include <megaswift/sdk/ops.hpp>

#include "host/core/host_api.hpp"
#include "host/ops/ops_api.hpp"

#include <initializer_list>
#include <vector>

namespace ops_table {

namespace sdk = megaswift::sdk;

// The SDK's view of the host table, as a plugin's entry would set it up (sdk::check needs it).
inline void connect_sdk() {
  if (!megaswift::host::host_api().ops) megaswift::host::install_ops(&megaswift::host::ops_api());
  sdk::detail::g_host = &megaswift::host::host_api();
}

inline const msw_exec_ctx& cpu_ctx() {
  connect_sdk();
  static const msw_exec_ctx ctx = [] {
    msw_exec_ctx c{};
    c.struct_size = sizeof c;
    c.num_threads = 2;
    c.device = {MSW_DEVICE_CPU, 0};
    return c;
  }();
  return ctx;
}

inline sdk::Ops ops() { return sdk::Ops(cpu_ctx()); }

inline msw_tensor f32(std::vector<float>& v, std::initializer_list<int64_t> shape) {
  return sdk::make_tensor(v.data(), MSW_DTYPE_F32, {MSW_DEVICE_CPU, 0}, shape);
}
inline msw_tensor f64(std::vector<double>& v, std::initializer_list<int64_t> shape) {
  return sdk::make_tensor(v.data(), MSW_DTYPE_F64, {MSW_DEVICE_CPU, 0}, shape);
}
inline msw_tensor i64(std::vector<int64_t>& v, std::initializer_list<int64_t> shape) {
  return sdk::make_tensor(v.data(), MSW_DTYPE_I64, {MSW_DEVICE_CPU, 0}, shape);
}
inline msw_tensor i32(std::vector<int32_t>& v, std::initializer_list<int64_t> shape) {
  return sdk::make_tensor(v.data(), MSW_DTYPE_I32, {MSW_DEVICE_CPU, 0}, shape);
}

}  // namespace ops_table
