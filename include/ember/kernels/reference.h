// Plain scalar reference definitions of every kernel in kernels.h: what the fast paths must match.
// Straight loops with double accumulation (Eigen for the dense products), no SIMD, no threads.
#pragma once

#include <cstdint>

#include "ember/core/dtype.h"
#include "ember/kernels/kernels.h"

namespace ember::ref {

double dot(DType t, const void* w_row, const float* x, int64_t n);
void matvec(DType t, const void* W, int64_t rows, int64_t cols, const float* x, float* y);
void matmul(DType t, const void* W, int64_t rows, int64_t cols, const float* X, int64_t m, float* Y);
void rmsnorm(const float* x, const float* w, float* out, int64_t n, float eps);
void softmax(float* x, int64_t n);
void swiglu(const float* gate, const float* up, float* out, int64_t n);
void rope(float* x, int64_t n_heads, int64_t head_dim, int64_t rot_dim, int64_t pos, float theta,
          RopeStyle style, float freq_scale = 1.0f);
void attention(const float* q, const float* k, const float* v, float* out, const AttentionShape& s);
void topk(const float* x, int64_t n, int64_t k, int32_t* idx, float* val);

}  // namespace ember::ref
