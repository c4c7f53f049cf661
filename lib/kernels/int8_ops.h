// The integer vocabulary of the quantized dot products: 32 unsigned weight codes against 32 int8
// activations at a time, giving 8 int32 lanes (lane l sums bytes 4l..4l+3), as VNNI's vpdpbusd and
// NEON's sdot compute them. One definition per architecture; the kernels (qdot_impl.h) are written
// once over it. xsimd has no widening integer dot product, so these few operations are intrinsics.
//
// Preconditions the kernels keep: unsigned codes are <= 127 (every format's codes are <= 63, Q8_0
// goes through dot_s8), activations are in [-127, 127].
#pragma once

#include <cstdint>
#include <cstring>

#include "ember/core/half.h"

#if defined(__AVX2__)
#include <immintrin.h>
#endif
#if defined(__ARM_NEON)
#include <arm_neon.h>
#endif

namespace ember {
inline namespace EMBER_ISA_NAMESPACE {
namespace {

struct ScalarArch;  // defined in kernels_impl.h

template <class Arch>
struct I8;

// ---- portable scalar definition (also the readable specification) ------------------------------
struct I8Scalar {
  struct U8 { uint8_t b[32]; };
  struct I32 { int32_t v[8]; };
  struct F32 { float v[8]; };

  static U8 load(const uint8_t* p) { U8 r; std::memcpy(r.b, p, 32); return r; }
  // Low nibbles of p[0..16) then high nibbles: the value order of Q4_0/Q4_1/Q5 blocks.
  static U8 nibbles16(const uint8_t* p) {
    U8 r;
    for (int j = 0; j < 16; ++j) { r.b[j] = p[j] & 0xF; r.b[j + 16] = p[j] >> 4; }
    return r;
  }
  static U8 lo4(U8 v) { for (auto& b : v.b) b &= 0xF; return v; }
  static U8 hi4(U8 v) { for (auto& b : v.b) b = uint8_t(b >> 4); return v; }
  static U8 shr_and(U8 v, int s, uint8_t m) { for (auto& b : v.b) b = uint8_t((b >> s) & m); return v; }
  static U8 shl(U8 v, int s) { for (auto& b : v.b) b = uint8_t(b << s); return v; }
  static U8 or_(U8 a, U8 c) { for (int j = 0; j < 32; ++j) a.b[j] |= c.b[j]; return a; }
  // Byte j = val if bit j of bits is set, else 0.
  static U8 bit_bytes(uint32_t bits, uint8_t val) {
    U8 r;
    for (int j = 0; j < 32; ++j) r.b[j] = ((bits >> j) & 1) ? val : 0;
    return r;
  }
  static I32 dot(U8 q, const int8_t* x) {
    I32 r{};
    for (int j = 0; j < 32; ++j) r.v[j / 4] += int32_t(q.b[j]) * int32_t(x[j]);
    return r;
  }
  static I32 dot_s8(const int8_t* w, const int8_t* x) {
    I32 r{};
    for (int j = 0; j < 32; ++j) r.v[j / 4] += int32_t(w[j]) * int32_t(x[j]);
    return r;
  }
  static I32 izero() { return I32{}; }
  // acc + v * s, s applying to lanes 0-3 (bytes 0-15) and t to lanes 4-7 (bytes 16-31).
  static I32 imad(I32 acc, I32 v, int32_t s, int32_t t) {
    for (int l = 0; l < 8; ++l) acc.v[l] += v.v[l] * (l < 4 ? s : t);
    return acc;
  }
  static F32 fzero() { return F32{}; }
  static F32 ffma(F32 acc, I32 v, float s) {
    for (int l = 0; l < 8; ++l) acc.v[l] += float(v.v[l]) * s;
    return acc;
  }
  static float fsum(F32 a) {
    float s = 0;
    for (float v : a.v) s += v;
    return s;
  }
  static float half(uint16_t h) { return fp16_to_f32(h); }

  // Eight blocks at once: lane k of the result is the sum of p[k]'s lanes.
  static I32 reduce8(const I32 p[8]) {
    I32 r{};
    for (int k = 0; k < 8; ++k)
      for (int l = 0; l < 8; ++l) r.v[k] += p[k].v[l];
    return r;
  }
  static int32_t isum(I32 v) {
    int32_t s = 0;
    for (int32_t x : v.v) s += x;
    return s;
  }
  static F32 half8(const uint16_t* h) {
    F32 r;
    for (int l = 0; l < 8; ++l) r.v[l] = fp16_to_f32(h[l]);
    return r;
  }
  static F32 loadf(const float* p) { F32 r; std::memcpy(r.v, p, 32); return r; }
  static F32 splatf(float s) { F32 r; for (float& v : r.v) v = s; return r; }
  static F32 cvt(I32 v) { F32 r; for (int l = 0; l < 8; ++l) r.v[l] = float(v.v[l]); return r; }
  static F32 fmul(F32 a, F32 b) { for (int l = 0; l < 8; ++l) a.v[l] *= b.v[l]; return a; }
  static F32 fma_v(F32 a, F32 b, F32 c) { for (int l = 0; l < 8; ++l) c.v[l] += a.v[l] * b.v[l]; return c; }
};

template <>
struct I8<ScalarArch> : I8Scalar {};

// ---- x86: AVX2 (maddubs) and AVX-512 VNNI (vpdpbusd on 256-bit registers, AVX512VL) -------------
#if defined(__AVX2__)
template <bool kVnni>
struct I8X86 {
  using U8 = __m256i;
  using I32 = __m256i;
  using F32 = __m256;

  static U8 load(const uint8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static U8 nibbles16(const uint8_t* p) {
    const __m128i t = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m256i both = _mm256_insertf128_si256(_mm256_castsi128_si256(t), _mm_srli_epi16(t, 4), 1);
    return _mm256_and_si256(both, _mm256_set1_epi8(0xF));
  }
  static U8 lo4(U8 v) { return _mm256_and_si256(v, _mm256_set1_epi8(0xF)); }
  static U8 hi4(U8 v) { return _mm256_and_si256(_mm256_srli_epi16(v, 4), _mm256_set1_epi8(0xF)); }
  // 16-bit shifts are byte shifts once the mask drops the bits that crossed a byte.
  static U8 shr_and(U8 v, int s, uint8_t m) {
    return _mm256_and_si256(_mm256_srl_epi16(v, _mm_cvtsi32_si128(s)), _mm256_set1_epi8(char(m)));
  }
  static U8 shl(U8 v, int s) {  // callers' bytes are < 2^(8-s): nothing crosses into the next byte
    return _mm256_sll_epi16(v, _mm_cvtsi32_si128(s));
  }
  static U8 or_(U8 a, U8 c) { return _mm256_or_si256(a, c); }
  static U8 bit_bytes(uint32_t bits, uint8_t val) {
    if constexpr (kVnni) {
      return _mm256_maskz_set1_epi8(__mmask32(bits), char(val));
    } else {
      // Spread byte k of bits over lanes 8k..8k+7, then test each lane's own bit.
      const __m256i spread = _mm256_shuffle_epi8(
          _mm256_set1_epi32(int(bits)),
          _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0));
      const __m256i bit = _mm256_set1_epi64x(int64_t(0x8040201008040201ULL));
      const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
      return _mm256_and_si256(set, _mm256_set1_epi8(char(val)));
    }
  }
  static I32 dot(U8 q, const int8_t* x) {
    const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x));
    if constexpr (kVnni) {
      return _mm256_dpbusd_epi32(_mm256_setzero_si256(), q, xv);
    } else {
      return _mm256_madd_epi16(_mm256_maddubs_epi16(q, xv), _mm256_set1_epi16(1));
    }
  }
  static I32 dot_s8(const int8_t* w, const int8_t* x) {
    // |w| as unsigned, sign of w moved onto x: w*x = |w| * (sign(w) x).
    const __m256i wv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w));
    const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x));
    const __m256i aw = _mm256_sign_epi8(wv, wv), sx = _mm256_sign_epi8(xv, wv);
    if constexpr (kVnni) {
      return _mm256_dpbusd_epi32(_mm256_setzero_si256(), aw, sx);
    } else {
      return _mm256_madd_epi16(_mm256_maddubs_epi16(aw, sx), _mm256_set1_epi16(1));
    }
  }
  static I32 izero() { return _mm256_setzero_si256(); }
  static I32 imad(I32 acc, I32 v, int32_t s, int32_t t) {
    return _mm256_add_epi32(acc, _mm256_mullo_epi32(v, _mm256_setr_epi32(s, s, s, s, t, t, t, t)));
  }
  static F32 fzero() { return _mm256_setzero_ps(); }
  static F32 ffma(F32 acc, I32 v, float s) { return _mm256_fmadd_ps(_mm256_cvtepi32_ps(v), _mm256_set1_ps(s), acc); }
  static float fsum(F32 a) {
    __m128 r = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    r = _mm_add_ps(r, _mm_movehl_ps(r, r));
    r = _mm_add_ss(r, _mm_movehdup_ps(r));
    return _mm_cvtss_f32(r);
  }
  static float half(uint16_t h) { return _cvtsh_ss(h); }

  static I32 reduce8(const I32 p[8]) {
    const __m256i t0 = _mm256_hadd_epi32(p[0], p[1]), t1 = _mm256_hadd_epi32(p[2], p[3]);
    const __m256i t2 = _mm256_hadd_epi32(p[4], p[5]), t3 = _mm256_hadd_epi32(p[6], p[7]);
    const __m256i u0 = _mm256_hadd_epi32(t0, t1), u1 = _mm256_hadd_epi32(t2, t3);
    // u0 = [s0 s1 s2 s3 | s0' s1' s2' s3'] (low and high 128-bit halves' partial sums), u1 likewise.
    return _mm256_add_epi32(_mm256_permute2x128_si256(u0, u1, 0x20), _mm256_permute2x128_si256(u0, u1, 0x31));
  }
  static int32_t isum(I32 v) {
    __m128i r = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    r = _mm_add_epi32(r, _mm_unpackhi_epi64(r, r));
    r = _mm_add_epi32(r, _mm_shuffle_epi32(r, 1));
    return _mm_cvtsi128_si32(r);
  }
  static F32 half8(const uint16_t* h) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h))); }
  static F32 loadf(const float* p) { return _mm256_loadu_ps(p); }
  static F32 splatf(float s) { return _mm256_set1_ps(s); }
  static F32 cvt(I32 v) { return _mm256_cvtepi32_ps(v); }
  static F32 fmul(F32 a, F32 b) { return _mm256_mul_ps(a, b); }
  static F32 fma_v(F32 a, F32 b, F32 c) { return _mm256_fmadd_ps(a, b, c); }
};
#endif

