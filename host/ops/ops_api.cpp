#include "host/ops/ops_api.hpp"

#include "host/core/args.hpp"
#include "host/core/status.hpp"
#include "host/ops/cpu_ops.hpp"
#include "host/ops/device_ops.hpp"
#include "host/ops/op_profiler.hpp"
#include "host/ops/tensor_args.hpp"

#include "kernels/cpu/threading.hpp"

#include <iterator>
#include <new>
#include <stdexcept>
#include <string>

namespace megaswift::host {
namespace {

namespace impl = ops::cpu_impl;

const char* device_name(int32_t type) {
  switch (type) {
    case MSW_DEVICE_CPU: return "CPU";
    case MSW_DEVICE_CUDA: return "CUDA";
    case MSW_DEVICE_CUDA_HOST: return "CUDA pinned host memory";
    default: return "an unknown device type";
  }
}

// Where an op may run: `device` ops run on the device of ctx (the CPU kernels, or the installed table of the
// device type); `host` ops compute on the host whatever the device (rope_rotary_dim answers a question about a
// config).
enum class Where { device, host };

const ops::DeviceOpTable* g_device_tables[8] = {};  // by msw_device_type (CUDA = 2)

// Runs one op: checks the context, reads the args within the caller's struct_size, picks the backend, and
// turns every failure into a status whose message starts with the op's name. `device_entry` picks the op from a
// device table.
template <class A>
msw_status* dispatch(const char* op, const msw_exec_ctx* ctx, const A* args, size_t required, const char* last_required,
                     void (*cpu)(const msw_exec_ctx&, const A&),
                     void (*const ops::DeviceOpTable::*device_entry)(const msw_exec_ctx&, const A&),
                     Where where = Where::device) noexcept {
  auto error = [op](int32_t code, const std::string& message) {
    return status_new(code, (std::string("ops.") + op + ": " + message).c_str());
  };
  try {
    if (!ctx) return error(MSW_STATUS_INVALID_ARGUMENT, "ctx is NULL");
    if (ctx->struct_size < MSW_SIZE_THROUGH(msw_exec_ctx, device))
      return error(MSW_STATUS_INVALID_ARGUMENT, "ctx->struct_size " + std::to_string(ctx->struct_size) + " is too small");
    A a{};
    if (ArgsError e = read_args(args, required, last_required, &a)) return error(e.code, e.message);
    if (ArgsError e = check_extensions(a.next)) return error(e.code, e.message);
    if (where == Where::device && ctx->device.type != MSW_DEVICE_CPU) {
      const ops::DeviceOpTable* table = ops::device_ops(ctx->device.type);
      if (!table)
        return error(MSW_STATUS_UNSUPPORTED, std::string("no ") + device_name(ctx->device.type) +
                                                 " backend in this build (or it was not started)");
      auto impl = device_entry ? table->*device_entry : nullptr;
      if (!impl)
        return error(MSW_STATUS_UNSUPPORTED, std::string("the ") + device_name(ctx->device.type) +
                                                 " backend has no kernel for this op yet");
      // MEGASWIFT_PROFILE_OPS / --profile: events around the launch on the call's stream (one branch when off).
      ops::OpTimer timer(op, ctx->device,
                         ctx->struct_size >= MSW_SIZE_THROUGH(msw_exec_ctx, stream) ? ctx->stream : nullptr);
      impl(*ctx, a);
      return nullptr;
    }
    if (ctx->num_threads >= 1 && ctx->num_threads != kernels::cpu::num_threads())
      kernels::cpu::set_num_threads(ctx->num_threads);
    ops::OpTimer timer(op, msw_device{MSW_DEVICE_CPU, 0}, nullptr);  // the CPU's ops are synchronous: wall time
    cpu(*ctx, a);
    return nullptr;
  } catch (const ops::OpError& e) {
    return error(e.code, e.message);
  } catch (const std::invalid_argument& e) {
    return error(MSW_STATUS_INVALID_ARGUMENT, e.what());
  } catch (const std::bad_alloc&) {
    return error(MSW_STATUS_OUT_OF_MEMORY, "out of host memory");
  } catch (const std::exception& e) {
    return error(MSW_STATUS_INTERNAL, e.what());
  } catch (...) {
    return error(MSW_STATUS_INTERNAL, "unknown exception");
  }
}

using C = const msw_exec_ctx*;

// One table entry: `last` is the last member the op cannot do without (its required tensors); a caller's
// struct_size must cover it. Later members are optional and read as zero when the caller's struct ends
// before them.
#define MSW_OP_ENTRY(table, name, type, last)                                                                  \
  table.name = [](C c, const type* args) {                                                                     \
    return dispatch<type>(#name, c, args, MSW_SIZE_THROUGH(type, last), #last, impl::name, &ops::DeviceOpTable::name); \
  }

msw_ops_api make_table() {
  msw_ops_api a{};
  a.struct_size = sizeof(msw_ops_api);
  MSW_OP_ENTRY(a, fill, msw_fill_args, out);
  MSW_OP_ENTRY(a, copy, msw_copy_args, dst);
  MSW_OP_ENTRY(a, add, msw_add_args, out);
  MSW_OP_ENTRY(a, accumulate, msw_accumulate_args, dst);
  MSW_OP_ENTRY(a, scale, msw_scale_args, x);
  MSW_OP_ENTRY(a, sum_squares, msw_sum_squares_args, out);
  MSW_OP_ENTRY(a, gemm, msw_gemm_args, c);
  MSW_OP_ENTRY(a, linear_forward, msw_linear_forward_args, y);
  MSW_OP_ENTRY(a, linear_backward, msw_linear_backward_args, dy);
  MSW_OP_ENTRY(a, embedding_forward, msw_embedding_forward_args, out);
  MSW_OP_ENTRY(a, embedding_backward, msw_embedding_backward_args, dtable);
  MSW_OP_ENTRY(a, rmsnorm_forward, msw_rmsnorm_forward_args, rstd);
  MSW_OP_ENTRY(a, rmsnorm_backward, msw_rmsnorm_backward_args, dy);
  MSW_OP_ENTRY(a, layernorm_forward, msw_layernorm_forward_args, rstd);
  MSW_OP_ENTRY(a, layernorm_backward, msw_layernorm_backward_args, dy);
  a.rope_rotary_dim = [](C c, const msw_rope_rotary_dim_args* args) {
    return dispatch<msw_rope_rotary_dim_args>("rope_rotary_dim", c, args, MSW_SIZE_THROUGH(msw_rope_rotary_dim_args, out),
                                              "out", impl::rope_rotary_dim, nullptr, Where::host);
  };
  MSW_OP_ENTRY(a, rope_tables, msw_rope_tables_args, sin);
  MSW_OP_ENTRY(a, rope_forward, msw_rope_args, y);
  MSW_OP_ENTRY(a, rope_backward, msw_rope_args, y);
  MSW_OP_ENTRY(a, qkv_split_forward, msw_qkv_split_args, v);
  MSW_OP_ENTRY(a, qkv_split_backward, msw_qkv_split_args, v);
  MSW_OP_ENTRY(a, attention_forward, msw_attention_args, lse);
  MSW_OP_ENTRY(a, attention_backward, msw_attention_args, dv);
  MSW_OP_ENTRY(a, swiglu_forward, msw_swiglu_args, out);
  MSW_OP_ENTRY(a, swiglu_backward, msw_swiglu_args, dx);
  MSW_OP_ENTRY(a, gelu_forward, msw_gelu_args, y);
  MSW_OP_ENTRY(a, gelu_backward, msw_gelu_args, dx);
  MSW_OP_ENTRY(a, cross_entropy_forward, msw_cross_entropy_args, lse);
  MSW_OP_ENTRY(a, cross_entropy_backward, msw_cross_entropy_args, dlogits);
  MSW_OP_ENTRY(a, adamw_step, msw_adamw_step_args, step);
  MSW_OP_ENTRY(a, sgd_step, msw_sgd_step_args, step);
  MSW_OP_ENTRY(a, attention_kvcache_forward, msw_attention_kvcache_args, cache_seqlens);
  return a;
}

#undef MSW_OP_ENTRY

}  // namespace

namespace ops {

void install_device_ops(int32_t device_type, const DeviceOpTable* table) {
  if (device_type <= MSW_DEVICE_CPU || device_type >= static_cast<int32_t>(std::size(g_device_tables)))
    throw std::invalid_argument("install_device_ops: device type " + std::to_string(device_type) + " is not a device");
  g_device_tables[device_type] = table;
}

const DeviceOpTable* device_ops(int32_t device_type) {
  if (device_type <= MSW_DEVICE_CPU || device_type >= static_cast<int32_t>(std::size(g_device_tables))) return nullptr;
  return g_device_tables[device_type];
}

}  // namespace ops

const msw_ops_api& ops_api() {
  static const msw_ops_api table = make_table();
  return table;
}

}  // namespace megaswift::host
