// AVX-512 decode kernels for the 32-value block formats (Q4_0, Q4_1, Q5_0, Q5_1), on GGUF's own
// byte layout: four blocks (128 weights) per 512-bit register instead of one block per 256-bit one.
//
// The activations are laid out to match the weights rather than the other way round, so the
// weights stay where they lie in the mapped file. Four consecutive blocks' nibble bytes, gathered
// into one register, give 64 low nibbles (values 0-15 of each block) and 64 high nibbles (values
// 16-31); ActQ8x128 stores the activation codes in exactly that order, so each half meets its
// activations in one vpdpbusd. Int32 lane l then holds 8 products of block l/4, and each lane is
// scaled by its own block's d_w d_x with one multiply and one FMA for 16 lanes:
//
//   sum_j w_j x_j = sum_l d_w(l) d_x(l) (isum_l - z s_l)  [+ sum_l m(l) d_x(l) s_l]
//
// s_l being the sum of the 8 activation codes lane l meets (zero point z, or min m).
//
// Decode streams weights from memory, and one core alone does not keep enough cache-line requests
// in flight to saturate it while it also computes. So rows go two at a time from two distant parts
// of the matrix (two hardware-prefetch streams, shared activation loads), each stream also
// prefetched in software a few kilobytes ahead, into L2 (measured: 1 thread, 151936x896 Q4_0: 55%
// of read bandwidth one row at a time, ~85% this way).
#pragma once

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VNNI__) && defined(__AVX512VBMI__) && defined(__GFNI__)

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <type_traits>

#include "ember/core/blocks.h"
#include "ember/core/repack.h"
#include "kernels/kernel_table.h"

namespace ember {
inline namespace EMBER_ISA_NAMESPACE {
namespace {

inline float half_to_float(uint16_t h) { return _cvtsh_ss(h); }
inline uint64_t load_u64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// The activations of four consecutive 32-value blocks (see above); a partial last group is padded
// with zero codes and zero scales.
struct alignas(64) ActQ8x128 {
  int8_t lo[64];   // values 0-15 of blocks 0..3
  int8_t hi[64];   // values 16-31 of blocks 0..3
  int32_t s[16];   // lane l: lo[4l..4l+3] + hi[4l..4l+3]
  float dx[16];    // lane l: d_x of block l / 4
  float sdx[16];   // lane l: d_x s_l
};
static_assert(sizeof(ActQ8x128) == detail::act_bytes(detail::ActFormat::kQ8x128, 128));

void quantize_act_128(const float* x, void* out, int64_t n) {
  auto* a = static_cast<ActQ8x128*>(out);
  const int64_t nb = n / kQK;
  for (int64_t g = 0; g * 4 < nb; ++g) {
    ActQ8x128& o = a[g];
    std::memset(&o, 0, sizeof(o));
    for (int k = 0; k < 4 && g * 4 + k < nb; ++k) {
      int8_t q[kQK];
      const float d = quantize_block_i8(x + (g * 4 + k) * kQK, kQK, q);
      std::memcpy(o.lo + 16 * k, q, 16);
      std::memcpy(o.hi + 16 * k, q + 16, 16);
      for (int l = 4 * k; l < 4 * k + 4; ++l) o.dx[l] = d;
    }
    for (int l = 0; l < 16; ++l) {
      for (int j = 0; j < 4; ++j) o.s[l] += o.lo[4 * l + j] + o.hi[4 * l + j];
      o.sdx[l] = o.dx[l] * float(o.s[l]);
    }
  }
}

// What a format adds to the common loop: where its fields lie, its zero point or min, 5th bits.
template <class B>
struct Packed4 {
  using Block = B;
  static constexpr int kGroup = 4 * int(sizeof(B));  // bytes of four blocks
  static constexpr int kZeroShift = 0;               // z = 1 << kZeroShift when kHasZero
  static constexpr bool kHasZero = false, kHasMin = false, kFifthBit = false;
};
struct Q4_0Fmt : Packed4<BlockQ4_0> { static constexpr bool kHasZero = true; static constexpr int kZeroShift = 3; };
struct Q4_1Fmt : Packed4<BlockQ4_1> { static constexpr bool kHasMin = true; };
struct Q5_0Fmt : Packed4<BlockQ5_0> {
  static constexpr bool kHasZero = true, kFifthBit = true;
  static constexpr int kZeroShift = 4;
  static constexpr size_t kQh = offsetof(BlockQ5_0, qh);
};
struct Q5_1Fmt : Packed4<BlockQ5_1> {
  static constexpr bool kHasMin = true, kFifthBit = true;
  static constexpr size_t kQh = offsetof(BlockQ5_1, qh);
};

// Word indices, into the pair (bytes [0, 64) of a group, bytes [G - 64, G)), of the 16-bit field at
// byte offset `field` of block l / 4 for lane l (lanes 0-15); for the 5th bits, of the low and high
// halves of qh of blocks 0..3 (lanes 16-19 and 20-23). Built at compile time.
template <class F>
struct GroupIndex {
  using B = typename F::Block;
  static constexpr int16_t word(size_t off) {
    return int16_t(off + 2 <= 64 ? off / 2 : 32 + (off - (size_t(F::kGroup) - 64)) / 2);
  }
  struct Table {
    alignas(64) int16_t v[32];
  };
  static constexpr Table make(size_t field) {
    Table t{};
    for (int l = 0; l < 16; ++l) t.v[l] = word(size_t(l / 4) * sizeof(B) + field);
    if constexpr (F::kFifthBit) {
      for (int k = 0; k < 4; ++k) {
        t.v[16 + k] = word(size_t(k) * sizeof(B) + F::kQh);
        t.v[20 + k] = word(size_t(k) * sizeof(B) + F::kQh + 2);
      }
    }
    return t;
  }
  static constexpr Table kD = make(0), kM = make(2);
  // Byte indices of the four blocks' 16 nibble bytes, in order.
  struct Bytes {
    alignas(64) uint8_t v[64];
  };
  static constexpr Bytes make_codes() {
    Bytes t{};
    for (int i = 0; i < 64; ++i) {
      const size_t off = size_t(i / 16) * sizeof(B) + offsetof(B, qs) + size_t(i % 16);
      t.v[i] = uint8_t(off < 64 ? off : 64 + (off - (size_t(F::kGroup) - 64)));
    }
    return t;
  }
  static constexpr Bytes kCodes = make_codes();
};

// One group of four nibble blocks (Q4_0, Q4_1, Q5_0, Q5_1) against ActQ8x128.
template <class F>
struct Nibbles {
  using Act = ActQ8x128;
  static constexpr int kBlocks = 4, kGroup = F::kGroup;
  struct Consts {
    __m512i idx_d = _mm512_load_si512(GroupIndex<F>::kD.v), idx_m = _mm512_load_si512(GroupIndex<F>::kM.v);
    __m512i idx_codes = _mm512_load_si512(GroupIndex<F>::kCodes.v);
  };
  static void full_group(const uint8_t* p, const Act& a, const Consts& c, __m512& acc, __m512& affine) {
    group(_mm512_loadu_si512(p), _mm512_loadu_si512(p + kGroup - 64), a, c, acc, affine);
  }
  // head, tail: bytes [0, 64) and [kGroup - 64, kGroup) of the group.
  static void group(__m512i head, __m512i tail, const Act& a, const Consts& c, __m512& acc, __m512& affine) {
    const __m512i codes = _mm512_permutex2var_epi8(head, c.idx_codes, tail);
    const __m512i m4 = _mm512_set1_epi8(0xF);
    __m512i lo = _mm512_and_si512(codes, m4), hi = _mm512_and_si512(_mm512_srli_epi16(codes, 4), m4);
    const __m512i words = _mm512_permutex2var_epi16(head, c.idx_d, tail);
    if constexpr (F::kFifthBit) {
      // Words 16-19: bits 0-15 of each block's qh (values 0-15), words 20-23: bits 16-31.
      const __m128i qh = _mm512_extracti32x4_epi32(words, 2);
      const __m512i five = _mm512_set1_epi8(0x10);
      lo = _mm512_mask_add_epi8(lo, __mmask64(_mm_cvtsi128_si64(qh)), lo, five);  // bit 4 is clear: add = or
      hi = _mm512_mask_add_epi8(hi, __mmask64(_mm_extract_epi64(qh, 1)), hi, five);
    }
    __m512i isum = _mm512_dpbusd_epi32(_mm512_setzero_si512(), lo, _mm512_load_si512(a.lo));
    isum = _mm512_dpbusd_epi32(isum, hi, _mm512_load_si512(a.hi));
    if constexpr (F::kHasZero) isum = _mm512_sub_epi32(isum, _mm512_slli_epi32(_mm512_load_si512(a.s), F::kZeroShift));
    const __m512 dw = _mm512_cvtph_ps(_mm512_castsi512_si256(words));
    acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_mul_ps(dw, _mm512_load_ps(a.dx)), acc);
    if constexpr (F::kHasMin) {
      const __m512 m = _mm512_cvtph_ps(_mm512_castsi512_si256(_mm512_permutex2var_epi16(head, c.idx_m, tail)));
      affine = _mm512_fmadd_ps(m, _mm512_load_ps(a.sdx), affine);
    }
  }
};

// The same four blocks in their load-time layout (Q4_0x4 ... Q5_1x4, core/repack.h): the codes are
// one 64-byte load, the four scales (and mins) one 8-byte load, the 5th bits two 8-byte masks: the
// two cross-lane gathers of Nibbles are gone. A row's last blocks, when fewer than four, keep the
// GGUF layout and go through Nibbles' masked path.
template <class F>
struct NibblesX4 : Nibbles<F> {
  using G = Group4<typename F::Block>;
  using Act = ActQ8x128;
  using Consts = typename Nibbles<F>::Consts;
  static_assert(G::kBytes == size_t(F::kGroup));
  // Four F16 values at p as 16 floats, value k in lanes 4k..4k+3.
  static __m512 four_halves(const uint8_t* p) {
    const __m512i rep4 = _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0);
    const __m128 h = _mm_cvtph_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
    return _mm512_permutexvar_ps(rep4, _mm512_castps128_ps512(h));
  }
  static void full_group(const uint8_t* p, const Act& a, const Consts&, __m512& acc, __m512& affine) {
    const __m512i codes = _mm512_loadu_si512(p + G::kCodes);
    const __m512i m4 = _mm512_set1_epi8(0xF);
    __m512i lo = _mm512_and_si512(codes, m4), hi = _mm512_and_si512(_mm512_srli_epi16(codes, 4), m4);
    if constexpr (F::kFifthBit) {
      const __m512i five = _mm512_set1_epi8(0x10);
      lo = _mm512_mask_add_epi8(lo, __mmask64(load_u64(p + G::kQh)), lo, five);  // bit 4 is clear: add = or
      hi = _mm512_mask_add_epi8(hi, __mmask64(load_u64(p + G::kQh + 8)), hi, five);
    }
    __m512i isum = _mm512_dpbusd_epi32(_mm512_setzero_si512(), lo, _mm512_load_si512(a.lo));
    isum = _mm512_dpbusd_epi32(isum, hi, _mm512_load_si512(a.hi));
    if constexpr (F::kHasZero) isum = _mm512_sub_epi32(isum, _mm512_slli_epi32(_mm512_load_si512(a.s), F::kZeroShift));
    acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_mul_ps(four_halves(p + G::kD), _mm512_load_ps(a.dx)), acc);
    if constexpr (F::kHasMin) affine = _mm512_fmadd_ps(four_halves(p + G::kM), _mm512_load_ps(a.sdx), affine);
  }
};

