// Properties of every dtype beyond the fixed vectors: sizes from the traits table, and
// quantize->dequantize error within each format's resolution on random data.
#include <gtest/gtest.h>

#include <cmath>

#include "test_util.h"

namespace ember {
namespace {

TEST(DTypeTraits, BlockSizesAndBytesAreGgmls) {
  EXPECT_EQ(row_bytes(DType::F32, 512), 2048u);
  EXPECT_EQ(row_bytes(DType::Q4_0, 512), 288u);
  EXPECT_EQ(row_bytes(DType::Q4_K, 512), 288u);
  EXPECT_EQ(row_bytes(DType::Q6_K, 512), 420u);
  EXPECT_EQ(row_bytes(DType::Q2_K, 512), 168u);
  EXPECT_EQ(*dtype_from_gguf_id(30), DType::BF16);
  EXPECT_FALSE(dtype_from_gguf_id(16).has_value());  // IQ2_XXS: not supported, and said so
  EXPECT_EQ(*dtype_from_name("Q5_K"), DType::Q5_K);
}

// Relative RMS error bound per format on N(0,1) data: a few times 2^-bits.
double error_bound(DType t) {
  switch (t) {
    case DType::F32: return 0;
    case DType::F16: return 1e-3;
    case DType::BF16: return 4e-3;
    case DType::Q8_0: return 0.01;
    case DType::Q6_K: return 0.03;
    case DType::Q5_0: case DType::Q5_1: case DType::Q5_K: return 0.06;
    case DType::Q4_0: case DType::Q4_1: case DType::Q4_K: return 0.12;
    case DType::Q3_K: return 0.25;
    case DType::Q2_K: return 0.5;
  }
  return 0;
}

class RoundTrip : public ::testing::TestWithParam<DType> {};

TEST_P(RoundTrip, ErrorIsWithinTheFormatsResolution) {
  const DType t = GetParam();
  const int64_t n = 4096;
  const std::vector<float> x = test::random_floats(n, 11);
  std::vector<uint8_t> q(row_bytes(t, n));
  std::vector<float> y(static_cast<size_t>(n));
  quantize_row(t, x.data(), q.data(), n);
  dequantize_row(t, q.data(), y.data(), n);
  double se = 0, sx = 0;
  for (int64_t i = 0; i < n; ++i) {
    se += (y[size_t(i)] - x[size_t(i)]) * (y[size_t(i)] - x[size_t(i)]);
    sx += x[size_t(i)] * x[size_t(i)];
  }
  EXPECT_LE(std::sqrt(se / sx), error_bound(t));
}

TEST_P(RoundTrip, AllZeroInputGivesZeros) {
  const DType t = GetParam();
  const int64_t n = 512;
  std::vector<float> x(static_cast<size_t>(n), 0.0f), y(static_cast<size_t>(n), 1.0f);
  std::vector<uint8_t> q(row_bytes(t, n));
  quantize_row(t, x.data(), q.data(), n);
  dequantize_row(t, q.data(), y.data(), n);
  for (float v : y) EXPECT_EQ(v, 0.0f);
}

INSTANTIATE_TEST_SUITE_P(AllTypes, RoundTrip, ::testing::ValuesIn(kAllDTypes),
                         [](const auto& info) { return std::string(dtype_name(info.param)); });

}  // namespace
}  // namespace ember
