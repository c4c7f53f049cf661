// Google Benchmark suites for the kernels at real model shapes. Matvec reports weight-traffic GB/s
// and its fraction of this machine's measured read bandwidth; matmul reports GFLOP/s and its
// fraction of the measured peak of the arithmetic its path uses (matmul_path: F32 FMA, the BF16
// dot product or the int8 one). Limits are measured once at start-up with the same thread
// counts (probe.h), so every ratio compares figures from the same run.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <random>
#include <vector>

#include "ember/core/quantize.h"
#include "ember/core/tensor.h"
#include "ember/kernels/isa.h"
#include "ember/kernels/kernels.h"
#include "ember/kernels/probe.h"

#if defined(__linux__)
#include <sys/mman.h>
#endif

using namespace ember;

namespace {

struct Limits {
  double bandwidth[3] = {0, 0, 0};  // bytes/s by thread count
  double fma_peak[3] = {0, 0, 0};   // FLOP/s by thread count
  double bf16_peak[3] = {0, 0, 0};
  double int8_peak[3] = {0, 0, 0};  // ops/s
  double peak(GemmPath path, int threads) const {
    if (path == GemmPath::kInt8 && int8_peak[threads] > 0) return int8_peak[threads];
    if (path == GemmPath::kBF16 && bf16_peak[threads] > 0) return bf16_peak[threads];
    return fma_peak[threads];
  }
};

const Limits& limits() {
  static const Limits l = [] {
    Limits out;
    for (int threads : {1, 2}) {
      ThreadPool pool(threads);
      out.bandwidth[threads] = measure_read_bandwidth(&pool);
      out.fma_peak[threads] = measure_fma_peak(&pool);
      out.bf16_peak[threads] = measure_bf16_peak(&pool);
      out.int8_peak[threads] = measure_int8_peak(&pool);
    }
    return out;
  }();
  return l;
}

const std::vector<uint8_t>& weights(DType t, int64_t rows, int64_t cols) {
  static std::map<std::tuple<DType, int64_t, int64_t>, std::vector<uint8_t>> cache;
  auto& w = cache[{t, rows, cols}];
  if (w.empty()) {
    std::mt19937 rng(1);
    std::normal_distribution<float> d(0.0f, 0.5f);
    std::vector<float> row(static_cast<size_t>(cols));
    w.resize(row_bytes(t, cols) * size_t(rows));
    for (int64_t r = 0; r < rows; ++r) {
      for (float& v : row) v = d(rng);
      quantize_row(t, row.data(), w.data() + size_t(r) * row_bytes(t, cols), cols);
    }
  }
  return w;
}

// A decode step's weight products for every layer of Qwen2.5-0.5B (896 wide) or 1.5B (1536): Q/K/V
// in one matvec_many, O, gate/up in one, down; every layer's matrices at their own addresses, so the
// stack streams from memory as a model's does. A matrix streamed alone (BM_Matvec) hides what the
// sequence shows: short matrices back to back, and down's long rows, whose 8-bit activations
// (22 KiB for 8960 values) must stay in L1 while the weights stream past them.
void BM_DecodeLayers(benchmark::State& state, DType file_type) {
  const int64_t H = state.range(0);
  const int threads = int(state.range(1));
  const bool wide = H == 1536;
  const int64_t I = wide ? 8960 : 4864, KV = wide ? 256 : 128, L = wide ? 28 : 24;
  const DType t = preferred_weight_layout(file_type);
  const std::pair<int64_t, int64_t> shapes[] = {{H, H}, {KV, H}, {KV, H}, {H, H}, {I, H}, {I, H}, {H, I}};
  size_t layer_bytes = 0;
  for (auto [rows, cols] : shapes) layer_bytes += row_bytes(t, cols) * size_t(rows);
  AlignedBuffer stack(layer_bytes * size_t(L));
#if defined(MADV_HUGEPAGE)
  ::madvise(stack.data(), stack.size(), MADV_HUGEPAGE);  // as the loader asks for its copies
#endif
  const uint8_t* w[7][28];
  for (int64_t l = 0; l < L; ++l) {
    uint8_t* at = stack.as<uint8_t>() + size_t(l) * layer_bytes;
    for (int m = 0; m < 7; ++m) {
      const auto& src = weights(t, shapes[m].first, shapes[m].second);
      std::memcpy(at, src.data(), src.size());
      w[m][l] = at;
      at += src.size();
    }
  }
  const size_t n = static_cast<size_t>(I);
  std::vector<float> x(n, 0.5f), a(n), b(n), c(n);
  ThreadPool pool(threads);
  for (auto _ : state) {
    for (int64_t l = 0; l < L; ++l) {
      const MatvecJob qkv[3] = {{t, w[0][l], H, a.data()}, {t, w[1][l], KV, b.data()}, {t, w[2][l], KV, c.data()}};
      matvec_many(qkv, 3, H, x.data(), &pool);
      matvec(t, w[3][l], H, H, x.data(), a.data(), &pool);
      const MatvecJob gate_up[2] = {{t, w[4][l], I, a.data()}, {t, w[5][l], I, b.data()}};
      matvec_many(gate_up, 2, H, x.data(), &pool);
      matvec(t, w[6][l], H, I, x.data(), c.data(), &pool);
    }
    benchmark::DoNotOptimize(c.data());
  }
  const double bytes = double(stack.size()) * double(state.iterations());
  state.counters["GB/s"] = benchmark::Counter(bytes / 1e9, benchmark::Counter::kIsRate);
  state.counters["of_bandwidth"] = benchmark::Counter(bytes / limits().bandwidth[threads], benchmark::Counter::kIsRate);
  state.SetLabel(std::string(dtype_name(t)) + " " + std::to_string(L) + " layers");
}

// Weights in the layout a loaded model would have them in (preferred_weight_layout: Q4_0 becomes
// Q4_0x4 where the AVX-512 kernels are active); EMBER_BENCH_FILE_LAYOUT=1 keeps the file's.
void BM_Matvec(benchmark::State& state, DType file_type) {
  const int64_t rows = state.range(0), cols = state.range(1);
  const int threads = int(state.range(2));
  const char* keep = std::getenv("EMBER_BENCH_FILE_LAYOUT");
  const DType t = keep && *keep == '1' ? file_type : preferred_weight_layout(file_type);
  const auto& w = weights(t, rows, cols);
  std::vector<float> x(static_cast<size_t>(cols), 0.5f), y(static_cast<size_t>(rows));
  ThreadPool pool(threads);
  for (auto _ : state) {
    matvec(t, w.data(), rows, cols, x.data(), y.data(), &pool);
    benchmark::DoNotOptimize(y.data());
  }
  const double bytes = double(w.size()) * double(state.iterations());
  state.SetBytesProcessed(int64_t(bytes));
  state.counters["GB/s"] = benchmark::Counter(bytes / 1e9, benchmark::Counter::kIsRate);
  state.counters["of_bandwidth"] =
      benchmark::Counter(bytes / limits().bandwidth[threads], benchmark::Counter::kIsRate);
  state.SetLabel(std::string(dtype_name(t)) + " " + isa_name(active_isa()));
}

// Weights in the loaded model's layout too (packing them for the integer GEMM depends on it).
void BM_Matmul(benchmark::State& state, DType file_type) {
  const DType t = preferred_weight_layout(file_type);
  const int64_t bs = dtype_block_size(t);  // (K types: the whole superblocks of a 896-value row)
  const int64_t m = state.range(0), rows = state.range(1), cols = state.range(2) / bs * bs;
  const int threads = int(state.range(3));
  const auto& w = weights(t, rows, cols);
  std::vector<float> x(static_cast<size_t>(m * cols), 0.25f), y(static_cast<size_t>(m * rows));
  ThreadPool pool(threads);
  for (auto _ : state) {
    matmul(t, w.data(), rows, cols, x.data(), m, y.data(), &pool);
    benchmark::DoNotOptimize(y.data());
  }
  const double flops = 2.0 * double(m * rows * cols) * double(state.iterations());
  state.counters["GFLOP/s"] = benchmark::Counter(flops / 1e9, benchmark::Counter::kIsRate);
  const GemmPath path = matmul_path(t);
  state.counters["of_peak"] = benchmark::Counter(flops / limits().peak(path, threads), benchmark::Counter::kIsRate);
  const char* path_name = path == GemmPath::kInt8 ? "int8" : path == GemmPath::kBF16 ? "bf16" : "f32";
  state.SetLabel(std::string(dtype_name(t)) + " " + isa_name(active_isa()) + " " + path_name);
}

// Real shapes: Qwen2.5-0.5B (896 wide, MLP 4864, vocab 151936), 1.5B (1536), and 2048-wide layers.
// The two vocabulary heads are the matrices larger than this machine's whole last-level cache (the
// K types' 256-value blocks do not divide 896: their row covers the first 768 values there).
void matvec_shapes(benchmark::internal::Benchmark* b) {
  const std::pair<int64_t, int64_t> shapes[] = {{896, 896},   {4864, 896},  {896, 4864},  {151936, 896}, {1536, 1536},
                                                {8960, 1536}, {151936, 1536}, {2048, 2048}, {5632, 2048}};
  for (auto [rows, cols] : shapes)
    for (int threads : {1, 2}) b->Args({rows, cols, threads});
  b->Unit(benchmark::kMicrosecond)->UseRealTime();
}

// Prefill batches of 0.5B's MLP: up (4864 x 896) and down (896 x 4864), 128 and 256 tokens (the
// default batch).
void matmul_shapes(benchmark::internal::Benchmark* b) {
  for (int threads : {1, 2}) {
    b->Args({128, 4864, 896, threads});
    b->Args({256, 4864, 896, threads});
    b->Args({256, 896, 4864, threads});
  }
  b->Unit(benchmark::kMillisecond)->UseRealTime();
}

void decode_layer_shapes(benchmark::internal::Benchmark* b) {
  for (int64_t width : {896, 1536})
    for (int threads : {1, 2}) b->Args({width, threads});
  b->Unit(benchmark::kMillisecond)->UseRealTime();
}

}  // namespace

