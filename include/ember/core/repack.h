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
// when fewer than a group, keep the GGUF layout. Q2_Kx16, Q3_Kx16 and Q4_Kx16 (from Q2_K, Q3_K,
// Q4_K) reorder the codes inside each superblock (GroupK2Lanes, GroupK4Lanes below). Rows stay
// where they were (row_bytes is the type's), so row pointers, row slices and the embedding lookup
// work unchanged.
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
  static constexpr int64_t kValues = kBlocks * kQK;
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
  static constexpr int64_t kValues = kBlocks * kQK;
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

// Q2_K and Q3_K superblocks (16 groups of 16 values, one scale each) with each group's values in
// one 32-bit lane of the four code registers a kernel unpacks (bit pair k of the 64 code bytes, k =
// 0..3), instead of in four adjacent lanes of one register as GGUF has them. A dot product per
// lane (VNNI's vpdpbusd sums 4 adjacent bytes) then gives every group's whole sum in its own lane:
// scales apply as one vector, and no horizontal sums remain. Fields stay where GGUF has them; lane
// l = 4c + j holds group k2_lane_group(l), and its byte 4l + r, bit pair k, value 16 g + 4k + r:
// byte 16c + 4j + r, pair k, takes the file's byte 16c + 4k + r, pair j (a 4x4 transpose of bit
// pairs, its own inverse). Q3_K's third bits likewise: bit 64k + 16c + 4j + r of hmask (read as
// four u64, one per register) is the file's value 16 g + 4k + r bit.
constexpr int k2_lane_group(int lane) { return 8 * (lane / 8) + 2 * (lane % 4) + (lane / 4) % 2; }

template <class B>  // BlockQ2_K or BlockQ3_K
struct GroupK2Lanes {
  using Block = B;
  static constexpr int kBlocks = 1;
  static constexpr int64_t kValues = kQK_K;
  static constexpr size_t kBytes = sizeof(B);
  static constexpr bool kHighBit = requires(B b) { b.hmask; };

  // Value index of lane-layout byte `byte`, bit pair k.
  static constexpr int value(int byte, int k) { return 16 * k2_lane_group(byte / 4) + 4 * k + byte % 4; }

  // Bit pair k of code byte 16c + 4j + r <-> bit pair j of byte 16c + 4k + r (each byte lane r on
  // its own: masks and shifts never cross bytes). Its own inverse.
  static void transpose_codes(const uint8_t* in, uint8_t* out) {
    for (int c = 0; c < 4; ++c) {
      uint32_t w[4];
      std::memcpy(w, in + 16 * c, 16);
      for (int j = 0; j < 4; ++j) {
        uint32_t o = 0;
        for (int k = 0; k < 4; ++k) o |= ((w[k] >> (2 * j)) & 0x03030303u) << (2 * k);
        std::memcpy(out + 16 * c + 4 * j, &o, 4);
      }
    }
  }
  // Q3_K's third bits: the file's hmask[16p + 4k + r], bit 4h + j (value 128h + 32j + 16p + 4k + r)
  // is bit 32h + 16p + 4j + r of the layout's u64 k. For each (k, p, h) that is a 4x4 bit
  // transpose between nibble h of four file bytes (r, j) and 16 layout bits (j, r).
  static constexpr uint32_t transpose_bits4x4(uint32_t x) {  // bit 4a + b -> bit 4b + a
    uint32_t t = ((x >> 6) ^ x) & 0x00CCu;  // swap the off-diagonal 2x2 blocks
    x ^= t ^ (t << 6);
    t = ((x >> 3) ^ x) & 0x0A0Au;  // then the off-diagonal bits inside each block
    return x ^ t ^ (t << 3);
  }
  template <bool kPack>  // file -> layout, or back
  static void move_high_bits(const uint8_t* in, uint8_t* out) {
    for (int k = 0; k < 4; ++k) {
      uint64_t lanes = 0;
      if constexpr (!kPack) std::memcpy(&lanes, in + 8 * k, 8);
      for (int p = 0; p < 2; ++p) {
        uint32_t file = 0;
        if constexpr (kPack) std::memcpy(&file, in + 16 * p + 4 * k, 4);
        for (int h = 0; h < 2; ++h) {
          if constexpr (kPack) {
            uint32_t g = 0;  // bit 4r + j
            for (int r = 0; r < 4; ++r) g |= ((file >> (8 * r + 4 * h)) & 0xFu) << (4 * r);
            lanes |= uint64_t(transpose_bits4x4(g)) << (32 * h + 16 * p);
          } else {
            const uint32_t g = transpose_bits4x4(uint32_t(lanes >> (32 * h + 16 * p)) & 0xFFFFu);
            for (int r = 0; r < 4; ++r) file |= ((g >> (4 * r)) & 0xFu) << (8 * r + 4 * h);
          }
        }
        if constexpr (!kPack) std::memcpy(out + 16 * p + 4 * k, &file, 4);
      }
      if constexpr (kPack) std::memcpy(out + 8 * k, &lanes, 8);
    }
  }

  static void pack(const B* in, uint8_t* out) {  // out may not alias in
    B b = *in;
    transpose_codes(in->qs, b.qs);
    if constexpr (kHighBit) move_high_bits<true>(in->hmask, b.hmask);
    std::memcpy(out, &b, sizeof b);
  }
  static void unpack(const uint8_t* in, B* out) {  // out may not alias in
    B b;  // (a copy: `in` need not be aligned for B)
    std::memcpy(&b, in, sizeof b);
    *out = b;
    transpose_codes(b.qs, out->qs);
    if constexpr (kHighBit) move_high_bits<false>(b.hmask, out->hmask);
  }
};

