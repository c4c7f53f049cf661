// The integer GEMM's AVX-512 VNNI product (layouts: gemm_i8.h; reference: gemm_i8_panel_ref).
//
// A tile of up to 12 activation rows against a panel of 16 weight rows: per 32-value block, each
// row's integer sums start at -z sum_j a_j and take 8 vpdpbusd (16 lanes x 4 byte products, the
// activation bytes broadcast from memory), then one convert and one FMA move them into the F32
// accumulators with the scale d_w d_a; 12 integer and 12 float accumulators stay in registers.
#pragma once

#include <immintrin.h>

#include <array>
#include <cstddef>
#include <cstring>

#include "ember/core/half.h"
#include "ember/core/repack.h"
#include "kernels/gemm_i8.h"
#include "kernels/transpose_avx512.h"

namespace ember {
inline namespace EMBER_ISA_NAMESPACE {
namespace {

inline __m512i broadcast_i32(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}
inline __m512 broadcast_f32(const uint8_t* p) {
  float v;
  std::memcpy(&v, p, 4);
  return _mm512_set1_ps(v);
}

// sum += w . (4 bytes at p, broadcast): vpdpbusd with its memory operand broadcast ({1to16}),
// one instruction where the compiler would emit a separate broadcast load.
inline __m512i dpbusd_broadcast(__m512i sum, __m512i w, const uint8_t* p) {
  asm("vpdpbusd %2%{1to16%}, %1, %0" : "+v"(sum) : "v"(w), "m"(*reinterpret_cast<const int32_t*>(p)));
  return sum;
}

template <int kRows, bool kMin>
void gemm_i8_tile(const uint8_t* panel, const uint8_t* act, int64_t n_blocks, float* Y, int64_t ldy, __mmask16 cols) {
  using detail::kGemmMr;
  using detail::kGemmNr;
  __m512 acc[kRows];
#pragma GCC unroll 12
  for (int i = 0; i < kRows; ++i) acc[i] = _mm512_setzero_ps();
  for (int64_t b = 0; b < n_blocks; ++b, panel += detail::kPanelBlockBytes, act += detail::kActBlockBytes) {
    __m512i sum[kRows];
#pragma GCC unroll 12
    for (int i = 0; i < kRows; ++i) sum[i] = broadcast_i32(act + detail::kActInit + 4 * i);
#pragma GCC unroll 8
    for (int s = 0; s < detail::kGemmSteps; ++s) {
      const __m512i w = _mm512_load_si512(panel + s * kGemmNr * 4);
#pragma GCC unroll 12
      for (int i = 0; i < kRows; ++i) sum[i] = dpbusd_broadcast(sum[i], w, act + (s * kGemmMr + i) * 4);
    }
    const __m512 dw = _mm512_load_ps(panel + detail::kPanelCodeBytes);
#pragma GCC unroll 12
    for (int i = 0; i < kRows; ++i)
      acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum[i]), _mm512_mul_ps(dw, broadcast_f32(act + detail::kActD + 4 * i)),
                               acc[i]);
    if constexpr (kMin) {
      const __m512 mw = _mm512_load_ps(panel + detail::kPanelCodeBytes + 4 * kGemmNr);
#pragma GCC unroll 12
      for (int i = 0; i < kRows; ++i) acc[i] = _mm512_fmadd_ps(mw, broadcast_f32(act + detail::kActDsum + 4 * i), acc[i]);
    }
  }
#pragma GCC unroll 12
  for (int i = 0; i < kRows; ++i) _mm512_mask_storeu_ps(Y + i * ldy, cols, acc[i]);
}

template <bool kMin, int kRows = detail::kGemmMr>
void gemm_i8_rows(const uint8_t* panel, const uint8_t* act, int64_t n_blocks, float* Y, int64_t ldy, __mmask16 cols,
                  int rows) {
  if constexpr (kRows > 1) {
    if (rows < kRows) return gemm_i8_rows<kMin, kRows - 1>(panel, act, n_blocks, Y, ldy, cols, rows);
  }
  gemm_i8_tile<kRows, kMin>(panel, act, n_blocks, Y, ldy, cols);
}

template <bool kMin>
void gemm_i8_panel_avx512(const uint8_t* panel, const uint8_t* act, int64_t m, int64_t n_blocks, float* Y, int64_t ldy,
                          int n) {
  const __mmask16 cols = __mmask16((1u << n) - 1);
  for (int64_t i = 0; i < m; i += detail::kGemmMr) {
    const int rows = int(m - i < detail::kGemmMr ? m - i : detail::kGemmMr);
    gemm_i8_rows<kMin>(panel, act + size_t(i / detail::kGemmMr * n_blocks) * detail::kActBlockBytes, n_blocks,
                       Y + i * ldy, ldy, cols, rows);
  }
}

// ---- activation packing ------------------------------------------------------------------------
//
// gemm_i8_pack_act's codes and scales (quantize_block_i8: d = amax / 127, codes x * (1 / d)
// rounded to nearest even, which is cvtps2dq's rounding), a block of a row per two registers.
void gemm_i8_pack_act_avx512(const float* X, int64_t m, int64_t k, int zero_point, int64_t t0, int64_t t1,
                             uint8_t* out) {
  using detail::kActBlockBytes;
  const int64_t n_blocks = k / 32;
  const __m512 abs_mask = _mm512_castsi512_ps(_mm512_set1_epi32(0x7FFFFFFF));
  for (int64_t t = t0; t < t1; ++t) {
    uint8_t* tile = out + size_t(t * n_blocks) * kActBlockBytes;
    for (int i = 0; i < detail::kGemmMr; ++i) {
      const int64_t row = t * detail::kGemmMr + i;
      const float* x = X + row * k;
      for (int64_t b = 0; b < n_blocks; ++b) {
        uint8_t* block = tile + size_t(b) * kActBlockBytes;
        float d = 0;
        int32_t sum = 0;
        __m128i q0 = _mm_setzero_si128(), q1 = _mm_setzero_si128();
        if (row < m) {
          const __m512 x0 = _mm512_loadu_ps(x + 32 * b), x1 = _mm512_loadu_ps(x + 32 * b + 16);
          const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_and_ps(x0, abs_mask), _mm512_and_ps(x1, abs_mask)));
          d = amax / 127.0f;
          const __m512 id = _mm512_set1_ps(d != 0.0f ? 1.0f / d : 0.0f);
          const __m512i c0 = _mm512_cvtps_epi32(_mm512_mul_ps(x0, id)), c1 = _mm512_cvtps_epi32(_mm512_mul_ps(x1, id));
          sum = _mm512_reduce_add_epi32(_mm512_add_epi32(c0, c1));
          q0 = _mm512_cvtepi32_epi8(c0);
          q1 = _mm512_cvtepi32_epi8(c1);
        }
        for (int s = 0; s < 4; ++s) {
          const int32_t lo = _mm_extract_epi32(q0, 0), hi = _mm_extract_epi32(q1, 0);
          std::memcpy(block + (s * detail::kGemmMr + i) * 4, &lo, 4);
          std::memcpy(block + ((s + 4) * detail::kGemmMr + i) * 4, &hi, 4);
          q0 = _mm_srli_si128(q0, 4);
          q1 = _mm_srli_si128(q1, 4);
        }
        const int32_t init = -zero_point * sum;
        const float dsum = d * float(sum);
        std::memcpy(block + detail::kActD + 4 * i, &d, 4);
        std::memcpy(block + detail::kActInit + 4 * i, &init, 4);
        std::memcpy(block + detail::kActDsum + 4 * i, &dsum, 4);
      }
    }
  }
}

