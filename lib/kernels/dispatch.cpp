// Public kernel entry points: route each call to the active ISA's table.
#include <algorithm>

#include "ember/core/tensor.h"
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
    case Isa::kNeonDotprod: return neon_dotprod_kernels();
#endif
    default: return scalar_kernels();
  }
}

namespace {

// x converted to the activation format that dtype t pairs with, in a per-thread buffer that grows
// once and is then reused (no allocation per decode step). Null if t has no 8-bit path.
const void* quantized_activations(const KernelTable& kt, DType t, const float* x, int64_t n) {
  const ActFormat f = kt.act[dtype_slot(t)];
  if (!kt.qdot[dtype_slot(t)] || f == ActFormat::kNone) return nullptr;
  thread_local AlignedBuffer buf;
  const size_t need = act_bytes(f, n);
  if (buf.size() < need && !buf.reset(need)) return nullptr;
  kt.quantize_act[int(f)](x, buf.data(), n);
  return buf.data();
}

}  // namespace
}  // namespace detail

bool uses_int8_activations(DType t) {
  const detail::KernelTable& kt = detail::active_kernels();
  return kt.qdot[detail::dtype_slot(t)] != nullptr;
}

float dot(DType t, const void* w_row, const float* x, int64_t n) {
  const detail::KernelTable& kt = detail::active_kernels();
  if (const void* xq = detail::quantized_activations(kt, t, x, n)) return kt.qdot[detail::dtype_slot(t)](w_row, xq, n);
  return kt.dot[detail::dtype_slot(t)](w_row, x, n);
}

void matvec(DType t, const void* W, int64_t rows, int64_t cols, const float* x, float* y, ThreadPool* pool) {
  const detail::KernelTable& kt = detail::active_kernels();
  const size_t rb = row_bytes(t, cols);
  // Chunks of 16 rows: each thread writes whole cache lines of y (no false sharing).
  if (const void* xq = detail::quantized_activations(kt, t, x, cols)) {
    const detail::QDotFn qdot = kt.qdot[detail::dtype_slot(t)];
    const detail::QDotPairFn pair = kt.qdot_pair[detail::dtype_slot(t)];
    parallel_for(pool, rows, 16, [&](int64_t r0, int64_t r1) {
      const char* w = static_cast<const char*>(W);
      int64_t r = r0;
      if (pair) {
        // Row r0 + i with row r0 + h + i: two distant streams through memory (qdot_avx512.h).
        const int64_t h = (r1 - r0) / 2;
        for (int64_t i = 0; i < h; ++i) {
          float out[2];
          pair(w + size_t(r0 + i) * rb, w + size_t(r0 + h + i) * rb, xq, cols, out);
          y[r0 + i] = out[0];
          y[r0 + h + i] = out[1];
        }
        r = r0 + 2 * h;
      }
      for (; r < r1; ++r) y[r] = qdot(w + size_t(r) * rb, xq, cols);
    });
    return;
  }
  const detail::DotFn dot_row = kt.dot[detail::dtype_slot(t)];
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