// GroupK4Lanes: where the file's eight-value runs go. Run 2i + t is nibble t (low, high) of file
// bytes 8i .. 8i + 7, values v = 64 (i / 4) + 32 t + 8 (i % 4) + 0..7; it lands at layout byte
// at[2i + t]: code half (v % 16) / 8, the lane holding half v / 16.
struct K4LaneRuns {
  uint8_t at[32];
  static constexpr K4LaneRuns make() {
    K4LaneRuns t{};
    for (int l = 0; l < 16; ++l)
      for (int j = 0; j < 2; ++j) {
        const int v0 = 16 * k2_lane_group(l) + 8 * j, i = 4 * (v0 / 64) + (v0 % 32) / 8, nibble = (v0 / 32) % 2;
        t.at[2 * i + nibble] = uint8_t(64 * j + 4 * l);
      }
    return t;
  }
};
inline constexpr K4LaneRuns kK4LaneRuns = K4LaneRuns::make();

// Q4_K superblocks (8 groups of 32 values, a 6-bit scale and min each) in the lanes of Q2_Kx16:
// each 16-value half of a group in one 32-bit lane of the four code registers a kernel unpacks
// (low, then high nibbles of code bytes 0-63; then of 64-127), lane l holding half
// k2_lane_group(l) as Q2_Kx16's lane l holds group k2_lane_group(l). Both layouts then meet the
// same activations, and every half's sum lands in its own lane. Byte 4l + r of code half j
// (qs[64 j + 4 l + r]) holds value 16 g + 8 j + r in its low nibble and 16 g + 8 j + 4 + r in its
// high one (g = k2_lane_group(l)): eight values of one group, which the file keeps as the same
// nibble of eight adjacent bytes. d and dmin stay where they are; the twelve scale bytes become
// one bit stream, scale i at bits 6i and min i at bits 48 + 6i, so a kernel finds each with one
// 16-bit shift.
struct GroupK4Lanes {
  using Block = BlockQ4_K;
  static constexpr int kBlocks = 1;
  static constexpr int64_t kValues = kQK_K;
  static constexpr size_t kBytes = sizeof(BlockQ4_K);

  static void pack(const BlockQ4_K* in, uint8_t* out) {  // out may not alias in
    BlockQ4_K b = *in;
    for (int i = 0; i < 16; ++i) {
      uint64_t x;
      std::memcpy(&x, in->qs + 8 * i, 8);
      for (int t = 0; t < 2; ++t) {
        const uint64_t m = (x >> (4 * t)) & 0x0F0F0F0F0F0F0F0Full;  // eight codes, one per byte
        const uint32_t lane = uint32_t(m | m >> 28);                 // two per byte: v, v + 4
        std::memcpy(b.qs + kK4LaneRuns.at[2 * i + t], &lane, 4);
      }
    }
    uint8_t sc[8], mn[8];
    for (int i = 0; i < 8; ++i) k4_scale_min(i, in->scales, &sc[i], &mn[i]);
    uint64_t lo = 0, hi = 0;  // the 96-bit stream
    for (int i = 0; i < 8; ++i) lo |= uint64_t(sc[i]) << (6 * i);
    for (int i = 0; i < 8; ++i) {
      const int at = 48 + 6 * i;
      if (at < 64) lo |= uint64_t(mn[i]) << at;
      if (at + 6 > 64) hi |= at < 64 ? uint64_t(mn[i]) >> (64 - at) : uint64_t(mn[i]) << (at - 64);
    }
    std::memcpy(b.scales, &lo, 8);
    std::memcpy(b.scales + 8, &hi, 4);
    std::memcpy(out, &b, sizeof b);
  }
  static void unpack(const uint8_t* in, BlockQ4_K* out) {  // out may not alias in
    BlockQ4_K b;  // (a copy: `in` need not be aligned for BlockQ4_K)
    std::memcpy(&b, in, sizeof b);
    *out = b;
    for (int i = 0; i < 16; ++i) {
      uint64_t x = 0;
      for (int t = 0; t < 2; ++t) {
        uint32_t lane;
        std::memcpy(&lane, b.qs + kK4LaneRuns.at[2 * i + t], 4);
        x |= (uint64_t(lane & 0x0F0F0F0Fu) | uint64_t((lane >> 4) & 0x0F0F0F0Fu) << 32) << (4 * t);
      }
      std::memcpy(out->qs + 8 * i, &x, 8);
    }
    std::memset(out->scales, 0, kKScaleBytes);
    for (int i = 0; i < 8; ++i) {  // k4_scale_min's packing, inverted
      const uint8_t sc = field(b.scales, i), m = field(b.scales, 8 + i);
      uint8_t* q = out->scales;
      if (i < 4) {
        q[i] |= sc;
        q[i + 4] |= m;
      } else {
        q[i + 4] = uint8_t((sc & 0xF) | (m & 0xF) << 4);
        q[i - 4] |= uint8_t((sc >> 4) << 6);
        q[i] |= uint8_t((m >> 4) << 6);
      }
    }
  }

  // Six-bit field i of the layout's scale bytes: scale i (i < 8), min i - 8 (i >= 8).
  static uint8_t field(const uint8_t* scales, int i) {
    const int at = 6 * i;
    uint32_t v = scales[at / 8];
    if (at / 8 + 1 < kKScaleBytes) v |= uint32_t(scales[at / 8 + 1]) << 8;
    return uint8_t((v >> (at % 8)) & 63);
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
