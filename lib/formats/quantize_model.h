// Re-quantizing a GGUF model to one of Ember's block formats, or to llama.cpp's usual mixes.
#pragma once

#include <string>

#include "ember/core/status.h"
#include "ember/formats/gguf.h"

namespace ember {

// A target: one dtype for every weight matrix, or a mix ("Q4_K_M": Q4_K with Q6_K for the output
// head and for attn_v/ffn_down in the layers llama.cpp gives more bits).
struct QuantTarget {
  std::string name;     // as given: "Q4_K_M", "Q8_0", ...
  DType base;
  DType sensitive;      // attn_v / ffn_down in "more bits" layers
  DType output;         // output.weight
  uint32_t file_type;   // GGUF general.file_type (llama.cpp's LLAMA_FTYPE numbering)
};
Result<QuantTarget> parse_quant_target(const std::string& name);

// The dtype tensor `name` (ne0 values per row, n_dims dims) gets under `target`, in a model of
// n_layer layers: 1-D tensors (norms, biases) stay F32; rows that are not a whole number of blocks
// fall back to a 32-value format (Q4_K -> Q5_0, Q6_K -> Q8_0, ...), then F16.
DType choose_dtype(const QuantTarget& target, const std::string& name, int n_dims, int64_t ne0, int64_t n_layer);

// Reads `in`, converts every tensor as choose_dtype says, writes `out` with the same metadata
// (general.file_type updated). Progress lines go to `log` if non-null.
Status quantize_gguf(const gguf::GgufFile& in, const std::string& out_path, const QuantTarget& target, std::FILE* log);

}  // namespace ember
