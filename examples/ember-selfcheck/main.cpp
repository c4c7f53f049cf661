// ember-selfcheck: what the CPU offers, every fast kernel against its scalar reference, and the
// machine's limits. Options: kHelp below.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "ember/core/quantize.h"
#include "ember/kernels/isa.h"
#include "ember/kernels/kernels.h"
#include "ember/kernels/probe.h"
#include "ember/kernels/reference.h"
#include "common/cli.h"

using namespace ember;

namespace {

std::vector<float> randn(int64_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = d(rng);
  return v;
}

std::vector<uint8_t> quantized(DType t, int64_t rows, int64_t cols, uint32_t seed) {
  const auto w = randn(rows * cols, seed, 0.5f);
  std::vector<uint8_t> q(row_bytes(t, cols) * size_t(rows));
  for (int64_t r = 0; r < rows; ++r) quantize_row(t, w.data() + r * cols, q.data() + size_t(r) * row_bytes(t, cols), cols);
  return q;
}

void print_features() {
  const CpuFeatures f = cpu_features();
  std::printf("CPU features:");
  const std::pair<const char*, bool> names[] = {
      {"avx2", f.avx2}, {"fma", f.fma}, {"f16c", f.f16c}, {"avx512f", f.avx512f}, {"avx512bw", f.avx512bw},
      {"avx512vl", f.avx512vl}, {"avx512vnni", f.avx512vnni}, {"avx512vbmi", f.avx512vbmi}, {"gfni", f.gfni}, {"avx512bf16", f.avx512bf16},
      {"amx-int8", f.amx_int8}, {"amx-bf16", f.amx_bf16}, {"neon", f.neon}, {"dotprod", f.neon_dotprod}};
  for (auto& [name, on] : names)
    if (on) std::printf(" %s", name);
  std::printf("\nKernel paths runnable here:");
  for (Isa isa : runnable_isas()) std::printf(" %s", isa_name(isa));
  std::printf("; active: %s (EMBER_ISA overrides)\n", isa_name(active_isa()));
}

// Every dtype's dot and matvec, attention, norms: fast path vs reference, on every runnable ISA.
int self_check() {
  int checks = 0, failures = 0;
  auto check = [&](bool ok, const std::string& what) {
    ++checks;
    if (!ok) {
      ++failures;
      std::printf("  MISMATCH: %s\n", what.c_str());
    }
  };
  const Isa saved = active_isa();
  for (Isa isa : runnable_isas()) {
    set_active_isa(isa);
    for (DType t : kAllDTypes) {
      const int64_t cols = dtype_block_size(t) == 256 ? 768 : 864 + (dtype_block_size(t) == 1 ? 7 : 0);
      const int64_t rows = 19;
      const auto w = quantized(t, rows, cols, 1);
      const auto x = randn(cols, 2);
      std::vector<float> got(static_cast<size_t>(rows)), want(static_cast<size_t>(rows));
      matvec(t, w.data(), rows, cols, x.data(), got.data());
      // Block types take 8-bit activations: compare with the reference fed the same rounding.
      const auto xk = uses_int8_activations(t) ? ref::int8_activations(t, x.data(), cols) : x;
      ref::matvec(t, w.data(), rows, cols, xk.data(), want.data());
      double worst = 0;
      for (int64_t r = 0; r < rows; ++r) worst = std::max(worst, std::fabs(double(got[size_t(r)]) - want[size_t(r)]));
      check(worst < 1e-3, std::string(isa_name(isa)) + " matvec " + std::string(dtype_name(t)));
    }
    {
      const int64_t n = 1001;
      const auto x = randn(n, 3), g = randn(n, 4);
      std::vector<float> a(static_cast<size_t>(n)), b(static_cast<size_t>(n));
      rmsnorm(x.data(), g.data(), a.data(), n, 1e-6f);
      ref::rmsnorm(x.data(), g.data(), b.data(), n, 1e-6f);
      double worst = 0;
      for (int64_t i = 0; i < n; ++i) worst = std::max(worst, std::fabs(double(a[size_t(i)]) - b[size_t(i)]));
      check(worst < 1e-4, std::string(isa_name(isa)) + " rmsnorm");
      a = x;
      b = x;
      softmax(a.data(), n);
      ref::softmax(b.data(), n);
      worst = 0;
      for (int64_t i = 0; i < n; ++i) worst = std::max(worst, std::fabs(double(a[size_t(i)]) - b[size_t(i)]));
      check(worst < 1e-6, std::string(isa_name(isa)) + " softmax");
    }
    {
      const int64_t nh = 14, nkv = 2, hd = 64, n = 9;
      const auto q = randn(n * nh * hd, 5), k = randn(n * nkv * hd, 6), v = randn(n * nkv * hd, 7);
      const AttentionShape s{n, n, nh, nkv, hd, 0, nkv * hd, 0.125f};
      std::vector<float> a(q.size()), b(q.size());
      attention(q.data(), k.data(), v.data(), a.data(), s);
      ref::attention(q.data(), k.data(), v.data(), b.data(), s);
      double worst = 0;
      for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(double(a[i]) - b[i]));
      check(worst < 1e-4, std::string(isa_name(isa)) + " attention");
    }
  }
  set_active_isa(saved);
  std::printf("Self-check: %d of %d kernel checks passed (every dtype x every runnable ISA vs scalar reference)\n",
              checks - failures, checks);
  return failures == 0 ? 0 : 1;
}