// Q8_0, two blocks (64 values) per group. vpdpbusd wants unsigned weights: w + 128 (the sign bit
// flipped) meets the codes, and 128 s_l is taken off again (ActQ8x64::s128).
struct alignas(64) ActQ8x64 {
  int8_t q[64];      // values of blocks 0, 1 in order
  int32_t s128[16];  // lane l: 128 * (q[4l] + ... + q[4l+3])
  float dx[16];      // lane l: d_x of block l / 8
};
static_assert(sizeof(ActQ8x64) == detail::act_bytes(detail::ActFormat::kQ8x64, 64));

void quantize_act_64(const float* x, void* out, int64_t n) {
  auto* a = static_cast<ActQ8x64*>(out);
  const int64_t nb = n / kQK;
  for (int64_t g = 0; g * 2 < nb; ++g) {
    ActQ8x64& o = a[g];
    std::memset(&o, 0, sizeof(o));
    for (int k = 0; k < 2 && g * 2 + k < nb; ++k) {
      const float d = quantize_block_i8(x + (g * 2 + k) * kQK, kQK, o.q + 32 * k);
      for (int l = 8 * k; l < 8 * k + 8; ++l) o.dx[l] = d;
    }
    for (int l = 0; l < 16; ++l) o.s128[l] = 128 * (o.q[4 * l] + o.q[4 * l + 1] + o.q[4 * l + 2] + o.q[4 * l + 3]);
  }
}

struct Q8_0Codes {  // byte indices of two Q8_0 blocks' codes in (bytes [0, 64), bytes [4, 68))
  alignas(64) uint8_t v[64];
  static constexpr Q8_0Codes make() {
    Q8_0Codes t{};
    for (int i = 0; i < 64; ++i) {
      const size_t off = size_t(i / 32) * sizeof(BlockQ8_0) + offsetof(BlockQ8_0, qs) + size_t(i % 32);
      t.v[i] = uint8_t(off < 64 ? off : 64 + (off - (2 * sizeof(BlockQ8_0) - 64)));
    }
    return t;
  }
};
inline constexpr Q8_0Codes kQ8_0Codes = Q8_0Codes::make();

struct Q8_0Pairs {
  using Act = ActQ8x64;
  static constexpr int kBlocks = 2, kGroup = 2 * int(sizeof(BlockQ8_0));
  struct Consts {
    // Lanes 0-7: word 0 (block 0's d), lanes 8-15: word 17 (block 1's d at byte 34).
    __m512i idx_d = _mm512_set_epi16(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  //
                                     17, 17, 17, 17, 17, 17, 17, 17, 0, 0, 0, 0, 0, 0, 0, 0);
    __m512i idx_codes = _mm512_load_si512(kQ8_0Codes.v);
  };
  static void full_group(const uint8_t* p, const Act& a, const Consts& c, __m512& acc, __m512& affine) {
    group(_mm512_loadu_si512(p), _mm512_loadu_si512(p + kGroup - 64), a, c, acc, affine);
  }
  static void group(__m512i head, __m512i tail, const Act& a, const Consts& c, __m512& acc, __m512&) {
    const __m512i w = _mm512_permutex2var_epi8(head, c.idx_codes, tail);
    const __m512i wu = _mm512_xor_si512(w, _mm512_set1_epi8(char(0x80)));
    const __m512i isum = _mm512_sub_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), wu, _mm512_load_si512(a.q)),
                                          _mm512_load_si512(a.s128));
    const __m512 dw = _mm512_cvtph_ps(_mm512_castsi512_si256(_mm512_permutexvar_epi16(c.idx_d, head)));
    acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_mul_ps(dw, _mm512_load_ps(a.dx)), acc);
  }
};

