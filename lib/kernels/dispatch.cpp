// Public kernel entry points: route each call to the active ISA's table.
#include <algorithm>

#include "ember/kernels/kernels.h"
#include "kernels/kernel_table.h"

namespace ember {
namespace detail {

const KernelTable& active_kernels() {
  switch (active_isa()) {
#if defined(EMBER_HAVE_X86_KERNELS)
    case Isa::kAvx2: return avx2_kernels();
    case Isa::kAvx512: return avx512_kernels();
#endif
#if defined(EMBER_HAVE_NEON_KERNELS)
    case Isa::kNeon: return neon_kernels();
#endif
    default: return scalar_kernels();
  }
}

}  // namespace detail

float dot(DType t, const void* w_row, const float* x, int64_t n) {
  return detail::active_kernels().dot[detail::dtype_slot(t)](w_row, x, n);
}

void matvec(DType t, const void* W, int64_t rows, int64_t cols, const float* x, float* y, ThreadPool* pool) {
  const detail::DotFn dot_row = detail::active_kernels().dot[detail::dtype_slot(t)];
  const size_t rb = row_bytes(t, cols);
  // Chunks of 16 rows: each thread writes whole cache lines of y (no false sharing).
  parallel_for(pool, rows, 16, [&](int64_t r0, int64_t r1) {
    const char* w = static_cast<const char*>(W) + size_t(r0) * rb;
    for (int64_t r = r0; r < r1; ++r, w += rb) y[r] = dot_row(w, x, cols);
  });
}

void rmsnorm(const float* x, const float* w, float* out, int64_t n, float eps) {
  detail::active_kernels().rmsnorm(x, w, out, n, eps);
}

void softmax(float* x, int64_t n) { detail::active_kernels().softmax(x, n); }

void swiglu(const float* gate, const float* up, float* out, int64_t n) {
  detail::active_kernels().swiglu(gate, up, out, n);
}

}  // namespace ember
