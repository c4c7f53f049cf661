// Batched products Y = X W^T for prefill. Weights stay in their stored dtype. Three paths
// (matmul_path()):
//
// - kInt8 (gemm_i8.h): block-quantized weights whose blocks are 32 values with one scale (Q4_0,
//   Q5_0, Q8_0, Q4_1, Q5_1 and Q4_K/Q5_K's sub-blocks), on AVX-512 VNNI CPUs without AMX and on
//   ARM cores with sdot: X is quantized to 8 bits per block as decode does, and integer dot
//   products meet the weights' codes directly, packed 16 rows at a time. Twice the multiply-adds
//   per instruction of the BF16 dot product (four times an F32 FMA's on ARM), and no decoded copy
//   of the weights.
// - kBF16: other block-quantized and BF16 weights where the CPU multiplies BF16 natively
//   (AVX512-BF16: twice the F32 FMA rate; AMX-BF16: many times it, so AMX machines take this path
//   for every quantized type): a chunk of rows is decoded to BF16 at a time and goes to oneDNN's
//   matmul with X rounded to BF16 too, accumulating in F32: at most 2^-8 of sum |x_i w_i|.
// - kF32: F32 and F16 weights (as their decode does), every other type without oneDNN or
//   AVX-512, or with EMBER_GEMM=f32: chunks decoded to F32, oneDNN's F32 matmul (or our dot kernels).
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <tuple>
#include <vector>

#include "ember/core/quantize.h"
#include "ember/core/tensor.h"
#include "ember/kernels/isa.h"
#include "ember/kernels/kernels.h"
#include "kernels/gemm_i8.h"
#include "kernels/kernel_table.h"

#if defined(EMBER_WITH_ONEDNN)
#include <omp.h>

#include <dnnl.hpp>
#endif

namespace ember {
namespace {

// Rows decoded at a time: 512, or fewer for wide rows so the decoded chunk stays within 2 MiB (a
// chunk of 512 rows of 8960 floats would be 18 MiB of resident memory for no speed).
constexpr int64_t kChunkRows = 512;
constexpr size_t kChunkBytes = size_t(2) << 20;
constexpr int64_t kMinRowsForGemm = 4;  // below this, m matvecs read the weights no more often

// Decodes rows [r0, r1) of W into dst (row-major, cols wide; F32, or BF16 when bf16), on the
// calling thread.
void decode_rows(DType t, const void* W, size_t rb, int64_t cols, int64_t r0, int64_t r1, void* dst, bool bf16) {
  const detail::KernelTable& kt = detail::active_kernels();
  const detail::DequantFn dequant = kt.dequant[detail::dtype_slot(t)];
  thread_local std::vector<float> row;
  if (bf16 && row.size() < size_t(cols)) row.resize(size_t(cols));
  for (int64_t r = 0; r < r1 - r0; ++r) {
    const char* src = static_cast<const char*>(W) + size_t(r0 + r) * rb;
    if (!bf16) {
      dequant(src, static_cast<float*>(dst) + r * cols, cols);
      continue;
    }
    dequant(src, row.data(), cols);
    kt.to_bf16(row.data(), static_cast<uint16_t*>(dst) + r * cols, cols);
  }
}

#if defined(EMBER_WITH_ONEDNN)
// OpenMP's thread count for this thread while in scope; the caller's setting (the host's, on its
// own thread) is put back after, even if oneDNN throws.
class OmpThreadsForCall {
 public:
  explicit OmpThreadsForCall(int n) : saved_(omp_get_max_threads()) { omp_set_num_threads(n); }
  ~OmpThreadsForCall() { omp_set_num_threads(saved_); }
  OmpThreadsForCall(const OmpThreadsForCall&) = delete;
  OmpThreadsForCall& operator=(const OmpThreadsForCall&) = delete;

 private:
  int saved_;
};

class OneDnnMatmul {
 public:
  static OneDnnMatmul& instance() {
    static OneDnnMatmul m;
    return m;
  }

