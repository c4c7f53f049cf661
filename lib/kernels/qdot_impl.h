// Quantized weight x 8-bit activation dot products (ggml's vec_dot_*_q8 idea, our own code).
//
// Decode is memory bound: streaming a 4-bit weight row costs 0.56 bytes per weight, and turning
// every weight into a float to FMA it costs more instructions than the memory system leaves time
// for. So the activation vector is quantized once per product to int8 blocks (amax/127 scale,
// round to nearest), and each weight block's integer codes meet it in an integer dot product
// (int8_ops.h: vpdpbusd / maddubs / sdot); scales are applied once per block:
//
//   sum_j w_j x_j = d_w d_x sum_j q_j a_j  +  (offset terms that only need sum_j a_j)
//
// where w_j = d_w (q_j - z) [+ m] and x_j ~ d_x a_j. The per-block sums of a_j are precomputed with
// the activations (ActQ8_32::sum, ActQ8_256::bsums), so zero points and mins cost one scalar FMA.
// The error this adds is bounded by sum_j |w_j| d_x/2 and tested against that bound.
#pragma once

#include <cmath>
#include <cstdint>

#include "ember/core/blocks.h"
#include "kernels/int8_ops.h"

namespace ember {
inline namespace EMBER_ISA_NAMESPACE {
namespace {

// Activations for the 32-value formats, as three arrays (eight blocks' scales load as one vector):
// per block the scale d and d * (sum of codes), then all codes. Size: act_bytes() in kernel_table.h.
struct ActQ8_32 {
  const float* d;
  const float* sum;
  const int8_t* qs;
  ActQ8_32(const void* p, int64_t n)
      : d(static_cast<const float*>(p)), sum(d + n / kQK), qs(reinterpret_cast<const int8_t*>(sum + n / kQK)) {}
};
// Activations for the 256-value K formats: one scale, sums of each 16 codes, codes.
struct ActQ8_256 {
  float d;
  int16_t bsums[kQK_K / 16];
  int8_t qs[kQK_K];
};

// Round to nearest even for |v| < 2^22 (adding 1.5*2^23 leaves the integer in the low mantissa
// bits); vectorizes where std::nearbyint may not.
inline int32_t round_small(float v) {
  const float t = v + 12582912.0f;
  int32_t i;
  std::memcpy(&i, &t, 4);
  return (i & 0x007fffff) - 0x00400000;
}

// Codes q_j = round(x_j / d), d = max|x| / 127, so q_j is in [-127, 127].
inline float quantize_block_i8(const float* x, int n, int8_t* q) {
  float amax = 0;
  for (int j = 0; j < n; ++j) {
    const float a = std::fabs(x[j]);
    amax = a > amax ? a : amax;  // (std::fmax is a libm call here, and NaN-aware we do not need)
  }
  const float d = amax / 127.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  for (int j = 0; j < n; ++j) q[j] = int8_t(round_small(x[j] * id));
  return d;
}

void quantize_act_32(const float* x, void* out, int64_t n) {
  const int64_t nb = n / kQK;
  float* d = static_cast<float*>(out);
  float* sum = d + nb;
  int8_t* qs = reinterpret_cast<int8_t*>(sum + nb);
  for (int64_t i = 0; i < nb; ++i) {
    d[i] = quantize_block_i8(x + i * kQK, kQK, qs + i * kQK);
    int32_t s = 0;
    for (int j = 0; j < kQK; ++j) s += qs[i * kQK + j];
    sum[i] = d[i] * float(s);
  }
}

void quantize_act_256(const float* x, void* out, int64_t n) {
  auto* a = static_cast<ActQ8_256*>(out);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    a[i].d = quantize_block_i8(x + i * kQK_K, kQK_K, a[i].qs);
    for (int g = 0; g < kQK_K / 16; ++g) {
      int32_t s = 0;
      for (int j = 0; j < 16; ++j) s += a[i].qs[16 * g + j];
      a[i].bsums[g] = int16_t(s);
    }
  }
}

// ---- 32-value formats ----------------------------------------------------------------------------
//
// Each format gives one block's integer dot product (codes against activation codes), its fp16
// scale, and its affine part: a zero point z (w = d (q - z)) or a min m (w = d q + m).
// Blocks go eight at a time: their eight integer sums are reduced into one vector, so scales are
// converted, multiplied and accumulated with one vector operation per eight blocks instead of
// several scalar ones per block (the loop is instruction bound, not memory bound, otherwise).

inline uint32_t load_qh(const uint8_t qh[4]) {
  uint32_t v;
  std::memcpy(&v, qh, 4);  // little-endian, as GGUF stores it (every target we build for is LE)
  return v;
}

struct FormatQ8_0 {  // w = d q, q signed
  using Block = BlockQ8_0;
  static constexpr int kZeroPoint = 0;
  static constexpr bool kHasMin = false;
  template <class O> static auto dot(const Block& b, const int8_t* x) { return O::dot_s8(b.qs, x); }
};
struct FormatQ4_0 {  // w = d (q - 8)
  using Block = BlockQ4_0;
  static constexpr int kZeroPoint = 8;
  static constexpr bool kHasMin = false;
  template <class O> static auto dot(const Block& b, const int8_t* x) { return O::dot(O::nibbles16(b.qs), x); }
};
struct FormatQ4_1 {  // w = d q + m
  using Block = BlockQ4_1;
  static constexpr int kZeroPoint = 0;
  static constexpr bool kHasMin = true;
  template <class O> static auto dot(const Block& b, const int8_t* x) { return O::dot(O::nibbles16(b.qs), x); }
};
struct FormatQ5_0 {  // w = d (q - 16), 5th bit of value j in bit j of qh
  using Block = BlockQ5_0;
  static constexpr int kZeroPoint = 16;
  static constexpr bool kHasMin = false;
  template <class O> static auto dot(const Block& b, const int8_t* x) {
    return O::dot(O::or_(O::nibbles16(b.qs), O::bit_bytes(load_qh(b.qh), 0x10)), x);
  }
};
struct FormatQ5_1 {  // w = d q + m
  using Block = BlockQ5_1;
  static constexpr int kZeroPoint = 0;
  static constexpr bool kHasMin = true;
  template <class O> static auto dot(const Block& b, const int8_t* x) {
    return O::dot(O::or_(O::nibbles16(b.qs), O::bit_bytes(load_qh(b.qh), 0x10)), x);
  }
};

template <class A, class Format>
float qdot_blocks32(const void* w, const void* xa, int64_t n) {
  using O = I8<A>;
  const auto* b = static_cast<const typename Format::Block*>(w);
  const ActQ8_32 x(xa, n);
  const int64_t nb = n / kQK;
  auto acc = O::fzero(), affine = O::fzero();
  // Accumulates eight blocks given their integer sums, fp16 scales (and mins), activation scales
  // and activation sums.
  auto accumulate = [&](const typename O::I32 p[8], const uint16_t* dh, const uint16_t* mh, const float* xd,
                        const float* xs) {
    const auto dw = O::half8(dh);
    acc = O::fma_v(O::cvt(O::reduce8(p)), O::fmul(dw, O::loadf(xd)), acc);
    if constexpr (Format::kZeroPoint != 0)
      affine = O::fma_v(O::fmul(dw, O::splatf(-float(Format::kZeroPoint))), O::loadf(xs), affine);
    if constexpr (Format::kHasMin) affine = O::fma_v(O::half8(mh), O::loadf(xs), affine);
  };
  int64_t i = 0;
  for (; i + 8 <= nb; i += 8) {
    typename O::I32 p[8];
    uint16_t dh[8], mh[8];
    for (int k = 0; k < 8; ++k) {
      p[k] = Format::template dot<O>(b[i + k], x.qs + (i + k) * kQK);
      dh[k] = b[i + k].d;
      if constexpr (Format::kHasMin) mh[k] = b[i + k].m;
    }
    accumulate(p, dh, mh, x.d + i, x.sum + i);
  }
  if (i < nb) {
    // A partial last group (896 values = 28 blocks): missing blocks get zero sums and scales.
    typename O::I32 p[8];
    uint16_t dh[8] = {}, mh[8] = {};
    float xd[8] = {}, xs[8] = {};
    for (int k = 0; k < 8; ++k) p[k] = O::izero();
    for (int k = 0; i + k < nb; ++k) {
      p[k] = Format::template dot<O>(b[i + k], x.qs + (i + k) * kQK);
      dh[k] = b[i + k].d;
      if constexpr (Format::kHasMin) mh[k] = b[i + k].m;
      xd[k] = x.d[i + k];
      xs[k] = x.sum[i + k];
    }
    accumulate(p, dh, mh, xd, xs);
  }
  return O::fsum(acc) + O::fsum(affine);
}

// ---- 256-value K formats -------------------------------------------------------------------------

// Q4_K / Q5_K: 8 groups of 32, w = d sc_g q - dmin m_g.
template <class A, bool kFifthBit, class Block>
float qdot_k4(const void* w, const void* xa, int64_t n) {
  using O = I8<A>;
  const auto* b = static_cast<const Block*>(w);
  const auto* x = static_cast<const ActQ8_256*>(xa);
  auto acc = O::fzero();
  float mins = 0;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    uint8_t sc[8], m[8];
    for (int g = 0; g < 8; ++g) k4_scale_min(g, b[i].scales, &sc[g], &m[g]);
    auto isum = O::izero();
    for (int c = 0; c < 4; ++c) {  // chunk c: 32 bytes of nibbles = groups 2c (low) and 2c+1 (high)
      const auto bytes = O::load(b[i].qs + 32 * c);
      auto q0 = O::lo4(bytes), q1 = O::hi4(bytes);
      if constexpr (kFifthBit) {
        const auto hb = O::load(b[i].qh);
        q0 = O::or_(q0, O::shl(O::shr_and(hb, 2 * c, 1), 4));
        q1 = O::or_(q1, O::shl(O::shr_and(hb, 2 * c + 1, 1), 4));
      }
      isum = O::imad(isum, O::dot(q0, x[i].qs + 64 * c), sc[2 * c], sc[2 * c]);
      isum = O::imad(isum, O::dot(q1, x[i].qs + 64 * c + 32), sc[2 * c + 1], sc[2 * c + 1]);
    }
    acc = O::ffma(acc, isum, O::half(b[i].d) * x[i].d);
    int32_t msum = 0;
    for (int g = 0; g < 8; ++g) msum += int32_t(m[g]) * (x[i].bsums[2 * g] + x[i].bsums[2 * g + 1]);
    mins += O::half(b[i].dmin) * x[i].d * float(msum);
  }
  return O::fsum(acc) - mins;
}

// Q6_K: 16 groups of 16, w = d sc_g (q - 32), q = 4 low bits (ql) | 2 high bits (qh).
template <class A>
float qdot_q6_k(const void* w, const void* xa, int64_t n) {
  using O = I8<A>;
  const auto* b = static_cast<const BlockQ6_K*>(w);
  const auto* x = static_cast<const ActQ8_256*>(xa);
  auto acc = O::fzero();
  float offset = 0;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const int8_t* sc = b[i].scales;
    auto isum = O::izero();
    for (int h = 0; h < 2; ++h) {  // each half: 128 values from ql[64h..], qh[32h..]
      const auto l0 = O::load(b[i].ql + 64 * h), l1 = O::load(b[i].ql + 64 * h + 32);
      const auto hb = O::load(b[i].qh + 32 * h);
      const decltype(l0) q[4] = {O::or_(O::lo4(l0), O::shl(O::shr_and(hb, 0, 3), 4)),
                                 O::or_(O::lo4(l1), O::shl(O::shr_and(hb, 2, 3), 4)),
                                 O::or_(O::hi4(l0), O::shl(O::shr_and(hb, 4, 3), 4)),
                                 O::or_(O::hi4(l1), O::shl(O::shr_and(hb, 6, 3), 4))};
      for (int k = 0; k < 4; ++k) {
        const int g = 8 * h + 2 * k;
        isum = O::imad(isum, O::dot(q[k], x[i].qs + 128 * h + 32 * k), sc[g], sc[g + 1]);
      }
    }
    const float d = O::half(b[i].d) * x[i].d;
    acc = O::ffma(acc, isum, d);
    int32_t zsum = 0;
    for (int g = 0; g < 16; ++g) zsum += int32_t(sc[g]) * x[i].bsums[g];
    offset += d * 32.0f * float(zsum);
  }
  return O::fsum(acc) - offset;
}

