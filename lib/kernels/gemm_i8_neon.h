// Prefill's integer GEMM on ARMv8.2-A dot-product cores (sdot): the panel and activation layouts
// of gemm_i8.h, multiplied 4 values at a time by `sdot` (by element: one activation row's 4 codes
// against 4 weight rows' 4 codes, into 4 int32 lanes).
//
// sdot multiplies signed bytes by signed bytes, where vpdpbusd takes the weights unsigned. Codes of
// types with a zero point below 128 (Q4_0's 8, Q5_0's 16) and of the min types (0-31) are valid
// int8 as they are. Q8_0's codes are w + 128: this table's panel packer stores them as w (the sign
// bit flipped back), and its activation packer starts those sums at 0 instead of -128 sum(a)
// (gemm_i8_pack_act's zero point taken modulo 128). The integers are the same either way.
//
// The product: 4 activation rows x 8 weight rows per pass (8 int32 and 8 float accumulators of 4
// lanes; per 4-value step, 2 weight loads and 1 activation load feed 8 sdot), then per block one
// convert, one multiply and one FMA per accumulator (and one more FMA for the mins).
#pragma once

#if defined(__ARM_FEATURE_DOTPROD)

#include <arm_neon.h>

#include <cstring>
#include <type_traits>

#include "kernels/gemm_i8.h"
#include "kernels/gemm_i8_impl.h"

namespace ember {
inline namespace EMBER_ISA_NAMESPACE {
namespace {

void gemm_i8_pack_act_neon(const float* X, int64_t m, int64_t k, int zero_point, int64_t t0, int64_t t1,
                           uint8_t* out) {
  gemm_i8_pack_act(X, m, k, zero_point & 127, t0, t1, out);
}

void gemm_i8_pack_panel_neon(DType t, const void* W, size_t row_stride, int64_t n_rows, int64_t cols,
                             uint8_t* panel) {
  detail::gemm_i8_pack_panel(t, W, row_stride, n_rows, cols, panel);
  if (detail::gemm_i8_zero_point(t) != 128) return;
  const uint8x16_t flip = vdupq_n_u8(0x80);
  for (int64_t b = 0; b < cols / 32; ++b) {
    uint8_t* codes = panel + size_t(b) * detail::kPanelBlockBytes;
    for (size_t i = 0; i < detail::kPanelCodeBytes; i += 16) vst1q_u8(codes + i, veorq_u8(vld1q_u8(codes + i), flip));
  }
}

// f(lane) for lanes 0-3 as compile-time constants (the by-element intrinsics take immediates).
template <class F>
inline void each_lane(F&& f) {
  f(std::integral_constant<int, 0>{});
  f(std::integral_constant<int, 1>{});
  f(std::integral_constant<int, 2>{});
  f(std::integral_constant<int, 3>{});
}

// Activation rows [i0, i0 + 4) of a tile (rows past the tile's end hold zero codes and are not
// stored: `rows` of them are) against panel rows [j0, j0 + 8) (`cols` of them stored).
template <bool kMin>
void gemm_i8_rows_neon(const uint8_t* panel, const uint8_t* tile, int i0, int64_t n_blocks, int j0, float* Y,
                       int64_t ldy, int rows, int cols) {
  float32x4_t acc[4][2];
  for (auto& a : acc) a[0] = a[1] = vdupq_n_f32(0);
  for (int64_t b = 0; b < n_blocks; ++b) {
    const uint8_t* w = panel + size_t(b) * detail::kPanelBlockBytes;
    const uint8_t* a = tile + size_t(b) * detail::kActBlockBytes;
    int32x4_t isum[4][2];
    const int32x4_t init = vld1q_s32(reinterpret_cast<const int32_t*>(a + detail::kActInit) + i0);
    each_lane([&](auto r) { isum[r][0] = isum[r][1] = vdupq_laneq_s32(init, decltype(r)::value); });
    for (int s = 0; s < detail::kGemmSteps; ++s) {
      const int8x16_t w0 = vld1q_s8(reinterpret_cast<const int8_t*>(w) + (s * detail::kGemmNr + j0) * 4);
      const int8x16_t w1 = vld1q_s8(reinterpret_cast<const int8_t*>(w) + (s * detail::kGemmNr + j0 + 4) * 4);
      const int8x16_t x = vld1q_s8(reinterpret_cast<const int8_t*>(a) + (s * detail::kGemmMr + i0) * 4);
      each_lane([&](auto r) {  // activation row r's 4 codes (lane r of x) against 8 weight rows
        isum[r][0] = vdotq_laneq_s32(isum[r][0], w0, x, decltype(r)::value);
        isum[r][1] = vdotq_laneq_s32(isum[r][1], w1, x, decltype(r)::value);
      });
    }
    const float* dw = reinterpret_cast<const float*>(w + detail::kPanelCodeBytes) + j0;
    const float32x4_t dw0 = vld1q_f32(dw), dw1 = vld1q_f32(dw + 4);
    const float32x4_t da = vld1q_f32(reinterpret_cast<const float*>(a + detail::kActD) + i0);
    const float* mw = reinterpret_cast<const float*>(w + detail::kPanelCodeBytes + 4 * detail::kGemmNr) + j0;
    const float32x4_t ds = vld1q_f32(reinterpret_cast<const float*>(a + detail::kActDsum) + i0);
    // acc += float(sum) * (d_w d_a) [+ m_w (d_a sum_j a_j)]: the reference's order.
    each_lane([&](auto r) {
      const float32x4_t dr = vdupq_laneq_f32(da, decltype(r)::value);
      acc[r][0] = vfmaq_f32(acc[r][0], vcvtq_f32_s32(isum[r][0]), vmulq_f32(dw0, dr));
      acc[r][1] = vfmaq_f32(acc[r][1], vcvtq_f32_s32(isum[r][1]), vmulq_f32(dw1, dr));
      if constexpr (kMin) {
        acc[r][0] = vfmaq_laneq_f32(acc[r][0], vld1q_f32(mw), ds, decltype(r)::value);
        acc[r][1] = vfmaq_laneq_f32(acc[r][1], vld1q_f32(mw + 4), ds, decltype(r)::value);
      }
    });
  }
  for (int r = 0; r < rows; ++r) {
    float out[8];
    vst1q_f32(out, acc[r][0]);
    vst1q_f32(out + 4, acc[r][1]);
    std::memcpy(Y + (i0 + r) * ldy + j0, out, size_t(cols) * sizeof(float));
  }
}

template <bool kMin>
void gemm_i8_panel_neon(const uint8_t* panel, const uint8_t* act, int64_t m, int64_t n_blocks, float* Y, int64_t ldy,
                        int n) {
  for (int64_t i = 0; i < m; i += detail::kGemmMr) {
    const uint8_t* tile = act + size_t(i / detail::kGemmMr * n_blocks) * detail::kActBlockBytes;
    const int tile_rows = int(m - i < detail::kGemmMr ? m - i : detail::kGemmMr);
    for (int i0 = 0; i0 < tile_rows; i0 += 4)
      for (int j0 = 0; j0 < n; j0 += 8)
        gemm_i8_rows_neon<kMin>(panel, tile, i0, n_blocks, j0, Y + i * ldy, ldy, tile_rows - i0 < 4 ? tile_rows - i0 : 4,
                                n - j0 < 8 ? n - j0 : 8);
  }
}

}  // namespace
}  // namespace EMBER_ISA_NAMESPACE
}  // namespace ember

#endif
