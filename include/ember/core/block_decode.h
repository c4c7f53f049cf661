// Decoding of one block of each GGUF format into floats: the single definition used by
// dequantize_row() and by the fused dequantize-dot kernels. Bit-exact with ggml's dequantize_row_*.
#pragma once

#include <cstdint>

#include "ember/core/blocks.h"
#include "ember/core/half.h"

#include "ember/core/isa_namespace.h"

namespace ember {
inline namespace EMBER_ISA_NAMESPACE {

inline void decode_block(const BlockQ4_0& b, float* y) {
  const float d = fp16_to_f32(b.d);
  for (int j = 0; j < kQK / 2; ++j) {
    y[j] = float((b.qs[j] & 0x0F) - 8) * d;
    y[j + 16] = float((b.qs[j] >> 4) - 8) * d;
  }
}

inline void decode_block(const BlockQ4_1& b, float* y) {
  const float d = fp16_to_f32(b.d), m = fp16_to_f32(b.m);
  for (int j = 0; j < kQK / 2; ++j) {
    y[j] = float(b.qs[j] & 0x0F) * d + m;
    y[j + 16] = float(b.qs[j] >> 4) * d + m;
  }
}

// The 32 unsigned 5-bit values of a Q5 block: the 5th bit of value j is bit j of qh (LE uint32).
inline void unpack_q5(const uint8_t qs[kQK / 2], const uint8_t qh_bytes[4], int q[kQK]) {
  const uint32_t qh = uint32_t(qh_bytes[0]) | (uint32_t(qh_bytes[1]) << 8) | (uint32_t(qh_bytes[2]) << 16) |
                      (uint32_t(qh_bytes[3]) << 24);
  for (int j = 0; j < kQK / 2; ++j) {
    q[j] = int((qs[j] & 0x0F) | (((qh >> j) << 4) & 0x10));
    q[j + 16] = int((qs[j] >> 4) | ((qh >> (j + 12)) & 0x10));
  }
}

inline void decode_block(const BlockQ5_0& b, float* y) {
  const float d = fp16_to_f32(b.d);
  int q[kQK];
  unpack_q5(b.qs, b.qh, q);
  for (int j = 0; j < kQK; ++j) y[j] = float(q[j] - 16) * d;
}

inline void decode_block(const BlockQ5_1& b, float* y) {
  const float d = fp16_to_f32(b.d), m = fp16_to_f32(b.m);
  int q[kQK];
  unpack_q5(b.qs, b.qh, q);
  for (int j = 0; j < kQK; ++j) y[j] = float(q[j]) * d + m;
}

inline void decode_block(const BlockQ8_0& b, float* y) {
  const float d = fp16_to_f32(b.d);
  for (int j = 0; j < kQK; ++j) y[j] = float(b.qs[j]) * d;
}

inline void decode_block(const BlockQ2_K& b, float* y) {
  const float d = fp16_to_f32(b.d), min = fp16_to_f32(b.dmin);
  const uint8_t* q = b.qs;
  int is = 0;
  for (int half = 0; half < 2; ++half, q += 32) {
    for (int shift = 0; shift < 8; shift += 2) {
      for (int part = 0; part < 2; ++part) {
        const uint8_t sc = b.scales[is++];
        const float dl = d * float(sc & 0xF), ml = min * float(sc >> 4);
        for (int l = 0; l < 16; ++l) *y++ = dl * float((q[l + 16 * part] >> shift) & 3) - ml;
      }
    }
  }
}

inline void decode_block(const BlockQ3_K& b, float* y) {
  const float d_all = fp16_to_f32(b.d);
  int8_t sc[16];
  q3k_scales(b.scales, sc);
  const uint8_t* q = b.qs;
  uint8_t m = 1;
  int is = 0;
  for (int half = 0; half < 2; ++half, q += 32) {
    for (int shift = 0; shift < 8; shift += 2, m = uint8_t(m << 1)) {
      for (int part = 0; part < 2; ++part) {
        const float dl = d_all * float(sc[is++]);
        for (int l = 16 * part; l < 16 * part + 16; ++l)
          *y++ = dl * float(((q[l] >> shift) & 3) - ((b.hmask[l] & m) ? 0 : 4));
      }
    }
  }
}

inline void decode_block(const BlockQ4_K& b, float* y) {
  const float d = fp16_to_f32(b.d), min = fp16_to_f32(b.dmin);
  const uint8_t* q = b.qs;
  for (int j = 0; j < 8; j += 2, q += 32) {
    uint8_t sc, m;
    k4_scale_min(j, b.scales, &sc, &m);
    const float d1 = d * float(sc), m1 = min * float(m);
    k4_scale_min(j + 1, b.scales, &sc, &m);
    const float d2 = d * float(sc), m2 = min * float(m);
    for (int l = 0; l < 32; ++l) *y++ = d1 * float(q[l] & 0xF) - m1;
    for (int l = 0; l < 32; ++l) *y++ = d2 * float(q[l] >> 4) - m2;
  }
}

inline void decode_block(const BlockQ5_K& b, float* y) {
  const float d = fp16_to_f32(b.d), min = fp16_to_f32(b.dmin);
  const uint8_t* ql = b.qs;
  uint8_t u1 = 1, u2 = 2;
  for (int j = 0; j < 8; j += 2, ql += 32) {
    uint8_t sc, m;
    k4_scale_min(j, b.scales, &sc, &m);
    const float d1 = d * float(sc), m1 = min * float(m);
    k4_scale_min(j + 1, b.scales, &sc, &m);
    const float d2 = d * float(sc), m2 = min * float(m);
    for (int l = 0; l < 32; ++l) *y++ = d1 * float((ql[l] & 0xF) + ((b.qh[l] & u1) ? 16 : 0)) - m1;
    for (int l = 0; l < 32; ++l) *y++ = d2 * float((ql[l] >> 4) + ((b.qh[l] & u2) ? 16 : 0)) - m2;
    u1 = uint8_t(u1 << 2);
    u2 = uint8_t(u2 << 2);
  }
}

inline void decode_block(const BlockQ6_K& b, float* y) {
  const float d = fp16_to_f32(b.d);
  const uint8_t* ql = b.ql;
  const uint8_t* qh = b.qh;
  const int8_t* sc = b.scales;
  for (int half = 0; half < 2; ++half, y += 128, ql += 64, qh += 32, sc += 8) {
    for (int l = 0; l < 32; ++l) {
      const int is = l / 16;
      const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
      const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
      const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
      const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
      // (d * scale) * q, in this order: the product can round, and ggml rounds it this way.
      y[l] = d * float(sc[is]) * float(q1);
      y[l + 32] = d * float(sc[is + 2]) * float(q2);
      y[l + 64] = d * float(sc[is + 4]) * float(q3);
      y[l + 96] = d * float(sc[is + 6]) * float(q4);
    }
  }
}

// Decodes the n values (a multiple of Block's size) of a row of blocks.
template <class Block>
inline void decode_row(const void* src, float* y, int64_t n) {
  constexpr int kValues = sizeof(Block) > 40 ? kQK_K : kQK;
  const auto* b = static_cast<const Block*>(src);
  for (int64_t i = 0; i < n / kValues; ++i) decode_block(b[i], y + i * kValues);
}

}  // namespace EMBER_ISA_NAMESPACE
}  // namespace ember