// ---- panel packing from the load-time layouts -----------------------------------------------------
//
// Each row of a group holds 16 dwords of codes per register (after unpacking nibbles); the panel
// wants each dword index as a register of 16 rows. So 16 rows' registers are transposed as a
// 16 x 16 matrix of dwords (transpose_avx512.h), and register j of the result is (block, step) j.

// Register j of a transposed group goes to block j / kSteps, step j % kSteps.
inline void store_steps(const __m512i r[16], int first_step, int steps_per_block, uint8_t* panel) {
  for (int j = 0; j < 16; ++j) {
    const int block = j / steps_per_block, step = first_step + j % steps_per_block;
    _mm512_store_si512(panel + size_t(block) * detail::kPanelBlockBytes + step * detail::kGemmNr * 4, r[j]);
  }
}

// The F16 scales of 16 rows, kPerRow (2 or 4) per row (row r's k-th at word kPerRow r + k of the
// 64 words a:b), as F32 registers of 16 rows into the `field` of blocks 0..kPerRow-1.
template <int kPerRow>
inline void store_scales(__m512i a, __m512i b, size_t field, uint8_t* panel) {
  static_assert(kPerRow == 2 || kPerRow == 4);
  // word p of output o: block kPerRow / 2 * o + p / 16, row p % 16
  alignas(64) static const auto idx = [] {
    std::array<std::array<uint16_t, 32>, 2> v{};
    for (int o = 0; o < 2; ++o)
      for (int p = 0; p < 32; ++p) v[size_t(o)][size_t(p)] = uint16_t(kPerRow * (p % 16) + (kPerRow / 2) * o + p / 16);
    return v;
  }();
  for (int o = 0; o < kPerRow / 2; ++o) {
    const __m512i words = _mm512_permutex2var_epi16(a, _mm512_load_si512(idx[size_t(o)].data()), b);
    uint8_t* block = panel + size_t(2 * o) * detail::kPanelBlockBytes + field;
    _mm512_store_ps(block, _mm512_cvtph_ps(_mm512_castsi512_si256(words)));
    _mm512_store_ps(block + detail::kPanelBlockBytes, _mm512_cvtph_ps(_mm512_extracti64x4_epi64(words, 1)));
  }
}