// The same pairs in their load-time layout (Q8_0x2, core/repack.h): the 64 codes are one load at
// byte 4, the two scales one 4-byte load. A row's odd last block keeps the GGUF layout.
struct Q8_0PairsX2 : Q8_0Pairs {
  static void full_group(const uint8_t* p, const Act& a, const Consts&, __m512& acc, __m512&) {
    const __m512i wu = _mm512_xor_si512(_mm512_loadu_si512(p + GroupQ8x2::kCodes), _mm512_set1_epi8(char(0x80)));
    const __m512i isum = _mm512_sub_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), wu, _mm512_load_si512(a.q)),
                                          _mm512_load_si512(a.s128));
    const __m512i rep8 = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
    const __m128 d2 = _mm_cvtph_ps(_mm_cvtsi32_si128(int(load_u32(p + GroupQ8x2::kD))));
    const __m512 dw = _mm512_permutexvar_ps(rep8, _mm512_castps128_ps512(d2));
    acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_mul_ps(dw, _mm512_load_ps(a.dx)), acc);
  }
};

// Dot products of kRows rows (each n values) with the activations; rows[r] need not be adjacent.
template <class F, int kRows>
void qdot_rows(const uint8_t* const* rows, const typename F::Act* a, int64_t n, float* out) {
  constexpr int kPrefetch = 4096;  // bytes ahead in each row stream
  // A group can span three cache lines if its start can lie late enough in one: starts are
  // multiples of gcd(kGroup, 64), the latest 64 - gcd.
  constexpr bool kThreeLines = F::kGroup - std::gcd(F::kGroup, 64) > 64;
  const typename F::Consts c;
  const int64_t nb = n / kQK, full = nb / F::kBlocks;
  __m512 acc[kRows], affine[kRows];
  for (int r = 0; r < kRows; ++r) acc[r] = affine[r] = _mm512_setzero_ps();
  for (int64_t g = 0; g < full; ++g) {
    for (int r = 0; r < kRows; ++r) {
      const uint8_t* p = rows[r] + g * F::kGroup;
      // Every line of the group kPrefetch bytes ahead, requested into L2 only (_MM_HINT_T2):
      // the activations stay in L1 (down's 8960 values make 22 KiB of them, which the weight
      // lines evicted when they were requested into L1 as well), and the loads then find the
      // weights in L2. Measured, one thread, a 1.5B layer stack's products (BM_DecodeLayers):
      // Q8_0x2 22 -> 28 GB/s, Q4_0x4 22 -> 24; down alone 17 -> 28. Groups are 68-96 bytes:
      // the lines of the first and the last byte are every line the group touches, except where
      // a group can span three lines (Q5_0x4's 88 bytes): then the middle line too.
      _mm_prefetch(reinterpret_cast<const char*>(p + kPrefetch), _MM_HINT_T2);
      if constexpr (kThreeLines)
        _mm_prefetch(reinterpret_cast<const char*>(p + kPrefetch + F::kGroup / 2), _MM_HINT_T2);
      _mm_prefetch(reinterpret_cast<const char*>(p + kPrefetch + F::kGroup - 1), _MM_HINT_T2);
      F::full_group(p, a[g], c, acc[r], affine[r]);
    }
  }
  if (full * F::kBlocks < nb) {
    // The last blocks of a partial group: masked loads read them and zeros for the rest (zero
    // scales contribute nothing) without touching memory past the row.
    const int used = int(nb - full * F::kBlocks) * (F::kGroup / F::kBlocks), past = used - (F::kGroup - 64);
    const __mmask64 head_mask = used >= 64 ? ~__mmask64(0) : (__mmask64(1) << used) - 1;
    const __mmask64 tail_mask = past <= 0 ? 0 : (__mmask64(1) << past) - 1;
    for (int r = 0; r < kRows; ++r) {
      const uint8_t* p = rows[r] + full * F::kGroup;
      F::group(_mm512_maskz_loadu_epi8(head_mask, p), _mm512_maskz_loadu_epi8(tail_mask, p + F::kGroup - 64), a[full], c,
               acc[r], affine[r]);
    }
  }
  for (int r = 0; r < kRows; ++r) out[r] = _mm512_reduce_add_ps(_mm512_add_ps(acc[r], affine[r]));
}

// ---- 256-value K formats -------------------------------------------------------------------------
//
// One superblock as four registers of 64 unsigned codes, each meeting 64 activation codes through
// vpmaddubsw (pairs to int16) and vpmaddwd against the matching group scales as int16 (to int32):
// the group scales are applied in integers, and one float FMA per superblock remains. Where a
// format's natural register order is not the value order, the activation codes are stored in the
// format's order instead (ActFormat::kQ8x256K4); the per-16 sums stay in value order for the
// scalar zero-point and min terms. (Q2_K and Q3_K, further down, go one group per lane instead.)

// Which 32-value run of the superblock lands in each half of register k, for each code order.
constexpr int kRunsK4[4][2] = {{0, 2}, {1, 3}, {4, 6}, {5, 7}};  // Q5_K: a 64-byte load's low / high nibbles

template <const int (&kRuns)[4][2]>
void quantize_act_256_runs(const float* x, void* out, int64_t n) {
  quantize_act_256(x, out, n);
  auto* a = static_cast<ActQ8_256*>(out);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    int8_t natural[kQK_K];
    std::memcpy(natural, a[i].qs, kQK_K);
    for (int k = 0; k < 4; ++k)
      for (int h = 0; h < 2; ++h) std::memcpy(a[i].qs + 64 * k + 32 * h, natural + 32 * kRuns[k][h], 32);
  }
}

// pshufb indices spreading byte scales (broadcast to every 128-bit lane) over the int16 words of a
// superblock's four registers: after vpmaddubsw each 128-bit lane holds the 8 pair sums of a single
// group, kGroups[register][lane]. Each word gets its group's byte in the low byte (the high byte
// zeroed: unsigned scales) or, kHigh, in the high byte (the low byte zeroed; an arithmetic shift
// right by 8 then extends the sign).
template <const int (&kGroups)[4][4], bool kHigh>
struct ScaleShuffle {
  struct Table {
    alignas(64) int8_t v[4][64];
  };
  static constexpr Table make() {
    Table t{};
    for (int j = 0; j < 4; ++j)
      for (int i = 0; i < 64; ++i) t.v[j][i] = int8_t((i % 2 == 1) == kHigh ? kGroups[j][i / 16] : -128);  // -128: zero
    return t;
  }
  static constexpr Table kTable = make();
};
// Groups per register and 128-bit lane: Q4_K/Q5_K (32-value groups in kRunsK4 order), Q6_K
// (16-value groups in value order).
constexpr int kGroupsK4[4][4] = {{0, 0, 2, 2}, {1, 1, 3, 3}, {4, 4, 6, 6}, {5, 5, 7, 7}};
constexpr int kGroupsQ6[4][4] = {{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9, 10, 11}, {12, 13, 14, 15}};

