// Causal grouped-query attention with online softmax (Milakov & Gimelshein 2018; the FlashAttention
// recurrence): one pass over the keys keeps a running max m, normalizer l and weighted sum acc, so
// scores are never stored. The query heads that share a KV head are processed together, so each
// cached key and value row is read once per group, not once per head.
#include <algorithm>
#include <cmath>
#include <vector>

#include "ember/kernels/kernels.h"
#include "kernels/kernel_table.h"

namespace ember {

void attention(const float* q, const float* k, const float* v, float* out, const AttentionShape& s,
               ThreadPool* pool) {
  const detail::KernelTable& kt = detail::active_kernels();
  const int64_t group = s.n_heads / s.n_kv_heads;
  const int64_t hd = s.head_dim;
  parallel_for(pool, s.n_q * s.n_kv_heads, 1, [&](int64_t task0, int64_t task1) {
    // Per-thread scratch, grown once and reused: no allocation per decode step after the first.
    thread_local std::vector<float> m, l;
    if (int64_t(m.size()) < group) {
      m.resize(static_cast<size_t>(group));
      l.resize(static_cast<size_t>(group));
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
      for (int64_t j = 0; j < n_seen; ++j) {
        const float* kj = k + j * s.kv_stride + kvh * hd;
        const float* vj = v + j * s.kv_stride + kvh * hd;
        for (int64_t g = 0; g < group; ++g) {
          const float score = kt.dot_f32(qg + g * hd, kj, hd) * s.scale;
          float* acc = og + g * hd;
          if (score > m[size_t(g)]) {
            // New running max: rescale what has been accumulated so far.
            const float correction = std::exp(m[size_t(g)] - score);
            kt.scale(acc, correction, hd);
            l[size_t(g)] *= correction;
            m[size_t(g)] = score;
          }
          const float p = std::exp(score - m[size_t(g)]);
          kt.axpy(p, vj, acc, hd);
          l[size_t(g)] += p;
        }
      }
      for (int64_t g = 0; g < group; ++g)
        if (l[size_t(g)] > 0) kt.scale(og + g * hd, 1.0f / l[size_t(g)], hd);
    }
  });
}

}  // namespace ember
