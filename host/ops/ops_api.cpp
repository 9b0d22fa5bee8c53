#include "host/ops/ops_api.hpp"

#include "host/core/status.hpp"
#include "host/ops/cpu_ops.hpp"
#include "host/ops/tensor_args.hpp"

#include "kernels/cpu/threading.hpp"

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

// Runs one op: checks the context, picks the backend, and turns every failure into a status whose message
// starts with the op's name.
template <class F>
msw_status* dispatch(const char* op, const msw_exec_ctx* ctx, F&& cpu) noexcept {
  auto error = [op](int32_t code, const std::string& message) {
    return status_new(code, (std::string("ops.") + op + ": " + message).c_str());
  };
  try {
    if (!ctx) return error(MSW_STATUS_INVALID_ARGUMENT, "ctx is NULL");
    if (ctx->struct_size < sizeof(uint32_t) + sizeof(int32_t) + sizeof(msw_device))
      return error(MSW_STATUS_INVALID_ARGUMENT, "ctx->struct_size " + std::to_string(ctx->struct_size) + " is too small");
    if (ctx->device.type != MSW_DEVICE_CPU)
      return error(MSW_STATUS_UNSUPPORTED, std::string("no ") + device_name(ctx->device.type) +
                                               " implementation in this build (only the CPU backend exists so far)");
    if (ctx->num_threads >= 1 && ctx->num_threads != kernels::cpu::num_threads())
      kernels::cpu::set_num_threads(ctx->num_threads);
    cpu();
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

using T = const msw_tensor*;
using C = const msw_exec_ctx*;

msw_ops_api make_table() {
  msw_ops_api a{};
  a.struct_size = sizeof(msw_ops_api);
  a.fill = [](C c, T out, double v) { return dispatch("fill", c, [&] { impl::fill(*c, out, v); }); };
  a.copy = [](C c, T s, T d) { return dispatch("copy", c, [&] { impl::copy(*c, s, d); }); };
  a.add = [](C c, T x, T y, T o) { return dispatch("add", c, [&] { impl::add(*c, x, y, o); }); };
  a.accumulate = [](C c, T s, T d) { return dispatch("accumulate", c, [&] { impl::accumulate(*c, s, d); }); };
  a.scale = [](C c, T x, double s) { return dispatch("scale", c, [&] { impl::scale(*c, x, s); }); };
  a.sum_squares = [](C c, T x, double* o) { return dispatch("sum_squares", c, [&] { impl::sum_squares(*c, x, o); }); };
  a.gemm = [](C c, int32_t ta, int32_t tb, double al, T x, T y, double be, T z) {
    return dispatch("gemm", c, [&] { impl::gemm(*c, ta, tb, al, x, y, be, z); });
  };
  a.linear_forward = [](C c, T x, T w, T b, T y) {
    return dispatch("linear_forward", c, [&] { impl::linear_forward(*c, x, w, b, y); });
  };
  a.linear_backward = [](C c, T x, T w, T dy, T dx, T dw, T db, int32_t acc) {
    return dispatch("linear_backward", c, [&] { impl::linear_backward(*c, x, w, dy, dx, dw, db, acc); });
  };
  a.embedding_forward = [](C c, T ids, T t, T o) {
    return dispatch("embedding_forward", c, [&] { impl::embedding_forward(*c, ids, t, o); });
  };
  a.embedding_backward = [](C c, T ids, T g, T dt) {
    return dispatch("embedding_backward", c, [&] { impl::embedding_backward(*c, ids, g, dt); });
  };
  a.rmsnorm_forward = [](C c, T x, T w, double eps, T y, T r) {
    return dispatch("rmsnorm_forward", c, [&] { impl::rmsnorm_forward(*c, x, w, eps, y, r); });
  };
  a.rmsnorm_backward = [](C c, T x, T w, T r, T dy, T dx, T dw) {
    return dispatch("rmsnorm_backward", c, [&] { impl::rmsnorm_backward(*c, x, w, r, dy, dx, dw); });
  };
  a.layernorm_forward = [](C c, T x, T w, T b, double eps, T y, T m, T r) {
    return dispatch("layernorm_forward", c, [&] { impl::layernorm_forward(*c, x, w, b, eps, y, m, r); });
  };
  a.layernorm_backward = [](C c, T x, T w, T m, T r, T dy, T dx, T dw, T db) {
    return dispatch("layernorm_backward", c, [&] { impl::layernorm_backward(*c, x, w, m, r, dy, dx, dw, db); });
  };
  a.rope_rotary_dim = [](C c, const msw_rope_config* cfg, int64_t* o) {
    return dispatch("rope_rotary_dim", c, [&] { impl::rope_rotary_dim(*c, cfg, o); });
  };
  a.rope_tables = [](C c, const msw_rope_config* cfg, T p, T co, T si) {
    return dispatch("rope_tables", c, [&] { impl::rope_tables(*c, cfg, p, co, si); });
  };
  a.rope_forward = [](C c, T x, T co, T si, T y) {
    return dispatch("rope_forward", c, [&] { impl::rope_forward(*c, x, co, si, y); });
  };
  a.rope_backward = [](C c, T dy, T co, T si, T dx) {
    return dispatch("rope_backward", c, [&] { impl::rope_backward(*c, dy, co, si, dx); });
  };
  a.qkv_split_forward = [](C c, T qkv, T q, T k, T v) {
    return dispatch("qkv_split_forward", c, [&] { impl::qkv_split_forward(*c, qkv, q, k, v); });
  };
  a.qkv_split_backward = [](C c, T dq, T dk, T dv, T dqkv) {
    return dispatch("qkv_split_backward", c, [&] { impl::qkv_split_backward(*c, dq, dk, dv, dqkv); });
  };
  a.attention_forward = [](C c, T q, T k, T v, double s, T o, T l, T p) {
    return dispatch("attention_forward", c, [&] { impl::attention_forward(*c, q, k, v, s, o, l, p); });
  };
  a.attention_backward = [](C c, T q, T k, T v, T o, T l, T p, T g, double s, T dq, T dk, T dv) {
    return dispatch("attention_backward", c, [&] { impl::attention_backward(*c, q, k, v, o, l, p, g, s, dq, dk, dv); });
  };
  a.swiglu_forward = [](C c, T x, T o) { return dispatch("swiglu_forward", c, [&] { impl::swiglu_forward(*c, x, o); }); };
  a.swiglu_backward = [](C c, T x, T g, T dx) {
    return dispatch("swiglu_backward", c, [&] { impl::swiglu_backward(*c, x, g, dx); });
  };
  a.gelu_forward = [](C c, T x, T y, int32_t ap) {
    return dispatch("gelu_forward", c, [&] { impl::gelu_forward(*c, x, y, ap); });
  };
  a.gelu_backward = [](C c, T x, T dy, T dx, int32_t ap) {
    return dispatch("gelu_backward", c, [&] { impl::gelu_backward(*c, x, dy, dx, ap); });
  };
  a.cross_entropy_forward = [](C c, T lg, T lb, int64_t ig, T lse, T ptl, msw_cross_entropy_result* o) {
    return dispatch("cross_entropy_forward", c, [&] { impl::cross_entropy_forward(*c, lg, lb, ig, lse, ptl, o); });
  };
  a.cross_entropy_backward = [](C c, T lg, T lb, T lse, int64_t ig, double gs, T dl) {
    return dispatch("cross_entropy_backward", c, [&] { impl::cross_entropy_backward(*c, lg, lb, lse, ig, gs, dl); });
  };
  return a;
}

}  // namespace

const msw_ops_api& ops_api() {
  static const msw_ops_api table = make_table();
  return table;
}

}  // namespace megaswift::host
