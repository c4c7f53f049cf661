// Causal grouped-query attention with online softmax (Milakov & Gimelshein 2018; the FlashAttention
// recurrence): one pass over the keys keeps a running max m, normalizer l and weighted sum acc, so
// the scores of the whole context are never stored. Keys go in blocks of kBlock: a block's scores
// are computed, its maximum folds into m once (one rescale of acc per block, not per key), its
// probabilities are exponentiated as a vector and its value rows are summed into acc in registers.
// The query heads that share a KV head are processed together, so each cached key and value row is
// read once per group, not once per head.
//
// Prefill (several query tokens) goes a tile of kTileTokens tokens at a time: a block of keys is
// transposed once and scored against every query row of the tile (block_scores: FMAs across
// registers of 16 keys, no horizontal sums), which is most of the work of a long prompt.
//
// A cache of F16 keys and values is read a block at a time into F32 rows (block_rows), which the
// same kernels then take: half the bytes from memory, and exactly the results of F32 rows holding
// the same values.
#include <algorithm>
#include <cmath>
#include <vector>

#include "ember/kernels/kernels.h"
#include "kernels/kernel_table.h"

namespace ember {

namespace {
// Keys per block: 64 scores per head stay in L1; the tiled path's block_scores writes rows of
// exactly kKeyBlock scores, so both paths use that one constant.
constexpr int64_t kBlock = detail::kKeyBlock;
constexpr int64_t kTileTokens = 8;

// Folds a block's maximum for one query row into its running max m (rescaling its normalizer l and
// output acc if it grew) and turns its scores into probabilities, adding them to l. The value rows
// are summed after, for all the heads that share them (weighted_rows_heads).
void online_softmax_step(const detail::KernelTable& kt, float* scores, int64_t n, float block_max, int64_t width,
                         float* m, float* l, float* acc) {
  if (block_max > *m) {  // new running max: rescale what has been accumulated so far
    const float correction = std::exp(*m - block_max);
    kt.scale(acc, correction, width);
    *l *= correction;
    *m = block_max;
  }
  *l += kt.exp_shift_sum(scores, n, *m);
}

// Rows [first, first + n) of a cached matrix (`stride` elements apart), columns [col0, col0 + width),
// as F32 rows: the cache's own where it is F32, else converted into `buf`.
struct Rows {
  const float* data;
  int64_t stride;
};
Rows block_rows(const detail::KernelTable& kt, const void* base, DType t, int64_t first, int64_t n, int64_t stride,
                int64_t col0, int64_t width, std::vector<float>& buf) {
  if (t == DType::F32) return {static_cast<const float*>(base) + first * stride + col0, stride};
  if (buf.size() < size_t(n * width)) buf.resize(size_t(n * width));
  const uint16_t* src = static_cast<const uint16_t*>(base) + first * stride + col0;
  const detail::DequantFn to_f32 = kt.dequant[detail::dtype_slot(DType::F16)];
  for (int64_t r = 0; r < n; ++r) to_f32(src + r * stride, buf.data() + r * width, width);
  return {buf.data(), width};
}

void attention_tiled(const float* q, const void* k, const void* v, DType kv_type, float* out, const AttentionShape& s,
                     ThreadPool* pool) {
  const detail::KernelTable& kt = detail::active_kernels();
  const int64_t group = s.n_heads / s.n_kv_heads, hd = s.head_dim;
  const int64_t n_tiles = (s.n_q + kTileTokens - 1) / kTileTokens;
  parallel_for(pool, n_tiles * s.n_kv_heads, 1, [&](int64_t task0, int64_t task1) {
    thread_local std::vector<float> qs, keys_t, scores, m, l, block_max, k_f32, v_f32;
    thread_local std::vector<int64_t> valid;
    const size_t rows = size_t(kTileTokens * group);  // grown once, reused
    auto at_least = [](auto& buf, size_t n) {
      if (buf.size() < n) buf.resize(n);
    };
    at_least(qs, rows * size_t(hd));
    at_least(keys_t, size_t(hd * kBlock));
    at_least(scores, rows * size_t(kBlock));
    for (auto* a : {&m, &l, &block_max}) at_least(*a, rows);
    at_least(valid, rows);
    for (int64_t task = task0; task < task1; ++task) {
      // Tiles from both ends in turn: later tokens see more keys, and a thread's contiguous range
      // of tasks then holds as much work as another's.
      const int64_t i = task / s.n_kv_heads, kvh = task % s.n_kv_heads;
      const int64_t tile = i % 2 == 0 ? i / 2 : n_tiles - 1 - i / 2;
      const int64_t t0 = tile * kTileTokens, n_rows = std::min(kTileTokens, s.n_q - t0) * group;
      auto out_row = [&](int64_t r) { return out + ((t0 + r / group) * s.n_heads + kvh * group + r % group) * hd; };
      for (int64_t r = 0; r < n_rows; ++r) {
        const float* qr = q + ((t0 + r / group) * s.n_heads + kvh * group + r % group) * hd;
        for (int64_t e = 0; e < hd; ++e) qs[size_t(r * hd + e)] = qr[e] * s.scale;
        std::fill(out_row(r), out_row(r) + hd, 0.0f);
        m[size_t(r)] = -INFINITY;
        l[size_t(r)] = 0.0f;
      }
      const int64_t n_seen = std::min(s.n_kv, s.q_pos0 + t0 + n_rows / group);  // by the tile's last token
      for (int64_t j0 = 0; j0 < n_seen; j0 += kBlock) {
        const int64_t nb = std::min(kBlock, n_seen - j0);
        const Rows kb = block_rows(kt, k, kv_type, j0, nb, s.kv_stride, kvh * hd, hd, k_f32);
        // (MLA reads its values from the key rows: one conversion serves both.)
        const Rows vb = v == k ? kb : block_rows(kt, v, kv_type, j0, nb, s.kv_stride, kvh * hd, hd, v_f32);
        kt.transpose_keys(kb.data, nb, kb.stride, hd, keys_t.data());
        for (int64_t r = 0; r < n_rows; ++r)
          valid[size_t(r)] = std::clamp<int64_t>(std::min(s.n_kv, s.q_pos0 + t0 + r / group + 1) - j0, 0, nb);
        kt.block_scores(qs.data(), n_rows, keys_t.data(), hd, valid.data(), scores.data(), block_max.data());
        for (int64_t r0 = 0; r0 < n_rows; r0 += group) {  // a token's heads: the same keys are valid
          const int64_t nv = valid[size_t(r0)];
          if (nv == 0) continue;
          for (int64_t r = r0; r < r0 + group; ++r)
            online_softmax_step(kt, scores.data() + r * kBlock, nv, block_max[size_t(r)], hd, &m[size_t(r)],
                                &l[size_t(r)], out_row(r));
          kt.weighted_rows_heads(scores.data() + r0 * kBlock, kBlock, group, nv, vb.data, vb.stride, hd, out_row(r0), hd);
        }
      }
      for (int64_t r = 0; r < n_rows; ++r)
        if (l[size_t(r)] > 0) kt.scale(out_row(r), 1.0f / l[size_t(r)], hd);
    }
  });
}

}  // namespace

void attention(const float* q, const float* k, const float* v, float* out, const AttentionShape& s,
               ThreadPool* pool) {
  attention(q, static_cast<const void*>(k), static_cast<const void*>(v), DType::F32, out, s, pool);
}

void attention(const float* q, const void* k, const void* v, DType kv_type, float* out, const AttentionShape& s,
               ThreadPool* pool) {
  if (s.n_q > 1) return attention_tiled(q, k, v, kv_type, out, s, pool);
  const detail::KernelTable& kt = detail::active_kernels();
  const int64_t group = s.n_heads / s.n_kv_heads;
  const int64_t hd = s.head_dim;
  parallel_for(pool, s.n_q * s.n_kv_heads, 1, [&](int64_t task0, int64_t task1) {
    // Per-thread scratch, grown once and reused: no allocation per decode step after the first.
    thread_local std::vector<float> m, l, scores, k_f32, v_f32;
    if (int64_t(m.size()) < group) {
      m.resize(static_cast<size_t>(group));
      l.resize(static_cast<size_t>(group));
      scores.resize(static_cast<size_t>(group * kBlock));
    }
    for (int64_t task = task0; task < task1; ++task) {
      const int64_t t = task / s.n_kv_heads, kvh = task % s.n_kv_heads;
      const int64_t n_seen = std::min(s.n_kv, s.q_pos0 + t + 1);
      const float* qg = q + (t * s.n_heads + kvh * group) * hd;
      float* og = out + (t * s.n_heads + kvh * group) * hd;
      for (int64_t g = 0; g < group; ++g) {
        m[size_t(g)] = -INFINITY;
        l[size_t(g)] = 0.0f;
        for (int64_t i = 0; i < hd; ++i) og[g * hd + i] = 0.0f;
      }
      for (int64_t j0 = 0; j0 < n_seen; j0 += kBlock) {
        const int64_t nb = std::min(kBlock, n_seen - j0);
        const Rows kb = block_rows(kt, k, kv_type, j0, nb, s.kv_stride, kvh * hd, hd, k_f32);
        const Rows vb = v == k ? kb : block_rows(kt, v, kv_type, j0, nb, s.kv_stride, kvh * hd, hd, v_f32);
        kt.key_scores(qg, group, kb.data, nb, kb.stride, hd, s.scale, scores.data(), kBlock);
        for (int64_t g = 0; g < group; ++g) {
          float* sg = scores.data() + g * kBlock;
          online_softmax_step(kt, sg, nb, *std::max_element(sg, sg + nb), hd, &m[size_t(g)], &l[size_t(g)], og + g * hd);
        }
        kt.weighted_rows_heads(scores.data(), kBlock, group, nb, vb.data, vb.stride, hd, og, hd);
      }
      for (int64_t g = 0; g < group; ++g)
        if (l[size_t(g)] > 0) kt.scale(og + g * hd, 1.0f / l[size_t(g)], hd);
    }
  });
}

}  // namespace ember
