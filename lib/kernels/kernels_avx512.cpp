// x86 AVX-512 (F/BW/DQ/VL/VNNI/VBMI: Ice Lake, Zen 4 and later) kernels (compiled with those flags; chosen at run time).
#include "kernels/kernels_impl.h"
#include "kernels/qdot_avx512.h"

namespace ember {
inline namespace EMBER_ISA_NAMESPACE {
namespace {
template <>
struct I8<xsimd::avx512bw> : I8X86<true> {};
}  // namespace
}  // namespace EMBER_ISA_NAMESPACE
}  // namespace ember

namespace ember::detail {

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
    wide(DType::Q4_K, qdot_k_one<K4<false>>, qdot_k_pair<K4<false>>, ActFormat::kQ8x256K4);
    wide(DType::Q5_K, qdot_k_one<K4<true>>, qdot_k_pair<K4<true>>, ActFormat::kQ8x256K4);
    wide(DType::Q6_K, qdot_k_one<Q6K>, qdot_k_pair<Q6K>, ActFormat::kQ8x256);
    wide(DType::Q2_K, qdot_k_one<K2<false>>, qdot_k_pair<K2<false>>, ActFormat::kQ8x256K2);
    wide(DType::Q3_K, qdot_k_one<K2<true>>, qdot_k_pair<K2<true>>, ActFormat::kQ8x256K2);
    k.quantize_act[int(ActFormat::kQ8x256K4)] = quantize_act_256_runs<kRunsK4>;
    k.quantize_act[int(ActFormat::kQ8x256K2)] = quantize_act_256_runs<kRunsK2>;
    k.quantize_act[int(ActFormat::kQ8x128)] = quantize_act_128;
    k.quantize_act[int(ActFormat::kQ8x64)] = quantize_act_64;
    return k;
  }();
  return t;
}

}  // namespace ember::detail
