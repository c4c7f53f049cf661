// x86 AVX2 + FMA + F16C kernels (compiled with -mavx2 -mfma -mf16c; chosen at run time).
#include "kernels/kernels_impl.h"

namespace ember {
inline namespace EMBER_ISA_NAMESPACE {
namespace {
template <>
struct I8<xsimd::fma3<xsimd::avx2>> : I8X86<false> {};
}  // namespace
}  // namespace EMBER_ISA_NAMESPACE
}  // namespace ember

namespace ember::detail {

const KernelTable& avx2_kernels() {
  static const KernelTable t = make_kernel_table<xsimd::fma3<xsimd::avx2>>(Isa::kAvx2);
  return t;
}

}  // namespace ember::detail