// A field of 8 (or 4) bytes from each of 16 rows (zeros past n_rows) as registers, built from
// scalar loads: a wide load of small stores just made would stall on store forwarding.
template <class T>
inline T row_field(const uint8_t* W, size_t row_stride, int64_t n_rows, int r, size_t offset) {
  T v = 0;
  if (r < n_rows) std::memcpy(&v, W + size_t(r) * row_stride + offset, sizeof v);
  return v;
}
inline void rows_u64(const uint8_t* W, size_t row_stride, int64_t n_rows, size_t offset, __m512i* a, __m512i* b) {
  long long v[16];
  for (int r = 0; r < 16; ++r) v[r] = (long long)row_field<uint64_t>(W, row_stride, n_rows, r, offset);
  *a = _mm512_set_epi64(v[7], v[6], v[5], v[4], v[3], v[2], v[1], v[0]);
  *b = _mm512_set_epi64(v[15], v[14], v[13], v[12], v[11], v[10], v[9], v[8]);
}

inline void store_zero_mins(int n_blocks, uint8_t* panel) {
  for (int k = 0; k < n_blocks; ++k)
    _mm512_store_ps(panel + size_t(k) * detail::kPanelBlockBytes + detail::kPanelCodeBytes + 4 * detail::kGemmNr,
                    _mm512_setzero_ps());
}

// Register r <- row_register(pointer to row r, r) for the 16 rows of a panel (zero past n_rows),
// then transposed: register j holds dword j of every row.
template <class F>
inline void transposed_rows(const uint8_t* w, size_t row_stride, int64_t n_rows, __m512i c[16], F row_register) {
  for (int r = 0; r < 16; ++r) c[r] = r < n_rows ? row_register(w + size_t(r) * row_stride, r) : _mm512_setzero_si512();
  transpose_16x16_epi32(c);
}