#define EMBER_MATVEC(T) BENCHMARK_CAPTURE(BM_Matvec, T, DType::T)->Apply(matvec_shapes);
EMBER_MATVEC(F32)
EMBER_MATVEC(F16)
EMBER_MATVEC(BF16)
EMBER_MATVEC(Q8_0)
EMBER_MATVEC(Q4_0)
EMBER_MATVEC(Q4_1)
EMBER_MATVEC(Q5_0)
EMBER_MATVEC(Q5_1)
EMBER_MATVEC(Q2_K)
EMBER_MATVEC(Q3_K)
EMBER_MATVEC(Q4_K)
EMBER_MATVEC(Q5_K)
EMBER_MATVEC(Q6_K)
BENCHMARK_CAPTURE(BM_DecodeLayers, Q8_0, DType::Q8_0)->Apply(decode_layer_shapes);
BENCHMARK_CAPTURE(BM_DecodeLayers, Q4_0, DType::Q4_0)->Apply(decode_layer_shapes);
// (K types: 1536 only; 256-value blocks do not divide 896)
BENCHMARK_CAPTURE(BM_DecodeLayers, Q4_K, DType::Q4_K)->Args({1536, 1})->Args({1536, 2})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Matmul, F32, DType::F32)->Apply(matmul_shapes);
BENCHMARK_CAPTURE(BM_Matmul, Q4_0, DType::Q4_0)->Apply(matmul_shapes);
BENCHMARK_CAPTURE(BM_Matmul, Q8_0, DType::Q8_0)->Apply(matmul_shapes);
BENCHMARK_CAPTURE(BM_Matmul, Q4_K, DType::Q4_K)->Apply(matmul_shapes);

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  const Limits& l = limits();
  std::printf("machine limits: read bandwidth %.1f / %.1f GB/s, F32 FMA peak %.0f / %.0f GFLOP/s (1 / 2 threads, %s)\n",
              l.bandwidth[1] / 1e9, l.bandwidth[2] / 1e9, l.fma_peak[1] / 1e9, l.fma_peak[2] / 1e9,
              isa_name(active_isa()));
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
}
