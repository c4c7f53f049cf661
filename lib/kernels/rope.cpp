// Rotary position embedding (Su et al., "RoFormer", eq. 34): pair i of each head rotates by angle
// pos * inv_freq[i]. The two conventions differ only in which values form pair i.
#include <algorithm>
#include <cmath>
#include <vector>

#include "ember/kernels/kernels.h"

namespace ember {

void rope_inv_freq(int64_t rot_dim, float theta, double* inv_freq) {
  for (int64_t i = 0; i < rot_dim / 2; ++i) inv_freq[i] = std::pow(double(theta), -2.0 * double(i) / double(rot_dim));
}

void rope(float* x, int64_t n_heads, int64_t head_dim, int64_t rot_dim, int64_t pos, const double* inv_freq,
          RopeStyle style, float mscale) {
  const int64_t half = rot_dim / 2;
  // cos/sin computed once per pair index, then applied to every head. Angles in double: at
  // positions of 10^5 a float angle loses the low bits that the rotation depends on.
  constexpr int64_t kMaxPairs = 512;
  float cs[kMaxPairs], sn[kMaxPairs];
  for (int64_t i0 = 0; i0 < half; i0 += kMaxPairs) {
    const int64_t i1 = std::min(half, i0 + kMaxPairs);
    for (int64_t i = i0; i < i1; ++i) {
      const double angle = double(pos) * inv_freq[i];
      cs[i - i0] = float(std::cos(angle)) * mscale;
      sn[i - i0] = float(std::sin(angle)) * mscale;
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

void rope(float* x, int64_t n_heads, int64_t head_dim, int64_t rot_dim, int64_t pos, float theta,
          RopeStyle style, float freq_scale) {
  std::vector<double> inv_freq(size_t(rot_dim / 2));
  rope_inv_freq(rot_dim, theta, inv_freq.data());
  for (double& f : inv_freq) f *= double(freq_scale);
  rope(x, n_heads, head_dim, rot_dim, pos, inv_freq.data(), style, 1.0f);
}

}  // namespace ember
