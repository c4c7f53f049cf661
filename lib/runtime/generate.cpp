#include "ember/runtime/generate.h"

#include <algorithm>
#include <chrono>

namespace ember {

const char* stop_reason_name(StopReason r) {
  switch (r) {
    case StopReason::kEog: return "eog";
    case StopReason::kStopString: return "stop";
    case StopReason::kMaxTokens: return "length";
    case StopReason::kCallback: return "callback";
    case StopReason::kCancelled: return "cancelled";
    case StopReason::kContextFull: return "context_full";
  }
  return "?";
}

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Tokens that end a turn: the vocabulary's EOS/EOT and the end markers chat models use.
std::vector<int32_t> end_of_generation_tokens(const Tokenizer& tok) {
  const Vocab& v = tok.vocab();
  std::vector<int32_t> ids;
  for (int32_t id : {v.eos, v.eot})
    if (id >= 0) ids.push_back(id);
  static const char* const kNames[] = {"<|eot_id|>", "<|im_end|>", "<|end|>", "<|end_of_text|>", "<｜end▁of▁sentence｜>", "<|eom_id|>"};
  for (const char* name : kNames) {
    const int32_t id = v.token_id(name);
    if (id >= 0 && (v.types.empty() || v.types[size_t(id)] == TokenType::kControl)) ids.push_back(id);
  }
  return ids;
}

// Holds back text that may be the start of a stop string; says when one has appeared.
class StopMatcher {
 public:
  explicit StopMatcher(const std::vector<std::string>& stops) : stops_(stops) {}
  // Adds text; returns the part that is final. *hit is set when a stop string completed (the text
  // before it is returned, the rest dropped).
  std::string push(std::string_view text, bool* hit) {
    pending_ += text;
    size_t cut = std::string::npos;
    for (const std::string& s : stops_)
      if (!s.empty()) cut = std::min(cut, pending_.find(s));
    if (cut != std::string::npos) {
      *hit = true;
      std::string out = pending_.substr(0, cut);
      pending_.clear();
      return out;
    }
    // The longest tail of pending_ that begins some stop string stays back.
    size_t hold = 0;
    for (const std::string& s : stops_)
      for (size_t k = std::min(s.size() - (s.empty() ? 0 : 1), pending_.size()); k > hold; --k)
        if (pending_.compare(pending_.size() - k, k, s, 0, k) == 0) {
          hold = k;
          break;
        }
    std::string out = pending_.substr(0, pending_.size() - hold);
    pending_.erase(0, pending_.size() - hold);
    return out;
  }
  std::string flush() { return std::exchange(pending_, std::string()); }

 private:
  const std::vector<std::string>& stops_;
  std::string pending_;
};

}  // namespace

Result<GenerateResult> generate(Context& ctx, Sampler& sampler, const std::vector<int32_t>& prompt, const GenerateParams& p,
                                FunctionRef<bool(std::string_view)> on_text) {
  GenerateResult r;
  r.n_prompt = int64_t(prompt.size());
  if (prompt.empty() && ctx.n_past() == 0) return invalid_argument("generate: empty prompt and empty context");
  if (Status s = check_vocabulary(sampler, ctx.model().desc().n_vocab); !s) return s;
  const Tokenizer& tok = ctx.model().tokenizer();
  std::vector<int32_t> eog = p.stop_at_eog ? end_of_generation_tokens(tok) : std::vector<int32_t>();
  eog.insert(eog.end(), p.extra_stop_tokens.begin(), p.extra_stop_tokens.end());

  ctx.begin_operation();
  auto t0 = std::chrono::steady_clock::now();
  if (!prompt.empty()) {
    Status s = ctx.eval_continue(prompt.data(), int64_t(prompt.size()));
    if (s.code() == StatusCode::kCancelled) {
      r.reason = StopReason::kCancelled;
      return r;
    }
    if (!s) return s;
  }
  r.prefill_seconds = seconds_since(t0);
  t0 = std::chrono::steady_clock::now();

  StreamDecoder decoder(tok, p.print_special);
  StopMatcher stops(p.stop);
  bool first_text = true;
  auto emit = [&](std::string text) {
    if (first_text && !text.empty()) {
      if (p.strip_leading_space && text[0] == ' ') text.erase(0, 1);
      first_text = false;
    }
    if (text.empty()) return true;
    r.text += text;
    return on_text(text);
  };
  for (int64_t i = 0; p.max_tokens < 0 || i < p.max_tokens; ++i) {
    if (ctx.take_interrupt()) {
      r.reason = StopReason::kCancelled;
      break;
    }
    const int32_t id = sampler.sample(ctx.logits(), ctx.tokens());
    r.tokens.push_back(id);
    if (std::find(eog.begin(), eog.end(), id) != eog.end()) {
      r.reason = StopReason::kEog;
      (void)ctx.eval_continue(&id, 1);  // the end marker belongs in the cache for the next turn
      break;
    }
    bool hit = false;
    const std::string text = stops.push(decoder.push(id), &hit);
    const bool go_on = emit(text);
    if (hit) {
      r.reason = StopReason::kStopString;
      break;
    }
    if (!go_on) {
      r.reason = StopReason::kCallback;
      break;
    }
    Status s = ctx.eval_continue(&id, 1);
    if (s.code() == StatusCode::kContextFull) {
      r.reason = StopReason::kContextFull;
      break;
    }
    if (s.code() == StatusCode::kCancelled) {
      r.reason = StopReason::kCancelled;
      break;
    }
    if (!s) return s;
    r.reason = StopReason::kMaxTokens;
  }
  if (r.reason != StopReason::kStopString) {
    bool hit = false;
    std::string rest = stops.push(decoder.flush(), &hit);
    if (!hit) rest += stops.flush();
    if (!rest.empty()) emit(rest);
  }
  r.decode_seconds = seconds_since(t0);
  return r;
}

}  // namespace ember
