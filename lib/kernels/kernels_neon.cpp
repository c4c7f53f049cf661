// ARM NEON (AArch64 Advanced SIMD) kernels: the path for cars, appliances and phones.
#include "kernels/kernels_impl.h"

namespace ember::detail {

const KernelTable& neon_kernels() {
  static const KernelTable t = make_kernel_table<xsimd::neon64>(Isa::kNeon);
  return t;
}

}  // namespace ember::detail