// Q3_K: 16 groups of 16, w = d sc_g (q - 4), q = 2 low bits (qs) | high bit (hmask) << 2.
template <class A>
float qdot_q3_k(const void* w, const void* xa, int64_t n) {
  using O = I8<A>;
  const auto* b = static_cast<const BlockQ3_K*>(w);
  const auto* x = static_cast<const ActQ8_256*>(xa);
  auto acc = O::fzero();
  float offset = 0;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    int8_t sc[16];
    q3k_scales(b[i].scales, sc);
    const auto hm = O::load(b[i].hmask);
    auto isum = O::izero();
    for (int h = 0; h < 2; ++h) {
      const auto lo = O::load(b[i].qs + 32 * h);
      for (int j = 0; j < 4; ++j) {  // run (h, j): bits 2j of qs, bit 4h+j of hmask; groups 8h+2j, +1
        const auto q = O::or_(O::shr_and(lo, 2 * j, 3), O::shl(O::shr_and(hm, 4 * h + j, 1), 2));
        const int g = 8 * h + 2 * j;
        isum = O::imad(isum, O::dot(q, x[i].qs + 128 * h + 32 * j), sc[g], sc[g + 1]);
      }
    }
    const float d = O::half(b[i].d) * x[i].d;
    acc = O::ffma(acc, isum, d);
    int32_t zsum = 0;
    for (int g = 0; g < 16; ++g) zsum += int32_t(sc[g]) * x[i].bsums[g];
    offset += d * 4.0f * float(zsum);
  }
  return O::fsum(acc) - offset;
}

