#include <gtest/gtest.h>

#include "ember/core/status.h"
#include "ember/core/tensor.h"

namespace ember {
namespace {

TEST(Status, CarriesCodeAndMessage) {
  const Status s = format_error("tensor 'blk.0.attn_q.weight': offset past the end");
  EXPECT_FALSE(s.is_ok());
  EXPECT_EQ(s.code(), StatusCode::kFormat);
  EXPECT_EQ(s.to_string(), "FORMAT: tensor 'blk.0.attn_q.weight': offset past the end");
  EXPECT_TRUE(Status::ok().is_ok());
}

Result<int> parse_positive(int v) {
  if (v <= 0) return invalid_argument("must be positive");
  return v;
}

TEST(Result, HoldsValueOrError) {
  auto good = parse_positive(3);
  ASSERT_TRUE(good.is_ok());
  EXPECT_EQ(*good, 3);
  auto bad = parse_positive(-1);
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

TEST(Tensor, ContiguousViewStridesFollowTheDtype) {
  alignas(64) static uint8_t storage[288 * 3 * 2];
  const Tensor t = Tensor::view(DType::Q4_0, storage, {512, 3, 2});
  EXPECT_EQ(t.nb[1], 288u);
  EXPECT_EQ(t.nb[2], 288u * 3);
  EXPECT_EQ(t.n_rows(), 6);
  EXPECT_EQ(t.n_bytes(), sizeof(storage));
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_EQ(t.row(1, 1), storage + 288 * 4);
  EXPECT_EQ(t.shape_string(), "Q4_0[512, 3, 2]");
}

TEST(AlignedBuffer, IsAlignedAndMovable) {
  AlignedBuffer a(1000);
  ASSERT_NE(a.data(), nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a.data()) % kTensorAlignment, 0u);
  AlignedBuffer b = std::move(a);
  EXPECT_EQ(a.data(), nullptr);
  EXPECT_EQ(b.size(), 1000u);
}

}  // namespace
}  // namespace ember
