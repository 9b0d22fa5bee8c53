#include "host/cli/frontend.hpp"

#include "host/config/error.hpp"
#include "host/core/host_api.hpp"
#include "host/core/out_of_memory.hpp"
#include "host/core/status.hpp"
#include "host/ops/ops_api.hpp"
#include "kernels/cpu/blas_dispatch.hpp"
#ifdef MEGASWIFT_HAVE_CUDA
#include "host/cuda/cuda_backend.hpp"
#endif

#include <megaswift/sdk/status.hpp>

#include <iostream>
#include <new>
#include <stdexcept>

#include <unistd.h>

namespace megaswift::cli {
namespace {

void print_usage(std::ostream& out, std::string_view program, const std::vector<Subcommand>& subcommands) {
  out << "usage: " << program << " <command> [--flag value ...]\n\ncommands:\n";
  for (const auto& s : subcommands) out << "  " << s.name << std::string(12 - std::min<size_t>(11, s.name.size()), ' ') << s.summary << "\n";
  out << "\n'" << program << " <command> --help' lists the flags of a command.\n";
}

// OpenBLAS picked its GEMM kernels when it was loaded, before main. On a CPU it does not recognise it falls back to
// generic SSE3 kernels (3x slower steps measured on the GPU host's Sapphire Rapids); then run this program again with
// OPENBLAS_CORETYPE naming the family that fits. The variable stays set, so this happens at most once.
void rerun_with_fitting_blas_kernels(char** argv) {
  const auto core = kernels::cpu::better_blas_coretype();
  if (!core) return;
  ::setenv("OPENBLAS_CORETYPE", core->c_str(), 1);
  ::execv("/proc/self/exe", argv);
  // exec failed (no /proc): go on with the kernels OpenBLAS chose.
}

}  // namespace

int run_frontend(std::string_view program, int argc, char** argv, const std::vector<Subcommand>& subcommands) {
  rerun_with_fitting_blas_kernels(argv);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "-h" || args[0] == "--help") {
    print_usage(args.empty() ? std::cerr : std::cout, program, subcommands);
    return args.empty() ? kUsage : kOk;
  }
  if (args[0] == "--version" || args[0] == "-V") {
    std::cout << program << " (Megaswift) " << MEGASWIFT_VERSION << "\n";
    return kOk;
  }
  // Everything plugins reach through the host table is in place before the first plugin loads.
  host::install_ops(&host::ops_api());
#ifdef MEGASWIFT_HAVE_CUDA
  host::cuda::register_cuda_backend();
#endif
  const std::string name = args[0];
  args.erase(args.begin());
  for (const auto& s : subcommands) {
    if (s.name != name) continue;
    const std::string where = std::string(program) + " " + name;
    try {
      return s.run(args);
    } catch (const config::ConfigError& e) {
      std::cerr << where << ": error: " << e.what() << "\n";
      return kUsage;
    } catch (const host::HostError& e) {
      std::cerr << where << ": error: " << e.what() << "\n";
      return e.code() == MSW_STATUS_INVALID_ARGUMENT ? kUsage : kFailed;
    } catch (const sdk::Error& e) {  // a plugin's status, rethrown by a handle (TokenizerHandle, ...)
      std::cerr << where << ": error: " << e.what() << "\n";
      return e.code() == MSW_STATUS_INVALID_ARGUMENT ? kUsage : kFailed;
    } catch (const std::bad_alloc& e) {  // raw, these say only "std::bad_alloc" / "vector::reserve"
      std::cerr << where << ": error: " << host::out_of_memory_message("running " + where, e.what()) << "\n";
      return kFailed;
    } catch (const std::length_error& e) {
      std::cerr << where << ": error: "
                << host::out_of_memory_message("running " + where, std::string("a size too large: ") + e.what()) << "\n";
      return kFailed;
    } catch (const std::exception& e) {
      std::cerr << where << ": error: " << e.what() << "\n";
      return kFailed;
    }
  }
  std::cerr << program << ": error: unknown command '" << name << "'\n";
  print_usage(std::cerr, program, subcommands);
  return kUsage;
}

}  // namespace megaswift::cli
