// The per-ISA kernel table: one instance per instruction set, each built from the same templates
// (kernels_impl.h) in its own translation unit; dispatch.cpp picks the active one.
#pragma once

#include <cstdint>

#include "ember/core/dtype.h"
#include "ember/kernels/isa.h"
#include "kernels/gemm_i8.h"

namespace ember::detail {

inline constexpr int kNumFileDTypes = int(sizeof(kAllDTypes) / sizeof(kAllDTypes[0]));
inline constexpr int kNumDTypes = kNumFileDTypes + int(sizeof(kRepackedDTypes) / sizeof(kRepackedDTypes[0]));

// The index into KernelTable::dot: position in kAllDTypes, then in kRepackedDTypes.
constexpr int dtype_slot(DType t) {
  for (int i = 0; i < kNumFileDTypes; ++i)
    if (kAllDTypes[i] == t) return i;
  for (int i = kNumFileDTypes; i < kNumDTypes; ++i)
    if (kRepackedDTypes[i - kNumFileDTypes] == t) return i;
  return -1;
}

using DotFn = float (*)(const void* w_row, const float* x, int64_t n);
// A row of n values of a dtype to F32: dequantize_row's results, compiled for the ISA.
using DequantFn = void (*)(const void* src, float* dst, int64_t n);

// Quantized weights meet 8-bit activations (qdot_impl.h): the activation vector is converted once
// per product into the block format the weight type pairs with.
// kQ8x128 and kQ8x64 are the AVX-512 layouts of qdot_avx512.h (groups of four or two 32-value blocks).
// kQ8x256K4 is kQ8x256 with the codes in the register order of Q5_K; kQ8x256K2 and kQ8x256Lanes
// are qdot_avx512.h's ActQ8x256G for Q2_K/Q3_K in the file layout and for the lane order (Q2_Kx16,
// Q3_Kx16, and Q4_K in either layout).
enum class ActFormat { kNone, kQ8x32, kQ8x256, kQ8x128, kQ8x64, kQ8x256K4, kQ8x256K2, kQ8x256Lanes };
inline constexpr int kNumActFormats = 8;
using QDotFn = float (*)(const void* w_row, const void* x_q8, int64_t n);
// Two rows at once (out[0], out[1]); each result identical to QDotFn's on the same row.
using QDotPairFn = void (*)(const void* w_row0, const void* w_row1, const void* x_q8, int64_t n, float* out);
using ActQuantFn = void (*)(const float* x, void* out, int64_t n);

// Bytes of n activations in format f.
constexpr size_t act_bytes(ActFormat f, int64_t n) {
  switch (f) {
    case ActFormat::kQ8x32: return size_t(n / 32) * (4 + 4 + 32);
    case ActFormat::kQ8x256:
    case ActFormat::kQ8x256K4: return size_t(n / 256) * (4 + 32 + 256);
    case ActFormat::kQ8x256K2:
    case ActFormat::kQ8x256Lanes: return size_t(n / 256) * 384;
    case ActFormat::kQ8x128: return size_t((n + 127) / 128) * 320;
    case ActFormat::kQ8x64: return size_t((n + 63) / 64) * 192;
    default: return 0;
  }
}

// Keys per block in prefill attention (transpose_keys, block_scores): 64 scores of a row fill four
// AVX-512 registers, and a 64-key block of 128-wide heads (32 KiB transposed) stays in L1/L2.
inline constexpr int64_t kKeyBlock = 64;

struct KernelTable {
  Isa isa;
  DotFn dot[kNumDTypes];          // F32 activations, every dtype
  DequantFn dequant[kNumDTypes];  // rows to F32 (prefill decodes weight chunks with it)
  void (*to_bf16)(const float* src, uint16_t* dst, int64_t n);  // round to nearest even
  QDotFn qdot[kNumDTypes];        // 8-bit activations, null where a dtype has no such path
  QDotPairFn qdot_pair[kNumDTypes];  // optional: two rows at once (matvec pairs distant rows)
  ActFormat act[kNumDTypes];      // the activation format each qdot takes
  DType layout[kNumDTypes];       // the layout weights of each file type are best repacked to at load
  ActQuantFn quantize_act[kNumActFormats];     // indexed by ActFormat
  // Prefill's integer GEMM (gemm_i8.h): activation packing, and the panel product for weight types
  // without and with a min (index: gemm_i8_has_min). Every table has them; matmul uses them where
  // matmul_path() says so. A table's packers and products go together. gemm_i8_signed_codes: its
  // panels hold Q8_0's codes as w, not w + 128 (the NEON dot-product table's: gemm_i8_neon.h).
  bool gemm_i8_signed_codes;
  GemmI8PackActFn gemm_i8_pack_act;
  GemmI8PackPanelFn gemm_i8_pack_panel;
  GemmI8PanelFn gemm_i8[2];
  float (*dot_f32)(const float* a, const float* b, int64_t n);
  void (*axpy)(float a, const float* x, float* y, int64_t n);  // y += a * x
  void (*scale)(float* y, float a, int64_t n);                  // y *= a
  void (*rmsnorm)(const float* x, const float* w, float* out, int64_t n, float eps);
  void (*softmax)(float* x, int64_t n);
  void (*swiglu)(const float* gate, const float* up, float* out, int64_t n);
  float (*exp_shift_sum)(float* x, int64_t n, float shift);  // x <- exp(x - shift), returns the sum
  // out[g * out_stride + j] = scale * dot(q + g * n, k + j * k_stride), g < n_q, j < n_k
  void (*key_scores)(const float* q, int64_t n_q, const float* k, int64_t n_k, int64_t k_stride, int64_t n, float scale,
                     float* out, int64_t out_stride);
  // kt[d * kKeyBlock + j] = k[j * k_stride + d] for d < n, j < n_k (<= kKeyBlock); 0 for n_k <= j.
  void (*transpose_keys)(const float* k, int64_t n_k, int64_t k_stride, int64_t n, float* kt);
  // out[g * kKeyBlock + j] = dot(q + g * n, column j of kt) for g < n_q, j < kKeyBlock, and
  // row_max[g] = the largest of row g's first valid[g] scores (-inf for none).
  void (*block_scores)(const float* q, int64_t n_q, const float* kt, int64_t n, const int64_t* valid, float* out,
                       float* row_max);
  // acc[h * acc_stride + 0..width) += sum_j p[h * p_stride + j] rows[j * stride + 0..width) for
  // h < n_heads: the heads sharing a block of value rows.
  void (*weighted_rows_heads)(const float* p, int64_t p_stride, int64_t n_heads, int64_t n, const float* rows,
                              int64_t stride, int64_t width, float* acc, int64_t acc_stride);
  // Runs `iters` rounds of independent register-only FMAs; returns the FLOPs done (2 per lane
  // per FMA) and a value the compiler cannot discard. For the peak-FLOP/s probe.
  double (*fma_probe)(int64_t iters, float* sink);
  float (*read_streams)(const float* p, int64_t n);  // the read-bandwidth probe's loop
};

const KernelTable& scalar_kernels();
#if defined(EMBER_HAVE_X86_KERNELS)
const KernelTable& avx2_kernels();
const KernelTable& avx512_kernels();
double avx512_bf16_probe(int64_t iters, float* sink);  // only on CPUs with AVX512-BF16
double avx512_vnni_probe(int64_t iters, float* sink);  // only on CPUs with AVX512-VNNI
#endif
#if defined(EMBER_HAVE_NEON_KERNELS)
const KernelTable& neon_kernels();
const KernelTable& neon_dotprod_kernels();
#endif

// The table of the active ISA (isa.h).
const KernelTable& active_kernels();

}  // namespace ember::detail