  // C[m x n] (row stride ldc, F32) = A[m x k] * B^T, B given row-major as n x k; A and B are F32,
  // or BF16 when bf16. On the calling thread alone: Debian's oneDNN runs on OpenMP, whose threads
  // would spin for the cores while our pool's run attention and the rest of a layer (and ours for
  // theirs). Our pool splits the rows instead, each thread calling this for its own.
  void run(const void* A, const void* B, float* C, int64_t m, int64_t n, int64_t k, int64_t ldc, bool bf16) {
    const OmpThreadsForCall one_thread(1);
    const Entry& e = primitive(m, n, k, ldc, bf16);
    using md = dnnl::memory::desc;
    using dt = dnnl::memory::data_type;
    const dt in = bf16 ? dt::bf16 : dt::f32;
    dnnl::memory a(md({m, k}, in, {k, 1}), engine_, const_cast<void*>(A));
    dnnl::memory b(md({k, n}, in, {1, k}), engine_, const_cast<void*>(B));
    dnnl::memory c(md({m, n}, dt::f32, {ldc, 1}), engine_, C);
    // Each calling thread brings its own scratchpad: contexts on different threads may run the
    // same primitive at once, and oneDNN's library-owned scratchpad is shared between them.
    thread_local AlignedBuffer scratchpad;
    if (scratchpad.size() < e.scratchpad.get_size()) scratchpad.reset(e.scratchpad.get_size());
    dnnl::memory sp(e.scratchpad, engine_, scratchpad.data());
    dnnl::stream stream(engine_);
    e.prim.execute(stream, {{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, b}, {DNNL_ARG_DST, c}, {DNNL_ARG_SCRATCHPAD, sp}});
    stream.wait();
  }

 private:
  OneDnnMatmul() : engine_(dnnl::engine::kind::cpu, 0) {}

  // Created on first use per shape and kept: never rebuilt in a loop.
  struct Entry {
    dnnl::matmul prim;
    dnnl::memory::desc scratchpad;
  };

  const Entry& primitive(int64_t m, int64_t n, int64_t k, int64_t ldc, bool bf16) {
    std::lock_guard<std::mutex> lock(mu_);
    const auto key = std::make_tuple(m, n, k, ldc, bf16);
    auto it = cache_.find(key);
    if (it == cache_.end()) {
      using md = dnnl::memory::desc;
      using dt = dnnl::memory::data_type;
      const dt in = bf16 ? dt::bf16 : dt::f32;
      const dnnl::matmul::desc desc(md({m, k}, in, {k, 1}), md({k, n}, in, {1, k}), md({m, n}, dt::f32, {ldc, 1}));
      dnnl::primitive_attr attr;
      attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
      const dnnl::matmul::primitive_desc pd(desc, attr, engine_);
      it = cache_.emplace(key, Entry{dnnl::matmul(pd), pd.scratchpad_desc()}).first;
    }
    return it->second;  // std::map nodes stay put: the reference outlives the lock
  }

  dnnl::engine engine_;
  std::mutex mu_;
  std::map<std::tuple<int64_t, int64_t, int64_t, int64_t, bool>, Entry> cache_;
};
#endif

#if !defined(EMBER_WITH_ONEDNN)
// Our own product: a decoded chunk of weight rows against every activation row.
void matmul_chunk_dots(const float* X, int64_t m, const float* Wc, int64_t n_rows, int64_t cols, float* Y,
                       int64_t ldy) {
  const auto dot_f32 = detail::active_kernels().dot_f32;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t r = 0; r < n_rows; ++r) Y[i * ldy + r] = dot_f32(X + i * cols, Wc + r * cols, cols);
}
#endif

// The most products matmul_many shares one packing of X among (Q/K/V, gate/up: 3 at most today).
constexpr int kMaxSharedJobs = 8;

// Rows of whole blocks of the file type (a K type's 256 values, not just 32): what the packers read.
bool int8_shape_ok(DType t, int64_t cols) { return cols % dtype_block_size(dtype_file_type(t)) == 0; }

// Requests n_rows rows of row_bytes bytes each (stride apart) into L2, a given number of cache lines
// per call, in order.
class LinePrefetch {
 public:
  LinePrefetch(const char* rows, size_t stride, int64_t n_rows, size_t row_bytes)
      : rows_(rows), stride_(stride), n_rows_(n_rows), row_bytes_(row_bytes) {}
  size_t lines() const { return size_t(n_rows_) * ((row_bytes_ + 63) / 64); }
  void request(size_t n) {
    for (size_t k = 0; k < n && r_ < n_rows_; ++k) {
      const char* row = rows_ + size_t(r_) * stride_;
      __builtin_prefetch(row + off_, 0, 2);
      if ((off_ += 64) < row_bytes_) continue;
      __builtin_prefetch(row + row_bytes_ - 1, 0, 2);  // the last line, where the row starts mid-line
      off_ = 0, ++r_;
    }
  }

