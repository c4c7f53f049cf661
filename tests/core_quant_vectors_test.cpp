// GGUF block formats against ggml's own bytes and floats (../shared/data/vectors/quants, made by
// llama.cpp at commit c392e50): dequantization bit for bit, quantization byte for byte.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "ember/core/half.h"
#include "test_util.h"

namespace ember {
namespace {

constexpr int64_t kRows = 8, kCols = 512;

class QuantVectors : public ::testing::TestWithParam<DType> {
 protected:
  void SetUp() override {
    const std::string dir = test::test_data("quants/");
    const std::string name(dtype_name(GetParam()));
    if (!test::read_file(dir + "input.f32", &input_) || !test::read_file(dir + name + ".bin", &bin_) ||
        !test::read_file(dir + name + ".dequant.f32", &dequant_))
      GTEST_SKIP() << "quantization vectors not found under " << dir;
    ASSERT_EQ(input_.size(), size_t(kRows * kCols * 4));
    ASSERT_EQ(bin_.size(), row_bytes(GetParam(), kCols) * kRows);
    ASSERT_EQ(dequant_.size(), size_t(kRows * kCols * 4));
  }
  const float* input() const { return reinterpret_cast<const float*>(input_.data()); }
  std::vector<uint8_t> input_, bin_, dequant_;
};

TEST_P(QuantVectors, DequantizeMatchesGgmlBitForBit) {
  const DType t = GetParam();
  std::vector<float> out(static_cast<size_t>(kRows * kCols));
  for (int64_t r = 0; r < kRows; ++r)
    dequantize_row(t, bin_.data() + size_t(r) * row_bytes(t, kCols), out.data() + r * kCols, kCols);
  int mismatches = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    uint32_t expect;
    std::memcpy(&expect, dequant_.data() + 4 * i, 4);
    if (f32_bits(out[i]) != expect && ++mismatches <= 5)
      ADD_FAILURE() << "value " << i << ": got bits " << std::hex << f32_bits(out[i]) << " want " << expect;
  }
  EXPECT_EQ(mismatches, 0);
}

TEST_P(QuantVectors, QuantizeMatchesGgmlBytes) {
  // ggml's reference quantizers evaluated in float32 without FMA contraction give these exact
  // bytes (vectors README, "Encoder notes"); ours run the same arithmetic in the same order.
  const DType t = GetParam();
  std::vector<uint8_t> out(bin_.size());
  for (int64_t r = 0; r < kRows; ++r)
    quantize_row(t, input() + r * kCols, out.data() + size_t(r) * row_bytes(t, kCols), kCols);
  int mismatches = 0;
  for (size_t i = 0; i < out.size(); ++i)
    if (out[i] != bin_[i] && ++mismatches <= 5)
      ADD_FAILURE() << "byte " << i << ": got " << int(out[i]) << " want " << int(bin_[i]);
  EXPECT_EQ(mismatches, 0);
}

TEST_P(QuantVectors, QuantizationErrorPerRowIsNoWorseThanGgml) {
  const DType t = GetParam();
  std::vector<uint8_t> q(bin_.size());
  std::vector<float> ours(static_cast<size_t>(kRows * kCols));
  for (int64_t r = 0; r < kRows; ++r) {
    quantize_row(t, input() + r * kCols, q.data() + size_t(r) * row_bytes(t, kCols), kCols);
    dequantize_row(t, q.data() + size_t(r) * row_bytes(t, kCols), ours.data() + r * kCols, kCols);
  }
  const float* theirs = reinterpret_cast<const float*>(dequant_.data());
  for (int64_t r = 0; r < kRows; ++r) {
    double se_ours = 0, se_theirs = 0;
    for (int64_t c = 0; c < kCols; ++c) {
      const double x = input()[r * kCols + c];
      se_ours += (ours[size_t(r * kCols + c)] - x) * (ours[size_t(r * kCols + c)] - x);
      se_theirs += (theirs[r * kCols + c] - x) * (theirs[r * kCols + c] - x);
    }
    EXPECT_LE(std::sqrt(se_ours / kCols), std::sqrt(se_theirs / kCols) * (1 + 1e-6) + 1e-30) << "row " << r;
  }
}

INSTANTIATE_TEST_SUITE_P(AllTypes, QuantVectors,
                         ::testing::Values(DType::F16, DType::BF16, DType::Q4_0, DType::Q4_1, DType::Q5_0,
                                           DType::Q5_1, DType::Q8_0, DType::Q2_K, DType::Q3_K, DType::Q4_K,
                                           DType::Q5_K, DType::Q6_K),
                         [](const auto& info) { return std::string(dtype_name(info.param)); });

}  // namespace
}  // namespace ember
