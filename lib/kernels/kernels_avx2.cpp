// x86 AVX2 + FMA + F16C kernels (compiled with -mavx2 -mfma -mf16c; chosen at run time).
#include "kernels/kernels_impl.h"

namespace ember::detail {

const KernelTable& avx2_kernels() {
  static const KernelTable t = make_kernel_table<xsimd::fma3<xsimd::avx2>>(Isa::kAvx2);
  return t;
}

}  // namespace ember::detail
