#include "rope_scaling.h"

#include <algorithm>
#include <cmath>

#include "ember/kernels/kernels.h"

namespace ember {

float yarn_mscale(float factor, float m) { return factor <= 1.0f ? 1.0f : 0.1f * m * std::log(factor) + 1.0f; }

Result<RopeTable> make_rope_table(const ModelDescription& d) {
  RopeTable t;
  const int64_t half = d.rope_dim / 2;
  t.inv_freq.resize(size_t(half));
  rope_inv_freq(d.rope_dim, d.rope_theta, t.inv_freq.data());
  const RopeScaling& s = d.rope_scaling;
  const double pi = 3.14159265358979323846;
  if (s.type == "none" || s.type == "default" || s.factor == 1.0f) return t;
  if (s.type == "linear") {
    for (double& f : t.inv_freq) f /= s.factor;
  } else if (s.type == "llama3") {
    // Wavelengths shorter than original_context / high_freq_factor keep their frequency, longer
    // than original_context / low_freq_factor are slowed by the factor, and the band between blends.
    if (s.original_context <= 0 || s.high_freq_factor <= s.low_freq_factor)
      return format_error("llama3 RoPE scaling needs original_max_position_embeddings and high_freq_factor > low_freq_factor");
    const double low_wavelen = double(s.original_context) / s.low_freq_factor;
    const double high_wavelen = double(s.original_context) / s.high_freq_factor;
    for (double& f : t.inv_freq) {
      const double wavelen = 2 * pi / f;
      if (wavelen < high_wavelen) continue;
      if (wavelen > low_wavelen) {
        f = f / s.factor;
      } else {
        const double smooth = (s.original_context / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
        f = (1 - smooth) * f / s.factor + smooth * f;
      }
    }
  } else if (s.type == "yarn") {
    // Dimensions that turn fewer than beta_slow times over the original context are interpolated
    // (frequency / factor), those turning more than beta_fast times are kept, a linear ramp between.
    if (s.original_context <= 0) return format_error("YaRN RoPE scaling needs original_max_position_embeddings");
    const double dim = double(d.rope_dim), base = d.rope_theta;
    auto correction_dim = [&](double n_rot) {
      return dim * std::log(double(s.original_context) / (n_rot * 2 * pi)) / (2 * std::log(base));
    };
    const double low = std::max(0.0, std::floor(correction_dim(s.beta_fast)));
    double high = std::min(dim - 1, std::ceil(correction_dim(s.beta_slow)));
    if (high == low) high += 0.001;  // no division by zero in the ramp
    for (int64_t i = 0; i < half; ++i) {
      const double ramp = std::clamp((double(i) - low) / (high - low), 0.0, 1.0);
      const double extrapolated = t.inv_freq[size_t(i)], interpolated = extrapolated / s.factor;
      t.inv_freq[size_t(i)] = interpolated * ramp + extrapolated * (1 - ramp);
    }
    t.mscale = yarn_mscale(s.factor, s.mscale) / yarn_mscale(s.factor, s.mscale_all_dim);
  } else {
    return unsupported("RoPE scaling type '" + s.type + "' is not supported (linear, llama3, yarn are)");
  }
  return t;
}

}  // namespace ember
