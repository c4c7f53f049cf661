// x86 AVX-512 (F/BW/DQ/VL/VNNI) kernels (compiled with those flags; chosen at run time).
#include "kernels/kernels_impl.h"

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
  static const KernelTable t = make_kernel_table<xsimd::avx512bw>(Isa::kAvx512);
  return t;
}

}  // namespace ember::detail
