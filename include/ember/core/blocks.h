// GGUF block layouts, byte for byte as ggml defines them (ggml/src/ggml-common.h).
// All multi-byte fields are little-endian; fp16 fields are IEEE binary16 bit patterns.
#pragma once

#include <cstdint>

#include "ember/core/isa_namespace.h"

namespace ember {
inline namespace EMBER_ISA_NAMESPACE {

inline constexpr int kQK = 32;    // values per block of the "legacy" formats
inline constexpr int kQK_K = 256; // values per super-block of the K-quants
inline constexpr int kKScaleBytes = 12;  // 8 six-bit scales + 8 six-bit mins (Q4_K, Q5_K)

struct BlockQ4_0 {  // y = (q - 8) * d
  uint16_t d;
  uint8_t qs[kQK / 2];  // value j: low nibble of qs[j]; value j+16: high nibble
};
struct BlockQ4_1 {  // y = q * d + m
  uint16_t d, m;
  uint8_t qs[kQK / 2];
};
struct BlockQ5_0 {  // y = (q - 16) * d, q's 5th bit in qh
  uint16_t d;
  uint8_t qh[4];
  uint8_t qs[kQK / 2];
};
struct BlockQ5_1 {  // y = q * d + m
  uint16_t d, m;
  uint8_t qh[4];
  uint8_t qs[kQK / 2];
};
struct BlockQ8_0 {  // y = q * d
  uint16_t d;
  int8_t qs[kQK];
};
struct BlockQ2_K {  // 16 groups of 16: y = d*sc*q - dmin*m, 4-bit sc and m
  uint8_t scales[kQK_K / 16];
  uint8_t qs[kQK_K / 4];
  uint16_t d, dmin;
};
struct BlockQ3_K {  // 16 groups of 16: y = d*(sc-32)*q, q in [-4, 3]
  uint8_t hmask[kQK_K / 8];
  uint8_t qs[kQK_K / 4];
  uint8_t scales[12];
  uint16_t d;
};
struct BlockQ4_K {  // 8 groups of 32: y = d*sc*q - dmin*m, 6-bit sc and m
  uint16_t d, dmin;
  uint8_t scales[kKScaleBytes];
  uint8_t qs[kQK_K / 2];
};
struct BlockQ5_K {
  uint16_t d, dmin;
  uint8_t scales[kKScaleBytes];
  uint8_t qh[kQK_K / 8];
  uint8_t qs[kQK_K / 2];
};
struct BlockQ6_K {  // 16 groups of 16: y = d*scale*(q-32)
  uint8_t ql[kQK_K / 2];
  uint8_t qh[kQK_K / 4];
  int8_t scales[kQK_K / 16];
  uint16_t d;
};

static_assert(sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ4_1) == 20);
static_assert(sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ5_1) == 24);
static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ2_K) == 84);
static_assert(sizeof(BlockQ3_K) == 110);
static_assert(sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176);
static_assert(sizeof(BlockQ6_K) == 210);

// The j-th 6-bit scale and min of a Q4_K/Q5_K block (ggml's get_scale_min_k4).
inline void k4_scale_min(int j, const uint8_t* q, uint8_t* sc, uint8_t* m) {
  if (j < 4) {
    *sc = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *sc = uint8_t((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    *m = uint8_t((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

// The 16 signed scales (already minus 32) of a Q3_K block, unpacked from 12 bytes.
inline void q3k_scales(const uint8_t* packed, int8_t out[16]) {
  for (int j = 0; j < 16; ++j) {
    const int low = j < 8 ? (packed[j] & 0xF) : (packed[j - 8] >> 4);
    const int high = (packed[8 + j % 4] >> (2 * (j / 4))) & 3;
    out[j] = int8_t((low | (high << 4)) - 32);
  }
}

}  // namespace EMBER_ISA_NAMESPACE
}  // namespace ember
