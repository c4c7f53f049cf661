// The generation loop: evaluate the prompt, then sample, stream and evaluate one token at a time
// until an end-of-generation token, a stop string, max_tokens, an interrupt or a callback says stop.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ember/kernels/thread_pool.h"
#include "ember/runtime/context.h"
#include "ember/runtime/sampler.h"

namespace ember {

struct GenerateParams {
  int64_t max_tokens = 256;         // < 0: until the context is full
  std::vector<std::string> stop;    // stop strings (not included in the output)
  bool stop_at_eog = true;          // stop at the model's EOS / EOT tokens
  std::vector<int32_t> extra_stop_tokens;
  bool print_special = false;       // control tokens appear in the text
  // Drop the space SentencePiece put before the first word of a document (true when the prompt
  // was just BOS): llama2.c prints "Once", not " Once".
  bool strip_leading_space = false;
};

enum class StopReason { kEog, kStopString, kMaxTokens, kCallback, kCancelled, kContextFull };
const char* stop_reason_name(StopReason r);

struct GenerateResult {
  std::vector<int32_t> tokens;  // generated ids (the stop token included when one ended it)
  std::string text;             // streamed text, stop string excluded
  StopReason reason = StopReason::kMaxTokens;
  int64_t n_prompt = 0;
  double prefill_seconds = 0, decode_seconds = 0;
};

// on_text receives whole UTF-8 characters as they become final; returning false stops generation.
// The prompt is appended to what the context already holds.
Result<GenerateResult> generate(Context& ctx, Sampler& sampler, const std::vector<int32_t>& prompt, const GenerateParams& p,
                                FunctionRef<bool(std::string_view)> on_text);

}  // namespace ember
