// One description of a model's shape, whichever door it came in by: GGUF metadata
// ({arch}.block_count, ...) or a Hugging Face config.json. Models (lib/models) read only this and
// named tensors, never the file formats. Tensor names follow GGUF's convention ("blk.3.attn_q.weight");
// Hugging Face names are translated by hf_to_gguf_name.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ember/core/status.h"
#include "ember/kernels/kernels.h"

namespace ember {
namespace gguf {
class GgufFile;
}

enum class ModelFamily { kLlama, kDeepseek };

struct RopeScaling {
  std::string type = "none";   // none | linear | yarn | llama3
  float factor = 1.0f;
  int64_t original_context = 0;
  float beta_fast = 32.0f, beta_slow = 1.0f;  // YaRN
  float mscale = 1.0f, mscale_all_dim = 0.0f;  // YaRN attention scale (DeepSeek)
  float low_freq_factor = 1.0f, high_freq_factor = 4.0f;  // llama3
};

struct ModelDescription {
  std::string architecture;  // GGUF general.architecture spelling: llama, qwen2, deepseek2
  ModelFamily family = ModelFamily::kLlama;
  int64_t n_vocab = 0, n_embd = 0, n_layer = 0, n_head = 0, n_head_kv = 0, head_dim = 0, n_ff = 0;
  int64_t n_ctx_train = 0;
  float rms_norm_eps = 1e-6f;
  float rope_theta = 10000.0f;
  int64_t rope_dim = 0;  // values rotated per head (head_dim for Llama/Qwen2, qk_rope_head_dim for MLA)
  RopeStyle rope_style = RopeStyle::kNeox;
  RopeScaling rope_scaling;
  bool tied_embeddings = false;  // no output.weight: the embedding matrix is the LM head
  bool attn_qkv_bias = false;    // Qwen2

  // DeepSeek-V2/V3: Multi-head Latent Attention and DeepSeekMoE.
  int64_t q_lora_rank = 0;  // 0: a plain q_proj
  int64_t kv_lora_rank = 0, qk_nope_head_dim = 0, qk_rope_head_dim = 0, v_head_dim = 0;
  int64_t n_expert = 0, n_expert_used = 0, n_expert_shared = 0, moe_ff = 0, first_k_dense = 0;
  int64_t n_group = 1, topk_group = 1;
  float routed_scaling = 1.0f;
  bool norm_topk_prob = false;
  enum class Gating { kSoftmax, kSigmoid } gating = Gating::kSoftmax;  // V2 softmax, V3 sigmoid + bias

  // Checks the numbers are positive and consistent (heads divide, dims add up).
  Status validate() const;
};

Result<ModelDescription> describe_gguf(const gguf::GgufFile& file);
// `config_json` is the text of config.json; `name` is used in messages.
Result<ModelDescription> describe_hf_config(std::string_view config_json, const std::string& name);

// The GGUF-convention name of a Hugging Face tensor, or nullopt for tensors a model ignores (the
// multi-token-prediction layer of V3, rotary caches). Routed experts stay separate per expert:
// "blk.N.ffn_gate_exps.E.weight" (GGUF files stack them into one "blk.N.ffn_gate_exps.weight").
std::optional<std::string> hf_to_gguf_name(std::string_view hf_name, const ModelDescription& d);

}  // namespace ember
