#include "ember/core/repack.h"

#include "ember/core/quantize.h"

namespace ember {
namespace {

// Calls f(G{}) with the group layout G (Group4<B>, GroupQ8x2, GroupK2Lanes<B>, GroupK4Lanes) behind a load-time layout.
template <class F>
bool with_layout(DType t, F&& f) {
  switch (t) {
    case DType::Q4_0x4: f(Group4<BlockQ4_0>{}); return true;
    case DType::Q4_1x4: f(Group4<BlockQ4_1>{}); return true;
    case DType::Q5_0x4: f(Group4<BlockQ5_0>{}); return true;
    case DType::Q5_1x4: f(Group4<BlockQ5_1>{}); return true;
    case DType::Q8_0x2: f(GroupQ8x2{}); return true;
    case DType::Q2_Kx16: f(GroupK2Lanes<BlockQ2_K>{}); return true;
    case DType::Q3_Kx16: f(GroupK2Lanes<BlockQ3_K>{}); return true;
    case DType::Q4_Kx16: f(GroupK4Lanes{}); return true;
    default: return false;
  }
}

// Row by row, group by group through the blocks of one group (so dst may be src); the tail blocks
// as they are.
template <bool kPack>
bool convert_rows(DType t, const void* src, void* dst, int64_t rows, int64_t cols) {
  return with_layout(t, [&](auto g) {
    using G = decltype(g);
    using B = typename G::Block;
    const size_t rb = row_bytes(t, cols);
    const int64_t groups = cols / G::kValues;
    const size_t tail = rb - size_t(groups) * G::kBytes;
    for (int64_t r = 0; r < rows; ++r) {
      const uint8_t* in = static_cast<const uint8_t*>(src) + size_t(r) * rb;
      uint8_t* out = static_cast<uint8_t*>(dst) + size_t(r) * rb;
      for (int64_t i = 0; i < groups; ++i) {
        B blocks[G::kBlocks];
        if constexpr (kPack) {
          std::memcpy(blocks, in + size_t(i) * G::kBytes, G::kBytes);
          G::pack(blocks, out + size_t(i) * G::kBytes);
        } else {
          G::unpack(in + size_t(i) * G::kBytes, blocks);
          std::memcpy(out + size_t(i) * G::kBytes, blocks, G::kBytes);
        }
      }
      if (in != out && tail) std::memcpy(out + size_t(groups) * G::kBytes, in + size_t(groups) * G::kBytes, tail);
    }
  });
}

}  // namespace

bool repack_rows(DType to, const void* src, void* dst, int64_t rows, int64_t cols) {
  return convert_rows<true>(to, src, dst, rows, cols);
}

bool unpack_rows(DType from, const void* src, void* dst, int64_t rows, int64_t cols) {
  return convert_rows<false>(from, src, dst, rows, cols);
}

// Used by quantize_row / dequantize_row (quantize.cpp) for the load-time layouts.
bool quantize_row_repacked(DType t, const float* src, void* dst, int64_t n) {
  if (dtype_file_type(t) == t) return false;
  quantize_row(dtype_file_type(t), src, dst, n);
  return repack_rows(t, dst, 1, n);
}

bool dequantize_row_repacked(DType t, const void* src, float* dst, int64_t n) {
  return with_layout(t, [&](auto g) {
    using G = decltype(g);
    using B = typename G::Block;
    const DType base = dtype_file_type(t);
    const auto* row = static_cast<const uint8_t*>(src);
    constexpr int64_t kValues = G::kValues;
    const int64_t groups = n / kValues;
    for (int64_t i = 0; i < groups; ++i) {
      B blocks[G::kBlocks];
      G::unpack(row + size_t(i) * G::kBytes, blocks);
      dequantize_row(base, blocks, dst + i * kValues, kValues);
    }
    dequantize_row(base, row + size_t(groups) * G::kBytes, dst + groups * kValues, n - groups * kValues);
  });
}

}  // namespace ember
