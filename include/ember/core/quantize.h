// Row quantization and dequantization for every dtype: plain scalar code, the reference that the
// fast kernels are tested against. Dequantization is bit-exact with ggml's; quantization follows
// ggml's reference quantizers (quantize_row_*_ref) evaluated in float32 without contraction.
#pragma once

#include <cstdint>

#include "ember/core/dtype.h"

namespace ember {

// Convert `n` floats into `n` values of type `t` at `dst` (row_bytes(t, n) bytes).
// n must be a multiple of dtype_block_size(t).
void quantize_row(DType t, const float* src, void* dst, int64_t n);

// Convert `n` values of type `t` at `src` into floats.
void dequantize_row(DType t, const void* src, float* dst, int64_t n);

// Per-format entry points (n a multiple of the block size).
void quantize_row_q4_0(const float* x, void* y, int64_t n);
void quantize_row_q4_1(const float* x, void* y, int64_t n);
void quantize_row_q5_0(const float* x, void* y, int64_t n);
void quantize_row_q5_1(const float* x, void* y, int64_t n);
void quantize_row_q8_0(const float* x, void* y, int64_t n);
void quantize_row_q2_k(const float* x, void* y, int64_t n);
void quantize_row_q3_k(const float* x, void* y, int64_t n);
void quantize_row_q4_k(const float* x, void* y, int64_t n);
void quantize_row_q5_k(const float* x, void* y, int64_t n);
void quantize_row_q6_k(const float* x, void* y, int64_t n);

void dequantize_row_q4_0(const void* x, float* y, int64_t n);
void dequantize_row_q4_1(const void* x, float* y, int64_t n);
void dequantize_row_q5_0(const void* x, float* y, int64_t n);
void dequantize_row_q5_1(const void* x, float* y, int64_t n);
void dequantize_row_q8_0(const void* x, float* y, int64_t n);
void dequantize_row_q2_k(const void* x, float* y, int64_t n);
void dequantize_row_q3_k(const void* x, float* y, int64_t n);
void dequantize_row_q4_k(const void* x, float* y, int64_t n);
void dequantize_row_q5_k(const void* x, float* y, int64_t n);
void dequantize_row_q6_k(const void* x, float* y, int64_t n);

}  // namespace ember
