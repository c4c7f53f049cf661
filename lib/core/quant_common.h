// Small helpers shared by the reference quantizers (quant_legacy.cpp, quant_kquants.cpp).
#pragma once

#include <algorithm>
#include <cfloat>
#include <cmath>

namespace ember {

// The value of largest magnitude, with its sign (ties: the first one), as ggml's quantizers pick it.
inline float signed_absmax(const float* x, int n) {
  float amax = 0.0f, max = 0.0f;
  for (int j = 0; j < n; ++j) {
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}

inline void min_max(const float* x, int n, float* min, float* max) {
  *min = FLT_MAX;
  *max = -FLT_MAX;
  for (int j = 0; j < n; ++j) {
    *min = std::min(*min, x[j]);
    *max = std::max(*max, x[j]);
  }
}

}  // namespace ember
