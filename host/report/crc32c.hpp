// CRC32C (Castagnoli), the checksum TFRecord framing uses, and TFRecord's masking of it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace megaswift::report {

// CRC-32C of `size` bytes, continuing from `crc` (0 to start): reflected polynomial 0x82F63B78, init and final
// xor 0xFFFFFFFF, so crc32c("123456789") == 0xE3069283.
uint32_t crc32c(const void* data, std::size_t size, uint32_t crc = 0);
inline uint32_t crc32c(std::string_view bytes) { return crc32c(bytes.data(), bytes.size()); }

// TFRecord stores masked CRCs: a CRC over data that itself holds CRCs would otherwise be degenerate.
inline uint32_t mask_crc(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }

}  // namespace megaswift::report
