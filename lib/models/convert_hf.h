// Hugging Face folder -> GGUF file laid out as llama.cpp's convert_hf_to_gguf.py lays it out, so
// the result also loads in llama.cpp: Llama's Q/K rows permuted to adjacent RoPE pairs, DeepSeek's
// routed experts stacked into ffn_*_exps, the tokenizer as tokenizer.ggml.* with the matching
// pre-tokenizer name, llama3 RoPE scaling as a rope_freqs tensor. Weights are converted to the
// target's dtypes (QuantTarget: one type, or a mix such as Q4_K_M).
#pragma once

#include <cstdio>
#include <string>

#include "formats/quantize_model.h"

namespace ember {

Status convert_hf_to_gguf(const std::string& dir, const std::string& out_path, const QuantTarget& target, std::FILE* log);

}  // namespace ember