// Q2_K: 16 groups of 16, w = d sc_g q - dmin m_g, 4-bit sc and m, q = 2 bits.
template <class A>
float qdot_q2_k(const void* w, const void* xa, int64_t n) {
  using O = I8<A>;
  const auto* b = static_cast<const BlockQ2_K*>(w);
  const auto* x = static_cast<const ActQ8_256*>(xa);
  auto acc = O::fzero();
  float mins = 0;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    auto isum = O::izero();
    for (int h = 0; h < 2; ++h) {
      const auto lo = O::load(b[i].qs + 32 * h);
      for (int j = 0; j < 4; ++j) {
        const int g = 8 * h + 2 * j;
        isum = O::imad(isum, O::dot(O::shr_and(lo, 2 * j, 3), x[i].qs + 128 * h + 32 * j), b[i].scales[g] & 0xF,
                       b[i].scales[g + 1] & 0xF);
      }
    }
    acc = O::ffma(acc, isum, O::half(b[i].d) * x[i].d);
    int32_t msum = 0;
    for (int g = 0; g < 16; ++g) msum += int32_t(b[i].scales[g] >> 4) * x[i].bsums[g];
    mins += O::half(b[i].dmin) * x[i].d * float(msum);
  }
  return O::fsum(acc) - mins;
}

}  // namespace
}  // namespace EMBER_ISA_NAMESPACE
}  // namespace ember