// sum_k maddwd(maddubs(codes_k, x_k), scales spread from `bytes` (16 byte scales, or 8 repeated)).
template <const int (&kGroups)[4][4], bool kSigned>
inline __m512i k_isum_bytes(const __m512i codes[4], const int8_t* x, __m128i bytes) {
  const __m512i all = _mm512_broadcast_i32x4(bytes);
  __m512i isum = _mm512_setzero_si512();
  for (int k = 0; k < 4; ++k) {
    __m512i sc = _mm512_shuffle_epi8(all, _mm512_load_si512(ScaleShuffle<kGroups, kSigned>::kTable.v[k]));
    if constexpr (kSigned) sc = _mm512_srai_epi16(sc, 8);
    const __m512i pairs = _mm512_maddubs_epi16(codes[k], _mm512_loadu_si512(x + 64 * k));
    isum = _mm512_add_epi32(isum, _mm512_madd_epi16(pairs, sc));
  }
  return isum;
}

inline int32_t hsum8_i32(__m256i v) {
  __m128i r = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  r = _mm_add_epi32(r, _mm_unpackhi_epi64(r, r));
  r = _mm_add_epi32(r, _mm_shuffle_epi32(r, 1));
  return _mm_cvtsi128_si32(r);
}

// A byte mask: lo_bit in every byte of the low half, hi_bit in the high half.
inline __m512i half_bits(uint8_t lo_bit, uint8_t hi_bit) {
  return _mm512_inserti64x4(_mm512_set1_epi8(char(lo_bit)), _mm256_set1_epi8(char(hi_bit)), 1);
}

// Sum of the 8 int32 products of two vectors of 8 int16 (vpmaddwd).
inline int32_t dot8_i16(__m128i a, __m128i b) {
  __m128i v = _mm_madd_epi16(a, b);
  v = _mm_add_epi32(v, _mm_unpackhi_epi64(v, v));
  v = _mm_add_epi32(v, _mm_shuffle_epi32(v, 1));
  return _mm_cvtsi128_si32(v);
}

// The 6-bit scales and mins of k4_scale_min as eight bytes each, four at a time in 32-bit words:
// groups 0-3 are the low six bits of bytes 0-3 (scales) and 4-7 (mins); groups 4-7 take their low
// four bits from the nibbles of bytes 8-11 and their top two from the top bits of bytes 0-3 / 4-7.
inline void k4_scales_mins(const uint8_t* scales, uint64_t* sc, uint64_t* mn) {
  const uint32_t w0 = load_u32(scales), w1 = load_u32(scales + 4), w2 = load_u32(scales + 8);
  constexpr uint32_t k6 = 0x3f3f3f3f, k4 = 0x0f0f0f0f, k2 = 0x03030303;
  *sc = uint64_t(w0 & k6) | uint64_t((w2 & k4) | (((w0 >> 6) & k2) << 4)) << 32;
  *mn = uint64_t(w1 & k6) | uint64_t(((w2 >> 4) & k4) | (((w1 >> 6) & k2) << 4)) << 32;
}

// Q5_K (Q4_K goes through K4Lanes / K4File below): 8 groups of 32, w = d sc_g q - dmin m_g.
template <bool kFifthBit>
struct K4 {
  using Block = std::conditional_t<kFifthBit, BlockQ5_K, BlockQ4_K>;
  using Act = ActQ8_256;
  static void block(const uint8_t* p, const ActQ8_256& a, __m512& acc, float& off) {
    const Block& b = *reinterpret_cast<const Block*>(p);
    uint64_t sc, mn;
    k4_scales_mins(b.scales, &sc, &mn);
    const __m128i m16 = _mm_cvtepu8_epi16(_mm_cvtsi64_si128(int64_t(mn)));

    const __m512i m4 = _mm512_set1_epi8(0xF);
    const __m512i q01 = _mm512_loadu_si512(b.qs), q23 = _mm512_loadu_si512(b.qs + 64);
    __m512i codes[4] = {_mm512_and_si512(q01, m4), _mm512_and_si512(_mm512_srli_epi16(q01, 4), m4),
                        _mm512_and_si512(q23, m4), _mm512_and_si512(_mm512_srli_epi16(q23, 4), m4)};
    if constexpr (kFifthBit) {
      // Bit 2c of qh[j] is value 64c + j's 5th bit, bit 2c + 1 value 64c + 32 + j's.
      const __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qh)));
      const __m512i sixteen = _mm512_set1_epi8(0x10);
      for (int k = 0; k < 4; ++k) {
        const __mmask64 bits = _mm512_test_epi8_mask(qh, half_bits(uint8_t(1 << kRunsK4[k][0]), uint8_t(1 << kRunsK4[k][1])));
        codes[k] = _mm512_mask_add_epi8(codes[k], bits, codes[k], sixteen);
      }
    }
    const __m512i isum = k_isum_bytes<kGroupsK4, false>(codes, a.qs, _mm_cvtsi64_si128(int64_t(sc)));
    acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_set1_ps(half_to_float(b.d) * a.d), acc);
    // Sums of the 8 runs of 32 activation codes, from the 16 sums of 16.
    const __m128i bs_lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a.bsums));
    const __m128i bs_hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a.bsums + 8));
    off += half_to_float(b.dmin) * a.d * float(dot8_i16(m16, _mm_hadd_epi16(bs_lo, bs_hi)));
  }
};

struct Q6K {  // 16 groups of 16, w = d sc_g (q - 32); natural activation order
  using Block = BlockQ6_K;
  using Act = ActQ8_256;
  static void block(const uint8_t* p, const ActQ8_256& a, __m512& acc, float& off) {
    const Block& b = *reinterpret_cast<const Block*>(p);
    const __m512i m4 = _mm512_set1_epi8(0xF), three = _mm512_set1_epi8(3);
    __m512i codes[4];
    for (int h = 0; h < 2; ++h) {
      // ql[64h..]: low nibbles are values 128h + 0..63, high nibbles 128h + 64..127; qh[32h + j]
      // holds the top two bits of values 128h + j + 32 i in bits 2i.
      const __m512i l = _mm512_loadu_si512(b.ql + 64 * h);
      const __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qh + 32 * h)));
      const __m512i top_lo = _mm512_and_si512(_mm512_srlv_epi16(qh, _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(2), 1)), three);
      const __m512i top_hi = _mm512_and_si512(_mm512_srlv_epi16(qh, _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(6), 1)), three);
      codes[2 * h] = _mm512_or_si512(_mm512_and_si512(l, m4), _mm512_slli_epi16(top_lo, 4));
      codes[2 * h + 1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l, 4), m4), _mm512_slli_epi16(top_hi, 4));
    }
    const __m128i s8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.scales));
    const __m512i isum = k_isum_bytes<kGroupsQ6, true>(codes, a.qs, s8);
    const float d = half_to_float(b.d) * a.d;
    acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_set1_ps(d), acc);
    const int32_t zsum =
        hsum8_i32(_mm256_madd_epi16(_mm256_cvtepi8_epi16(s8), _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.bsums))));
    off += d * 32.0f * float(zsum);
  }
};

// Q2_K and Q3_K: 16 groups of 16 values, one 4- or 6-bit scale each. Both layouts end with the
// same vector: lane l holds group k2_lane_group(l)'s whole integer sum (core/repack.h), so scales
// apply in one vpmaddwd and no horizontal sums remain. The file layout gets there by summing four
// lanes per group across four registers (k2_lanes_from_runs); the Q2_Kx16 / Q3_Kx16 layout has
// each group in one lane already. The integers are the same either way and so are the float
// operations after them: both layouts give the same results, bit for bit.
//
// Activations (ActQ8x256G): codes in the layout's register order, and -4 times each group's sum of
// codes in lane order, which is Q3_K's zero point (w = d sc (u - 4), u = the 3-bit code) and, times
// -1/4, the sums Q2_K's mins meet (w = d sc u - dmin m).
struct alignas(64) ActQ8x256G {
  int8_t qs[kQK_K];
  int32_t zero4[16];
  float d[16];  // the scale, in lanes of four as k2_finish puts Q2_K's two sums: d, d, d / 4, d / 4
};
static_assert(sizeof(ActQ8x256G) == detail::act_bytes(detail::ActFormat::kQ8x256Lanes, kQK_K));

