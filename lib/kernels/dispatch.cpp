// Public kernel entry points: route each call to the active ISA's table.
#include <algorithm>
#include <array>

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

// x converted to the activation format that dtype t pairs with, in a per-thread buffer per format
// that grows once and is then reused (no allocation per decode step). Null if t has no 8-bit path.
// Products of one x with several matrices of the same format quantize it once (matvec_many).
const void* quantized_activations(const KernelTable& kt, DType t, const float* x, int64_t n, bool fresh = true) {
  const ActFormat f = kt.act[dtype_slot(t)];
  if (!kt.qdot[dtype_slot(t)] || f == ActFormat::kNone) return nullptr;
  thread_local std::array<AlignedBuffer, kNumActFormats> buf;
  AlignedBuffer& b = buf[size_t(f)];
  const size_t need = act_bytes(f, n);
  if (b.size() < need && !b.reset(need)) return nullptr;
  if (fresh) kt.quantize_act[int(f)](x, b.data(), n);
  return b.data();
}

// Rows [r0, r1) of one product into y.
void product_rows(const KernelTable& kt, const MatvecJob& job, const void* xq, const float* x, int64_t cols, int64_t r0,
                  int64_t r1) {
  const size_t rb = job.row_stride ? job.row_stride : row_bytes(job.t, cols);
  const char* w = static_cast<const char*>(job.W);
  float* y = job.y;
  if (!xq) {
    const DotFn dot_row = kt.dot[dtype_slot(job.t)];
    for (int64_t r = r0; r < r1; ++r) y[r] = dot_row(w + size_t(r) * rb, x, cols);
    return;
  }
  int64_t r = r0;
  if (const QDotPairFn pair = kt.qdot_pair[dtype_slot(job.t)]) {
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
  const QDotFn qdot = kt.qdot[dtype_slot(job.t)];
  for (; r < r1; ++r) y[r] = qdot(w + size_t(r) * rb, xq, cols);
}

}  // namespace
}  // namespace detail

bool uses_int8_activations(DType t) {
  const detail::KernelTable& kt = detail::active_kernels();
  return kt.qdot[detail::dtype_slot(t)] != nullptr;
}

DType preferred_weight_layout(DType t) {
  const int slot = detail::dtype_slot(t);
  return slot < 0 ? t : detail::active_kernels().layout[slot];
}

float dot(DType t, const void* w_row, const float* x, int64_t n) {
  const detail::KernelTable& kt = detail::active_kernels();
  if (const void* xq = detail::quantized_activations(kt, t, x, n)) return kt.qdot[detail::dtype_slot(t)](w_row, xq, n);
  return kt.dot[detail::dtype_slot(t)](w_row, x, n);
}

void matvec_many(const MatvecJob* jobs, int n_jobs, int64_t cols, const float* x, ThreadPool* pool) {
  const detail::KernelTable& kt = detail::active_kernels();
  constexpr int kMaxJobs = 8;
  for (int j0 = 0; j0 < n_jobs; j0 += kMaxJobs) {
    const int n = std::min(kMaxJobs, n_jobs - j0);
    const MatvecJob* job = jobs + j0;
    // x in each activation format the products need, once per format; row offsets of each product
    // in the concatenated row space the threads split.
    const void* xq[kMaxJobs];
    int64_t first[kMaxJobs + 1] = {0};
    bool done[detail::kNumActFormats] = {};
    for (int j = 0; j < n; ++j) {
      const int f = int(kt.act[detail::dtype_slot(job[j].t)]);
      xq[j] = detail::quantized_activations(kt, job[j].t, x, cols, !done[f]);
      done[f] = true;
      first[j + 1] = first[j] + job[j].rows;
    }
    // Chunks of 16 rows: each thread writes whole cache lines of y (no false sharing).
    parallel_for(pool, first[n], 16, [&](int64_t a, int64_t b) {
      for (int j = 0; j < n; ++j) {
        const int64_t r0 = std::max(a, first[j]), r1 = std::min(b, first[j + 1]);
        if (r0 < r1) detail::product_rows(kt, job[j], xq[j], x, cols, r0 - first[j], r1 - first[j]);
      }
    });
  }
}

void matvec(DType t, const void* W, int64_t rows, int64_t cols, const float* x, float* y, ThreadPool* pool) {
  const MatvecJob job{t, W, rows, y};
  matvec_many(&job, 1, cols, x, pool);
}

void rmsnorm(const float* x, const float* w, float* out, int64_t n, float eps) {
  detail::active_kernels().rmsnorm(x, w, out, n, eps);
}

void softmax(float* x, int64_t n) { detail::active_kernels().softmax(x, n); }

void swiglu(const float* gate, const float* up, float* out, int64_t n) {
  detail::active_kernels().swiglu(gate, up, out, n);
}

}  // namespace ember
