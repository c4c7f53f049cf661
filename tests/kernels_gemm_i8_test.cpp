// Prefill's integer GEMM (lib/kernels/gemm_i8.h), piece by piece: the weight panels against the
// dequantized rows, each ISA's packing against the portable one, and each ISA's panel product
// against the scalar reference, on odd sizes. (kernels_matmul_test checks the whole product against
// the F32 reference within the 8-bit activation bound.)
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "ember/core/quantize.h"
#include "ember/core/tensor.h"
#include "ember/kernels/kernels.h"
#include "kernels/gemm_i8.h"
#include "kernels/kernel_table.h"
#include "test_util.h"

namespace ember {
namespace {

using detail::kGemmMr;
using detail::kGemmNr;

std::vector<DType> gemm_types() {
  std::vector<DType> v;
  for (DType t : kAllDTypes)
    if (detail::gemm_i8_supports(t)) v.push_back(t);
  for (DType t : kRepackedDTypes)
    if (detail::gemm_i8_supports(t)) v.push_back(t);
  return v;
}

// Row lengths: single blocks, whole load-time groups and groups with blocks after them.
std::vector<int64_t> gemm_lengths(DType t) {
  if (dtype_block_size(t) == 256) return {256, 768, 1280};
  return {32, 96, 128, 160, 416, 896};
}

float panel_value(const uint8_t* panel, int64_t b, int r, int j, int zero_point) {
  const uint8_t* block = panel + size_t(b) * detail::kPanelBlockBytes;
  float d, m;
  std::memcpy(&d, block + detail::kPanelCodeBytes + 4 * r, 4);
  std::memcpy(&m, block + detail::kPanelCodeBytes + 4 * kGemmNr + 4 * r, 4);
  const int u = block[(j / 4 * kGemmNr + r) * 4 + j % 4];
  return d * float(u - zero_point) + m;
}

class GemmI8ByType : public ::testing::TestWithParam<DType> {};

// The panel holds the rows' values exactly (w = d (u - z) + m), zero past the last row; every
// ISA's packer writes the portable packer's bytes (Q8_0's codes with the sign bit flipped where the
// table multiplies signed codes: gemm_i8_neon.h).
TEST_P(GemmI8ByType, PanelsHoldTheRows) {
  const DType t = GetParam();
  const int z = detail::gemm_i8_zero_point(t);
  for (int64_t cols : gemm_lengths(t)) {
    for (int64_t rows : {1, 7, 16}) {
      const std::vector<uint8_t> w = test::random_weights(t, rows, cols, uint64_t(cols + rows));
      const size_t rb = row_bytes(t, cols);
      std::vector<uint8_t> want(detail::gemm_i8_panel_bytes(cols));
      detail::gemm_i8_pack_panel(t, w.data(), rb, rows, cols, want.data());
      std::vector<float> row(static_cast<size_t>(cols));
      for (int r = 0; r < kGemmNr; ++r) {
        if (r < rows) dequantize_row(t, w.data() + size_t(r) * rb, row.data(), cols);
        for (int64_t i = 0; i < cols; ++i) {
          const float v = panel_value(want.data(), i / 32, r, int(i % 32), z);
          if (r < rows) {
            ASSERT_NEAR(v, row[size_t(i)], 1e-6f * std::fabs(row[size_t(i)]) + 1e-7f) << "cols=" << cols << " row " << r << " value " << i;
          } else {
            ASSERT_EQ(v, 0.0f);
          }
        }
      }
      test::EachIsa().run([&](Isa) {
        const detail::KernelTable& kt = detail::active_kernels();
        std::vector<uint8_t> expect = want;
        if (kt.gemm_i8_signed_codes && z == 128)
          for (int64_t b = 0; b < cols / 32; ++b)
            for (size_t i = 0; i < detail::kPanelCodeBytes; ++i) expect[size_t(b) * detail::kPanelBlockBytes + i] ^= 0x80;
        AlignedBuffer got(detail::gemm_i8_panel_bytes(cols));
        std::memset(got.data(), 0xA5, got.size());
        kt.gemm_i8_pack_panel(t, w.data(), rb, rows, cols, got.as<uint8_t>());
        EXPECT_EQ(std::memcmp(got.data(), expect.data(), expect.size()), 0) << "cols=" << cols << " rows=" << rows;
      });
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Supported, GemmI8ByType, ::testing::ValuesIn(gemm_types()),
                         [](const auto& info) { return std::string(dtype_name(info.param)); });

// Activation packs from every ISA equal the scalar table's, byte for byte (the same codes as
// decode's 8-bit activations: amax / 127 scales, round to nearest even), rows past m zero.
TEST(GemmI8, ActivationPacksMatchScalar) {
  for (int64_t m : {1, 5, 12, 13, 30}) {
    for (int64_t k : {32, 160, 896}) {
      std::vector<float> x = test::random_floats(m * k, uint64_t(m * k), 2.0f);
      x[0] = 0;  // a block may be all but zero
      std::vector<uint8_t> want(detail::gemm_i8_act_bytes(m, k));
      const int64_t tiles = (m + kGemmMr - 1) / kGemmMr;
      detail::scalar_kernels().gemm_i8_pack_act(x.data(), m, k, 8, 0, tiles, want.data());
      test::EachIsa().run([&](Isa) {
        std::vector<uint8_t> got(want.size(), 0xA5);
        detail::active_kernels().gemm_i8_pack_act(x.data(), m, k, 8, 0, tiles, got.data());
        EXPECT_EQ(got, want) << "m=" << m << " k=" << k;
      });
    }
  }
}

// Every ISA's packs and panel product against the scalar ones on random data: tiles of 1-12 rows
// and more, partial panels, with and without mins.
TEST(GemmI8, PanelProductsMatchScalar) {
  const DType types[] = {DType::Q8_0, DType::Q4_1};  // zero point 128; a min
  for (DType t : types) {
    for (int64_t k : {32, 224}) {
      for (int64_t m : {1, 4, 11, 12, 13, 25}) {
        for (int n : {1, 9, 16}) {
          const std::vector<uint8_t> w = test::random_weights(t, n, k, uint64_t(k + n));
          AlignedBuffer panel(detail::gemm_i8_panel_bytes(k));
          detail::gemm_i8_pack_panel(t, w.data(), row_bytes(t, k), n, k, panel.as<uint8_t>());
          const std::vector<float> x = test::random_floats(m * k, uint64_t(m));
          std::vector<uint8_t> act(detail::gemm_i8_act_bytes(m, k));
          detail::scalar_kernels().gemm_i8_pack_act(x.data(), m, k, detail::gemm_i8_zero_point(t), 0,
                                                    (m + kGemmMr - 1) / kGemmMr, act.data());
          const int has_min = detail::gemm_i8_has_min(t) ? 1 : 0;
          const int64_t ldy = n + 3;
          std::vector<float> want(size_t(m * ldy), -7.0f);
          detail::scalar_kernels().gemm_i8[has_min](panel.as<uint8_t>(), act.data(), m, k / 32, want.data(), ldy, n);
          test::EachIsa().run([&](Isa) {
            const detail::KernelTable& kt = detail::active_kernels();
            AlignedBuffer own_panel(detail::gemm_i8_panel_bytes(k));
            kt.gemm_i8_pack_panel(t, w.data(), row_bytes(t, k), n, k, own_panel.as<uint8_t>());
            std::vector<uint8_t> own_act(act.size());
            kt.gemm_i8_pack_act(x.data(), m, k, detail::gemm_i8_zero_point(t), 0, (m + kGemmMr - 1) / kGemmMr,
                                own_act.data());
            std::vector<float> got(size_t(m * ldy), -7.0f);
            kt.gemm_i8[has_min](own_panel.as<uint8_t>(), own_act.data(), m, k / 32, got.data(), ldy, n);
            for (int64_t i = 0; i < m; ++i)
              for (int64_t j = 0; j < ldy; ++j) {
                const float a = got[size_t(i * ldy + j)], b = want[size_t(i * ldy + j)];
                ASSERT_NEAR(a, b, 1e-5f * (std::fabs(b) + 1.0f)) << dtype_name(t) << " k=" << k << " m=" << m << " n=" << n
                                                                  << " at " << i << "," << j;
              }
          });
        }
      }
    }
  }
}

}  // namespace
}  // namespace ember
