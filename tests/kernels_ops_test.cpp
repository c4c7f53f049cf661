// RMSNorm, softmax, SwiGLU, RoPE and top-k on every ISA against the scalar references.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "ember/core/quantize.h"
#include "ember/kernels/kernels.h"
#include "ember/kernels/reference.h"
#include "kernels/kernel_table.h"
#include "test_util.h"

namespace ember {
namespace {

const int64_t kOddSizes[] = {1, 5, 15, 16, 17, 63, 129, 896, 1001};

void expect_close(const std::vector<float>& got, const std::vector<float>& want, double rel, const char* what) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], want[i], rel * (1.0 + std::fabs(want[i]))) << what << " at " << i << " of " << got.size();
}

// The per-ISA row decoders prefill uses against dequantize_row: equal, or (min formats, where one
// fused step replaces the reference's multiply then add) within an ulp or two.
TEST(Ops, DequantizeRowsMatchReference) {
  test::EachIsa().run([](Isa) {
    const detail::KernelTable& kt = detail::active_kernels();
    std::vector<DType> types(std::begin(kAllDTypes), std::end(kAllDTypes));
    types.insert(types.end(), std::begin(kRepackedDTypes), std::end(kRepackedDTypes));
    for (DType t : types) {
      const int64_t b = dtype_block_size(t);
      for (int64_t n : {b, 3 * b, 7 * b, 29 * b}) {
        const auto w = test::random_weights(t, 1, n, uint64_t(n) + 3);
        std::vector<float> got(static_cast<size_t>(n)), want(static_cast<size_t>(n));
        dequantize_row(t, w.data(), want.data(), n);
        kt.dequant[detail::dtype_slot(t)](w.data(), got.data(), n);
        for (int64_t i = 0; i < n; ++i)
          ASSERT_NEAR(got[size_t(i)], want[size_t(i)], 3e-7 * std::fabs(want[size_t(i)]) + 1e-30)
              << dtype_name(t) << " n=" << n << " at " << i;
      }
    }
  });
}

TEST(Ops, Bf16RoundingIsToNearestEven) {
  test::EachIsa().run([](Isa) {
    const std::vector<float> x = test::random_floats(1001, 4);
    std::vector<uint16_t> got(x.size());
    detail::active_kernels().to_bf16(x.data(), got.data(), int64_t(x.size()));
    for (size_t i = 0; i < x.size(); ++i) {
      // The nearest BF16 by comparing the two candidates (ties: even mantissa).
      uint32_t u;
      std::memcpy(&u, &x[i], 4);
      const uint32_t lo = u & 0xFFFF0000u, hi = lo + 0x10000u;
      float flo, fhi;
      std::memcpy(&flo, &lo, 4);
      std::memcpy(&fhi, &hi, 4);
      const double dlo = std::fabs(double(x[i]) - flo), dhi = std::fabs(double(fhi) - x[i]);
      const uint32_t want = dlo < dhi ? lo : dhi < dlo ? hi : ((lo >> 16) & 1) ? hi : lo;
      ASSERT_EQ(got[i], uint16_t(want >> 16)) << "at " << i;
    }
  });
}

TEST(Ops, RmsnormMatchesReference) {
  test::EachIsa().run([](Isa) {
    for (int64_t n : kOddSizes) {
      const auto x = test::random_floats(n, 1), w = test::random_floats(n, 2);
      std::vector<float> got(static_cast<size_t>(n)), want(static_cast<size_t>(n));
      rmsnorm(x.data(), w.data(), got.data(), n, 1e-6f);
      ref::rmsnorm(x.data(), w.data(), want.data(), n, 1e-6f);
      expect_close(got, want, 1e-5, "rmsnorm");
      rmsnorm(x.data(), nullptr, got.data(), n, 1e-6f);
      ref::rmsnorm(x.data(), nullptr, want.data(), n, 1e-6f);
      expect_close(got, want, 1e-5, "rmsnorm without gain");
    }
  });
}

TEST(Ops, SoftmaxMatchesReferenceAndSumsToOne) {
  test::EachIsa().run([](Isa) {
    for (int64_t n : kOddSizes) {
      auto got = test::random_floats(n, 3, 10.0f);  // wide range: exercises the max shift
      auto want = got;
      softmax(got.data(), n);
      ref::softmax(want.data(), n);
      expect_close(got, want, 1e-5, "softmax");
      double sum = 0;
      for (float v : got) sum += v;
      EXPECT_NEAR(sum, 1.0, 1e-5);
    }
  });
}

TEST(Ops, SwigluMatchesReference) {
  test::EachIsa().run([](Isa) {
    for (int64_t n : kOddSizes) {
      const auto g = test::random_floats(n, 4, 4.0f), u = test::random_floats(n, 5);
      std::vector<float> got(static_cast<size_t>(n)), want(static_cast<size_t>(n));
      swiglu(g.data(), u.data(), got.data(), n);
      ref::swiglu(g.data(), u.data(), want.data(), n);
      expect_close(got, want, 1e-5, "swiglu");
    }
  });
}

TEST(Ops, RopeBothConventionsMatchReference) {
  for (RopeStyle style : {RopeStyle::kNeox, RopeStyle::kInterleaved}) {
    for (int64_t head_dim : {64, 80, 128}) {
      for (int64_t rot_dim : {head_dim, head_dim / 2}) {
        for (int64_t pos : {0, 1, 17, 4095, 100000}) {
          auto got = test::random_floats(3 * head_dim, 9);
          auto want = got;
          rope(got.data(), 3, head_dim, rot_dim, pos, 10000.0f, style, 1.0f);
          ref::rope(want.data(), 3, head_dim, rot_dim, pos, 10000.0f, style, 1.0f);
          expect_close(got, want, 2e-6, "rope");
        }
      }
    }
  }
}

TEST(Ops, RopeConventionsPairDifferentValues) {
  // Position 1, one pair: NeoX rotates (0, d/2), interleaved rotates (0, 1).
  std::vector<float> a = {1, 0, 0, 0}, b = a;
  rope(a.data(), 1, 4, 4, 1, 10000.0f, RopeStyle::kNeox);
  rope(b.data(), 1, 4, 4, 1, 10000.0f, RopeStyle::kInterleaved);
  EXPECT_NEAR(a[2], std::sin(1.0), 1e-6);
  EXPECT_EQ(a[1], 0.0f);
  EXPECT_NEAR(b[1], std::sin(1.0), 1e-6);
  EXPECT_EQ(b[2], 0.0f);
}

TEST(Ops, TopkMatchesReferenceIncludingTies) {
  for (int64_t n : {1, 8, 64, 160, 256}) {
    for (int64_t k : {1, 2, 6, 8}) {
      auto x = test::random_floats(n, uint64_t(n * 31 + k));
      if (n > 4) x[3] = x[1];  // a tie: the lower index must come first
      std::vector<int32_t> gi(static_cast<size_t>(k)), wi(static_cast<size_t>(k));
      std::vector<float> gv(static_cast<size_t>(k)), wv(static_cast<size_t>(k));
      topk(x.data(), n, k, gi.data(), gv.data());
      ref::topk(x.data(), n, k, wi.data(), wv.data());
      for (int64_t i = 0; i < std::min(n, k); ++i) {
        EXPECT_EQ(gi[size_t(i)], wi[size_t(i)]) << "n=" << n << " k=" << k << " i=" << i;
        EXPECT_EQ(gv[size_t(i)], wv[size_t(i)]);
      }
    }
  }
}

}  // namespace
}  // namespace ember