// quantize_act_k2's lane order: dword l of register k is the natural dword 4 k2_lane_group(l) + k;
// lanes 0-7 come from the first 128 codes and 8-15 from the last, one two-register permute each.
struct K2LaneDwords {
  alignas(64) uint32_t index[4][16];  // register k, lane l: (4 k2_lane_group(l) + k) mod 32
  static constexpr K2LaneDwords make() {
    K2LaneDwords t{};
    for (int k = 0; k < 4; ++k)
      for (int l = 0; l < 16; ++l) t.index[k][l] = uint32_t((4 * k2_lane_group(l) + k) % 32);
    return t;
  }
};
inline constexpr K2LaneDwords kK2LaneDwords = K2LaneDwords::make();

// kLanes: codes of register k, byte 4l + r = value 16 k2_lane_group(l) + 4k + r; otherwise the
// file layout's (register k: values 32k + 0..31 and 128 + 32k + 0..31, bit pair k of its 64 bytes).
template <bool kLanes>
void quantize_act_k2(const float* x, void* out, int64_t n) {
  auto* a = static_cast<ActQ8x256G*>(out);
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    alignas(64) int8_t q[kQK_K];
    const float d = quantize_block_i8(x, kQK_K, q);
    int32_t sum16[16];
    for (int g = 0; g < 16; ++g) {
      int32_t s = 0;
      for (int j = 0; j < 16; ++j) s += q[16 * g + j];
      sum16[g] = s;
    }
    for (int l = 0; l < 16; ++l) {
      a[i].zero4[l] = -4 * sum16[k2_lane_group(l)];
      a[i].d[l] = l % 4 < 2 ? d : 0.25f * d;
    }
    if constexpr (kLanes) {
      const __m512i z0 = _mm512_load_si512(q), z1 = _mm512_load_si512(q + 64), z2 = _mm512_load_si512(q + 128),
                    z3 = _mm512_load_si512(q + 192);
      for (int k = 0; k < 4; ++k) {
        const __m512i idx = _mm512_load_si512(kK2LaneDwords.index[k]);
        const __m512i r = _mm512_mask_blend_epi32(0xFF00, _mm512_permutex2var_epi32(z0, idx, z1),
                                                  _mm512_permutex2var_epi32(z2, idx, z3));
        _mm512_storeu_si512(a[i].qs + 64 * k, r);
      }
    } else {
      for (int k = 0; k < 4; ++k) {
        std::memcpy(a[i].qs + 64 * k, q + 32 * k, 32);
        std::memcpy(a[i].qs + 64 * k + 32, q + 128 + 32 * k, 32);
      }
    }
  }
}

// vpermb indices and word constants of the scale decoding: lane l takes group g = k2_lane_group(l).
struct K2ScaleTables {
  alignas(64) uint8_t q2_index[64];   // word w of chunk c: scales[g] of lane 4c + w % 4 (sc | m << 4)
  alignas(64) uint16_t q2_shift[32];  // 0 (sc) for words 0-3 of a chunk, 4 (m) for words 4-7
  alignas(64) uint8_t q3_index[64];   // bytes 4l, 4l + 2: Q3_K's low-nibble byte and high-bits byte of g
  alignas(64) uint16_t q3_shift[32];  // word 2l: 4 (g / 8), word 2l + 1: 2 (g / 4) (q3k_scales)
  static constexpr K2ScaleTables make() {
    K2ScaleTables t{};
    for (int l = 0; l < 16; ++l) {
      const int g = k2_lane_group(l);
      for (int m = 0; m < 2; ++m) {  // word 8 (l / 4) + 4m + l % 4
        const int w = 8 * (l / 4) + 4 * m + l % 4;
        t.q2_index[2 * w] = uint8_t(g);
        t.q2_shift[w] = uint16_t(4 * m);
      }
      t.q3_index[4 * l] = uint8_t(g % 8);
      t.q3_index[4 * l + 2] = uint8_t(8 + g % 4);
      t.q3_shift[2 * l] = uint16_t(4 * (g / 8));
      t.q3_shift[2 * l + 1] = uint16_t(2 * (g / 4));
    }
    return t;
  }
};
inline constexpr K2ScaleTables kK2Scales = K2ScaleTables::make();

// w = d sc u - dmin m with sums per lane (Q2_K's groups, Q4_K's half groups): the lane sums and
// the activation sums (both fit 16 bits) side by side as words, so one vpmaddwd applies both sc
// and m: per 128-bit chunk c, dwords (sc-weighted sums of lanes 4c, 4c + 1), (of 4c + 2, 4c + 3),
// then the same two with m against zero4; scaled by d, d, dmin, dmin. `sm`: per chunk, the words
// sc of lanes 4c..4c + 3, then their m; `dd`: the block's d and dmin (F16, d first).
inline void k_lanes_scale_min(__m512i isum, const ActQ8x256G& a, __m512i sm, uint32_t dd, __m512& acc) {
  const __m512i words = _mm512_packs_epi32(isum, _mm512_load_si512(a.zero4));
  const uint64_t pattern = uint64_t(dd & 0xFFFF) * 0x00010001ULL | (uint64_t(dd >> 16) * 0x00010001ULL) << 32;
  const __m512 scale = _mm512_cvtph_ps(_mm256_set1_epi64x(int64_t(pattern)));
  const __m512 t = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_madd_epi16(words, sm)), scale);
  acc = _mm512_fmadd_ps(t, _mm512_load_ps(a.d), acc);
}

// Per-lane group sums (lane l: group k2_lane_group(l)) -> acc, the one float step of both layouts.
template <class Block>
inline void k2_finish(const Block& b, const ActQ8x256G& a, __m512i isum, __m512& acc) {
  if constexpr (requires { b.hmask; }) {  // Q3_K: sc = 6 bits (4 low, 2 high, q3k_scales) - 32
    const __m512i bytes = _mm512_zextsi128_si512(_mm_maskz_loadu_epi8(0x0FFF, b.scales));
    __m512i w = _mm512_maskz_permutexvar_epi8(0x5555555555555555ULL, _mm512_load_si512(kK2Scales.q3_index), bytes);
    w = _mm512_and_si512(_mm512_srlv_epi16(w, _mm512_load_si512(kK2Scales.q3_shift)), _mm512_set1_epi32(0x0003000F));
    __m512i sc = _mm512_madd_epi16(w, _mm512_set1_epi32(0x00100001));  // low + 16 high
    sc = _mm512_sub_epi16(sc, _mm512_set1_epi32(32));  // in the low word: the high word stays 0
    // isum already includes the zero point: sum (u - 4) a = sum u a + zero4.
    const __m512 t = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_madd_epi16(isum, sc)), _mm512_cvtph_ps(_mm256_set1_epi16(short(b.d))));
    acc = _mm512_fmadd_ps(t, _mm512_set1_ps(a.d[0]), acc);
  } else {  // Q2_K: w = d sc u - dmin m, sc and m 4 bits
    const __m512i bytes = _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b.scales)));
    __m512i sm = _mm512_maskz_permutexvar_epi8(0x5555555555555555ULL, _mm512_load_si512(kK2Scales.q2_index), bytes);
    sm = _mm512_and_si512(_mm512_srlv_epi16(sm, _mm512_load_si512(kK2Scales.q2_shift)), _mm512_set1_epi16(0xF));
    k_lanes_scale_min(isum, a, sm, load_u32(reinterpret_cast<const uint8_t*>(&b.d)), acc);
  }
}

