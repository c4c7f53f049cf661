// RoPE frequencies with the model's scaling rule applied once at load: linear (positions divided
// by the factor), Llama 3.1's per-band rule, and YaRN (Peng et al. 2023, as DeepSeek-V2/V3 and
// Qwen2 configs use it), whose attention factor scales cos and sin.
#pragma once

#include <vector>

#include "ember/formats/model_description.h"

namespace ember {

struct RopeTable {
  std::vector<double> inv_freq;  // rope_dim / 2 entries (double: angles at 10^5 positions need the bits)
  float mscale = 1.0f;          // multiplies cos and sin (YaRN)
};

Result<RopeTable> make_rope_table(const ModelDescription& d);

// YaRN's attention scale for a context extended `factor` times: 0.1 * m * ln(factor) + 1.
float yarn_mscale(float factor, float m);

}  // namespace ember
