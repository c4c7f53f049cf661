// Causal grouped-query attention with online softmax (Milakov & Gimelshein 2018; the FlashAttention
// recurrence): one pass over the keys keeps a running max m, normalizer l and weighted sum acc, so
// the scores of the whole context are never stored. Keys go in blocks of kBlock: a block's scores
// are computed, its maximum folds into m once (one rescale of acc per block, not per key), its
// probabilities are exponentiated as a vector and its value rows are summed into acc in registers.
// The query heads that share a KV head are processed together, so each cached key and value row is
// read once per group, not once per head.
#include <algorithm>
#include <cmath>
#include <vector>

#include "ember/kernels/kernels.h"
#include "kernels/kernel_table.h"

namespace ember {

namespace {
constexpr int64_t kBlock = 64;  // keys per block: 64 scores per head stay in L1
}

void attention(const float* q, const float* k, const float* v, float* out, const AttentionShape& s,
               ThreadPool* pool) {
  const detail::KernelTable& kt = detail::active_kernels();
  const int64_t group = s.n_heads / s.n_kv_heads;
  const int64_t hd = s.head_dim;
  parallel_for(pool, s.n_q * s.n_kv_heads, 1, [&](int64_t task0, int64_t task1) {
    // Per-thread scratch, grown once and reused: no allocation per decode step after the first.
    thread_local std::vector<float> m, l, scores;
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
        const float* kb = k + j0 * s.kv_stride + kvh * hd;
        const float* vb = v + j0 * s.kv_stride + kvh * hd;
        kt.key_scores(qg, group, kb, nb, s.kv_stride, hd, s.scale, scores.data(), kBlock);
        for (int64_t g = 0; g < group; ++g) {
          float* sg = scores.data() + g * kBlock;
          const float block_max = *std::max_element(sg, sg + nb);
          float* acc = og + g * hd;
          if (block_max > m[size_t(g)]) {
            // New running max: rescale what has been accumulated so far.
            const float correction = std::exp(m[size_t(g)] - block_max);
            kt.scale(acc, correction, hd);
            l[size_t(g)] *= correction;
            m[size_t(g)] = block_max;
          }
          l[size_t(g)] += kt.exp_shift_sum(sg, nb, m[size_t(g)]);
          kt.weighted_rows(sg, nb, vb, s.kv_stride, hd, acc);
        }
      }
      for (int64_t g = 0; g < group; ++g)
        if (l[size_t(g)] > 0) kt.scale(og + g * hd, 1.0f / l[size_t(g)], hd);
    }
  });
}

}  // namespace ember
