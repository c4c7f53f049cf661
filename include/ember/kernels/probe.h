// Measures this machine's limits, so that speed is reported as a fraction of what the hardware
// can do (figures in absolute units drift from machine to machine; ratios survive).
#pragma once

#include <cstdint>

#include "ember/kernels/thread_pool.h"

namespace ember {

// Read bandwidth in bytes/s: every thread of `pool` sums its share of a `bytes` buffer as four
// prefetched streams (best of `reps` passes). Use a buffer well beyond the last-level cache (256 MiB
// or more).
double measure_read_bandwidth(ThreadPool* pool, int64_t bytes = int64_t(256) << 20, int reps = 3);

// Peak F32 FMA rate in FLOP/s of the active ISA on every thread of `pool`.
double measure_fma_peak(ThreadPool* pool);
// Peak BF16 dot-product rate (vdpbf16ps, 4 FLOP per F32 lane) in FLOP/s on every thread of `pool`;
// 0 on CPUs without AVX512-BF16. (AMX, where present, is faster still and not probed.)
double measure_bf16_peak(ThreadPool* pool);
// Peak int8 dot-product rate (vpdpbusd, 2 ops per byte product) in ops/s on every thread of
// `pool`; 0 on CPUs without AVX512-VNNI. (The integer GEMM's arithmetic: matmul_path kInt8.)
double measure_int8_peak(ThreadPool* pool);

// Seconds on a monotonic clock.
double now_seconds();

}  // namespace ember
