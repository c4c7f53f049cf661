// x86 AVX-512 (F/BW/DQ/VL/VNNI/VBMI and GFNI: Ice Lake, Zen 4 and later) kernels (compiled with those flags; chosen at run time).
#include "kernels/gemm_i8_avx512.h"
#include "kernels/kernels_impl.h"
#include "kernels/qdot_avx512.h"
#include "kernels/transpose_avx512.h"

namespace ember {
inline namespace EMBER_ISA_NAMESPACE {
namespace {
template <>
struct I8<xsimd::avx512bw> : I8X86<true> {};

// transpose_keys for head sizes of whole registers: 16 keys x 16 values at a time, transposed in
// registers (keys past n_k read as zeros).
void transpose_keys_avx512(const float* k, int64_t n_k, int64_t k_stride, int64_t n, float* kt) {
  if (n % 16 != 0) return transpose_keys(k, n_k, k_stride, n, kt);
  for (int64_t j0 = 0; j0 < detail::kKeyBlock; j0 += 16)
    for (int64_t d0 = 0; d0 < n; d0 += 16) {
      __m512i r[16];
      for (int64_t j = 0; j < 16; ++j)
        r[j] = j0 + j < n_k ? _mm512_loadu_si512(k + (j0 + j) * k_stride + d0) : _mm512_setzero_si512();
      transpose_16x16_epi32(r);
      for (int64_t d = 0; d < 16; ++d) _mm512_storeu_si512(kt + (d0 + d) * detail::kKeyBlock + j0, r[d]);
    }
}
}  // namespace
}  // namespace EMBER_ISA_NAMESPACE
}  // namespace ember