// The four 64-byte code registers of a superblock: bit pair k of the 64 code bytes, plus Q3_K's
// third bit (4) where `high_bit(k)` says. gf2p8affineqb moves the pair to bits 0-1 of every byte in
// one instruction (the 8x8 bit matrix of each byte: output bit i = parity(row 7 - i & byte)), where
// a shift and a mask take two; measured 17.5 -> 20.5 GB/s for Q2_Kx16 (1 thread, 8960x1536).
template <class Block, class HighBit>
inline void k2_codes(const Block& b, __m512i codes[4], HighBit high_bit) {
  const __m512i q = _mm512_loadu_si512(b.qs);
  for (int k = 0; k < 4; ++k) {
    const uint64_t m = (uint64_t(1u << (2 * k)) << 56) | (uint64_t(2u << (2 * k)) << 48);
    codes[k] = _mm512_gf2p8affine_epi64_epi8(q, _mm512_set1_epi64(int64_t(m)), 0);
  }
  if constexpr (requires { b.hmask; }) {
    const __m512i four = _mm512_set1_epi8(4);
    for (int k = 0; k < 4; ++k) codes[k] = _mm512_mask_add_epi8(codes[k], high_bit(k), codes[k], four);
  }
}

// Lane 4c + j of the result: the sum of lanes 4c..4c+3 of v[j] (a 4x4 transpose-and-add per
// 128-bit chunk c). With v[j] from the file layout's register j this is group k2_lane_group(4c + j).
inline __m512i k2_lanes_from_runs(const __m512i v[4]) {
  const __m512i a = _mm512_add_epi32(_mm512_unpacklo_epi32(v[0], v[1]), _mm512_unpackhi_epi32(v[0], v[1]));
  const __m512i b = _mm512_add_epi32(_mm512_unpacklo_epi32(v[2], v[3]), _mm512_unpackhi_epi32(v[2], v[3]));
  return _mm512_add_epi32(_mm512_unpacklo_epi64(a, b), _mm512_unpackhi_epi64(a, b));
}

template <bool kHighBit>
struct K2 {  // Q2_K / Q3_K in the file layout
  using Block = std::conditional_t<kHighBit, BlockQ3_K, BlockQ2_K>;
  using Act = ActQ8x256G;
  static void block(const uint8_t* p, const Act& a, __m512& acc, float& /*off: all in acc*/) {
    const Block& b = *reinterpret_cast<const Block*>(p);
    __m512i codes[4];
    __m512i hm = _mm512_setzero_si512();
    if constexpr (kHighBit) hm = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.hmask)));
    // Register k: values 32k + l (bytes 0-31) and 128 + 32k + l; third bits in bits k, 4 + k of hmask[l].
    k2_codes(b, codes, [&](int k) { return _mm512_test_epi8_mask(hm, half_bits(uint8_t(1 << k), uint8_t(1 << (4 + k)))); });
    __m512i v[4];
    for (int k = 0; k < 4; ++k) v[k] = _mm512_dpbusd_epi32(_mm512_setzero_si512(), codes[k], _mm512_loadu_si512(a.qs + 64 * k));
    __m512i isum = k2_lanes_from_runs(v);
    if constexpr (kHighBit) isum = _mm512_add_epi32(isum, _mm512_load_si512(a.zero4));
    k2_finish(b, a, isum, acc);
  }
};

template <bool kHighBit>
struct K2Lanes {  // Q2_Kx16 / Q3_Kx16 (core/repack.h)
  using Block = std::conditional_t<kHighBit, BlockQ3_K, BlockQ2_K>;
  using Act = ActQ8x256G;
  static void block(const uint8_t* p, const Act& a, __m512& acc, float& /*off: all in acc*/) {
    const Block& b = *reinterpret_cast<const Block*>(p);
    __m512i codes[4];
    k2_codes(b, codes, [&](int k) {
      if constexpr (kHighBit) return __mmask64(load_u64(b.hmask + 8 * k));
      else return __mmask64(0);
    });
    __m512i isum = kHighBit ? _mm512_load_si512(a.zero4) : _mm512_setzero_si512();
    for (int k = 0; k < 4; ++k) isum = _mm512_dpbusd_epi32(isum, codes[k], _mm512_loadu_si512(a.qs + 64 * k));
    k2_finish(b, a, isum, acc);
  }
};

// The field k_lanes_scale_min's word w takes for Q4_K (in either layout): the scale (0-7) or the
// min (8-15) of the group whose half lane 4 (w / 8) + w % 4 holds; words 0-3 of each 128-bit chunk
// are scales, 4-7 mins.
constexpr int k4_word_field(int w) {
  const int group = k2_lane_group(4 * (w / 8) + w % 4) / 2;
  return w % 8 < 4 ? group : 8 + group;
}

// Q4_Kx16 (core/repack.h): the lanes of Q2_Kx16 with Q4_K's nibbles and a half group per lane,
// so it meets the same activations. A lane's sum (16 codes of at most 15 against |a| <= 127) fits
// 16 bits, as Q2_K's does, and the scales and mins apply as Q2_K's do (k_lanes_scale_min).
struct K4LaneScales {
  alignas(64) uint8_t index[64];   // word w: the two bytes holding field k4_word_field(w) = i
  alignas(64) uint16_t shift[32];  // and its bit offset in them: 6i mod 8
  static constexpr K4LaneScales make() {
    K4LaneScales t{};
    for (int w = 0; w < 32; ++w) {
      const int i = k4_word_field(w);
      t.index[2 * w] = uint8_t(6 * i / 8);
      t.index[2 * w + 1] = uint8_t(6 * i / 8 + 1);
      t.shift[w] = uint16_t(6 * i % 8);
    }
    return t;
  }
};
inline constexpr K4LaneScales kK4Scales = K4LaneScales::make();

// The low and the high nibbles of 64 code bytes, as bytes. The high ones come down in one
// gf2p8affineqb (rows 0x10, 0x20, 0x40, 0x80 for output bits 0-3; k2_codes has the matrix
// convention) where a shift and a mask take two.
inline void nibble_planes(__m512i q, __m512i* lo, __m512i* hi) {
  *lo = _mm512_and_si512(q, _mm512_set1_epi8(0x0F));
  *hi = _mm512_gf2p8affine_epi64_epi8(q, _mm512_set1_epi64(0x1020408000000000LL), 0);
}

struct K4Lanes {
  using Block = BlockQ4_K;
  using Act = ActQ8x256G;
  static void block(const uint8_t* p, const Act& a, __m512& acc, float& /*off: all in acc*/) {
    const Block& b = *reinterpret_cast<const Block*>(p);
    __m512i isum = _mm512_setzero_si512();
    for (int j = 0; j < 2; ++j) {  // code half j: registers 2j (low nibbles) and 2j + 1 (high)
      __m512i lo, hi;
      nibble_planes(_mm512_loadu_si512(b.qs + 64 * j), &lo, &hi);
      isum = _mm512_dpbusd_epi32(isum, lo, _mm512_loadu_si512(a.qs + 128 * j));
      isum = _mm512_dpbusd_epi32(isum, hi, _mm512_loadu_si512(a.qs + 128 * j + 64));
    }
    // 16 bytes from the scales: the 12 of the bit stream and 4 code bytes no index selects.
    const __m512i bytes = _mm512_zextsi128_si512(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b.scales)));
    __m512i sm = _mm512_permutexvar_epi8(_mm512_load_si512(kK4Scales.index), bytes);
    sm = _mm512_and_si512(_mm512_srlv_epi16(sm, _mm512_load_si512(kK4Scales.shift)), _mm512_set1_epi16(0x3F));
    k_lanes_scale_min(isum, a, sm, load_u32(reinterpret_cast<const uint8_t*>(&b.d)), acc);
  }
};