// Group4<B> (Q4_0x4 ... Q5_1x4): a group's 64 code bytes, low nibbles (values 0-15 of its four
// blocks: dword 4k + s is block k, step s) and high nibbles (values 16-31: steps 4 + s).
template <class G>
void pack_groups_x4(const uint8_t* W, size_t row_stride, int64_t n_rows, int64_t n_groups, uint8_t* panel) {
  const __m512i low = _mm512_set1_epi8(0x0F);
  for (int64_t g = 0; g < n_groups; ++g, panel += 4 * detail::kPanelBlockBytes) {
    const uint8_t* w = W + size_t(g) * G::kBytes;
    __m512i a, b;
    rows_u64(w, row_stride, n_rows, G::kD, &a, &b);
    store_scales<4>(a, b, detail::kPanelCodeBytes, panel);
    if constexpr (G::kMin) {
      rows_u64(w, row_stride, n_rows, G::kM, &a, &b);
      store_scales<4>(a, b, detail::kPanelCodeBytes + 4 * detail::kGemmNr, panel);
    } else {
      store_zero_mins(4, panel);
    }
    for (int high = 0; high < 2; ++high) {  // low nibbles, then high: 16 registers each
      __m512i c[16];
      transposed_rows(w, row_stride, n_rows, c, [&](const uint8_t* p, int r) {
        if (!high) {  // 16 rows side by side are more streams than the hardware prefetchers follow
          _mm_prefetch(reinterpret_cast<const char*>(p + 8 * G::kBytes), _MM_HINT_T0);
          _mm_prefetch(reinterpret_cast<const char*>(p + 8 * G::kBytes + 64), _MM_HINT_T0);
        }
        const __m512i v = _mm512_loadu_si512(p + G::kCodes);
        __m512i x = _mm512_and_si512(high ? _mm512_srli_epi16(v, 4) : v, low);
        if constexpr (G::kFifthBit)
          x = _mm512_or_si512(x, _mm512_maskz_set1_epi8(row_field<uint64_t>(w, row_stride, n_rows, r, G::kQh + 8 * high), 0x10));
        return x;
      });
      store_steps(c, 4 * high, 4, panel);
    }
  }
}

// GroupQ8x2 (Q8_0x2): two blocks' 64 codes, + 128 (z = 128); dword 8k + s is block k, step s.
inline void pack_groups_q8x2(const uint8_t* W, size_t row_stride, int64_t n_rows, int64_t n_groups, uint8_t* panel) {
  const __m512i flip = _mm512_set1_epi8(char(0x80));
  for (int64_t g = 0; g < n_groups; ++g, panel += 2 * detail::kPanelBlockBytes) {
    const uint8_t* w = W + size_t(g) * GroupQ8x2::kBytes;
    int d[16];
    for (int r = 0; r < 16; ++r) d[r] = int(row_field<uint32_t>(w, row_stride, n_rows, r, GroupQ8x2::kD));
    const __m512i halves = _mm512_set_epi32(d[15], d[14], d[13], d[12], d[11], d[10], d[9], d[8], d[7], d[6], d[5],
                                            d[4], d[3], d[2], d[1], d[0]);
    store_scales<2>(halves, halves, detail::kPanelCodeBytes, panel);
    store_zero_mins(2, panel);
    __m512i c[16];
    transposed_rows(w, row_stride, n_rows, c, [&](const uint8_t* p, int) {
      _mm_prefetch(reinterpret_cast<const char*>(p + 8 * GroupQ8x2::kBytes), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(p + 8 * GroupQ8x2::kBytes + 64), _MM_HINT_T0);
      return _mm512_xor_si512(_mm512_loadu_si512(p + GroupQ8x2::kCodes), flip);
    });
    store_steps(c, 0, 8, panel);
  }
}

