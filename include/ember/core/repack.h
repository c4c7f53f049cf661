// Load-time weight layouts: the same bytes per row as a GGUF type, regrouped so a kernel reads each
// field with plain loads instead of gathering it from interleaved blocks.
//
// Q4_0x4, Q4_1x4, Q5_0x4, Q5_1x4 (from Q4_0, Q4_1, Q5_0, Q5_1): each run of four 32-value blocks
// of a row becomes one group of the same size, field by field:
//
//   d[4] (F16) | m[4] (F16, Q4_1/Q5_1) | 5th bits (Q5_*: two u64 masks, values 0-15 then 16-31
//   of the four blocks, 16 bits each) | codes (the four blocks' 16 nibble bytes, in block order)
//
// so the group's 128 codes are one 64-byte load and its scales one 8-byte load. Q8_0x2 (from Q8_0)
// does the same for pairs of blocks: d[2] | the two blocks' 32 codes. The last blocks of a row,
// when fewer than a group, keep the GGUF layout. Rows stay where they were (row_bytes is the
// type's), so row pointers, row slices and the embedding lookup work unchanged.
#pragma once

#include <cstdint>
#include <cstring>

#include "ember/core/blocks.h"
#include "ember/core/dtype.h"

namespace ember {

// Byte offsets of the fields in a group of four blocks of type B.
template <class B>
struct Group4 {
  using Block = B;
  static constexpr int kBlocks = 4;
  static constexpr bool kMin = requires(B b) { b.m; };
  static constexpr bool kFifthBit = requires(B b) { b.qh; };
  static constexpr size_t kBytes = 4 * sizeof(B);
  static constexpr size_t kD = 0, kM = 8, kQh = kMin ? 16 : 8, kCodes = kBytes - 64;
  static_assert(kCodes == (kMin ? 16 : 8) + (kFifthBit ? 16 : 0));

  static void pack(const B* in, uint8_t* out) {  // out may not alias in
    uint64_t lo = 0, hi = 0;
    for (int k = 0; k < 4; ++k) {
      std::memcpy(out + kD + 2 * k, &in[k].d, 2);
      if constexpr (kMin) std::memcpy(out + kM + 2 * k, &in[k].m, 2);
      if constexpr (kFifthBit) {
        uint32_t qh;
        std::memcpy(&qh, in[k].qh, 4);
        lo |= uint64_t(qh & 0xFFFF) << (16 * k);
        hi |= uint64_t(qh >> 16) << (16 * k);
      }
      std::memcpy(out + kCodes + 16 * k, in[k].qs, 16);
    }
    if constexpr (kFifthBit) {
      std::memcpy(out + kQh, &lo, 8);
      std::memcpy(out + kQh + 8, &hi, 8);
    }
  }

  static void unpack(const uint8_t* in, B* out) {  // out may not alias in
    uint64_t lo = 0, hi = 0;
    if constexpr (kFifthBit) {
      std::memcpy(&lo, in + kQh, 8);
      std::memcpy(&hi, in + kQh + 8, 8);
    }
    for (int k = 0; k < 4; ++k) {
      std::memcpy(&out[k].d, in + kD + 2 * k, 2);
      if constexpr (kMin) std::memcpy(&out[k].m, in + kM + 2 * k, 2);
      if constexpr (kFifthBit) {
        const uint32_t qh = uint32_t((lo >> (16 * k)) & 0xFFFF) | uint32_t((hi >> (16 * k)) & 0xFFFF) << 16;
        std::memcpy(out[k].qh, &qh, 4);
      }
      std::memcpy(out[k].qs, in + kCodes + 16 * k, 16);
    }
  }
};

// Two Q8_0 blocks: d[2] (F16) | codes[64].
struct GroupQ8x2 {
  using Block = BlockQ8_0;
  static constexpr int kBlocks = 2;
  static constexpr size_t kBytes = 2 * sizeof(BlockQ8_0), kD = 0, kCodes = 4;
  static_assert(kBytes == 68);
  static void pack(const BlockQ8_0* in, uint8_t* out) {
    for (int k = 0; k < 2; ++k) {
      std::memcpy(out + kD + 2 * k, &in[k].d, 2);
      std::memcpy(out + kCodes + 32 * k, in[k].qs, 32);
    }
  }
  static void unpack(const uint8_t* in, BlockQ8_0* out) {
    for (int k = 0; k < 2; ++k) {
      std::memcpy(&out[k].d, in + kD + 2 * k, 2);
      std::memcpy(out[k].qs, in + kCodes + 32 * k, 32);
    }
  }
};

// `rows` rows of `cols` values of the file type of `to` (dtype_file_type), from src into dst in the
// layout `to`; unpack_rows undoes it. dst may be src (in place) or must not overlap it. Both return
// false, touching nothing, if the type is not a load-time layout.
bool repack_rows(DType to, const void* src, void* dst, int64_t rows, int64_t cols);
bool unpack_rows(DType from, const void* src, void* dst, int64_t rows, int64_t cols);
inline bool repack_rows(DType to, void* data, int64_t rows, int64_t cols) { return repack_rows(to, data, data, rows, cols); }
inline bool unpack_rows(DType from, void* data, int64_t rows, int64_t cols) { return unpack_rows(from, data, data, rows, cols); }

}  // namespace ember