// Q4_K in the file's layout, brought to Q4_Kx16's registers in registers, so both give the same
// integers and the same float steps: bit for bit the same products (and EMBER_REPACK=0 keeps a
// fast Q4_K). Register k, lane l wants values 16 g + 4k .. + 3 (g = k2_lane_group(l)): four codes
// of one nibble plane (low for even lanes, high for odd: (g / 2) % 2 = l % 2), file dword
// d = 8 (g / 4) + 4 (g % 2) + k of that plane, the same d for lanes 2m and 2m + 1. With A / B the
// low / high planes of a 64-byte half, one two-source permute gathers (A[d], B[d]) pairs for two
// registers' eight lanes from that half; a 256-bit shuffle joins the halves.
struct K4FileToLanes {
  alignas(64) uint32_t index[2][16];  // registers (0, 1) and (2, 3): dwords 2m + e = e ? B[d] : A[d]
  alignas(64) uint8_t scale_index[64];  // word w: byte k4_word_field(w) of k4_scales_mins' 16
  static constexpr K4FileToLanes make() {
    K4FileToLanes t{};
    constexpr int kOffset[4] = {0, 8, 4, 12};  // d - k for lane pairs m = 0..3 (and 4..7, minus 16)
    for (int h = 0; h < 2; ++h)
      for (int reg = 0; reg < 2; ++reg)
        for (int m = 0; m < 4; ++m)
          for (int e = 0; e < 2; ++e) t.index[h][8 * reg + 2 * m + e] = uint32_t(16 * e + 2 * h + reg + kOffset[m]);
    for (int w = 0; w < 32; ++w) t.scale_index[2 * w] = uint8_t(k4_word_field(w));  // sc bytes 0-7, m 8-15
    return t;
  }
};
inline constexpr K4FileToLanes kK4File = K4FileToLanes::make();

struct K4File {
  using Block = BlockQ4_K;
  using Act = ActQ8x256G;
  static void block(const uint8_t* p, const Act& a, __m512& acc, float& /*off: all in acc*/) {
    const Block& b = *reinterpret_cast<const Block*>(p);
    __m512i t[4];  // t[2h + pair]: registers 2 pair, 2 pair + 1's lanes from half h
    for (int h = 0; h < 2; ++h) {
      __m512i lo, hi;
      nibble_planes(_mm512_loadu_si512(b.qs + 64 * h), &lo, &hi);
      for (int pair = 0; pair < 2; ++pair)
        t[2 * h + pair] = _mm512_permutex2var_epi32(lo, _mm512_load_si512(kK4File.index[pair]), hi);
    }
    const __m512i codes[4] = {_mm512_shuffle_i64x2(t[0], t[2], 0x44), _mm512_shuffle_i64x2(t[0], t[2], 0xEE),
                              _mm512_shuffle_i64x2(t[1], t[3], 0x44), _mm512_shuffle_i64x2(t[1], t[3], 0xEE)};
    __m512i isum = _mm512_setzero_si512();
    for (int k = 0; k < 4; ++k) isum = _mm512_dpbusd_epi32(isum, codes[k], _mm512_loadu_si512(a.qs + 64 * k));
    uint64_t sc, mn;
    k4_scales_mins(b.scales, &sc, &mn);
    const __m512i bytes = _mm512_zextsi128_si512(_mm_set_epi64x(int64_t(mn), int64_t(sc)));
    const __m512i sm = _mm512_maskz_permutexvar_epi8(0x5555555555555555ULL, _mm512_load_si512(kK4File.scale_index), bytes);
    k_lanes_scale_min(isum, a, sm, load_u32(reinterpret_cast<const uint8_t*>(&b.d)), acc);
  }
};

template <class K, int kRows>
void qdot_k_rows(const uint8_t* const* rows, const typename K::Act* a, int64_t n, float* out) {
  constexpr int kPrefetch = 4096;
  constexpr int kBytes = int(sizeof(typename K::Block));
  __m512 acc[kRows];
  float off[kRows];
  for (int r = 0; r < kRows; ++r) {
    acc[r] = _mm512_setzero_ps();
    off[r] = 0;
  }
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    for (int r = 0; r < kRows; ++r) {
      const uint8_t* p = rows[r] + i * kBytes;
      // Into L2 only, as qdot_rows does (measured: 1.5B / DeepSeek Q4_K, one thread, 0-5% faster).
      for (int o = 0; o < kBytes; o += 64) _mm_prefetch(reinterpret_cast<const char*>(p + kPrefetch + o), _MM_HINT_T2);
      K::block(p, a[i], acc[r], off[r]);
    }
  }
  for (int r = 0; r < kRows; ++r) out[r] = _mm512_reduce_add_ps(acc[r]) - off[r];
}

template <class K>
float qdot_k_one(const void* w, const void* xa, int64_t n) {
  const uint8_t* row = static_cast<const uint8_t*>(w);
  float y;
  qdot_k_rows<K, 1>(&row, static_cast<const typename K::Act*>(xa), n, &y);
  return y;
}

template <class K>
void qdot_k_pair(const void* w0, const void* w1, const void* xa, int64_t n, float* out) {
  const uint8_t* rows[2] = {static_cast<const uint8_t*>(w0), static_cast<const uint8_t*>(w1)};
  qdot_k_rows<K, 2>(rows, static_cast<const typename K::Act*>(xa), n, out);
}

// ---- dequantization to F32 (prefill decodes weight chunks with these) -----------------------------
//
// Each equals dequantize_row's result: w = d (q - z) is computed as d q - d z with one rounding, the
// same value as the reference's d * (q - z) (q - z and d z are exact); min formats (d q + m) round
// once where the reference rounds twice, within an ulp (tested).

inline __m512 bytes_to_ps(__m128i b) { return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(b)); }
inline __m512 sbytes_to_ps(__m128i b) { return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(b)); }

template <class B, bool kMin, int kZero>
void dequant_nibbles(const void* src, float* y, int64_t n) {
  const auto* b = static_cast<const B*>(src);
  const __m128i m4 = _mm_set1_epi8(0xF);
  for (int64_t i = 0; i < n / kQK; ++i, y += kQK) {
    const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b[i].qs));
    __m128i lo = _mm_and_si128(q, m4), hi = _mm_and_si128(_mm_srli_epi16(q, 4), m4);
    if constexpr (requires { b[i].qh; }) {
      uint32_t qh;
      std::memcpy(&qh, b[i].qh, 4);
      lo = _mm_mask_add_epi8(lo, __mmask16(qh), lo, _mm_set1_epi8(0x10));
      hi = _mm_mask_add_epi8(hi, __mmask16(qh >> 16), hi, _mm_set1_epi8(0x10));
    }
    const __m512 d = _mm512_set1_ps(_cvtsh_ss(b[i].d));
    __m512 c;
    if constexpr (kMin) {
      c = _mm512_set1_ps(_cvtsh_ss(b[i].m));
    } else {
      c = _mm512_set1_ps(-float(kZero) * _cvtsh_ss(b[i].d));
    }
    _mm512_storeu_ps(y, _mm512_fmadd_ps(bytes_to_ps(lo), d, c));
    _mm512_storeu_ps(y + 16, _mm512_fmadd_ps(bytes_to_ps(hi), d, c));
  }
}

