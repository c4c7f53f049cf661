// The kernels, written once over a small SIMD vocabulary (Simd<Arch>) and instantiated per ISA:
// Simd<ScalarArch> is one float at a time (the portable fallback); Simd<xsimd arch> is a register
// of xsimd::batch. Each kernel reads like its scalar reference in reference.cpp.
//
// Include this only from a kernels_<isa>.cpp, after defining EMBER_ISA_NAMESPACE (CMake does).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "ember/core/block_decode.h"
#include "ember/core/blocks.h"
#include "ember/core/half.h"
#include "ember/core/repack.h"
#include "kernels/gemm_i8_impl.h"
#include "kernels/kernel_table.h"
#include "kernels/qdot_impl.h"

#if !defined(EMBER_KERNELS_SCALAR_ONLY)
#include <xsimd/xsimd.hpp>
#endif
#if defined(__F16C__) || defined(__AVX512F__)
#include <immintrin.h>
#endif
#if defined(__ARM_NEON)
#include <arm_neon.h>
#endif

namespace ember {
inline namespace EMBER_ISA_NAMESPACE {
namespace {

// ---- the SIMD vocabulary -----------------------------------------------------------------------

struct ScalarArch {};

template <class A>
struct Simd;

template <>
struct Simd<ScalarArch> {
  using V = float;
  static constexpr int N = 1;
  static V zero() { return 0.0f; }
  static V splat(float f) { return f; }
  static V load(const float* p) { return *p; }
  static void store(float* p, V v) { *p = v; }
  static V fma(V a, V b, V c) { return a * b + c; }
  static V max(V a, V b) { return a > b ? a : b; }
  static V exp(V a) { return std::exp(a); }
  static float sum(V v) { return v; }
  static float hmax(V v) { return v; }
};

#if !defined(EMBER_KERNELS_SCALAR_ONLY)
template <class A>
struct Simd {
  using V = xsimd::batch<float, A>;
  static constexpr int N = int(V::size);
  static V zero() { return V(0.0f); }
  static V splat(float f) { return V(f); }
  static V load(const float* p) { return V::load_unaligned(p); }
  static void store(float* p, V v) { v.store_unaligned(p); }
  static V fma(V a, V b, V c) { return xsimd::fma(a, b, c); }
  static V max(V a, V b) { return xsimd::max(a, b); }
  static V exp(V a) { return xsimd::exp(a); }
  static float sum(V v) { return xsimd::hadd(v); }
  static float hmax(V v) {  // (this xsimd has no horizontal max)
    alignas(64) float t[N];
    v.store_aligned(t);
    float m = t[0];
    for (int i = 1; i < N; ++i) m = t[i] > m ? t[i] : m;
    return m;
  }
};
#endif

// ---- element conversions ---------------------------------------------------------------------

inline void f16_to_f32_n(const uint16_t* src, float* dst, int64_t n) {
  int64_t i = 0;
#if defined(__F16C__)
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
#elif defined(__ARM_NEON) && defined(__aarch64__)
  for (; i + 4 <= n; i += 4) {
    uint16x4_t h = vld1_u16(src + i);
    vst1q_f32(dst + i, vcvt_f32_f16(vreinterpret_f16_u16(h)));
  }
#endif
  for (; i < n; ++i) dst[i] = fp16_to_f32(src[i]);
}

inline void bf16_to_f32_n(const uint16_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const uint32_t u = uint32_t(src[i]) << 16;
    std::memcpy(dst + i, &u, 4);
  }
}

// ---- dense vector kernels --------------------------------------------------------------------

template <class A>
float dot_f32(const float* a, const float* b, int64_t n) {
  using S = Simd<A>;
  constexpr int N = S::N;
  auto acc0 = S::zero(), acc1 = S::zero(), acc2 = S::zero(), acc3 = S::zero();
  int64_t i = 0;
  for (; i + 4 * N <= n; i += 4 * N) {
    acc0 = S::fma(S::load(a + i), S::load(b + i), acc0);
    acc1 = S::fma(S::load(a + i + N), S::load(b + i + N), acc1);
    acc2 = S::fma(S::load(a + i + 2 * N), S::load(b + i + 2 * N), acc2);
    acc3 = S::fma(S::load(a + i + 3 * N), S::load(b + i + 3 * N), acc3);
  }
  for (; i + N <= n; i += N) acc0 = S::fma(S::load(a + i), S::load(b + i), acc0);
  float s = S::sum((acc0 + acc1) + (acc2 + acc3));
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

template <class A>
void axpy(float a, const float* x, float* y, int64_t n) {
  using S = Simd<A>;
  const auto va = S::splat(a);
  int64_t i = 0;
  for (; i + S::N <= n; i += S::N) S::store(y + i, S::fma(va, S::load(x + i), S::load(y + i)));
  for (; i < n; ++i) y[i] += a * x[i];
}

template <class A>
void scale(float* y, float a, int64_t n) {
  using S = Simd<A>;
  const auto va = S::splat(a);
  int64_t i = 0;
  for (; i + S::N <= n; i += S::N) S::store(y + i, S::load(y + i) * va);
  for (; i < n; ++i) y[i] *= a;
}

template <class A>
void rmsnorm(const float* x, const float* w, float* out, int64_t n, float eps) {
  using S = Simd<A>;
  const float mean_sq = dot_f32<A>(x, x, n) / float(n);
  const float inv = 1.0f / std::sqrt(mean_sq + eps);
  const auto vinv = S::splat(inv);
  int64_t i = 0;
  if (w) {
    for (; i + S::N <= n; i += S::N) S::store(out + i, S::load(x + i) * vinv * S::load(w + i));
    for (; i < n; ++i) out[i] = x[i] * inv * w[i];
  } else {
    for (; i + S::N <= n; i += S::N) S::store(out + i, S::load(x + i) * vinv);
    for (; i < n; ++i) out[i] = x[i] * inv;
  }
}

template <class A>
void softmax(float* x, int64_t n) {
  using S = Simd<A>;
  if (n <= 0) return;
  float max = x[0];
  int64_t i = 0;
  if (n >= S::N) {
    auto vmax = S::load(x);
    for (i = S::N; i + S::N <= n; i += S::N) vmax = S::max(vmax, S::load(x + i));
    float lanes[64];
    S::store(lanes, vmax);
    for (int l = 0; l < S::N; ++l) max = lanes[l] > max ? lanes[l] : max;
  }
  for (; i < n; ++i) max = x[i] > max ? x[i] : max;
  const auto vmax = S::splat(max);
  auto vsum = S::zero();
  for (i = 0; i + S::N <= n; i += S::N) {
    const auto e = S::exp(S::load(x + i) - vmax);
    S::store(x + i, e);
    vsum = vsum + e;
  }
  float sum = S::sum(vsum);
  for (; i < n; ++i) sum += x[i] = std::exp(x[i] - max);
  scale<A>(x, 1.0f / sum, n);
}

// x[i] <- exp(x[i] - shift); returns the sum (the softmax numerators of a block of scores).
template <class A>
float exp_shift_sum(float* x, int64_t n, float shift) {
  using S = Simd<A>;
  const auto vs = S::splat(shift);
  auto vsum = S::zero();
  int64_t i = 0;
  for (; i + S::N <= n; i += S::N) {
    const auto e = S::exp(S::load(x + i) - vs);
    S::store(x + i, e);
    vsum = vsum + e;
  }
  float sum = S::sum(vsum);
  for (; i < n; ++i) sum += x[i] = std::exp(x[i] - shift);
  return sum;
}

// out[g * out_stride + j] = scale * (q_g . k_j) for the n_q query rows q_g = q + g * n and the n_k
// key rows k_j = k + j * k_stride: attention scores of a block of keys for the query heads that
// share them, each key row met by every head while it is in L1. One call per block rather than one
// indirect call per key and head (which cost ~2 ms a token at 576 positions for Qwen2.5-0.5B).
template <class A>
void key_scores(const float* q, int64_t n_q, const float* k, int64_t n_k, int64_t k_stride, int64_t n, float scale,
                float* out, int64_t out_stride) {
  using S = Simd<A>;
  constexpr int N = S::N;
  if (n % N != 0) {
    for (int64_t j = 0; j < n_k; ++j)
      for (int64_t g = 0; g < n_q; ++g) out[g * out_stride + j] = dot_f32<A>(q + g * n, k + j * k_stride, n) * scale;
    return;
  }
  if (n > 8 * N) {
    // Longer rows (MLA's 576-value latent keys, 16 heads): each register of a key row is loaded
    // once per 8 heads, each head's sum in a register of its own (8 independent FMA chains, and
    // 8 heads' queries stay in L1), reduced once per key and head. Heads past a multiple of 8 take
    // a dot product each. (dot_f32 per key and head before: 486 -> 383 us per DeepSeek layer at
    // 512 positions.)
    constexpr int kHeads = 8;
    for (int64_t j = 0; j < n_k; ++j) {
      const float* kj = k + j * k_stride;
      int64_t g0 = 0;
      for (; g0 + kHeads <= n_q; g0 += kHeads) {
        const float* qg = q + g0 * n;
        typename S::V acc[kHeads];
        for (int g = 0; g < kHeads; ++g) acc[g] = S::zero();
        for (int64_t i = 0; i < n; i += N) {
          const auto kv = S::load(kj + i);
          for (int g = 0; g < kHeads; ++g) acc[g] = S::fma(S::load(qg + g * n + i), kv, acc[g]);
        }
        for (int g = 0; g < kHeads; ++g) out[(g0 + g) * out_stride + j] = S::sum(acc[g]) * scale;
      }
      for (; g0 < n_q; ++g0) out[g0 * out_stride + j] = dot_f32<A>(q + g0 * n, kj, n) * scale;
    }
    return;
  }
  // Head sizes of up to 8 registers (128 floats with AVX-512): the key row stays in registers.
  const int64_t parts = n / N;
  for (int64_t j = 0; j < n_k; ++j) {
    typename S::V kr[8];
    for (int64_t p = 0; p < parts; ++p) kr[p] = S::load(k + j * k_stride + p * N);
    for (int64_t g = 0; g < n_q; ++g) {
      const float* qg = q + g * n;
      auto a0 = S::load(qg) * kr[0], a1 = S::zero();
      for (int64_t p = 1; p + 1 < parts; p += 2) {
        a1 = S::fma(S::load(qg + p * N), kr[p], a1);
        a0 = S::fma(S::load(qg + (p + 1) * N), kr[p + 1], a0);
      }
      if (parts % 2 == 0) a1 = S::fma(S::load(qg + (parts - 1) * N), kr[parts - 1], a1);
      out[g * out_stride + j] = S::sum(a0 + a1) * scale;
    }
  }
}

// A block of keys transposed, for block_scores (the AVX-512 table transposes 16 x 16 tiles in
// registers instead).
void transpose_keys(const float* k, int64_t n_k, int64_t k_stride, int64_t n, float* kt) {
  for (int64_t d = 0; d < n; ++d) {
    for (int64_t j = 0; j < n_k; ++j) kt[d * detail::kKeyBlock + j] = k[j * k_stride + d];
    for (int64_t j = n_k; j < detail::kKeyBlock; ++j) kt[d * detail::kKeyBlock + j] = 0.0f;
  }
}

// Scores of n_q query rows against a transposed block of keys: each row's 64 scores accumulate
// across registers (one broadcast query value times one row of kt per step), so no horizontal sums
// remain, unlike a dot product per key. Prefill attention: many query rows per block of keys.
template <class A>
void block_scores(const float* q, int64_t n_q, const float* kt, int64_t n, const int64_t* valid, float* out,
                  float* row_max) {
  using S = Simd<A>;
  constexpr int C = int(detail::kKeyBlock) / S::N;
  // R rows at a time: each row of kt loaded once for all of them, and R times the independent FMA
  // chains. Four where a row's scores are 4 registers (AVX-512: 16 of its 32 registers), else two.
  constexpr int R = C <= 4 ? 4 : 2;
  for (int64_t g = 0; g < n_q; g += R) {
    const int rows = int(std::min<int64_t>(R, n_q - g));
    typename S::V acc[R][C];
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c) acc[r][c] = S::zero();
    const float* qr[R];
    for (int r = 0; r < R; ++r) qr[r] = q + (g + std::min(r, rows - 1)) * n;  // (rows past n_q repeat the last)
    for (int64_t d = 0; d < n; ++d) {
      const float* kd = kt + d * detail::kKeyBlock;
      typename S::V a[R];
      for (int r = 0; r < R; ++r) a[r] = S::splat(qr[r][d]);
      for (int c = 0; c < C; ++c) {
        const auto kv = S::load(kd + c * S::N);
        for (int r = 0; r < R; ++r) acc[r][c] = S::fma(a[r], kv, acc[r][c]);
      }
    }
    for (int r = 0; r < rows; ++r) {
      float* o = out + (g + r) * detail::kKeyBlock;
      for (int c = 0; c < C; ++c) S::store(o + c * S::N, acc[r][c]);
      if (valid[g + r] == detail::kKeyBlock) {
        auto m = acc[r][0];
        for (int c = 1; c < C; ++c) m = S::max(m, acc[r][c]);
        row_max[g + r] = S::hmax(m);
      } else {
        float m = -INFINITY;
        for (int64_t j = 0; j < valid[g + r]; ++j) m = o[j] > m ? o[j] : m;
        row_max[g + r] = m;
      }
    }
  }
}

// acc[0..width) += sum_j p[j] * rows[j * stride + 0..width): a block of value rows weighted by
// their attention probabilities, acc kept in registers across the block.
template <class A>
void weighted_rows(const float* p, int64_t n, const float* rows, int64_t stride, int64_t width, float* acc) {
  using S = Simd<A>;
  int64_t i = 0;
  // Four registers at a time where the width allows: four independent FMA chains hide the FMA
  // latency that two leave exposed (a 64-wide head is one pass).
  for (; i + 4 * S::N <= width; i += 4 * S::N) {
    typename S::V a[4];
    for (int c = 0; c < 4; ++c) a[c] = S::load(acc + i + c * S::N);
    for (int64_t j = 0; j < n; ++j) {
      const auto pj = S::splat(p[j]);
      for (int c = 0; c < 4; ++c) a[c] = S::fma(pj, S::load(rows + j * stride + i + c * S::N), a[c]);
    }
    for (int c = 0; c < 4; ++c) S::store(acc + i + c * S::N, a[c]);
  }
  for (; i + 2 * S::N <= width; i += 2 * S::N) {
    auto a0 = S::load(acc + i), a1 = S::load(acc + i + S::N);
    for (int64_t j = 0; j < n; ++j) {
      const auto pj = S::splat(p[j]);
      a0 = S::fma(pj, S::load(rows + j * stride + i), a0);
      a1 = S::fma(pj, S::load(rows + j * stride + i + S::N), a1);
    }
    S::store(acc + i, a0);
    S::store(acc + i + S::N, a1);
  }
  for (; i < width; ++i) {
    float a = acc[i];
    for (int64_t j = 0; j < n; ++j) a += p[j] * rows[j * stride + i];
    acc[i] = a;
  }
}

// acc[h * acc_stride + 0..width) += sum_j p[h * p_stride + j] rows[j * stride + 0..width) for
// h < n_heads: weighted_rows for the heads that share a block of value rows, four heads per pass,
// so a value register is loaded once for four heads. It pays where the block is larger than L1
// (MLA's 576-wide latent rows: 147 KiB a block); each lane sums in weighted_rows' order.
template <class A>
void weighted_rows_heads(const float* p, int64_t p_stride, int64_t n_heads, int64_t n, const float* rows,
                         int64_t stride, int64_t width, float* acc, int64_t acc_stride) {
  using S = Simd<A>;
  constexpr int kH = 4;
  int64_t h0 = 0;
  for (; h0 + kH <= n_heads; h0 += kH) {
    int64_t i = 0;
    for (; i + 2 * S::N <= width; i += 2 * S::N) {
      typename S::V a[kH][2];
      for (int h = 0; h < kH; ++h)
        for (int c = 0; c < 2; ++c) a[h][c] = S::load(acc + (h0 + h) * acc_stride + i + c * S::N);
      for (int64_t j = 0; j < n; ++j) {
        const auto v0 = S::load(rows + j * stride + i), v1 = S::load(rows + j * stride + i + S::N);
        for (int h = 0; h < kH; ++h) {
          const auto pj = S::splat(p[(h0 + h) * p_stride + j]);
          a[h][0] = S::fma(pj, v0, a[h][0]);
          a[h][1] = S::fma(pj, v1, a[h][1]);
        }
      }
      for (int h = 0; h < kH; ++h)
        for (int c = 0; c < 2; ++c) S::store(acc + (h0 + h) * acc_stride + i + c * S::N, a[h][c]);
    }
    if (i < width)
      for (int h = 0; h < kH; ++h)
        weighted_rows<A>(p + (h0 + h) * p_stride, n, rows + i, stride, width - i, acc + (h0 + h) * acc_stride + i);
  }
  for (; h0 < n_heads; ++h0) weighted_rows<A>(p + h0 * p_stride, n, rows, stride, width, acc + h0 * acc_stride);
}

template <class A>
void swiglu(const float* gate, const float* up, float* out, int64_t n) {
  using S = Simd<A>;
  const auto one = S::splat(1.0f);
  int64_t i = 0;
  for (; i + S::N <= n; i += S::N) {
    const auto g = S::load(gate + i);
    S::store(out + i, g / (one + S::exp(S::zero() - g)) * S::load(up + i));
  }
  for (; i < n; ++i) out[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

// ---- weight-row dot products -------------------------------------------------------------------

// Plain element types: convert a chunk to F32 on the stack, then FMA against x.
template <class A>
float dot_row_f32(const void* w, const float* x, int64_t n) {
  return dot_f32<A>(static_cast<const float*>(w), x, n);
}

template <class A, void (*kConvert)(const uint16_t*, float*, int64_t)>
float dot_row_16bit(const void* w, const float* x, int64_t n) {
  const auto* src = static_cast<const uint16_t*>(w);
  alignas(64) float tmp[256];
  float s = 0;
  for (int64_t i = 0; i < n; i += 256) {
    const int64_t len = n - i < 256 ? n - i : 256;
    kConvert(src + i, tmp, len);
    s += dot_f32<A>(tmp, x + i, len);
  }
  return s;
}

// Block types: decode each block into registers' worth of floats (block_decode.h, the same decoder
// dequantize_row uses) and FMA it against x while it is hot in L1.
template <class A, class Block, int kValues>
float dot_row_blocks(const void* w, const float* x, int64_t n) {
  using S = Simd<A>;
  const auto* b = static_cast<const Block*>(w);
  alignas(64) float tmp[kValues];
  auto acc0 = S::zero(), acc1 = S::zero();
  const int64_t nb = n / kValues;
  for (int64_t i = 0; i < nb; ++i, x += kValues) {
    decode_block(b[i], tmp);
    for (int j = 0; j < kValues; j += 2 * S::N) {
      acc0 = S::fma(S::load(tmp + j), S::load(x + j), acc0);
      acc1 = S::fma(S::load(tmp + j + S::N), S::load(x + j + S::N), acc1);
    }
  }
  return S::sum(acc0 + acc1);
}

// Sums n floats read as four streams (quarters of the range, in lockstep), each prefetched 4 KiB
// ahead: the read pattern that keeps the most cache lines in flight from one core (a single
// sequential stream leaves bandwidth unused, which would flatter every ratio measured against it).
template <class A>
float read_streams(const float* p, int64_t n) {
  using S = Simd<A>;
  constexpr int64_t kLine = 16, kAhead = 1024;  // floats: one cache line, 4 KiB
  const int64_t q = n / 4 / kLine * kLine;
  auto a0 = S::zero(), a1 = S::zero(), a2 = S::zero(), a3 = S::zero();
  for (int64_t i = 0; i < q; i += kLine) {
    for (int s = 0; s < 4; ++s) __builtin_prefetch(p + s * q + i + kAhead);
    for (int64_t j = 0; j < kLine; j += S::N) {
      a0 = a0 + S::load(p + i + j);
      a1 = a1 + S::load(p + q + i + j);
      a2 = a2 + S::load(p + 2 * q + i + j);
      a3 = a3 + S::load(p + 3 * q + i + j);
    }
  }
  float sum = S::sum((a0 + a1) + (a2 + a3));
  for (int64_t i = 4 * q; i < n; ++i) sum += p[i];
  return sum;
}

// 12 independent FMA chains: enough to cover FMA latency x throughput on current cores.
template <class A>
double fma_probe(int64_t iters, float* sink) {
  using S = Simd<A>;
  constexpr int kChains = 12;
  typename S::V acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = S::splat(1.0f + 0.001f * float(c));
  const auto a = S::splat(0.999999f), b = S::splat(1e-7f);
  for (int64_t i = 0; i < iters; ++i)
    for (int c = 0; c < kChains; ++c) acc[c] = S::fma(acc[c], a, b);
  auto total = acc[0];
  for (int c = 1; c < kChains; ++c) total = total + acc[c];
  *sink = S::sum(total);
  return 2.0 * double(kChains) * double(S::N) * double(iters);
}

// F32 -> BF16, rounding to nearest even (finite values); written so the compiler vectorizes it.
inline void f32_to_bf16_row(const float* src, uint16_t* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    uint32_t u;
    std::memcpy(&u, src + i, 4);
    dst[i] = uint16_t((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
  }
}

inline void copy_f32_row(const void* src, float* dst, int64_t n) { std::memcpy(dst, src, size_t(n) * sizeof(float)); }
inline void f16_row(const void* src, float* dst, int64_t n) { f16_to_f32_n(static_cast<const uint16_t*>(src), dst, n); }
inline void bf16_row(const void* src, float* dst, int64_t n) { bf16_to_f32_n(static_cast<const uint16_t*>(src), dst, n); }

// Load-time layouts (core/repack.h) through their file type's kernels: the row unpacked into a
// per-thread buffer first, so results equal the file type's exactly. Only the AVX-512 kernels read
// the regrouped layout directly (and only their table asks for it); the others meet it when a
// program switches ISA after a model was loaded.
inline const void* unpacked_row(DType t, const void* w, int64_t n) {
  thread_local std::vector<uint8_t> buf;
  const size_t rb = row_bytes(t, n);
  if (buf.size() < rb) buf.resize(rb);
  unpack_rows(t, w, buf.data(), 1, n);
  return buf.data();
}
template <DType kT, detail::DotFn kBase>
float dot_unpacked(const void* w, const float* x, int64_t n) {
  return kBase(unpacked_row(kT, w, n), x, n);
}
template <DType kT, detail::QDotFn kBase>
float qdot_unpacked(const void* w, const void* xq, int64_t n) {
  return kBase(unpacked_row(kT, w, n), xq, n);
}
template <DType kT, detail::DequantFn kBase>
void dequant_unpacked(const void* w, float* y, int64_t n) {
  kBase(unpacked_row(kT, w, n), y, n);
}

// A load-time layout's entries: the file type's F32 dot, 8-bit dot (kQDot, taking kAct) and row
// decoder, each on the unpacked row.
template <class A, DType kT, class Block, int kValues, detail::QDotFn kQDot, detail::ActFormat kAct>
void add_repacked(detail::KernelTable& t) {
  const int slot = detail::dtype_slot(kT);
  t.dot[slot] = dot_unpacked<kT, dot_row_blocks<A, Block, kValues>>;
  t.qdot[slot] = qdot_unpacked<kT, kQDot>;
  t.act[slot] = kAct;
  t.dequant[slot] = dequant_unpacked<kT, decode_row<Block>>;
}
template <class A, DType kT, class Block, class Format>
void add_repacked32(detail::KernelTable& t) {
  add_repacked<A, kT, Block, kQK, qdot_blocks32<A, Format>, detail::ActFormat::kQ8x32>(t);
}

template <class A>
detail::KernelTable make_kernel_table(Isa isa) {
  detail::KernelTable t{};
  using detail::dtype_slot;
  t.isa = isa;
  t.dot[dtype_slot(DType::F32)] = dot_row_f32<A>;
  t.dot[dtype_slot(DType::F16)] = dot_row_16bit<A, f16_to_f32_n>;
  t.dot[dtype_slot(DType::BF16)] = dot_row_16bit<A, bf16_to_f32_n>;
  t.dot[dtype_slot(DType::Q8_0)] = dot_row_blocks<A, BlockQ8_0, kQK>;
  t.dot[dtype_slot(DType::Q4_0)] = dot_row_blocks<A, BlockQ4_0, kQK>;
  t.dot[dtype_slot(DType::Q4_1)] = dot_row_blocks<A, BlockQ4_1, kQK>;
  t.dot[dtype_slot(DType::Q5_0)] = dot_row_blocks<A, BlockQ5_0, kQK>;
  t.dot[dtype_slot(DType::Q5_1)] = dot_row_blocks<A, BlockQ5_1, kQK>;
  t.dot[dtype_slot(DType::Q2_K)] = dot_row_blocks<A, BlockQ2_K, kQK_K>;
  t.dot[dtype_slot(DType::Q3_K)] = dot_row_blocks<A, BlockQ3_K, kQK_K>;
  t.dot[dtype_slot(DType::Q4_K)] = dot_row_blocks<A, BlockQ4_K, kQK_K>;
  t.dot[dtype_slot(DType::Q5_K)] = dot_row_blocks<A, BlockQ5_K, kQK_K>;
  t.dot[dtype_slot(DType::Q6_K)] = dot_row_blocks<A, BlockQ6_K, kQK_K>;
  t.to_bf16 = f32_to_bf16_row;
  t.dequant[dtype_slot(DType::F32)] = copy_f32_row;
  t.dequant[dtype_slot(DType::F16)] = f16_row;
  t.dequant[dtype_slot(DType::BF16)] = bf16_row;
  t.dequant[dtype_slot(DType::Q8_0)] = decode_row<BlockQ8_0>;
  t.dequant[dtype_slot(DType::Q4_0)] = decode_row<BlockQ4_0>;
  t.dequant[dtype_slot(DType::Q4_1)] = decode_row<BlockQ4_1>;
  t.dequant[dtype_slot(DType::Q5_0)] = decode_row<BlockQ5_0>;
  t.dequant[dtype_slot(DType::Q5_1)] = decode_row<BlockQ5_1>;
  t.dequant[dtype_slot(DType::Q2_K)] = decode_row<BlockQ2_K>;
  t.dequant[dtype_slot(DType::Q3_K)] = decode_row<BlockQ3_K>;
  t.dequant[dtype_slot(DType::Q4_K)] = decode_row<BlockQ4_K>;
  t.dequant[dtype_slot(DType::Q5_K)] = decode_row<BlockQ5_K>;
  t.dequant[dtype_slot(DType::Q6_K)] = decode_row<BlockQ6_K>;
  using detail::ActFormat;
  auto int8_path = [&](DType dt, detail::QDotFn f, ActFormat fmt) {
    t.qdot[dtype_slot(dt)] = f;
    t.act[dtype_slot(dt)] = fmt;
  };
  int8_path(DType::Q8_0, (qdot_blocks32<A, FormatQ8_0>), ActFormat::kQ8x32);
  int8_path(DType::Q4_0, (qdot_blocks32<A, FormatQ4_0>), ActFormat::kQ8x32);
  int8_path(DType::Q4_1, (qdot_blocks32<A, FormatQ4_1>), ActFormat::kQ8x32);
  int8_path(DType::Q5_0, (qdot_blocks32<A, FormatQ5_0>), ActFormat::kQ8x32);
  int8_path(DType::Q5_1, (qdot_blocks32<A, FormatQ5_1>), ActFormat::kQ8x32);
  int8_path(DType::Q2_K, qdot_q2_k<A>, ActFormat::kQ8x256);
  int8_path(DType::Q3_K, qdot_q3_k<A>, ActFormat::kQ8x256);
  int8_path(DType::Q4_K, (qdot_k4<A, false, BlockQ4_K>), ActFormat::kQ8x256);
  int8_path(DType::Q5_K, (qdot_k4<A, true, BlockQ5_K>), ActFormat::kQ8x256);
  int8_path(DType::Q6_K, qdot_q6_k<A>, ActFormat::kQ8x256);
  // The load-time layouts, through the kernels of the file type (the table's own layout choice is
  // the file type itself: only the AVX-512 table prefers another).
  for (int i = 0; i < detail::kNumDTypes; ++i)
    t.layout[i] = i < detail::kNumFileDTypes ? kAllDTypes[i] : kRepackedDTypes[i - detail::kNumFileDTypes];
  add_repacked32<A, DType::Q4_0x4, BlockQ4_0, FormatQ4_0>(t);
  add_repacked32<A, DType::Q4_1x4, BlockQ4_1, FormatQ4_1>(t);
  add_repacked32<A, DType::Q5_0x4, BlockQ5_0, FormatQ5_0>(t);
  add_repacked32<A, DType::Q5_1x4, BlockQ5_1, FormatQ5_1>(t);
  add_repacked32<A, DType::Q8_0x2, BlockQ8_0, FormatQ8_0>(t);
  add_repacked<A, DType::Q2_Kx16, BlockQ2_K, kQK_K, qdot_q2_k<A>, ActFormat::kQ8x256>(t);
  add_repacked<A, DType::Q3_Kx16, BlockQ3_K, kQK_K, qdot_q3_k<A>, ActFormat::kQ8x256>(t);
  add_repacked<A, DType::Q4_Kx16, BlockQ4_K, kQK_K, (qdot_k4<A, false, BlockQ4_K>), ActFormat::kQ8x256>(t);
  t.quantize_act[int(ActFormat::kQ8x32)] = quantize_act_32;
  t.quantize_act[int(ActFormat::kQ8x256)] = quantize_act_256;
  t.gemm_i8_signed_codes = false;
  t.gemm_i8_pack_act = gemm_i8_pack_act;
  t.gemm_i8_pack_panel = detail::gemm_i8_pack_panel;
  t.gemm_i8[0] = t.gemm_i8[1] = gemm_i8_panel_ref;
  t.dot_f32 = dot_f32<A>;
  t.axpy = axpy<A>;
  t.scale = scale<A>;
  t.rmsnorm = rmsnorm<A>;
  t.softmax = softmax<A>;
  t.swiglu = swiglu<A>;
  t.exp_shift_sum = exp_shift_sum<A>;
  t.weighted_rows_heads = weighted_rows_heads<A>;
  t.key_scores = key_scores<A>;
  t.transpose_keys = transpose_keys;
  t.block_scores = block_scores<A>;
  t.fma_probe = fma_probe<A>;
  t.read_streams = read_streams<A>;
  return t;
}

}  // namespace
}  // namespace EMBER_ISA_NAMESPACE
}  // namespace ember