 private:
  const char* rows_;
  size_t stride_;
  int64_t n_rows_;
  size_t row_bytes_;
  int64_t r_ = 0;  // the next line to request: row r_, byte offset off_
  size_t off_ = 0;
};

// The integer path for one or more products of the same X (whose weight types share a zero point):
// X packed once (tiles of 12 rows), then the 16-row panels of every W in one parallel pass, each
// thread packing a panel and running every tile against it.
void matmul_int8(const MatvecJob* jobs, int n_jobs, int64_t cols, const float* X, int64_t m, ThreadPool* pool) {
  using namespace detail;
  const KernelTable& kt = active_kernels();
  const int64_t n_tiles = (m + kGemmMr - 1) / kGemmMr, n_blocks = cols / 32;
  thread_local AlignedBuffer act;
  if (act.size() < gemm_i8_act_bytes(m, cols)) act.reset(gemm_i8_act_bytes(m, cols));
  uint8_t* a = act.as<uint8_t>();
  const int zero_point = gemm_i8_zero_point(jobs[0].t);
  parallel_for(pool, n_tiles, 1, [&](int64_t t0, int64_t t1) { kt.gemm_i8_pack_act(X, m, cols, zero_point, t0, t1, a); });
  int64_t first_panel[kMaxSharedJobs + 1] = {0};
  for (int j = 0; j < n_jobs; ++j) first_panel[j + 1] = first_panel[j] + (jobs[j].rows + kGemmNr - 1) / kGemmNr;
  struct Panel {
    const MatvecJob* job;
    const char* rows;  // its first row
    size_t stride;
    int64_t r0, n;
  };
  auto panel_at = [&](int64_t p) {
    int j = 0;
    while (p >= first_panel[j + 1]) ++j;
    const MatvecJob& job = jobs[j];
    const size_t stride = job.row_stride ? job.row_stride : row_bytes(job.t, cols);
    const int64_t r0 = (p - first_panel[j]) * kGemmNr;
    return Panel{&job, static_cast<const char*>(job.W) + size_t(r0) * stride, stride, r0,
                 std::min<int64_t>(kGemmNr, job.rows - r0)};
  };
  // The packer reads a panel's 16 rows side by side, more streams than the hardware prefetchers
  // follow from DRAM: the next panel's bytes are requested into L2 while this one is multiplied,
  // a slice after each group of tiles (all at once, the requests would queue behind each other
  // and stall the core).
  constexpr int64_t kTilesPerSlice = 4;
  const int64_t n_slices = (n_tiles + kTilesPerSlice - 1) / kTilesPerSlice;
  parallel_for(pool, first_panel[n_jobs], 1, [&](int64_t p0, int64_t p1) {
    thread_local AlignedBuffer panel;
    if (panel.size() < gemm_i8_panel_bytes(cols)) panel.reset(gemm_i8_panel_bytes(cols));
    for (int64_t p = p0; p < p1; ++p) {
      const Panel at = panel_at(p);
      const MatvecJob& job = *at.job;
      kt.gemm_i8_pack_panel(job.t, at.rows, at.stride, at.n, cols, panel.as<uint8_t>());
      const auto product = kt.gemm_i8[gemm_i8_has_min(job.t) ? 1 : 0];
      const Panel next = p + 1 < p1 ? panel_at(p + 1) : Panel{nullptr, nullptr, 0, 0, 0};
      LinePrefetch ahead(next.rows, next.stride, next.n, next.job ? row_bytes(next.job->t, cols) : 0);
      const size_t per_slice = (ahead.lines() + size_t(n_slices) - 1) / size_t(n_slices);
      for (int64_t s = 0; s < n_slices; ++s) {
        const int64_t i0 = s * kTilesPerSlice * kGemmMr, rows = std::min(m - i0, kTilesPerSlice * kGemmMr);
        product(panel.as<uint8_t>(), a + size_t(s * kTilesPerSlice * n_blocks) * kActBlockBytes, rows, n_blocks,
                job.y + i0 * job.rows + at.r0, job.rows, int(at.n));
        ahead.request(per_slice);
      }
    }
  });
}

}  // namespace

GemmPath matmul_path(DType t) {
  // EMBER_GEMM=f32 keeps F32 arithmetic everywhere: outputs that do not depend on the CPU's
  // arithmetic units (reproducible greedy text across machines, exact comparisons with a
  // reference). EMBER_GEMM=bf16 turns the integer path off (to compare the two).
  enum class Mode { kAuto, kF32, kBF16 };
  static const Mode mode = [] {
    const char* env = std::getenv("EMBER_GEMM");
    if (env && std::strcmp(env, "f32") == 0) return Mode::kF32;
    if (env && std::strcmp(env, "bf16") == 0) return Mode::kBF16;
    return Mode::kAuto;
  }();
  if (mode == Mode::kF32) return GemmPath::kF32;
  // ARM cores with sdot: the integer GEMM (gemm_i8_neon.h), four times the multiply-adds per
  // instruction of F32 FMAs (there is no oneDNN in the ARM build).
  if (active_isa() == Isa::kNeonDotprod)
    return mode == Mode::kAuto && detail::gemm_i8_supports(t) ? GemmPath::kInt8 : GemmPath::kF32;
  if (active_isa() != Isa::kAvx512) return GemmPath::kF32;
  const CpuFeatures f = cpu_features();
#if defined(EMBER_WITH_ONEDNN)
  const bool bf16 = (f.avx512bf16 || f.amx_bf16) && (dtype_is_quantized(t) || t == DType::BF16);
  const bool amx = f.amx_bf16;  // oneDNN's AMX BF16 tiles outrun our VNNI kernel
#else
  const bool bf16 = false, amx = false;
#endif
  if (mode == Mode::kAuto && !amx && f.avx512vnni && detail::gemm_i8_supports(t)) return GemmPath::kInt8;
  return bf16 ? GemmPath::kBF16 : GemmPath::kF32;
}

