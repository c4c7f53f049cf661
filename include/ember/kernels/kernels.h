// The numeric kernels: everything a transformer forward pass needs, over every weight dtype.
// Each call runs the implementation of the active ISA (isa.h); reference.h has the plain scalar
// definitions they are tested against. Weights are row-major: W has `rows` rows of `cols` values,
// each row stored as row_bytes(dtype, cols) bytes; activations are F32.
#pragma once

#include <cstdint>

#include "ember/core/dtype.h"
#include "ember/kernels/thread_pool.h"

namespace ember {

// Whether dot/matvec with weights of type t quantize the activations to 8 bits on the way in (every
// block-quantized type: integer dot products, see lib/kernels/qdot_impl.h) rather than use x as F32
// (F32, F16, BF16). The added error is at most sum_i |w_i| * d_x / 2, d_x = max|x over the block| / 127.
bool uses_int8_activations(DType t);

// The layout the active kernels read weights of file type t fastest in: a load-time layout
// (core/repack.h) that models repack their matrices to, or t itself. Every kernel accepts every
// layout whichever ISA is active; this only says which one pays.
DType preferred_weight_layout(DType t);

// sum_i w[i] * x[i] over one row of n values of type t (n a multiple of the block size).
float dot(DType t, const void* w_row, const float* x, int64_t n);

// y[r] = dot(row r of W, x) for r in [0, rows): the decode-time product, memory bound.
void matvec(DType t, const void* W, int64_t rows, int64_t cols, const float* x, float* y,
            ThreadPool* pool = nullptr);

// Several products of the same x (cols values) at once: jobs[j].y = W_j x. One parallel pass over
// all their rows, and x quantized once per activation format: Q, K and V of a layer, or gate and up.
struct MatvecJob {
  DType t;
  const void* W;
  int64_t rows;
  float* y;
  size_t row_stride = 0;  // bytes from one row of W to the next; 0: row_bytes(t, cols) (packed)
};
void matvec_many(const MatvecJob* jobs, int n_jobs, int64_t cols, const float* x, ThreadPool* pool = nullptr);

// Y[i, r] = dot(row r of W, row i of X) for i in [0, m): the batched (prefill) product.
// X is m x cols (row-major, F32), Y is m x rows. Uses oneDNN when built with it; fewer than 4 rows
// run as matvecs.
void matmul(DType t, const void* W, int64_t rows, int64_t cols, const float* X, int64_t m, float* Y,
            ThreadPool* pool = nullptr);
// The same over `cols` columns of a wider W whose rows lie `row_stride` bytes apart (W points at
// the first column used, which must start a block; for a load-time layout, a group of four, unless
// the columns run to the rows' end): a feed-forward layer's down projection a slice at a time.
void matmul_strided(DType t, const void* W, size_t row_stride, int64_t rows, int64_t cols, const float* X, int64_t m,
                    float* Y, ThreadPool* pool = nullptr);

// Several products of the same X (m x cols) at once: jobs[j].y (m x jobs[j].rows) = X W_j^T. On the
// integer path X is quantized once for all of them and their rows share one parallel pass; else
// one matmul each. At most 8 jobs share.
void matmul_many(const MatvecJob* jobs, int n_jobs, int64_t cols, const float* X, int64_t m, ThreadPool* pool = nullptr);

// How matmul (m >= 4) multiplies weights of type t (lib/kernels/matmul.cpp; chosen once per
// process from the CPU and EMBER_GEMM, read once):
// - kInt8: X quantized to 8 bits per 32-value block as decode does (the added error is
//   ref::int8_activation_error_bound), integer dot products with the weights' codes. Block types of
//   32-value scales and Q4_K/Q5_K, on AVX-512 VNNI CPUs without AMX and on ARM cores with sdot
//   (the neon-dotprod kernels), unless EMBER_GEMM is f32/bf16.
// - kBF16: X and the weights rounded to BF16, F32 accumulation (added error at most
//   2^-8 sum_i |w_i x_i|): other quantized and BF16 weights, with oneDNN, on CPUs that multiply
//   BF16 natively (AVX512-BF16, AMX), while the AVX-512 kernels are active, unless EMBER_GEMM=f32.
// - kF32: everything else.
enum class GemmPath { kF32, kBF16, kInt8 };
GemmPath matmul_path(DType t);

// out[i] = x[i] / sqrt(mean(x^2) + eps) * w[i]   (w may be null: no gain)
void rmsnorm(const float* x, const float* w, float* out, int64_t n, float eps);

// x <- softmax(x), numerically stable (max subtracted).
void softmax(float* x, int64_t n);

// out[i] = silu(gate[i]) * up[i], silu(g) = g / (1 + e^-g)
void swiglu(const float* gate, const float* up, float* out, int64_t n);

// Rotary position embedding, in place, on n_heads heads of head_dim values at position pos.
// Only the first rot_dim values of each head rotate (rot_dim even, <= head_dim). Pair i rotates by
// angle pos * freq_scale * theta^(-2i/rot_dim).
enum class RopeStyle {
  kNeox,         // pairs (i, i + rot_dim/2): Llama/Qwen2 Hugging Face checkpoints ("rotate_half")
  kInterleaved,  // pairs (2i, 2i+1): GGUF Llama, DeepSeek checkpoints
};
// Pair i rotates by pos * inv_freq[i] (rot_dim / 2 entries: rope_inv_freq, or a scaled table from
// the model's RoPE scaling rule); cos and sin are multiplied by mscale (YaRN's attention factor).
// pos may be negative: rotating a cached key by -d moves it d positions back (context shift).
void rope(float* x, int64_t n_heads, int64_t head_dim, int64_t rot_dim, int64_t pos, const double* inv_freq,
          RopeStyle style, float mscale = 1.0f);
// inv_freq[i] = theta^(-2i/rot_dim), i < rot_dim / 2.
void rope_inv_freq(int64_t rot_dim, float theta, double* inv_freq);
// Convenience form (allocates its table): inv_freq scaled by freq_scale (linear RoPE scaling).
void rope(float* x, int64_t n_heads, int64_t head_dim, int64_t rot_dim, int64_t pos, float theta,
          RopeStyle style, float freq_scale = 1.0f);

// Causal grouped-query attention with online softmax.
// q: n_q tokens x n_heads x head_dim; k, v: n_kv tokens x n_kv_heads x head_dim (rows of the KV
// cache, token-major, with token stride kv_stride floats). Query token t sits at absolute position
// q_pos0 + t and sees keys [0, q_pos0 + t]. Head h reads KV head h / (n_heads / n_kv_heads).
// out: n_q x n_heads x head_dim.
struct AttentionShape {
  int64_t n_q, n_kv, n_heads, n_kv_heads, head_dim;
  int64_t q_pos0;     // absolute position of the first query token
  int64_t kv_stride;  // floats between successive tokens in k and v (>= n_kv_heads * head_dim)
  float scale;        // usually 1/sqrt(head_dim)
};
void attention(const float* q, const float* k, const float* v, float* out, const AttentionShape& s,
               ThreadPool* pool = nullptr);
// The same with the cached keys and values stored as kv_type: F32 (as above) or F16 (IEEE half,
// read a block of 64 rows at a time into F32: exactly what F32 rows holding the same halves give).
// kv_stride counts elements of kv_type.
void attention(const float* q, const void* k, const void* v, DType kv_type, float* out, const AttentionShape& s,
               ThreadPool* pool = nullptr);

// The k largest of x[0..n), in descending order (ties: lower index first): MoE expert routing.
void topk(const float* x, int64_t n, int64_t k, int32_t* idx, float* val);

}  // namespace ember
