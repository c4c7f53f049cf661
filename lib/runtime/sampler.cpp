#include "ember/runtime/sampler.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace ember {

Status validate(const SamplerParams& p) {
  auto bad = [](const std::string& what) { return invalid_argument("sampler: " + what); };
  if (!(p.temperature >= 0.0f) || !std::isfinite(p.temperature)) return bad("temperature must be >= 0");
  if (!(p.top_p > 0.0f && p.top_p <= 1.0f)) return bad("top_p must be in (0, 1]");
  if (!(p.min_p >= 0.0f && p.min_p <= 1.0f)) return bad("min_p must be in [0, 1]");
  if (!(p.repeat_penalty > 0.0f) || !std::isfinite(p.repeat_penalty)) return bad("repeat_penalty must be > 0");
  if (p.repeat_last_n < 0) return bad("repeat_last_n must be >= 0");
  if (!std::isfinite(p.presence_penalty) || !std::isfinite(p.frequency_penalty)) return bad("penalties must be finite");
  return Status::ok();
}

Status check_vocabulary(const Sampler& s, int64_t n_vocab) {
  if (s.n_vocab() == n_vocab) return Status::ok();
  return invalid_argument("the sampler was made for a model of " + std::to_string(s.n_vocab()) +
                          " tokens, the context's model has " + std::to_string(n_vocab));
}

Sampler::Sampler(const SamplerParams& p, int64_t n_vocab) : p_(p), n_vocab_(n_vocab), rng_(p.seed) {
  work_.resize(size_t(n_vocab));
  cand_.resize(size_t(n_vocab));
  counts_.assign(size_t(n_vocab), 0);
}

uint32_t Sampler::next_u32() {
  rng_ ^= rng_ >> 12;
  rng_ ^= rng_ << 25;
  rng_ ^= rng_ >> 27;
  return uint32_t((rng_ * 0x2545F4914F6CDD1Dull) >> 32);
}

float Sampler::next_f32() { return float(next_u32() >> 8) / 16777216.0f; }

int32_t Sampler::sample(const float* logits, const std::vector<int32_t>& history) {
  return p_.style == SamplerParams::Style::kLlama2c ? sample_llama2c(logits) : sample_chain(logits, history);
}

static int32_t argmax(const float* x, int64_t n) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i)
    if (x[i] > x[best]) best = i;
  return int32_t(best);
}

// llama2.c run.c `sample`: logits / temperature, softmax (float, as run.c computes it), one coin,
// then top-p ("nucleus": the smallest set of most likely tokens whose probability exceeds p,
// after dropping tokens below (1 - p) / (n - 1), which cannot be in it) or a plain draw.
int32_t Sampler::sample_llama2c(const float* logits) {
  const int64_t n = n_vocab_;
  if (p_.temperature == 0.0f) return argmax(logits, n);
  float* probs = work_.data();
  float max = -INFINITY;
  for (int64_t i = 0; i < n; ++i) {
    probs[i] = logits[i] / p_.temperature;
    max = std::max(max, probs[i]);
  }
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    probs[i] = std::exp(probs[i] - max);
    sum += probs[i];
  }
  for (int64_t i = 0; i < n; ++i) probs[i] /= sum;
  const float coin = next_f32();
  if (p_.top_p <= 0.0f || p_.top_p >= 1.0f) {
    float cdf = 0.0f;
    for (int64_t i = 0; i < n; ++i) {
      cdf += probs[i];
      if (coin < cdf) return int32_t(i);
    }
    return int32_t(n - 1);
  }
  const float cutoff = (1.0f - p_.top_p) / float(n - 1);
  int64_t n0 = 0;
  for (int64_t i = 0; i < n; ++i)
    if (probs[i] >= cutoff) cand_[size_t(n0++)] = {probs[i], int32_t(i)};
  std::sort(cand_.begin(), cand_.begin() + n0, [](const Candidate& a, const Candidate& b) {
    return a.value > b.value || (a.value == b.value && a.id < b.id);
  });
  float cumulative = 0.0f;
  int64_t last = n0 - 1;
  for (int64_t i = 0; i < n0; ++i) {
    cumulative += cand_[size_t(i)].value;
    if (cumulative > p_.top_p) {
      last = i;
      break;
    }
  }
  const float r = coin * cumulative;
  float cdf = 0.0f;
  for (int64_t i = 0; i <= last; ++i) {
    cdf += cand_[size_t(i)].value;
    if (r < cdf) return cand_[size_t(i)].id;
  }
  return cand_[size_t(last)].id;
}

