// ARM NEON (AArch64 Advanced SIMD) kernels: the path for cars, appliances and phones. Compiled twice:
// plain ARMv8-A, and ARMv8.2-A with the sdot instruction (kernels_neon_dotprod.cpp defines
// EMBER_NEON_DOTPROD and is built with +dotprod); the CPU's HWCAP chooses at run time.
#include "kernels/kernels_impl.h"

#if defined(EMBER_NEON_DOTPROD)
#include "kernels/gemm_i8_neon.h"
#endif

namespace ember {
inline namespace EMBER_ISA_NAMESPACE {
namespace {
template <>
struct I8<xsimd::neon64> : I8Neon {};
}  // namespace
}  // namespace EMBER_ISA_NAMESPACE
}  // namespace ember

namespace ember::detail {

#if defined(EMBER_NEON_DOTPROD)
const KernelTable& neon_dotprod_kernels() {
  static const KernelTable t = [] {
    KernelTable k = make_kernel_table<xsimd::neon64>(Isa::kNeonDotprod);
    k.gemm_i8_signed_codes = true;
    k.gemm_i8_pack_act = gemm_i8_pack_act_neon;
    k.gemm_i8_pack_panel = gemm_i8_pack_panel_neon;
    k.gemm_i8[0] = gemm_i8_panel_neon<false>;
    k.gemm_i8[1] = gemm_i8_panel_neon<true>;
    return k;
  }();
  return t;
}
#else
const KernelTable& neon_kernels() {
  static const KernelTable t = make_kernel_table<xsimd::neon64>(Isa::kNeon);
  return t;
}
#endif

}  // namespace ember::detail
