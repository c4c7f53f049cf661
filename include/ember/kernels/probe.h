// Measures this machine's limits, so that speed is reported as a fraction of what the hardware
// can do (figures in absolute units drift from machine to machine; ratios survive).
#pragma once

#include <cstdint>

#include "ember/kernels/thread_pool.h"

namespace ember {

// Read bandwidth in bytes/s: every thread of `pool` sums its share of a `bytes` buffer (best of
// `reps` passes). Use a buffer well beyond the last-level cache (256 MiB or more).
double measure_read_bandwidth(ThreadPool* pool, int64_t bytes = int64_t(256) << 20, int reps = 3);

// Peak F32 FMA rate in FLOP/s of the active ISA on every thread of `pool`.
double measure_fma_peak(ThreadPool* pool);

// Seconds on a monotonic clock.
double now_seconds();

}  // namespace ember