int32_t Sampler::sample_chain(const float* logits, const std::vector<int32_t>& history) {
  const int64_t n = n_vocab_;
  float* x = work_.data();
  std::copy(logits, logits + n, x);
  // Penalties over the last repeat_last_n tokens (CTRL's repetition penalty: divide a positive
  // logit, multiply a negative one; OpenAI's presence and frequency penalties subtract).
  const bool penalize = p_.repeat_penalty != 1.0f || p_.presence_penalty != 0.0f || p_.frequency_penalty != 0.0f;
  if (penalize && p_.repeat_last_n > 0) {
    const size_t from = history.size() > size_t(p_.repeat_last_n) ? history.size() - size_t(p_.repeat_last_n) : 0;
    for (size_t i = from; i < history.size(); ++i)
      if (history[i] >= 0 && history[i] < n) ++counts_[size_t(history[i])];
    for (size_t i = from; i < history.size(); ++i) {
      const int32_t t = history[i];
      if (t < 0 || t >= n || counts_[size_t(t)] == 0) continue;
      float& v = x[t];
      v = v > 0 ? v / p_.repeat_penalty : v * p_.repeat_penalty;
      v -= float(counts_[size_t(t)]) * p_.frequency_penalty + p_.presence_penalty;
      counts_[size_t(t)] = 0;  // each distinct token once; also leaves counts_ zeroed
    }
  }
  if (p_.temperature <= 0.0f) return argmax(x, n);

  // Candidates sorted by logit (top-k first keeps the sort short).
  int64_t k = p_.top_k > 0 ? std::min<int64_t>(p_.top_k, n) : n;
  for (int64_t i = 0; i < n; ++i) cand_[size_t(i)] = {x[i], int32_t(i)};
  auto by_logit = [](const Candidate& a, const Candidate& b) { return a.value > b.value || (a.value == b.value && a.id < b.id); };
  std::partial_sort(cand_.begin(), cand_.begin() + k, cand_.begin() + n, by_logit);
  // Probabilities of the k candidates at temperature 1, for top-p and min-p.
  const float max = cand_[0].value;
  double sum = 0;
  for (int64_t i = 0; i < k; ++i) sum += std::exp(double(cand_[size_t(i)].value - max));
  if (p_.top_p < 1.0f) {
    double cum = 0;
    for (int64_t i = 0; i < k; ++i) {
      cum += std::exp(double(cand_[size_t(i)].value - max)) / sum;
      if (cum >= p_.top_p) {
        k = i + 1;
        break;
      }
    }
  }
  if (p_.min_p > 0.0f) {
    // Keep tokens at least min_p times as likely as the best: logit >= max + ln(min_p).
    const float floor = max + std::log(p_.min_p);
    int64_t keep = 1;
    while (keep < k && cand_[size_t(keep)].value >= floor) ++keep;
    k = keep;
  }
  // Temperature, then one draw.
  double total = 0;
  for (int64_t i = 0; i < k; ++i) {
    const double w = std::exp(double(cand_[size_t(i)].value - max) / p_.temperature);
    x[i] = float(w);
    total += w;
  }
  const double r = double(next_u32()) / 4294967296.0 * total;
  double cdf = 0;
  for (int64_t i = 0; i < k; ++i) {
    cdf += x[i];
    if (r < cdf) return cand_[size_t(i)].id;
  }
  return cand_[size_t(k - 1)].id;
}

}  // namespace ember
