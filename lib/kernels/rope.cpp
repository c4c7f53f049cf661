// Rotary position embedding (Su et al., "RoFormer", eq. 34): pair (a, b) of each head rotates by
// angle pos * theta^(-2i/d). The two conventions differ only in which values form pair i.
#include <algorithm>
#include <cmath>

#include "ember/kernels/kernels.h"

namespace ember {

void rope(float* x, int64_t n_heads, int64_t head_dim, int64_t rot_dim, int64_t pos, float theta,
          RopeStyle style, float freq_scale) {
  const int64_t half = rot_dim / 2;
  // cos/sin computed once per pair index, then applied to every head. Angles in double: at
  // positions of 10^5 a float angle loses the low bits that the rotation depends on.
  constexpr int64_t kMaxPairs = 512;
  float cs[kMaxPairs], sn[kMaxPairs];
  for (int64_t i0 = 0; i0 < half; i0 += kMaxPairs) {
    const int64_t i1 = std::min(half, i0 + kMaxPairs);
    for (int64_t i = i0; i < i1; ++i) {
      const double freq = std::pow(double(theta), -2.0 * double(i) / double(rot_dim));
      const double angle = double(pos) * double(freq_scale) * freq;
      cs[i - i0] = float(std::cos(angle));
      sn[i - i0] = float(std::sin(angle));
    }
    for (int64_t h = 0; h < n_heads; ++h) {
      float* v = x + h * head_dim;
      for (int64_t i = i0; i < i1; ++i) {
        const int64_t a = style == RopeStyle::kNeox ? i : 2 * i;
        const int64_t b = style == RopeStyle::kNeox ? i + half : 2 * i + 1;
        const float x0 = v[a], x1 = v[b], c = cs[i - i0], s = sn[i - i0];
        v[a] = x0 * c - x1 * s;
        v[b] = x0 * s + x1 * c;
      }
    }
  }
}

}  // namespace ember
