// Causal GQA attention with online softmax against the two-pass reference, and the identity that
// decoding token by token equals attending over the whole prompt at once.
#include <gtest/gtest.h>

#include <cmath>

#include "ember/core/half.h"
#include "ember/kernels/kernels.h"
#include "ember/kernels/reference.h"
#include "test_util.h"

namespace ember {
namespace {

struct Case {
  int64_t n_heads, n_kv_heads, head_dim, n_q, n_kv;
};

TEST(Attention, MatchesReferenceForGroupedHeadsAndOddHeadSizes) {
  // Head sizes of whole registers and not; several key blocks (150 keys); a latent "head" of 576.
  // Prompts of many tokens go in tiles of 8 (a partial last one), from position 0 or after a cache,
  // with tiles whose tokens end on both sides of a 64-key block boundary. One token with heads
  // longer than 8 registers: MLA's 576 with 16 heads, and 20 heads (two passes of 8, then 4 alone).
  const Case cases[] = {{4, 4, 16, 5, 5},    {8, 2, 40, 7, 7},      {14, 2, 64, 1, 33},   {16, 16, 128, 3, 19},
                        {6, 1, 97, 9, 9},    {14, 2, 64, 2, 150},   {16, 1, 576, 2, 70},  {14, 2, 64, 40, 150},
                        {12, 2, 128, 70, 70}, {6, 1, 97, 21, 100}, {16, 1, 576, 13, 80}, {16, 1, 576, 1, 70},
                        {20, 1, 160, 1, 40}};
  ThreadPool pool(2);
  test::EachIsa().run([&](Isa) {
    for (const Case& c : cases) {
      const int64_t kv_stride = c.n_kv_heads * c.head_dim + 3;  // padded rows, as a cache may have
      const auto q = test::random_floats(c.n_q * c.n_heads * c.head_dim, 1);
      const auto k = test::random_floats(c.n_kv * kv_stride, 2);
      const auto v = test::random_floats(c.n_kv * kv_stride, 3);
      AttentionShape s{c.n_q, c.n_kv, c.n_heads, c.n_kv_heads, c.head_dim, c.n_kv - c.n_q, kv_stride,
                       1.0f / std::sqrt(float(c.head_dim))};
      std::vector<float> got(q.size()), want(q.size());
      attention(q.data(), k.data(), v.data(), got.data(), s, &pool);
      ref::attention(q.data(), k.data(), v.data(), want.data(), s);
      for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], 1e-5) << "heads " << c.n_heads << " at " << i;
    }
  });
}

// An F16 cache gives exactly what F32 rows holding the same values give: one token and prompts,
// grouped heads, padded rows, and MLA's shared rows (values read from the key rows).
TEST(Attention, HalfCacheEqualsFloatRowsOfTheSameValues) {
  const Case cases[] = {{14, 2, 64, 1, 150}, {12, 2, 128, 1, 70}, {6, 1, 97, 21, 100}, {14, 2, 64, 40, 150},
                        {16, 1, 576, 1, 70}, {16, 1, 576, 13, 80}};
  ThreadPool pool(2);
  test::EachIsa().run([&](Isa) {
    for (const Case& c : cases) {
      const int64_t kv_stride = c.n_kv_heads * c.head_dim + 3;
      const auto q = test::random_floats(c.n_q * c.n_heads * c.head_dim, 7);
      std::vector<uint16_t> k16(size_t(c.n_kv * kv_stride)), v16(k16.size());
      std::vector<float> k32(k16.size()), v32(k16.size());
      const auto kr = test::random_floats(c.n_kv * kv_stride, 8), vr = test::random_floats(c.n_kv * kv_stride, 9);
      for (size_t i = 0; i < k16.size(); ++i) {
        k16[i] = f32_to_fp16(kr[i]);
        v16[i] = f32_to_fp16(vr[i]);
        k32[i] = fp16_to_f32(k16[i]);
        v32[i] = fp16_to_f32(v16[i]);
      }
      const AttentionShape s{c.n_q, c.n_kv, c.n_heads, c.n_kv_heads, c.head_dim, c.n_kv - c.n_q, kv_stride,
                             1.0f / std::sqrt(float(c.head_dim))};
      const bool shared = c.head_dim == 576;  // MLA: one latent row is key and value
      const uint16_t* vh = shared ? k16.data() : v16.data();
      const float* vf = shared ? k32.data() : v32.data();
      std::vector<float> got(q.size()), want(q.size());
      attention(q.data(), k16.data(), vh, DType::F16, got.data(), s, &pool);
      attention(q.data(), k32.data(), vf, want.data(), s, &pool);
      for (size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], want[i]) << "heads " << c.n_heads << " at " << i;
    }
  });
}

TEST(Attention, TokenByTokenEqualsWholePrompt) {
  const int64_t n_heads = 4, n_kv_heads = 2, hd = 32, n = 11, stride = n_kv_heads * hd;
  const auto q = test::random_floats(n * n_heads * hd, 4);
  const auto k = test::random_floats(n * stride, 5), v = test::random_floats(n * stride, 6);
  const float scale = 1.0f / std::sqrt(float(hd));
  std::vector<float> whole(q.size()), step(q.size());
  attention(q.data(), k.data(), v.data(), whole.data(), {n, n, n_heads, n_kv_heads, hd, 0, stride, scale});
  for (int64_t t = 0; t < n; ++t)
    attention(q.data() + t * n_heads * hd, k.data(), v.data(), step.data() + t * n_heads * hd,
              {1, t + 1, n_heads, n_kv_heads, hd, t, stride, scale});
  for (size_t i = 0; i < whole.size(); ++i) ASSERT_NEAR(whole[i], step[i], 1e-6);
}

}  // namespace
}  // namespace ember
