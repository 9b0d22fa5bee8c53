// The OpenBLAS kernel family the front ends force when OpenBLAS's detection fell back to generic kernels.
#include <kernels/cpu/blas_dispatch.hpp>

#include <doctest/doctest.h>

using megaswift::kernels::cpu::blas_coretype_for;
using megaswift::kernels::cpu::CpuFeatures;

TEST_CASE("a CPU with AVX-512 that OpenBLAS took for a Prescott gets the SkylakeX kernels") {
  CHECK(blas_coretype_for("Prescott", CpuFeatures{true, true}, false) == std::optional<std::string>("SkylakeX"));
  CHECK(blas_coretype_for("Haswell", CpuFeatures{true, true}, false) == std::optional<std::string>("SkylakeX"));
}

TEST_CASE("an AVX2 CPU taken for a generic core gets Haswell; a right detection or a user's choice is left alone") {
  CHECK(blas_coretype_for("Core2", CpuFeatures{false, true}, false) == std::optional<std::string>("Haswell"));
  CHECK_FALSE(blas_coretype_for("Zen", CpuFeatures{false, true}, false));
  CHECK_FALSE(blas_coretype_for("SkylakeX", CpuFeatures{true, true}, false));
  CHECK_FALSE(blas_coretype_for("Cooperlake", CpuFeatures{true, true}, false));
  CHECK_FALSE(blas_coretype_for("Prescott", CpuFeatures{true, true}, true));  // OPENBLAS_CORETYPE set by the user
  CHECK_FALSE(blas_coretype_for("Prescott", CpuFeatures{false, false}, false));  // nothing better to offer
}

TEST_CASE("this machine's OpenBLAS either uses the CPU's vector width or has a better family named") {
  const auto better = megaswift::kernels::cpu::better_blas_coretype();
  MESSAGE("OpenBLAS core: " << megaswift::kernels::cpu::blas_corename()
                            << (better ? ", better: " + *better : std::string(", fits the CPU")));
  CHECK(!megaswift::kernels::cpu::blas_corename().empty());
}