void short_benchmark() {
  std::printf("\nMachine limits (measured now):\n");
  double bw[3] = {0, 0, 0}, peak[3] = {0, 0, 0};
  for (int threads : {1, 2}) {
    ThreadPool pool(threads);
    bw[threads] = measure_read_bandwidth(&pool);
    peak[threads] = measure_fma_peak(&pool);
    const double bf16 = measure_bf16_peak(&pool);
    std::printf("  %d thread%s: read bandwidth %.1f GB/s, F32 FMA peak (%s) %.0f GFLOP/s", threads,
                threads > 1 ? "s" : " ", bw[threads] / 1e9, isa_name(active_isa()), peak[threads] / 1e9);
    if (bf16 > 0) std::printf(", BF16 dot peak %.0f GFLOP/s", bf16 / 1e9);
    const double int8 = measure_int8_peak(&pool);
    if (int8 > 0) std::printf(", int8 dot peak %.0f GOP/s", int8 / 1e9);
    std::printf("\n");
  }
  // The LM-head shape of Qwen2.5-0.5B: far larger than any cache, so this is weight streaming.
  const int64_t rows = 151936, cols = 896;
  std::printf("\nDecode matvec %lldx%lld (weights streamed from memory), active path %s:\n", (long long)rows,
              (long long)cols, isa_name(active_isa()));
  std::printf("  %-5s %7s %9s %9s %12s\n", "dtype", "threads", "ms", "GB/s", "of bandwidth");
  const auto x = randn(cols, 9);
  std::vector<float> y(static_cast<size_t>(rows));
  for (DType t : {DType::F16, DType::Q8_0, DType::Q4_0, DType::Q4_K, DType::Q6_K}) {
    const auto w = quantized(t, rows, cols, 8);
    for (int threads : {1, 2}) {
      ThreadPool pool(threads);
      matvec(t, w.data(), rows, cols, x.data(), y.data(), &pool);
      double best = 1e9;
      for (int rep = 0; rep < 5; ++rep) {
        const double t0 = now_seconds();
        matvec(t, w.data(), rows, cols, x.data(), y.data(), &pool);
        best = std::min(best, now_seconds() - t0);
      }
      const double gbs = double(w.size()) / best / 1e9;
      std::printf("  %-5s %7d %9.2f %9.1f %11.0f%%\n", std::string(dtype_name(t)).c_str(), threads, best * 1e3, gbs,
                  100.0 * gbs * 1e9 / bw[threads]);
    }
  }
  // A prefill-sized product: 512 tokens through the 0.5B MLP up-projection.
  const int64_t m = 512, n_out = 4864, k = 896;
  const auto X = randn(m * k, 10);
  std::vector<float> Y(static_cast<size_t>(m * n_out));
  std::printf("\nPrefill matmul %lldx%lldx%lld:\n", (long long)m, (long long)n_out, (long long)k);
  for (DType t : {DType::F32, DType::Q4_0}) {
    const auto w = quantized(t, n_out, k, 11);
    for (int threads : {1, 2}) {
      ThreadPool pool(threads);
      matmul(t, w.data(), n_out, k, X.data(), m, Y.data(), &pool);
      double best = 1e9;
      for (int rep = 0; rep < 3; ++rep) {
        const double t0 = now_seconds();
        matmul(t, w.data(), n_out, k, X.data(), m, Y.data(), &pool);
        best = std::min(best, now_seconds() - t0);
      }
      const double gflops = 2.0 * double(m * n_out * k) / best / 1e9;
      std::printf("  %-5s %d thread%s %8.1f GFLOP/s  %5.0f%% of F32 FMA peak\n", std::string(dtype_name(t)).c_str(),
                  threads, threads > 1 ? "s" : " ", gflops, 100.0 * gflops * 1e9 / peak[threads]);
    }
  }
}

}  // namespace

const ember_cli::Help kHelp = {
    "ember-selfcheck",
    "ember-selfcheck [--check-only]",
    "Prints what the CPU offers and which kernel path Ember chose, checks every fast kernel against\n"
    "its scalar reference on this machine, then measures the machine's limits and the kernels' speed\n"
    "as a fraction of them.\n"
    "\n"
    "  --check-only   the check only (exit status 1 on any mismatch)\n"
    "  -h, --help     this help\n"};

int main(int argc, char** argv) {
  bool check_only = false;
  ember_cli::handle_help(kHelp, argc, argv);
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--check-only") == 0) {
      check_only = true;
    } else {
      ember_cli::usage_error(kHelp, std::string("unknown argument '") + argv[i] + "'");
    }
  }
  std::printf("Ember kernel self-check\n");
  print_features();
  const int rc = self_check();
  if (!check_only) short_benchmark();
  return rc;
}
