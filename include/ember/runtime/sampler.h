// Choosing the next token from logits. Two semantics:
//  - kChain (default, as llama.cpp): repetition/presence/frequency penalties over the last
//    repeat_last_n tokens, then greedy if temperature <= 0, else top-k, top-p, min-p, temperature,
//    and a draw from what is left;
//  - kLlama2c: llama2.c run.c's sampler exactly (temperature, then top-p with its cutoff, or a
//    plain multinomial draw; xorshift64* RNG), so its published outputs can be reproduced.
// The same seed and inputs give the same tokens on every machine.
#pragma once

#include <cstdint>
#include <vector>

#include "ember/core/status.h"

namespace ember {

struct SamplerParams {
  enum class Style { kChain, kLlama2c };
  Style style = Style::kChain;
  float temperature = 0.8f;  // <= 0: greedy
  int32_t top_k = 40;        // <= 0: off
  float top_p = 0.95f;       // >= 1: off
  float min_p = 0.05f;       // <= 0: off
  float repeat_penalty = 1.0f;  // 1: off; > 1 makes recent tokens less likely
  int32_t repeat_last_n = 64;
  float presence_penalty = 0.0f, frequency_penalty = 0.0f;
  uint64_t seed = 0;
};

// Checks ranges (temperature >= 0, top_p in (0, 1], ...): INVALID_ARGUMENT naming the field.
Status validate(const SamplerParams& p);

class Sampler;
// INVALID_ARGUMENT unless the sampler was made for a vocabulary of n_vocab tokens (a sampler of
// another model would read past the logits).
Status check_vocabulary(const Sampler& s, int64_t n_vocab);

class Sampler {
 public:
  Sampler(const SamplerParams& p, int64_t n_vocab);
  // The next token after `logits` (n_vocab floats, not modified); `history` feeds the penalties.
  int32_t sample(const float* logits, const std::vector<int32_t>& history);
  void reseed(uint64_t seed) { rng_ = seed; }
  const SamplerParams& params() const { return p_; }
  // The vocabulary size it was made for: it samples only a model's logits of that size.
  int64_t n_vocab() const { return n_vocab_; }

 private:
  int32_t sample_chain(const float* logits, const std::vector<int32_t>& history);
  int32_t sample_llama2c(const float* logits);
  uint32_t next_u32();  // xorshift64* (llama2.c's random_u32)
  float next_f32();     // [0, 1) with 24 bits

  SamplerParams p_;
  int64_t n_vocab_;
  uint64_t rng_;
  std::vector<float> work_;
  struct Candidate {
    float value;
    int32_t id;
  };
  std::vector<Candidate> cand_;
  std::vector<int32_t> counts_;
};

}  // namespace ember