// ---- ARM NEON (sdot where the core has it, widening multiplies otherwise) -----------------------
#if defined(__ARM_NEON) && defined(__aarch64__)
struct I8Neon {
  struct U8 { uint8x16_t lo, hi; };
  struct I32 { int32x4_t lo, hi; };
  struct F32 { float32x4_t lo, hi; };

  static U8 load(const uint8_t* p) { return {vld1q_u8(p), vld1q_u8(p + 16)}; }
  static U8 nibbles16(const uint8_t* p) {
    const uint8x16_t t = vld1q_u8(p);
    return {vandq_u8(t, vdupq_n_u8(0xF)), vshrq_n_u8(t, 4)};
  }
  static U8 lo4(U8 v) { return {vandq_u8(v.lo, vdupq_n_u8(0xF)), vandq_u8(v.hi, vdupq_n_u8(0xF))}; }
  static U8 hi4(U8 v) { return {vshrq_n_u8(v.lo, 4), vshrq_n_u8(v.hi, 4)}; }
  static U8 shr_and(U8 v, int s, uint8_t m) {
    const int8x16_t sh = vdupq_n_s8(int8_t(-s));
    return {vandq_u8(vshlq_u8(v.lo, sh), vdupq_n_u8(m)), vandq_u8(vshlq_u8(v.hi, sh), vdupq_n_u8(m))};
  }
  static U8 shl(U8 v, int s) {
    const int8x16_t sh = vdupq_n_s8(int8_t(s));
    return {vshlq_u8(v.lo, sh), vshlq_u8(v.hi, sh)};
  }
  static U8 or_(U8 a, U8 c) { return {vorrq_u8(a.lo, c.lo), vorrq_u8(a.hi, c.hi)}; }
  static U8 bit_bytes(uint32_t bits, uint8_t val) {
    static const uint8_t kBit[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    const uint8x16_t bit = vld1q_u8(kBit);
    const uint8x16_t b01 = vcombine_u8(vdup_n_u8(uint8_t(bits)), vdup_n_u8(uint8_t(bits >> 8)));
    const uint8x16_t b23 = vcombine_u8(vdup_n_u8(uint8_t(bits >> 16)), vdup_n_u8(uint8_t(bits >> 24)));
    const uint8x16_t v = vdupq_n_u8(val);
    return {vandq_u8(vtstq_u8(b01, bit), v), vandq_u8(vtstq_u8(b23, bit), v)};
  }
  static int32x4_t dot16(int8x16_t a, int8x16_t b) {
#if defined(__ARM_FEATURE_DOTPROD)
    return vdotq_s32(vdupq_n_s32(0), a, b);
#else
    const int16x8_t pl = vmull_s8(vget_low_s8(a), vget_low_s8(b));
    const int16x8_t ph = vmull_s8(vget_high_s8(a), vget_high_s8(b));
    return vpaddq_s32(vpaddlq_s16(pl), vpaddlq_s16(ph));
#endif
  }
  static I32 dot(U8 q, const int8_t* x) {  // codes <= 127: the unsigned bytes are valid int8
    return {dot16(vreinterpretq_s8_u8(q.lo), vld1q_s8(x)), dot16(vreinterpretq_s8_u8(q.hi), vld1q_s8(x + 16))};
  }
  static I32 dot_s8(const int8_t* w, const int8_t* x) {
    return {dot16(vld1q_s8(w), vld1q_s8(x)), dot16(vld1q_s8(w + 16), vld1q_s8(x + 16))};
  }
  static I32 izero() { return {vdupq_n_s32(0), vdupq_n_s32(0)}; }
  static I32 imad(I32 acc, I32 v, int32_t s, int32_t t) {
    return {vmlaq_n_s32(acc.lo, v.lo, s), vmlaq_n_s32(acc.hi, v.hi, t)};
  }
  static F32 fzero() { return {vdupq_n_f32(0), vdupq_n_f32(0)}; }
  static F32 ffma(F32 acc, I32 v, float s) {
    return {vfmaq_n_f32(acc.lo, vcvtq_f32_s32(v.lo), s), vfmaq_n_f32(acc.hi, vcvtq_f32_s32(v.hi), s)};
  }
  static float fsum(F32 a) { return vaddvq_f32(vaddq_f32(a.lo, a.hi)); }
  static float half(uint16_t h) { return fp16_to_f32(h); }

  static I32 reduce8(const I32 p[8]) {
    int32x4_t s[8];
    for (int k = 0; k < 8; ++k) s[k] = vaddq_s32(p[k].lo, p[k].hi);
    return {vpaddq_s32(vpaddq_s32(s[0], s[1]), vpaddq_s32(s[2], s[3])),
            vpaddq_s32(vpaddq_s32(s[4], s[5]), vpaddq_s32(s[6], s[7]))};
  }
  static int32_t isum(I32 v) { return vaddvq_s32(vaddq_s32(v.lo, v.hi)); }
  static F32 half8(const uint16_t* h) {
    const float16x8_t v = vreinterpretq_f16_u16(vld1q_u16(h));
    return {vcvt_f32_f16(vget_low_f16(v)), vcvt_high_f32_f16(v)};
  }
  static F32 loadf(const float* p) { return {vld1q_f32(p), vld1q_f32(p + 4)}; }
  static F32 splatf(float s) { return {vdupq_n_f32(s), vdupq_n_f32(s)}; }
  static F32 cvt(I32 v) { return {vcvtq_f32_s32(v.lo), vcvtq_f32_s32(v.hi)}; }
  static F32 fmul(F32 a, F32 b) { return {vmulq_f32(a.lo, b.lo), vmulq_f32(a.hi, b.hi)}; }
  static F32 fma_v(F32 a, F32 b, F32 c) { return {vfmaq_f32(c.lo, a.lo, b.lo), vfmaq_f32(c.hi, a.hi, b.hi)}; }
};
#endif

}  // namespace
}  // namespace EMBER_ISA_NAMESPACE
}  // namespace ember