// Q4_K / Q5_K superblocks in the file's layout. Pair p of sub-blocks (2p, 2p + 1) has its codes in
// qs[32p, 32p + 32): sub-block 2p in the low nibbles, 2p + 1 in the high ones; Q5_K's fifth bit of
// sub-block j's value l is bit j of qh[l]. A 64-byte half h of qs (pairs 2h, 2h + 1) gives two
// registers per row: low nibbles (sub-blocks 4h, 4h + 2: dwords 0-7 and 8-15) and high (4h + 1,
// 4h + 3); each is transposed across the 16 rows like the groups above.
template <class B>
void pack_superblocks_k(const uint8_t* W, size_t row_stride, int64_t n_rows, int64_t n_super, uint8_t* panel) {
  constexpr bool kFifthBit = requires(B b) { b.qh; };
  const __m512i low = _mm512_set1_epi8(0x0F);
  for (int64_t sb = 0; sb < n_super; ++sb, panel += 8 * detail::kPanelBlockBytes) {
    for (int r = 0; r < n_rows; ++r) {  // scales: d * sc and -dmin * m, as decode_block has them
      B b;
      std::memcpy(&b, W + size_t(r) * row_stride + size_t(sb) * sizeof(B), sizeof(B));
      const float d = _cvtsh_ss(b.d), dmin = _cvtsh_ss(b.dmin);
      for (int j = 0; j < 8; ++j) {
        uint8_t sc, m;
        k4_scale_min(j, b.scales, &sc, &m);
        uint8_t* block = panel + size_t(j) * detail::kPanelBlockBytes + detail::kPanelCodeBytes;
        const float dj = d * float(sc), mj = -(dmin * float(m));
        std::memcpy(block + 4 * r, &dj, 4);
        std::memcpy(block + 4 * detail::kGemmNr + 4 * r, &mj, 4);
      }
    }
    for (int h = 0; h < 2; ++h)
      for (int high = 0; high < 2; ++high) {
        const int first = 4 * h + high;  // sub-blocks first and first + 2
        __m512i c[16];
        transposed_rows(W + size_t(sb) * sizeof(B), row_stride, n_rows, c, [&](const uint8_t* p, int) {
          const __m512i v = _mm512_loadu_si512(p + offsetof(B, qs) + 64 * h);
          __m512i x = _mm512_and_si512(high ? _mm512_srli_epi16(v, 4) : v, low);
          if constexpr (kFifthBit) {
            const __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + offsetof(B, qh))));
            const __m512i bits = _mm512_inserti64x4(_mm512_set1_epi8(char(1 << first)), _mm256_set1_epi8(char(1 << (first + 2))), 1);
            x = _mm512_or_si512(x, _mm512_maskz_set1_epi8(_mm512_test_epi8_mask(qh, bits), 0x10));
          }
          return x;
        });
        for (int j = 0; j < 16; ++j) {
          const int block = first + 2 * (j / 8), step = j % 8;
          _mm512_store_si512(panel + size_t(block) * detail::kPanelBlockBytes + step * detail::kGemmNr * 4, c[j]);
        }
      }
  }
}

