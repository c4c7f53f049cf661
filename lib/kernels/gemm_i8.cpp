// Weight panels for the integer GEMM (gemm_i8.h): each 32-value block of a row as unsigned codes,
// a scale and a min, scattered into the panel's vpdpbusd lane order. Portable code: packing costs
// a few operations per weight, once per product of up to 256 activation rows.
#include "kernels/gemm_i8.h"

#include <array>
#include <cstring>
#include <vector>

#include "ember/core/blocks.h"
#include "ember/core/half.h"
#include "ember/core/repack.h"

namespace ember::detail {
namespace {

// One block in the panel's terms: w_j = d (u_j - z) + m.
struct BlockCodes {
  float d = 0, m = 0;
  alignas(8) uint8_t u[32];
};

constexpr uint64_t kLowNibbles = 0x0F0F0F0F0F0F0F0Full;

// Values 0-15 from the low nibbles of 16 bytes, 16-31 from the high ones (Q4_0/Q4_1/Q5_*).
void nibbles(const uint8_t* qs, uint8_t* u) {
  uint64_t a, b;
  std::memcpy(&a, qs, 8);
  std::memcpy(&b, qs + 8, 8);
  const uint64_t v[4] = {a & kLowNibbles, b & kLowNibbles, (a >> 4) & kLowNibbles, (b >> 4) & kLowNibbles};
  std::memcpy(u, v, 32);
}

// Byte i of spread(x) is 0x10 where bit i of x is set.
constexpr std::array<uint64_t, 256> kSpread = [] {
  std::array<uint64_t, 256> t{};
  for (int x = 0; x < 256; ++x)
    for (int i = 0; i < 8; ++i)
      if (x >> i & 1) t[size_t(x)] |= uint64_t(0x10) << (8 * i);
  return t;
}();

// The fifth bit of value j is bit j of qh (Q5_0/Q5_1).
void fifth_bits(const uint8_t* qh, uint8_t* u) {
  for (int k = 0; k < 4; ++k) {
    uint64_t v;
    std::memcpy(&v, u + 8 * k, 8);
    v |= kSpread[qh[k]];
    std::memcpy(u + 8 * k, &v, 8);
  }
}

void read(const BlockQ4_0& b, BlockCodes* c) {
  c->d = fp16_to_f32(b.d);
  nibbles(b.qs, c->u);
}
void read(const BlockQ4_1& b, BlockCodes* c) {
  c->d = fp16_to_f32(b.d);
  c->m = fp16_to_f32(b.m);
  nibbles(b.qs, c->u);
}
void read(const BlockQ5_0& b, BlockCodes* c) {
  c->d = fp16_to_f32(b.d);
  nibbles(b.qs, c->u);
  fifth_bits(b.qh, c->u);
}
void read(const BlockQ5_1& b, BlockCodes* c) {
  c->d = fp16_to_f32(b.d);
  c->m = fp16_to_f32(b.m);
  nibbles(b.qs, c->u);
  fifth_bits(b.qh, c->u);
}
void read(const BlockQ8_0& b, BlockCodes* c) {
  c->d = fp16_to_f32(b.d);
  uint64_t v[4];
  std::memcpy(v, b.qs, 32);
  for (uint64_t& x : v) x ^= 0x8080808080808080ull;  // q + 128: z = 128
  std::memcpy(c->u, v, 32);
}

// Q4_K/Q5_K: sub-block j of a superblock (decode_block's d * sc and -dmin * m, the same floats).
template <class B>
void read_sub(const B& b, int j, BlockCodes* c) {
  uint8_t sc, m;
  k4_scale_min(j, b.scales, &sc, &m);
  c->d = fp16_to_f32(b.d) * float(sc);
  c->m = -(fp16_to_f32(b.dmin) * float(m));
  const uint8_t* q = b.qs + 32 * (j / 2);
  const int shift = 4 * (j % 2);
  for (int k = 0; k < 4; ++k) {
    uint64_t v;
    std::memcpy(&v, q + 8 * k, 8);
    v = (v >> shift) & kLowNibbles;
    if constexpr (requires { b.qh; }) {
      uint64_t h;
      std::memcpy(&h, b.qh + 8 * k, 8);
      v |= ((h >> j) & 0x0101010101010101ull) << 4;
    }
    std::memcpy(c->u + 8 * k, &v, 8);
  }
}

void place(const BlockCodes& c, int r, uint8_t* block) {
  for (int s = 0; s < kGemmSteps; ++s) std::memcpy(block + s * kGemmNr * 4 + 4 * r, c.u + 4 * s, 4);
  std::memcpy(block + kPanelCodeBytes + 4 * r, &c.d, 4);
  std::memcpy(block + kPanelCodeBytes + 4 * kGemmNr + 4 * r, &c.m, 4);
}

template <class B>
void pack_row(const uint8_t* row, int64_t n_blocks, int r, uint8_t* panel) {
  BlockCodes c;
  for (int64_t b = 0; b < n_blocks; ++b) {
    B block;
    std::memcpy(&block, row + size_t(b) * sizeof(B), sizeof(B));
    read(block, &c);
    place(c, r, panel + size_t(b) * kPanelBlockBytes);
  }
}

template <class B>
void pack_row_k(const uint8_t* row, int64_t n_blocks, int r, uint8_t* panel) {
  BlockCodes c;
  for (int64_t sb = 0; sb < n_blocks / 8; ++sb) {
    B block;
    std::memcpy(&block, row + size_t(sb) * sizeof(B), sizeof(B));
    for (int j = 0; j < 8; ++j) {
      read_sub(block, j, &c);
      place(c, r, panel + size_t(8 * sb + j) * kPanelBlockBytes);
    }
  }
}

}  // namespace

bool gemm_i8_supports(DType t) {
  switch (dtype_file_type(t)) {
    case DType::Q4_0:
    case DType::Q4_1:
    case DType::Q5_0:
    case DType::Q5_1:
    case DType::Q8_0:
    case DType::Q4_K:
    case DType::Q5_K: return true;
    default: return false;
  }
}

int gemm_i8_zero_point(DType t) {
  switch (dtype_file_type(t)) {
    case DType::Q4_0: return 8;
    case DType::Q5_0: return 16;
    case DType::Q8_0: return 128;
    default: return 0;
  }
}

bool gemm_i8_has_min(DType t) {
  const DType f = dtype_file_type(t);
  return f == DType::Q4_1 || f == DType::Q5_1 || f == DType::Q4_K || f == DType::Q5_K;
}

void gemm_i8_pack_panel(DType t, const void* W, size_t row_stride, int64_t n_rows, int64_t cols, uint8_t* panel) {
  const DType file = dtype_file_type(t);
  const int64_t n_blocks = cols / 32;
  if (n_rows < kGemmNr) std::memset(panel, 0, gemm_i8_panel_bytes(cols));
  thread_local std::vector<uint8_t> plain;
  for (int r = 0; r < int(n_rows); ++r) {
    const uint8_t* row = static_cast<const uint8_t*>(W) + size_t(r) * row_stride;
    if (file != t) {  // a load-time layout: back to the file's blocks first
      plain.resize(row_bytes(file, cols));
      unpack_rows(t, row, plain.data(), 1, cols);
      row = plain.data();
    }
    switch (file) {
      case DType::Q4_0: pack_row<BlockQ4_0>(row, n_blocks, r, panel); break;
      case DType::Q4_1: pack_row<BlockQ4_1>(row, n_blocks, r, panel); break;
      case DType::Q5_0: pack_row<BlockQ5_0>(row, n_blocks, r, panel); break;
      case DType::Q5_1: pack_row<BlockQ5_1>(row, n_blocks, r, panel); break;
      case DType::Q8_0: pack_row<BlockQ8_0>(row, n_blocks, r, panel); break;
      case DType::Q4_K: pack_row_k<BlockQ4_K>(row, n_blocks, r, panel); break;
      case DType::Q5_K: pack_row_k<BlockQ5_K>(row, n_blocks, r, panel); break;
      default: break;
    }
  }
}

}  // namespace ember::detail
