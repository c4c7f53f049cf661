// Every weight dtype's dot product and matvec, on every ISA this machine runs, against the scalar
// reference (double-precision dot of the dequantized row) on odd sizes.
#include <gtest/gtest.h>

#include <cmath>

#include "ember/core/repack.h"
#include "ember/kernels/kernels.h"
#include "ember/kernels/reference.h"
#include "test_util.h"

namespace ember {
namespace {

class DotByType : public ::testing::TestWithParam<DType> {};

// Odd lengths: multiples of the block size that are not multiples of any SIMD width or unroll.
std::vector<int64_t> odd_lengths(DType t) {
  const int64_t b = dtype_block_size(t);
  if (b == 1) return {1, 3, 7, 17, 31, 33, 100, 255, 257, 896, 1001};
  if (b == 32) return {32, 96, 160, 224, 896, 4864 + 32};
  return {256, 768, 1280, 2304};
}

TEST_P(DotByType, MatchesReferenceOnOddLengths) {
  const DType t = GetParam();
  test::EachIsa().run([&](Isa) {
    for (int64_t n : odd_lengths(t)) {
      const std::vector<uint8_t> w = test::random_weights(t, 1, n, uint64_t(n));
      const std::vector<float> x = test::random_floats(n, uint64_t(n) + 1);
      const bool int8 = uses_int8_activations(t);
      // The exact product, and the product with x as the 8-bit path rounds it (if it does).
      const std::vector<float> xk = int8 ? ref::int8_activations(t, x.data(), n) : x;
      const double exact = ref::dot(t, w.data(), x.data(), n), want = ref::dot(t, w.data(), xk.data(), n);
      // Float accumulation of n products of size ~0.5: error grows like sqrt(n) ulps of the sum.
      double mag = 0;
      std::vector<float> wf(static_cast<size_t>(n));
      dequantize_row(t, w.data(), wf.data(), n);
      for (int64_t i = 0; i < n; ++i) mag += std::fabs(double(wf[size_t(i)]) * x[size_t(i)]);
      const double got = dot(t, w.data(), x.data(), n);
      EXPECT_NEAR(got, want, 1e-6 * mag + 1e-6) << "n=" << n;
      if (int8) {
        EXPECT_LE(std::fabs(got - exact), ref::int8_activation_error_bound(t, w.data(), x.data(), n) + 1e-6 * mag)
            << "n=" << n;
      }
    }
  });
}

TEST_P(DotByType, MatvecMatchesReferenceWithAndWithoutThreads) {
  const DType t = GetParam();
  const int64_t cols = dtype_block_size(t) == 256 ? 512 : 160, rows = 37;
  const std::vector<uint8_t> w = test::random_weights(t, rows, cols, 5);
  const std::vector<float> x = test::random_floats(cols, 6);
  std::vector<float> want(static_cast<size_t>(rows)), got(static_cast<size_t>(rows)), got2(static_cast<size_t>(rows));
  ThreadPool pool(3);
  test::EachIsa().run([&](Isa) {
    const std::vector<float> xk = uses_int8_activations(t) ? ref::int8_activations(t, x.data(), cols) : x;
    ref::matvec(t, w.data(), rows, cols, xk.data(), want.data());
    matvec(t, w.data(), rows, cols, x.data(), got.data());
    matvec(t, w.data(), rows, cols, x.data(), got2.data(), &pool);
    for (int64_t r = 0; r < rows; ++r) {
      EXPECT_NEAR(got[size_t(r)], want[size_t(r)], 1e-4 * std::sqrt(double(cols))) << "row " << r;
      EXPECT_EQ(got[size_t(r)], got2[size_t(r)]) << "threads change the result of row " << r;
    }
  });
}

TEST(Int8Activations, EveryBlockTypeUsesThemAndPlainTypesDoNot) {
  test::EachIsa().run([](Isa) {
    for (DType t : kAllDTypes) EXPECT_EQ(uses_int8_activations(t), dtype_is_quantized(t)) << dtype_name(t);
    for (DType t : kRepackedDTypes) EXPECT_TRUE(uses_int8_activations(t)) << dtype_name(t);
  });
}

// A load-time layout (core/repack.h) gives exactly its file type's products on every ISA (the
// AVX-512 kernels read it directly, the others unpack it), on rows with and without a short tail;
// only the AVX-512 table asks for it.
TEST(LoadTimeLayouts, MatvecEqualsTheFileTypesBitForBit) {
  ThreadPool pool(2);
  test::EachIsa().run([&](Isa isa) {
    for (DType t : kRepackedDTypes) {
      const DType base = dtype_file_type(t);
      EXPECT_EQ(preferred_weight_layout(base), isa == Isa::kAvx512 ? t : base) << dtype_name(t);
      EXPECT_EQ(preferred_weight_layout(t), t);
      const bool k = dtype_block_size(t) == kQK_K;
      for (int64_t cols : k ? std::vector<int64_t>{256, 768, 1536} : std::vector<int64_t>{128, 224, 896, 1376}) {
        const int64_t rows = 21;
        std::vector<uint8_t> w = test::random_weights(base, rows, cols, uint64_t(cols));
        const std::vector<float> x = test::random_floats(cols, uint64_t(cols) + 7);
        std::vector<float> want(static_cast<size_t>(rows)), got(static_cast<size_t>(rows));
        matvec(base, w.data(), rows, cols, x.data(), want.data(), &pool);
        ASSERT_TRUE(repack_rows(t, w.data(), rows, cols));
        matvec(t, w.data(), rows, cols, x.data(), got.data(), &pool);
        EXPECT_EQ(got, want) << dtype_name(t) << " cols=" << cols;
        for (int64_t r = 0; r < rows; ++r)
          EXPECT_EQ(dot(t, w.data() + size_t(r) * row_bytes(t, cols), x.data(), cols), want[size_t(r)]) << r;
      }
    }
  });
}

// Measured accuracy of the 8-bit activation path on model-like data (weights N(0, 0.5) quantized,
// activations N(0, 1)): relative error of whole matvec outputs against the exact F32 product.
TEST(Int8Activations, RelativeErrorOnRealisticDataIsSmall) {
  const int64_t rows = 64, cols = 1024;
  for (DType t : {DType::Q8_0, DType::Q4_0, DType::Q4_K, DType::Q6_K}) {
    const auto w = test::random_weights(t, rows, cols, 3);
    const auto x = test::random_floats(cols, 4);
    std::vector<float> got(static_cast<size_t>(rows)), exact(static_cast<size_t>(rows));
    matvec(t, w.data(), rows, cols, x.data(), got.data());
    ref::matvec(t, w.data(), rows, cols, x.data(), exact.data());
    double num = 0, den = 0;
    for (int64_t r = 0; r < rows; ++r) {
      num += (got[size_t(r)] - exact[size_t(r)]) * (got[size_t(r)] - exact[size_t(r)]);
      den += exact[size_t(r)] * exact[size_t(r)];
    }
    const double rel = std::sqrt(num / den);
    EXPECT_LT(rel, 0.01) << dtype_name(t);
    RecordProperty(std::string(dtype_name(t)) + "_relative_rms_error", std::to_string(rel));
  }
}

INSTANTIATE_TEST_SUITE_P(AllTypes, DotByType, ::testing::ValuesIn(kAllDTypes),
                         [](const auto& info) { return std::string(dtype_name(info.param)); });
INSTANTIATE_TEST_SUITE_P(LoadTimeLayouts, DotByType, ::testing::ValuesIn(kRepackedDTypes),
                         [](const auto& info) { return std::string(dtype_name(info.param)); });

TEST(Isa, ScalarIsAlwaysRunnableAndTheBestIsActiveByDefault) {
  const std::vector<Isa> isas = runnable_isas();
  ASSERT_FALSE(isas.empty());
  EXPECT_EQ(isas.front(), Isa::kScalar);
  const char* forced = std::getenv("EMBER_ISA");
  bool forced_runnable = false;
  for (Isa isa : isas) forced_runnable |= forced && std::string(forced) == isa_name(isa);
  // EMBER_ISA names the path when this CPU can run it; otherwise the best path is used.
  EXPECT_STREQ(isa_name(active_isa()), forced_runnable ? forced : isa_name(isas.back()));
}

}  // namespace
}  // namespace ember
