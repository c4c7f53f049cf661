// The 32-value block formats: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0.
// Formulas follow ggml's quantize_row_*_ref / dequantize_row_* (ggml/src/ggml-quants.c). This file is
// compiled with -ffp-contract=off: the reference bytes were made without fused multiply-add.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "ember/core/block_decode.h"
#include "ember/core/blocks.h"
#include "ember/core/half.h"
#include "ember/core/quantize.h"
#include "core/quant_common.h"

namespace ember {

// ---- quantize -------------------------------------------------------------------------------

void quantize_row_q4_0(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<BlockQ4_0*>(vy);
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    // d < 0 when the largest-magnitude value is positive: that value maps to q = 0 exactly.
    const float d = signed_absmax(x, kQK) / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = f32_to_fp16(d);
    for (int j = 0; j < kQK / 2; ++j) {
      const float x0 = x[j] * id, x1 = x[kQK / 2 + j] * id;
      const uint8_t q0 = uint8_t(std::min(15, int(int8_t(x0 + 8.5f))));
      const uint8_t q1 = uint8_t(std::min(15, int(int8_t(x1 + 8.5f))));
      y[i].qs[j] = uint8_t(q0 | (q1 << 4));
    }
  }
}

void quantize_row_q4_1(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<BlockQ4_1*>(vy);
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    float min, max;
    min_max(x, kQK, &min, &max);
    const float d = (max - min) / 15.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = f32_to_fp16(d);
    y[i].m = f32_to_fp16(min);
    for (int j = 0; j < kQK / 2; ++j) {
      const float x0 = (x[j] - min) * id, x1 = (x[kQK / 2 + j] - min) * id;
      const uint8_t q0 = uint8_t(std::min(15, int(int8_t(x0 + 0.5f))));
      const uint8_t q1 = uint8_t(std::min(15, int(int8_t(x1 + 0.5f))));
      y[i].qs[j] = uint8_t(q0 | (q1 << 4));
    }
  }
}

// Q5 formats keep the 5th bit of value j in bit j of a little-endian uint32.
static void pack_q5(const uint8_t q[kQK], uint8_t qs[kQK / 2], uint8_t qh_bytes[4]) {
  uint32_t qh = 0;
  for (int j = 0; j < kQK / 2; ++j) {
    qs[j] = uint8_t((q[j] & 0x0F) | ((q[j + 16] & 0x0F) << 4));
    qh |= uint32_t((q[j] & 0x10u) >> 4) << j;
    qh |= uint32_t((q[j + 16] & 0x10u) >> 4) << (j + 16);
  }
  for (int b = 0; b < 4; ++b) qh_bytes[b] = uint8_t(qh >> (8 * b));
}

void quantize_row_q5_0(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<BlockQ5_0*>(vy);
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    const float d = signed_absmax(x, kQK) / -16.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = f32_to_fp16(d);
    uint8_t q[kQK];
    for (int j = 0; j < kQK; ++j) q[j] = uint8_t(std::min(31, int(int8_t(x[j] * id + 16.5f))));
    pack_q5(q, y[i].qs, y[i].qh);
  }
}

void quantize_row_q5_1(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<BlockQ5_1*>(vy);
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    float min, max;
    min_max(x, kQK, &min, &max);
    const float d = (max - min) / 31.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = f32_to_fp16(d);
    y[i].m = f32_to_fp16(min);
    uint8_t q[kQK];
    for (int j = 0; j < kQK; ++j) q[j] = uint8_t((x[j] - min) * id + 0.5f);
    pack_q5(q, y[i].qs, y[i].qh);
  }
}

void quantize_row_q8_0(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<BlockQ8_0*>(vy);
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = f32_to_fp16(d);
    for (int j = 0; j < kQK; ++j) y[i].qs[j] = int8_t(std::round(x[j] * id));  // half away from 0
  }
}

// ---- dequantize -----------------------------------------------------------------------------

void dequantize_row_q4_0(const void* x, float* y, int64_t n) { decode_row<BlockQ4_0>(x, y, n); }
void dequantize_row_q4_1(const void* x, float* y, int64_t n) { decode_row<BlockQ4_1>(x, y, n); }
void dequantize_row_q5_0(const void* x, float* y, int64_t n) { decode_row<BlockQ5_0>(x, y, n); }
void dequantize_row_q5_1(const void* x, float* y, int64_t n) { decode_row<BlockQ5_1>(x, y, n); }
void dequantize_row_q8_0(const void* x, float* y, int64_t n) { decode_row<BlockQ8_0>(x, y, n); }

}  // namespace ember
