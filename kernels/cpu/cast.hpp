// Casts between float32 and the 16-bit float formats bf16 and fp16, and between bf16 and fp16.
//
// 16-bit values are carried as their bit patterns (uint16_t), the way safetensors stores them.
// Narrowing rounds to nearest, ties to even. NaN stays NaN (sign kept, made quiet: a bf16 NaN is
// never truncated into an infinity). float -> fp16: magnitudes >= 65520 become +-inf, small values
// become fp16 subnormals or +-0 with correct rounding. Widening (bf16/fp16 -> float) is exact.
// bf16 <-> fp16 goes through float32, which is exact on the widening side, so it rounds once.
//
// Backward of a cast is the cast of the gradient the other way (the host does that); there is no
// separate backward kernel. Arrays: n elements, contiguous; in and out must not overlap.
#pragma once

#include <cstdint>

namespace megaswift::kernels::cpu {

uint16_t float_to_bf16(float x);
float bf16_to_float(uint16_t bits);
uint16_t float_to_fp16(float x);
float fp16_to_float(uint16_t bits);

void cast_f32_to_bf16(const float* in, uint16_t* out, int64_t n);
void cast_bf16_to_f32(const uint16_t* in, float* out, int64_t n);
void cast_f32_to_f16(const float* in, uint16_t* out, int64_t n);
void cast_f16_to_f32(const uint16_t* in, float* out, int64_t n);
void cast_bf16_to_f16(const uint16_t* in, uint16_t* out, int64_t n);
void cast_f16_to_bf16(const uint16_t* in, uint16_t* out, int64_t n);

}  // namespace megaswift::kernels::cpu
