// Top-k selection for MoE routing: k is small (2..8) and n is the expert count (8..256), so one
// pass with an insertion-sorted list of k beats a heap or a partial sort.
#include "ember/kernels/kernels.h"

namespace ember {

void topk(const float* x, int64_t n, int64_t k, int32_t* idx, float* val) {
  if (k > n) k = n;
  int64_t filled = 0;
  for (int64_t i = 0; i < n; ++i) {
    // Strictly greater: an equal value arriving later ranks after (ties: lower index first).
    if (filled == k && !(x[i] > val[k - 1])) continue;
    int64_t pos = filled < k ? filled++ : k - 1;
    while (pos > 0 && x[i] > val[pos - 1]) {
      val[pos] = val[pos - 1];
      idx[pos] = idx[pos - 1];
      --pos;
    }
    val[pos] = x[i];
    idx[pos] = int32_t(i);
  }
}

}  // namespace ember
