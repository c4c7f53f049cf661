// Prefill's integer GEMM: Y = X W^T with W's block codes as unsigned bytes and X quantized to
// signed bytes per 32-value block, multiplied by integer dot products (vpdpbusd) and scaled once
// per block. Where the CPU has VNNI but no AMX this does twice the multiply-adds per instruction of
// the BF16 dot product, and the weights never become floats.
//
// For a block of 32 values, a weight row's codes u_j (0..255), scale d_w, zero point z and min m_w
// (w_j = d_w (u_j - z) + m_w), and an activation row's codes a_j (-127..127) and scale d_a:
//
//   sum_j w_j x_j ~ d_w d_a (sum_j u_j a_j - z sum_j a_j) + m_w d_a sum_j a_j
//
// The integer sum starts at -z sum_j a_j (precomputed with the activations), so a zero point costs
// nothing per product; a min costs one FMA per block (types with mins only).
//
// Layouts, both streams of 32-value blocks along k:
// - weight panel: kGemmNr (16) rows; per block, codes[8 steps][16 rows][4 bytes] (vpdpbusd's
//   16 lanes of 4 consecutive values), then d[16], then m[16] (F32): kPanelBlockBytes.
// - activation tile: kGemmMr (12) rows; per block, codes[8 steps][12 rows][4 bytes], then d[12]
//   (F32), init[12] (int32: -z sum_j a_j), dsum[12] (F32: d_a sum_j a_j): kActBlockBytes. Rows past
//   the end of X are zero.
// The error against F32 is that of decode's 8-bit activations (qdot_impl.h): at most
// sum_j |w_j| d_a / 2 per block.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ember/core/dtype.h"

namespace ember::detail {

inline constexpr int kGemmNr = 16;  // weight rows per panel (one 512-bit register of int32 lanes)
inline constexpr int kGemmMr = 12;  // activation rows per tile (12 int + 12 float accumulators)
inline constexpr int kGemmSteps = 8;  // 4-value steps per 32-value block
inline constexpr size_t kPanelCodeBytes = size_t(kGemmSteps) * kGemmNr * 4;
inline constexpr size_t kPanelBlockBytes = kPanelCodeBytes + 2 * kGemmNr * sizeof(float);
inline constexpr size_t kActCodeBytes = size_t(kGemmSteps) * kGemmMr * 4;
inline constexpr size_t kActBlockBytes = kActCodeBytes + 3 * kGemmMr * 4;
inline constexpr size_t kActD = kActCodeBytes, kActInit = kActD + 4 * kGemmMr, kActDsum = kActInit + 4 * kGemmMr;

// The weight types the integer GEMM takes: 32-value block types and their load-time layouts, and
// Q4_K/Q5_K (eight 32-value sub-blocks with their own scale and min).
bool gemm_i8_supports(DType t);
// z and whether w has a min term, for a supported type.
int gemm_i8_zero_point(DType t);
bool gemm_i8_has_min(DType t);

// Packs rows [0, n_rows) (n_rows <= kGemmNr; missing rows are zero) of `cols` values of W, rows
// `row_stride` bytes apart, into a panel of cols / 32 blocks.
void gemm_i8_pack_panel(DType t, const void* W, size_t row_stride, int64_t n_rows, int64_t cols, uint8_t* panel);

// Bytes of the activation pack of m rows of k values, and of one panel.
inline size_t gemm_i8_act_bytes(int64_t m, int64_t k) {
  return size_t((m + kGemmMr - 1) / kGemmMr) * size_t(k / 32) * kActBlockBytes;
}
inline size_t gemm_i8_panel_bytes(int64_t k) { return size_t(k / 32) * kPanelBlockBytes; }

// Kernel table entries (per ISA; gemm_i8_impl.h is the scalar reference):
// Quantizes activation tiles [t0, t1) of X (m rows of k values, row-major) into `out` (the whole
// pack; tile t at t * (k / 32) * kActBlockBytes).
using GemmI8PackActFn = void (*)(const float* X, int64_t m, int64_t k, int zero_point, int64_t t0, int64_t t1,
                                 uint8_t* out);
// gemm_i8_pack_panel's signature (the table's may be faster for the layouts its ISA loads).
using GemmI8PackPanelFn = void (*)(DType t, const void* W, size_t row_stride, int64_t n_rows, int64_t cols,
                                   uint8_t* panel);
// Y[i * ldy + j] = row i of the pack against panel row j, for i < m, j < n (n <= kGemmNr).
using GemmI8PanelFn = void (*)(const uint8_t* panel, const uint8_t* act, int64_t m, int64_t n_blocks, float* Y,
                               int64_t ldy, int n);

}  // namespace ember::detail
