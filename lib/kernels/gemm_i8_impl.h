// The integer GEMM's activation packing and its plain reference product (layouts: gemm_i8.h).
// Every ISA table carries both; the AVX-512 table replaces the product with gemm_i8_avx512.h's.
#pragma once

#include <cstring>

#include "kernels/gemm_i8.h"
#include "kernels/qdot_impl.h"

namespace ember {
inline namespace EMBER_ISA_NAMESPACE {
namespace {

using detail::kActBlockBytes;
using detail::kGemmMr;
using detail::kGemmNr;
using detail::kGemmSteps;

// Tiles [t0, t1) of X: each row's blocks quantized like decode's activations (quantize_block_i8),
// with the integer sum's starting value -z sum_j a_j and d sum_j a_j beside them.
void gemm_i8_pack_act(const float* X, int64_t m, int64_t k, int zero_point, int64_t t0, int64_t t1, uint8_t* out) {
  const int64_t n_blocks = k / 32;
  for (int64_t t = t0; t < t1; ++t) {
    for (int64_t b = 0; b < n_blocks; ++b) {
      uint8_t* block = out + size_t(t * n_blocks + b) * kActBlockBytes;
      for (int i = 0; i < kGemmMr; ++i) {
        const int64_t row = t * kGemmMr + i;
        int8_t q[32] = {};
        float d = 0;
        if (row < m) d = quantize_block_i8(X + row * k + b * 32, 32, q);
        int32_t sum = 0;
        for (int j = 0; j < 32; ++j) sum += q[j];
        for (int s = 0; s < kGemmSteps; ++s) std::memcpy(block + (s * kGemmMr + i) * 4, q + 4 * s, 4);
        const int32_t init = -zero_point * sum;
        const float dsum = d * float(sum);
        std::memcpy(block + detail::kActD + 4 * i, &d, 4);
        std::memcpy(block + detail::kActInit + 4 * i, &init, 4);
        std::memcpy(block + detail::kActDsum + 4 * i, &dsum, 4);
      }
    }
  }
}

// The product one value at a time, in the order the vector kernels use: per block, the integer
// sum from its starting value, then acc += float(sum) * (d_w d_a) [+ m_w (d_a sum_j a_j)].
void gemm_i8_panel_ref(const uint8_t* panel, const uint8_t* act, int64_t m, int64_t n_blocks, float* Y, int64_t ldy,
                       int n) {
  for (int64_t i = 0; i < m; ++i) {
    const uint8_t* tile = act + size_t((i / kGemmMr) * n_blocks) * kActBlockBytes;
    const int r = int(i % kGemmMr);
    for (int j = 0; j < n; ++j) {
      float acc = 0;
      for (int64_t b = 0; b < n_blocks; ++b) {
        const uint8_t* w = panel + size_t(b) * detail::kPanelBlockBytes;
        const uint8_t* a = tile + size_t(b) * kActBlockBytes;
        int32_t sum;
        std::memcpy(&sum, a + detail::kActInit + 4 * r, 4);
        for (int s = 0; s < kGemmSteps; ++s)
          for (int e = 0; e < 4; ++e)
            sum += int32_t(w[(s * kGemmNr + j) * 4 + e]) * int32_t(int8_t(a[(s * kGemmMr + r) * 4 + e]));
        float dw, mw, da, dsum;
        std::memcpy(&dw, w + detail::kPanelCodeBytes + 4 * j, 4);
        std::memcpy(&mw, w + detail::kPanelCodeBytes + 4 * kGemmNr + 4 * j, 4);
        std::memcpy(&da, a + detail::kActD + 4 * r, 4);
        std::memcpy(&dsum, a + detail::kActDsum + 4 * r, 4);
        acc += float(sum) * (dw * da);
        acc += mw * dsum;  // zero where the type has no min
      }
      Y[i * ldy + j] = acc;
    }
  }
}

}  // namespace
}  // namespace EMBER_ISA_NAMESPACE
}  // namespace ember
