#!/usr/bin/env bash
# Installs every build and test dependency from Debian packages. Idempotent: a second run
# installs nothing new. Run as root (or through sudo).
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git patchelf
  libboost-dev libboost-program-options-dev libboost-filesystem-dev
  libspdlog-dev libfmt-dev nlohmann-json3-dev libhdf5-dev doctest-dev
  libopenblas-dev libpcre2-dev libutf8proc-dev
)
# The tokenizer tests fetch reference tokenizers with npm; any node >= 18 will do.
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
# ... and write their test corpus with python3 (standard library only).
command -v python3 >/dev/null 2>&1 || packages+=(python3)
# The checkpoint tests check interchange with the Python readers users have, for Debian's /usr/bin/python3:
# torch (1.13, CPU: torch.load of the legacy torch format), zarr, h5py, and numpy (safetensors, zarr, hdf5).
# Each such test skips with a message when its module is missing.
packages+=(python3 python3-torch python3-numpy python3-zarr python3-h5py)
# The training reports draw loss-curve PNGs with cairo; their tests check our TensorBoard event files with Debian's
# protobuf and crc32c Python modules (the check skips when protobuf is missing).
packages+=(libcairo2-dev python3-protobuf python3-crc32c)
# The sanitizer and fuzzer build (scripts/check_sanitized.sh) is clang's: libFuzzer and the shared ASan runtime
# are in libclang-rt-dev, OpenMP for clang in libomp-dev.
packages+=(clang libclang-rt-dev libomp-dev)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "install-deps: every package is present"
fi
