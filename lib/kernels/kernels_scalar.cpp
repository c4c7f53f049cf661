// Portable kernels: one float at a time, no SIMD. The fallback on any CPU, and a path tests force.
#define EMBER_KERNELS_SCALAR_ONLY 1
#include "kernels/kernels_impl.h"

namespace ember::detail {

const KernelTable& scalar_kernels() {
  static const KernelTable t = make_kernel_table<ScalarArch>(Isa::kScalar);
  return t;
}

}  // namespace ember::detail
