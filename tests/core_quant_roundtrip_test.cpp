// Properties of every dtype beyond the fixed vectors: sizes from the traits table, and
// quantize->dequantize error within each format's resolution on random data.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "ember/core/repack.h"
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
    default: return error_bound(dtype_file_type(t));  // load-time layouts: their file type's
  }
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
INSTANTIATE_TEST_SUITE_P(LoadTimeLayouts, RoundTrip, ::testing::ValuesIn(kRepackedDTypes),
                         [](const auto& info) { return std::string(dtype_name(info.param)); });

// Row lengths for a load-time layout's tests: 32-value types with and without a tail of fewer
// than a group's blocks; one and several superblocks for the K types.
std::vector<int64_t> layout_lengths(DType t) {
  if (dtype_block_size(t) == kQK_K) return {256, 512, 1280};
  return {32, 96, 128, 224, 896, 1376};
}

// The load-time layouts (core/repack.h) hold the same values as their file type, exactly, on rows
// with and without a tail of fewer than four blocks; unpacking restores the file's bytes.
class Repack : public ::testing::TestWithParam<DType> {};

TEST_P(Repack, SameValuesAndUnpacksToTheFileBytes) {
  const DType t = GetParam(), base = dtype_file_type(t);
  ASSERT_NE(t, base);
  EXPECT_EQ(row_bytes(t, 4096), row_bytes(base, 4096));
  for (int64_t cols : layout_lengths(t)) {
    const int64_t rows = 3;
    const std::vector<float> x = test::random_floats(rows * cols, uint64_t(cols));
    const size_t rb = row_bytes(base, cols);
    std::vector<uint8_t> file(rb * rows), packed(rb * rows), direct(rb * rows);
    for (int64_t r = 0; r < rows; ++r) quantize_row(base, x.data() + r * cols, file.data() + r * rb, cols);
    packed = file;
    ASSERT_TRUE(repack_rows(t, packed.data(), rows, cols));
    if (cols >= 128) {
      EXPECT_NE(packed, file) << cols;
    }
    for (int64_t r = 0; r < rows; ++r) {
      quantize_row(t, x.data() + r * cols, direct.data() + r * rb, cols);
      std::vector<float> a(size_t(cols), 0.0f), b(size_t(cols), 1.0f);
      dequantize_row(base, file.data() + r * rb, a.data(), cols);
      dequantize_row(t, packed.data() + r * rb, b.data(), cols);
      EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(float))) << cols << " row " << r;
    }
    EXPECT_EQ(direct, packed) << cols;
    ASSERT_TRUE(unpack_rows(t, packed.data(), rows, cols));
    EXPECT_EQ(packed, file) << cols;
  }
  // A file type is no load-time layout: nothing to do, and nothing touched.
  std::vector<uint8_t> block(row_bytes(base, 128), 0x5a);
  EXPECT_FALSE(repack_rows(base, block.data(), 1, 128));
  EXPECT_EQ(block, std::vector<uint8_t>(row_bytes(base, 128), 0x5a));
}

TEST(Repack, LayoutsAreNeverFileTypes) {
  for (DType t : kRepackedDTypes) {
    EXPECT_FALSE(dtype_from_gguf_id(uint32_t(t)).has_value()) << dtype_name(t);
    EXPECT_FALSE(dtype_from_name(dtype_name(t)).has_value()) << dtype_name(t);
    EXPECT_TRUE(dtype_is_quantized(t));
  }
  for (DType t : kAllDTypes) EXPECT_EQ(dtype_file_type(t), t) << dtype_name(t);
}

INSTANTIATE_TEST_SUITE_P(LoadTimeLayouts, Repack, ::testing::ValuesIn(kRepackedDTypes),
                         [](const auto& info) { return std::string(dtype_name(info.param)); });

}  // namespace
}  // namespace ember
