// The per-ISA kernel table: one instance per instruction set, each built from the same templates
// (kernels_impl.h) in its own translation unit; dispatch.cpp picks the active one.
#pragma once

#include <cstdint>

#include "ember/core/dtype.h"
#include "ember/kernels/isa.h"

namespace ember::detail {

inline constexpr int kNumDTypes = int(sizeof(kAllDTypes) / sizeof(kAllDTypes[0]));

// Position of t in kAllDTypes: the index into KernelTable::dot.
constexpr int dtype_slot(DType t) {
  for (int i = 0; i < kNumDTypes; ++i)
    if (kAllDTypes[i] == t) return i;
  return -1;
}

using DotFn = float (*)(const void* w_row, const float* x, int64_t n);

struct KernelTable {
  Isa isa;
  DotFn dot[kNumDTypes];
  float (*dot_f32)(const float* a, const float* b, int64_t n);
  void (*axpy)(float a, const float* x, float* y, int64_t n);  // y += a * x
  void (*scale)(float* y, float a, int64_t n);                  // y *= a
  void (*rmsnorm)(const float* x, const float* w, float* out, int64_t n, float eps);
  void (*softmax)(float* x, int64_t n);
  void (*swiglu)(const float* gate, const float* up, float* out, int64_t n);
  // Runs `iters` rounds of independent register-only FMAs; returns the FLOPs done (2 per lane
  // per FMA) and a value the compiler cannot discard. For the peak-FLOP/s probe.
  double (*fma_probe)(int64_t iters, float* sink);
};

const KernelTable& scalar_kernels();
#if defined(EMBER_HAVE_X86_KERNELS)
const KernelTable& avx2_kernels();
const KernelTable& avx512_kernels();
#endif
#if defined(EMBER_HAVE_NEON_KERNELS)
const KernelTable& neon_kernels();
#endif

// The table of the active ISA (isa.h).
const KernelTable& active_kernels();

}  // namespace ember::detail