void matmul_many(const MatvecJob* jobs, int n_jobs, int64_t cols, const float* X, int64_t m, ThreadPool* pool) {
  bool shared = m >= kMinRowsForGemm && n_jobs > 1 && n_jobs <= kMaxSharedJobs;
  for (int j = 0; shared && j < n_jobs; ++j)
    shared = matmul_path(jobs[j].t) == GemmPath::kInt8 && int8_shape_ok(jobs[j].t, cols) &&
             detail::gemm_i8_zero_point(jobs[j].t) == detail::gemm_i8_zero_point(jobs[0].t);
  if (shared) return matmul_int8(jobs, n_jobs, cols, X, m, pool);
  for (int j = 0; j < n_jobs; ++j) {
    const MatvecJob& job = jobs[j];
    matmul_strided(job.t, job.W, job.row_stride ? job.row_stride : row_bytes(job.t, cols), job.rows, cols, X, m, job.y,
                   pool);
  }
}

void matmul(DType t, const void* W, int64_t rows, int64_t cols, const float* X, int64_t m, float* Y,
            ThreadPool* pool) {
  matmul_strided(t, W, row_bytes(t, cols), rows, cols, X, m, Y, pool);
}

void matmul_strided(DType t, const void* W, size_t row_stride, int64_t rows, int64_t cols, const float* X, int64_t m,
                    float* Y, ThreadPool* pool) {
  if (m < kMinRowsForGemm) {
    for (int64_t i = 0; i < m; ++i) {
      const MatvecJob job{t, W, rows, Y + i * rows, row_stride};
      matvec_many(&job, 1, cols, X + i * cols, pool);
    }
    return;
  }
  const GemmPath path = matmul_path(t);
  if (path == GemmPath::kInt8 && int8_shape_ok(t, cols)) {
    const MatvecJob job{t, W, rows, Y, row_stride};
    return matmul_int8(&job, 1, cols, X, m, pool);
  }
#if defined(EMBER_WITH_ONEDNN)
  const bool bf16 = path == GemmPath::kBF16;
  const void* A = X;
  thread_local AlignedBuffer x_bf16;
  if (bf16) {
    if (x_bf16.size() < size_t(m * cols) * 2) x_bf16.reset(size_t(m * cols) * 2);
    uint16_t* xb = x_bf16.as<uint16_t>();
    parallel_for(pool, m, 16, [&](int64_t i0, int64_t i1) {
      detail::active_kernels().to_bf16(X + i0 * cols, xb + i0 * cols, (i1 - i0) * cols);
    });
    A = xb;
  }
  // F32 rows as they are, with no decoded copy.
  const bool direct = t == DType::F32 && !bf16 && row_stride == size_t(cols) * sizeof(float);
#else
  const bool bf16 = false;
#endif
  const size_t elem = bf16 ? 2 : 4;
  const int64_t chunk_rows = std::clamp<int64_t>(int64_t(kChunkBytes / (size_t(cols) * elem)) / 16 * 16, 16, kChunkRows);
  // Each thread takes its own range of W's rows and decodes a chunk of them at a time into its own
  // scratch, multiplying every row of X against it.
  parallel_for(pool, rows, 16, [&](int64_t a, int64_t b) {
#if defined(EMBER_WITH_ONEDNN)
    if (direct) {
      OneDnnMatmul::instance().run(X, static_cast<const float*>(W) + a * cols, Y + a, m, b - a, cols, rows, false);
      return;
    }
#endif
    thread_local AlignedBuffer scratch;
    const size_t need = size_t(chunk_rows * cols) * elem;
    if (scratch.size() < need) scratch.reset(need);
    for (int64_t r0 = a; r0 < b; r0 += chunk_rows) {
      const int64_t r1 = std::min(b, r0 + chunk_rows);
      decode_rows(t, W, row_stride, cols, r0, r1, scratch.data(), bf16);
#if defined(EMBER_WITH_ONEDNN)
      OneDnnMatmul::instance().run(A, scratch.data(), Y + r0, m, r1 - r0, cols, rows, bf16);
#else
      matmul_chunk_dots(X, m, scratch.as<float>(), r1 - r0, cols, Y + r0, rows);
#endif
    }
  });
}

}  // namespace ember