namespace ember::detail {

// The BF16 probe: 12 independent chains of vdpbf16ps (2 products per F32 lane). Compiled for
// AVX512-BF16 (this function only; CMake sets the flag on the file) and called only on CPUs with it.
__attribute__((target("avx512bf16"))) double avx512_bf16_probe(int64_t iters, float* sink) {
  constexpr int kChains = 12;
  __m512 acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm512_set1_ps(0.001f * float(c));
  const __m512bh a = (__m512bh)_mm512_set1_epi16(0x3f80), b = (__m512bh)_mm512_set1_epi16(0x3380);  // 1.0, ~6e-8
  for (int64_t i = 0; i < iters; ++i)
    for (int c = 0; c < kChains; ++c) acc[c] = _mm512_dpbf16_ps(acc[c], a, b);
  __m512 total = acc[0];
  for (int c = 1; c < kChains; ++c) total = _mm512_add_ps(total, acc[c]);
  *sink = _mm512_reduce_add_ps(total);
  return 4.0 * kChains * 16 * double(iters);  // 2 multiply-adds per lane per instruction
}

// The int8 probe: 12 independent chains of vpdpbusd (64 byte products per instruction, 2 ops each).
double avx512_vnni_probe(int64_t iters, float* sink) {
  constexpr int kChains = 12;
  __m512i acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm512_set1_epi32(c);
  const __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8(-2);
  for (int64_t i = 0; i < iters; ++i)
    for (int c = 0; c < kChains; ++c) acc[c] = _mm512_dpbusd_epi32(acc[c], a, b);
  __m512i total = acc[0];
  for (int c = 1; c < kChains; ++c) total = _mm512_add_epi32(total, acc[c]);
  *sink = float(_mm512_reduce_add_epi32(total));
  return 2.0 * 64 * kChains * double(iters);
}

const KernelTable& avx512_kernels() {
  static const KernelTable t = [] {
    KernelTable k = make_kernel_table<xsimd::avx512bw>(Isa::kAvx512);
    auto wide = [&](DType dt, QDotFn one, QDotPairFn pair, ActFormat f) {
      k.qdot[dtype_slot(dt)] = one;
      k.qdot_pair[dtype_slot(dt)] = pair;
      k.act[dtype_slot(dt)] = f;
    };
    wide(DType::Q4_0, qdot_one<Nibbles<Q4_0Fmt>>, qdot_pair<Nibbles<Q4_0Fmt>>, ActFormat::kQ8x128);
    wide(DType::Q4_1, qdot_one<Nibbles<Q4_1Fmt>>, qdot_pair<Nibbles<Q4_1Fmt>>, ActFormat::kQ8x128);
    wide(DType::Q5_0, qdot_one<Nibbles<Q5_0Fmt>>, qdot_pair<Nibbles<Q5_0Fmt>>, ActFormat::kQ8x128);
    wide(DType::Q5_1, qdot_one<Nibbles<Q5_1Fmt>>, qdot_pair<Nibbles<Q5_1Fmt>>, ActFormat::kQ8x128);
    wide(DType::Q8_0, qdot_one<Q8_0Pairs>, qdot_pair<Q8_0Pairs>, ActFormat::kQ8x64);
    wide(DType::Q4_K, qdot_k_one<K4File>, qdot_k_pair<K4File>, ActFormat::kQ8x256Lanes);
    wide(DType::Q5_K, qdot_k_one<K4<true>>, qdot_k_pair<K4<true>>, ActFormat::kQ8x256K4);
    wide(DType::Q6_K, qdot_k_one<Q6K>, qdot_k_pair<Q6K>, ActFormat::kQ8x256);
    wide(DType::Q2_K, qdot_k_one<K2<false>>, qdot_k_pair<K2<false>>, ActFormat::kQ8x256K2);
    wide(DType::Q3_K, qdot_k_one<K2<true>>, qdot_k_pair<K2<true>>, ActFormat::kQ8x256K2);
    k.dequant[dtype_slot(DType::Q4_0)] = dequant_nibbles<BlockQ4_0, false, 8>;
    k.dequant[dtype_slot(DType::Q4_1)] = dequant_nibbles<BlockQ4_1, true, 0>;
    k.dequant[dtype_slot(DType::Q5_0)] = dequant_nibbles<BlockQ5_0, false, 16>;
    k.dequant[dtype_slot(DType::Q5_1)] = dequant_nibbles<BlockQ5_1, true, 0>;
    // Q4_0 ... Q5_1, Q8_0, Q2_K, Q3_K and Q4_K weights are regrouped at load (core/repack.h) for gather-free kernels.
    wide(DType::Q4_0x4, qdot_one<NibblesX4<Q4_0Fmt>>, qdot_pair<NibblesX4<Q4_0Fmt>>, ActFormat::kQ8x128);
    wide(DType::Q4_1x4, qdot_one<NibblesX4<Q4_1Fmt>>, qdot_pair<NibblesX4<Q4_1Fmt>>, ActFormat::kQ8x128);
    wide(DType::Q5_0x4, qdot_one<NibblesX4<Q5_0Fmt>>, qdot_pair<NibblesX4<Q5_0Fmt>>, ActFormat::kQ8x128);
    wide(DType::Q5_1x4, qdot_one<NibblesX4<Q5_1Fmt>>, qdot_pair<NibblesX4<Q5_1Fmt>>, ActFormat::kQ8x128);
    wide(DType::Q8_0x2, qdot_one<Q8_0PairsX2>, qdot_pair<Q8_0PairsX2>, ActFormat::kQ8x64);
    wide(DType::Q2_Kx16, qdot_k_one<K2Lanes<false>>, qdot_k_pair<K2Lanes<false>>, ActFormat::kQ8x256Lanes);
    wide(DType::Q3_Kx16, qdot_k_one<K2Lanes<true>>, qdot_k_pair<K2Lanes<true>>, ActFormat::kQ8x256Lanes);
    wide(DType::Q4_Kx16, qdot_k_one<K4Lanes>, qdot_k_pair<K4Lanes>, ActFormat::kQ8x256Lanes);
    k.dequant[dtype_slot(DType::Q8_0x2)] = dequant_q8_0_x2;
    k.dequant[dtype_slot(DType::Q4_0x4)] = dequant_nibbles_x4<BlockQ4_0, false, 8>;
    k.dequant[dtype_slot(DType::Q4_1x4)] = dequant_nibbles_x4<BlockQ4_1, true, 0>;
    k.dequant[dtype_slot(DType::Q5_0x4)] = dequant_nibbles_x4<BlockQ5_0, false, 16>;
    k.dequant[dtype_slot(DType::Q5_1x4)] = dequant_nibbles_x4<BlockQ5_1, true, 0>;
    for (DType dt : kRepackedDTypes) k.layout[dtype_slot(dtype_file_type(dt))] = dt;
    k.dequant[dtype_slot(DType::Q8_0)] = dequant_q8_0;
    k.dequant[dtype_slot(DType::Q4_K)] = dequant_q4_k;
    k.dequant[dtype_slot(DType::Q6_K)] = dequant_q6_k;
    k.quantize_act[int(ActFormat::kQ8x256K4)] = quantize_act_256_runs<kRunsK4>;
    k.quantize_act[int(ActFormat::kQ8x256K2)] = quantize_act_k2<false>;
    k.quantize_act[int(ActFormat::kQ8x256Lanes)] = quantize_act_k2<true>;
    k.quantize_act[int(ActFormat::kQ8x128)] = quantize_act_128;
    k.quantize_act[int(ActFormat::kQ8x64)] = quantize_act_64;
    k.gemm_i8[0] = gemm_i8_panel_avx512<false>;
    k.gemm_i8[1] = gemm_i8_panel_avx512<true>;
    k.gemm_i8_pack_panel = gemm_i8_pack_panel_avx512;
    k.gemm_i8_pack_act = gemm_i8_pack_act_avx512;
    k.transpose_keys = transpose_keys_avx512;
    return k;
  }();
  return t;
}

}  // namespace ember::detail
