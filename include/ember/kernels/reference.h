// Plain scalar reference definitions of every kernel in kernels.h: what the fast paths must match.
// Straight loops with double accumulation (Eigen for the dense products), no SIMD, no threads.
#pragma once

#include <cstdint>
#include <vector>

#include "ember/core/dtype.h"
#include "ember/kernels/kernels.h"

namespace ember::ref {

// x as the 8-bit activation path sees it (uses_int8_activations): per block of dtype_block_size(t)
// values, d = max|x| / 127, x_j -> round_to_nearest_even(x_j / d) * d.
std::vector<float> int8_activations(DType t, const float* x, int64_t n);

// An upper bound on |dot with 8-bit activations - exact dot|: sum_j |w_j| d_x(j) / 2.
double int8_activation_error_bound(DType t, const void* w_row, const float* x, int64_t n);

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