// The same from the load-time layout (core/repack.h): four blocks' fields side by side per group,
// the row's last blocks (fewer than four) as GGUF has them.
template <class B, bool kMin, int kZero>
void dequant_nibbles_x4(const void* src, float* y, int64_t n) {
  using G = Group4<B>;
  const auto* p = static_cast<const uint8_t*>(src);
  const __m128i m4 = _mm_set1_epi8(0xF);
  const int64_t groups = n / kQK / 4;
  for (int64_t g = 0; g < groups; ++g, p += G::kBytes) {
    uint64_t lo_bits = 0, hi_bits = 0;
    if constexpr (G::kFifthBit) {
      lo_bits = load_u64(p + G::kQh);
      hi_bits = load_u64(p + G::kQh + 8);
    }
    for (int k = 0; k < 4; ++k, y += kQK) {
      const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + G::kCodes + 16 * k));
      __m128i lo = _mm_and_si128(q, m4), hi = _mm_and_si128(_mm_srli_epi16(q, 4), m4);
      if constexpr (G::kFifthBit) {
        lo = _mm_mask_add_epi8(lo, __mmask16(lo_bits >> (16 * k)), lo, _mm_set1_epi8(0x10));
        hi = _mm_mask_add_epi8(hi, __mmask16(hi_bits >> (16 * k)), hi, _mm_set1_epi8(0x10));
      }
      uint16_t dh;
      std::memcpy(&dh, p + G::kD + 2 * k, 2);
      const __m512 d = _mm512_set1_ps(_cvtsh_ss(dh));
      __m512 c;
      if constexpr (kMin) {
        uint16_t mh;
        std::memcpy(&mh, p + G::kM + 2 * k, 2);
        c = _mm512_set1_ps(_cvtsh_ss(mh));
      } else {
        c = _mm512_set1_ps(-float(kZero) * _cvtsh_ss(dh));
      }
      _mm512_storeu_ps(y, _mm512_fmadd_ps(bytes_to_ps(lo), d, c));
      _mm512_storeu_ps(y + 16, _mm512_fmadd_ps(bytes_to_ps(hi), d, c));
    }
  }
  dequant_nibbles<B, kMin, kZero>(p, y, n - groups * 4 * kQK);
}

void dequant_q8_0(const void* src, float* y, int64_t n) {
  const auto* b = static_cast<const BlockQ8_0*>(src);
  for (int64_t i = 0; i < n / kQK; ++i, y += kQK) {
    const __m512 d = _mm512_set1_ps(_cvtsh_ss(b[i].d));
    _mm512_storeu_ps(y, _mm512_mul_ps(sbytes_to_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b[i].qs))), d));
    _mm512_storeu_ps(y + 16, _mm512_mul_ps(sbytes_to_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b[i].qs + 16))), d));
  }
}

void dequant_q4_k(const void* src, float* y, int64_t n) {
  const auto* b = static_cast<const BlockQ4_K*>(src);
  const __m128i m4 = _mm_set1_epi8(0xF);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d = _cvtsh_ss(b[i].d), dmin = _cvtsh_ss(b[i].dmin);
    for (int c = 0; c < 4; ++c) {  // chunk c: 32 bytes, low nibbles group 2c, high nibbles group 2c + 1
      for (int half = 0; half < 2; ++half) {
        uint8_t sc, m;
        k4_scale_min(2 * c + half, b[i].scales, &sc, &m);
        // (d * sc) * q - (dmin * m): the reference's two products, then one fused step.
        const __m512 ds = _mm512_set1_ps(d * float(sc)), dm = _mm512_set1_ps(-(dmin * float(m)));
        for (int part = 0; part < 2; ++part) {
          const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b[i].qs + 32 * c + 16 * part));
          const __m128i v = half ? _mm_and_si128(_mm_srli_epi16(q, 4), m4) : _mm_and_si128(q, m4);
          _mm512_storeu_ps(y + 64 * c + 32 * half + 16 * part, _mm512_fmadd_ps(bytes_to_ps(v), ds, dm));
        }
      }
    }
    y += kQK_K;
  }
}

void dequant_q6_k(const void* src, float* y, int64_t n) {
  const auto* b = static_cast<const BlockQ6_K*>(src);
  const __m128i m4 = _mm_set1_epi8(0xF), m2 = _mm_set1_epi8(3), z = _mm_set1_epi8(32);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d = _cvtsh_ss(b[i].d);
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = b[i].ql + 64 * h;
      const uint8_t* qh = b[i].qh + 32 * h;
      const int8_t* sc = b[i].scales + 8 * h;
      for (int part = 0; part < 2; ++part) {  // 16 values l of each of the four runs
        const __m128i l0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(ql + 16 * part));
        const __m128i l1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(ql + 32 + 16 * part));
        const __m128i hb = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qh + 16 * part));
        const __m128i q[4] = {
            _mm_or_si128(_mm_and_si128(l0, m4), _mm_slli_epi16(_mm_and_si128(hb, m2), 4)),
            _mm_or_si128(_mm_and_si128(l1, m4), _mm_slli_epi16(_mm_and_si128(_mm_srli_epi16(hb, 2), m2), 4)),
            _mm_or_si128(_mm_and_si128(_mm_srli_epi16(l0, 4), m4), _mm_slli_epi16(_mm_and_si128(_mm_srli_epi16(hb, 4), m2), 4)),
            _mm_or_si128(_mm_and_si128(_mm_srli_epi16(l1, 4), m4), _mm_slli_epi16(_mm_and_si128(_mm_srli_epi16(hb, 6), m2), 4))};
        for (int k = 0; k < 4; ++k) {
          // (d * scale) * (q - 32), as the reference rounds it.
          const __m512 ds = _mm512_set1_ps(d * float(sc[part + 2 * k]));
          _mm512_storeu_ps(y + 128 * h + 32 * k + 16 * part, _mm512_mul_ps(sbytes_to_ps(_mm_sub_epi8(q[k], z)), ds));
        }
      }
    }
    y += kQK_K;
  }
}

void dequant_q8_0_x2(const void* src, float* y, int64_t n) {
  const auto* p = static_cast<const uint8_t*>(src);
  const int64_t groups = n / (2 * kQK);
  for (int64_t g = 0; g < groups; ++g, p += GroupQ8x2::kBytes) {
    for (int k = 0; k < 2; ++k, y += kQK) {
      uint16_t dh;
      std::memcpy(&dh, p + GroupQ8x2::kD + 2 * k, 2);
      const __m512 d = _mm512_set1_ps(_cvtsh_ss(dh));
      const uint8_t* q = p + GroupQ8x2::kCodes + 32 * k;
      _mm512_storeu_ps(y, _mm512_mul_ps(sbytes_to_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q))), d));
      _mm512_storeu_ps(y + 16, _mm512_mul_ps(sbytes_to_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q + 16))), d));
    }
  }
  dequant_q8_0(p, y, n - groups * 2 * kQK);
}

template <class F>
float qdot_one(const void* w, const void* xa, int64_t n) {
  const uint8_t* row = static_cast<const uint8_t*>(w);
  float y;
  qdot_rows<F, 1>(&row, static_cast<const typename F::Act*>(xa), n, &y);
  return y;
}

template <class F>
void qdot_pair(const void* w0, const void* w1, const void* xa, int64_t n, float* out) {
  const uint8_t* rows[2] = {static_cast<const uint8_t*>(w0), static_cast<const uint8_t*>(w1)};
  qdot_rows<F, 2>(rows, static_cast<const typename F::Act*>(xa), n, out);
}

}  // namespace
}  // namespace EMBER_ISA_NAMESPACE
}  // namespace ember

#endif
