#include "ember/kernels/probe.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>

#include "ember/core/tensor.h"
#include "ember/kernels/isa.h"
#include "kernels/kernel_table.h"

namespace ember {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double measure_read_bandwidth(ThreadPool* pool, int64_t bytes, int reps) {
  const int64_t n = bytes / int64_t(sizeof(float));
  AlignedBuffer buf(static_cast<size_t>(n) * sizeof(float));
  float* p = buf.as<float>();
  // Touch every page from the threads that will read it (first-touch placement).
  parallel_for(pool, n, 1 << 16, [&](int64_t a, int64_t b) {
    for (int64_t i = a; i < b; ++i) p[i] = float(i & 7) * 0.125f;
  });
  const auto read = detail::active_kernels().read_streams;
  std::atomic<float> sink{0};
  double best = 0;
  for (int r = 0; r < reps; ++r) {
    const double t0 = now_seconds();
    parallel_for(pool, n, 1 << 16, [&](int64_t a, int64_t b) {
      sink.store(sink.load() + read(p + a, b - a));
    });
    best = std::max(best, double(bytes) / (now_seconds() - t0));
  }
  return best;
}

namespace {

double measure_peak(ThreadPool* pool, double (*probe)(int64_t, float*)) {
  float sink = 0;
  probe(100000, &sink);  // warm up (frequency ramp, AVX-512 license)
  const int n_threads = pool ? pool->n_threads() : 1;
  std::atomic<double> flops{0};
  const double t0 = now_seconds();
  auto body = [&](int, int) {
    float s = 0;
    const double f = probe(20000000, &s);
    double cur = flops.load();
    while (!flops.compare_exchange_weak(cur, cur + f)) {
    }
  };
  if (pool && n_threads > 1) {
    pool->parallel_run(body);
  } else {
    body(0, 1);
  }
  return flops.load() / (now_seconds() - t0);
}

}  // namespace

double measure_fma_peak(ThreadPool* pool) { return measure_peak(pool, detail::active_kernels().fma_probe); }

double measure_bf16_peak(ThreadPool* pool) {
#if defined(EMBER_HAVE_X86_KERNELS)
  if (cpu_features().avx512bf16) return measure_peak(pool, detail::avx512_bf16_probe);
#endif
  (void)pool;
  return 0;
}

double measure_int8_peak(ThreadPool* pool) {
#if defined(EMBER_HAVE_X86_KERNELS)
  if (cpu_features().avx512vnni && cpu_features().avx512bw) return measure_peak(pool, detail::avx512_vnni_probe);
#endif
  (void)pool;
  return 0;
}

}  // namespace ember