// Q4_Kx16 superblocks (GroupK4Lanes): code half j gives two registers per row, k = 2j (low
// nibbles) and 2j + 1 (high); dword l of register k holds values 16 g + 4k .. 16 g + 4k + 3 (g =
// k2_lane_group(l)), which are sub-block g / 2's step 4 (g % 2) + k.
inline void pack_superblocks_k4_lanes(const uint8_t* W, size_t row_stride, int64_t n_rows, int64_t n_super,
                                      uint8_t* panel) {
  const __m512i low = _mm512_set1_epi8(0x0F);
  for (int64_t sb = 0; sb < n_super; ++sb, panel += 8 * detail::kPanelBlockBytes) {
    for (int r = 0; r < n_rows; ++r) {  // scales: d * sc and -dmin * m, as decode_block has them
      BlockQ4_K b;
      std::memcpy(&b, W + size_t(r) * row_stride + size_t(sb) * sizeof b, sizeof b);
      const float d = _cvtsh_ss(b.d), dmin = _cvtsh_ss(b.dmin);
      for (int j = 0; j < 8; ++j) {
        uint8_t* block = panel + size_t(j) * detail::kPanelBlockBytes + detail::kPanelCodeBytes;
        const float dj = d * float(GroupK4Lanes::field(b.scales, j)), mj = -(dmin * float(GroupK4Lanes::field(b.scales, 8 + j)));
        std::memcpy(block + 4 * r, &dj, 4);
        std::memcpy(block + 4 * detail::kGemmNr + 4 * r, &mj, 4);
      }
    }
    for (int k = 0; k < 4; ++k) {
      __m512i c[16];
      transposed_rows(W + size_t(sb) * sizeof(BlockQ4_K), row_stride, n_rows, c, [&](const uint8_t* p, int) {
        const __m512i v = _mm512_loadu_si512(p + offsetof(BlockQ4_K, qs) + 64 * (k / 2));
        return _mm512_and_si512(k % 2 ? _mm512_srli_epi16(v, 4) : v, low);
      });
      for (int l = 0; l < 16; ++l) {
        const int g = k2_lane_group(l), block = g / 2, step = 4 * (g % 2) + k;
        _mm512_store_si512(panel + size_t(block) * detail::kPanelBlockBytes + step * detail::kGemmNr * 4, c[l]);
      }
    }
  }
}

// The load-time layouts' whole groups, Q4_K/Q5_K and Q4_Kx16 here; the blocks after the groups (the file's
// layout) and every other type by the portable packer.
void gemm_i8_pack_panel_avx512(DType t, const void* W, size_t row_stride, int64_t n_rows, int64_t cols,
                               uint8_t* panel) {
  const auto* w = static_cast<const uint8_t*>(W);
  if (n_rows < detail::kGemmNr) std::memset(panel, 0, detail::gemm_i8_panel_bytes(cols));  // scales of missing rows
  int64_t groups = 0, values = 0;
  size_t bytes = 0;
  switch (t) {
#define EMBER_X4(TYPE, BLOCK)                                           \
  case DType::TYPE:                                                     \
    groups = cols / Group4<BLOCK>::kValues;                             \
    pack_groups_x4<Group4<BLOCK>>(w, row_stride, n_rows, groups, panel); \
    values = groups * Group4<BLOCK>::kValues;                           \
    bytes = size_t(groups) * Group4<BLOCK>::kBytes;                     \
    break;
    EMBER_X4(Q4_0x4, BlockQ4_0)
    EMBER_X4(Q4_1x4, BlockQ4_1)
    EMBER_X4(Q5_0x4, BlockQ5_0)
    EMBER_X4(Q5_1x4, BlockQ5_1)
#undef EMBER_X4
    case DType::Q8_0x2:
      groups = cols / GroupQ8x2::kValues;
      pack_groups_q8x2(w, row_stride, n_rows, groups, panel);
      values = groups * GroupQ8x2::kValues;
      bytes = size_t(groups) * GroupQ8x2::kBytes;
      break;
    case DType::Q4_K: return pack_superblocks_k<BlockQ4_K>(w, row_stride, n_rows, cols / kQK_K, panel);
    case DType::Q5_K: return pack_superblocks_k<BlockQ5_K>(w, row_stride, n_rows, cols / kQK_K, panel);
    case DType::Q4_Kx16: return pack_superblocks_k4_lanes(w, row_stride, n_rows, cols / kQK_K, panel);
    default: return detail::gemm_i8_pack_panel(t, W, row_stride, n_rows, cols, panel);
  }
  if (values < cols)
    detail::gemm_i8_pack_panel(dtype_file_type(t), w + bytes, row_stride, n_rows, cols - values,
                               panel + size_t(values / 32) * detail::kPanelBlockBytes);
}

}  // namespace
}  // namespace EMBER_ISA_NAMESPACE
}  // namespace ember
