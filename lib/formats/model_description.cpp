#include "ember/formats/model_description.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "ember/formats/gguf.h"

namespace ember {

Status ModelDescription::validate() const {
  auto bad = [&](const std::string& what) { return format_error("model description: " + what); };
  if (n_vocab <= 0 || n_embd <= 0 || n_layer <= 0 || n_head <= 0) return bad("vocabulary, width, layers and heads must be positive");
  if (n_head_kv <= 0 || n_head % n_head_kv != 0)
    return bad(std::to_string(n_head) + " query heads do not divide into " + std::to_string(n_head_kv) + " KV heads");
  if (family == ModelFamily::kLlama) {
    if (head_dim <= 0 || n_ff <= 0) return bad("head size and feed-forward width must be positive");
    if (rope_dim <= 0 || rope_dim > head_dim || rope_dim % 2) return bad("rotary dimension must be even and at most the head size");
  } else {
    if (kv_lora_rank <= 0 || qk_rope_head_dim <= 0 || qk_nope_head_dim <= 0 || v_head_dim <= 0)
      return bad("MLA needs kv_lora_rank, qk_nope_head_dim, qk_rope_head_dim and v_head_dim");
    if (n_expert > 0 && (n_expert_used <= 0 || n_expert_used > n_expert || moe_ff <= 0))
      return bad("MoE needs 0 < experts used <= experts and a positive expert width");
    if (n_group <= 0 || n_expert % n_group != 0 || topk_group > n_group) return bad("expert groups do not divide the experts");
  }
  if (rms_norm_eps <= 0 || rope_theta <= 0) return bad("epsilon and RoPE base must be positive");
  return Status::ok();
}

// ---- GGUF ---------------------------------------------------------------------------------------

Result<ModelDescription> describe_gguf(const gguf::GgufFile& f) {
  ModelDescription d;
  const gguf::Value* arch = f.find("general.architecture");
  if (!arch || !arch->as_string()) return format_error(f.name() + ": missing 'general.architecture'");
  d.architecture = std::string(*arch->as_string());
  if (d.architecture == "llama" || d.architecture == "qwen2") {
    d.family = ModelFamily::kLlama;
  } else if (d.architecture == "deepseek2") {
    d.family = ModelFamily::kDeepseek;
  } else {
    return unsupported(f.name() + ": architecture '" + d.architecture + "' is not supported (llama, qwen2, deepseek2 are)");
  }
  const std::string p = d.architecture + ".";
  auto get_int = [&](const std::string& key, int64_t* out, bool required) -> Status {
    const gguf::Value* v = f.find(key);
    if (!v) return required ? format_error(f.name() + ": missing key '" + key + "'") : Status::ok();
    const auto i = v->as_int();
    if (!i) return format_error(f.name() + ": key '" + key + "' must be an integer");
    *out = *i;
    return Status::ok();
  };
  auto get_float = [&](const std::string& key, float* out) {
    if (const gguf::Value* v = f.find(key))
      if (auto x = v->as_float()) *out = float(*x);
  };
  for (auto [key, out] : {std::pair{"embedding_length", &d.n_embd}, {"block_count", &d.n_layer}, {"attention.head_count", &d.n_head}})
    if (Status s = get_int(p + key, out, true); !s) return s;
  d.n_head_kv = d.n_head;
  for (auto [key, out] : {std::pair{"attention.head_count_kv", &d.n_head_kv}, {"context_length", &d.n_ctx_train},
                          {"feed_forward_length", &d.n_ff}, {"vocab_size", &d.n_vocab}})
    if (Status s = get_int(p + key, out, false); !s) return s;
  if (d.n_vocab == 0)
    if (const gguf::Value* t = f.find("tokenizer.ggml.tokens")) d.n_vocab = int64_t(t->array_size());
  if (d.n_vocab == 0)
    if (const gguf::TensorInfo* e = f.find_tensor("token_embd.weight")) d.n_vocab = e->ne[1];
  get_float(p + "attention.layer_norm_rms_epsilon", &d.rms_norm_eps);
  get_float(p + "rope.freq_base", &d.rope_theta);
  d.head_dim = d.n_head ? d.n_embd / d.n_head : 0;
  if (Status s = get_int(p + "attention.key_length", &d.head_dim, false); !s) return s;
  d.rope_dim = d.head_dim;
  if (Status s = get_int(p + "rope.dimension_count", &d.rope_dim, false); !s) return s;
  if (const gguf::Value* t = f.find(p + "rope.scaling.type"); t && t->as_string()) d.rope_scaling.type = std::string(*t->as_string());
  get_float(p + "rope.scaling.factor", &d.rope_scaling.factor);
  if (Status s = get_int(p + "rope.scaling.original_context_length", &d.rope_scaling.original_context, false); !s) return s;
  // llama.cpp's converters: Llama's Q/K rows are permuted so pairs are adjacent ("normal" RoPE);
  // Qwen2 keeps the Hugging Face half-split layout ("NeoX"); DeepSeek rotates adjacent pairs.
  d.rope_style = d.architecture == "qwen2" ? RopeStyle::kNeox : RopeStyle::kInterleaved;
  d.attn_qkv_bias = d.architecture == "qwen2" && f.find_tensor("blk.0.attn_q.bias") != nullptr;
  d.tied_embeddings = f.find_tensor("output.weight") == nullptr;
  if (d.family == ModelFamily::kDeepseek) {
    for (auto [key, out] : {std::pair{"attention.q_lora_rank", &d.q_lora_rank}, {"attention.kv_lora_rank", &d.kv_lora_rank},
                            {"expert_count", &d.n_expert}, {"expert_used_count", &d.n_expert_used},
                            {"expert_shared_count", &d.n_expert_shared}, {"expert_feed_forward_length", &d.moe_ff},
                            {"leading_dense_block_count", &d.first_k_dense}, {"expert_group_count", &d.n_group},
                            {"expert_group_used_count", &d.topk_group}})
      if (Status s = get_int(p + key, out, false); !s) return s;
    int64_t key_len = 0, value_len = 0, gating = 1;
    if (Status s = get_int(p + "attention.key_length", &key_len, true); !s) return s;
    if (Status s = get_int(p + "attention.value_length", &value_len, true); !s) return s;
    // llama.cpp's newer converter writes the cached (latent) widths under key_length/value_length
    // and the per-head ones under *_mla; older files have only the per-head ones.
    if (Status s = get_int(p + "attention.key_length_mla", &key_len, false); !s) return s;
    if (Status s = get_int(p + "attention.value_length_mla", &value_len, false); !s) return s;
    if (Status s = get_int(p + "expert_gating_func", &gating, false); !s) return s;
    d.qk_rope_head_dim = d.rope_dim;
    d.qk_nope_head_dim = key_len - d.qk_rope_head_dim;
    d.v_head_dim = value_len;
    d.head_dim = key_len;
    d.gating = gating == 2 ? ModelDescription::Gating::kSigmoid : ModelDescription::Gating::kSoftmax;
    get_float(p + "expert_weights_scale", &d.routed_scaling);
    if (const gguf::Value* v = f.find(p + "expert_weights_norm"))
      if (auto b = v->as_bool()) d.norm_topk_prob = *b;
    get_float(p + "rope.scaling.yarn_log_multiplier", &d.rope_scaling.mscale_all_dim);
    if (d.rope_scaling.mscale_all_dim != 0) d.rope_scaling.mscale_all_dim /= 0.1f;  // stored as 0.1 * mscale_all_dim
    // GGUF has no key for YaRN's cos/sin mscale; llama.cpp takes it equal to mscale_all_dim (their
    // ratio, the factor on cos and sin, is then 1), as DeepSeek's released configs have it.
    d.rope_scaling.mscale = d.rope_scaling.mscale_all_dim;
  }
  if (Status s = d.validate(); !s) return Status(s.code(), f.name() + ": " + s.message());
  return d;
}

// ---- Hugging Face config.json --------------------------------------------------------------------

Result<ModelDescription> describe_hf_config(std::string_view text, const std::string& name) {
  using nlohmann::json;
  const json c = json::parse(text, nullptr, false);
  if (c.is_discarded() || !c.is_object()) return format_error(name + ": not a JSON object");
  ModelDescription d;
  std::string arch;
  if (c.contains("architectures") && c["architectures"].is_array() && !c["architectures"].empty() && c["architectures"][0].is_string())
    arch = c["architectures"][0].get<std::string>();
  bool v3 = false;
  if (arch == "LlamaForCausalLM") {
    d.architecture = "llama";
  } else if (arch == "Qwen2ForCausalLM") {
    d.architecture = "qwen2";
    d.attn_qkv_bias = true;
  } else if (arch == "DeepseekV2ForCausalLM" || arch == "DeepseekV3ForCausalLM") {
    d.architecture = "deepseek2";
    d.family = ModelFamily::kDeepseek;
    v3 = arch == "DeepseekV3ForCausalLM";
  } else {
    return unsupported(name + ": architecture '" + arch + "' is not supported (LlamaForCausalLM, Qwen2ForCausalLM, DeepseekV2ForCausalLM, DeepseekV3ForCausalLM are)");
  }
  try {
    auto i = [&](const char* k, int64_t dflt) -> int64_t {
      if (!c.contains(k) || c[k].is_null()) return dflt;
      if (!c[k].is_number_integer()) throw std::runtime_error(std::string("'") + k + "' must be an integer");
      return c[k].get<int64_t>();
    };
    auto x = [&](const char* k, double dflt) -> double {
      if (!c.contains(k) || c[k].is_null()) return dflt;
      if (!c[k].is_number()) throw std::runtime_error(std::string("'") + k + "' must be a number");
      const double v = c[k].get<double>();
      if (!(std::fabs(v) <= 1e30)) throw std::runtime_error(std::string("'") + k + "' is out of range");
      return v;
    };
    d.n_vocab = i("vocab_size", 0);
    d.n_embd = i("hidden_size", 0);
    d.n_layer = i("num_hidden_layers", 0);
    d.n_head = i("num_attention_heads", 0);
    d.n_head_kv = i("num_key_value_heads", d.n_head);
    d.n_ff = i("intermediate_size", 0);
    d.n_ctx_train = i("max_position_embeddings", 0);
    d.rms_norm_eps = float(x("rms_norm_eps", 1e-6));
    d.rope_theta = float(x("rope_theta", 10000.0));
    if (c.contains("tie_word_embeddings") && !c["tie_word_embeddings"].is_boolean()) throw std::runtime_error("'tie_word_embeddings' must be true or false");
    d.tied_embeddings = c.value("tie_word_embeddings", false);
    d.head_dim = i("head_dim", d.n_head ? d.n_embd / d.n_head : 0);
    d.rope_dim = d.head_dim;
    // Hugging Face Llama/Qwen2 rotate the two halves of each head; DeepSeek's code reorders each
    // head to adjacent pairs before rotating, which is the interleaved convention on stored weights.
    d.rope_style = d.family == ModelFamily::kDeepseek ? RopeStyle::kInterleaved : RopeStyle::kNeox;
    if (c.contains("rope_scaling") && c["rope_scaling"].is_object()) {
      const json& r = c["rope_scaling"];
      // Numbers through double with a range check: converting an out-of-range double to float or
      // integer is undefined behaviour, and config.json is input.
      auto num = [&](const char* k, double dflt, double lo, double hi) {
        if (!r.contains(k) || r[k].is_null()) return dflt;
        if (!r[k].is_number()) throw std::runtime_error(std::string("rope_scaling.") + k + " must be a number");
        const double v = r[k].get<double>();
        if (!(v >= lo && v <= hi)) throw std::runtime_error(std::string("rope_scaling.") + k + " is out of range");
        return v;
      };
      d.rope_scaling.type = r.value("rope_type", r.value("type", std::string("none")));
      if (r.contains("rope_type") && !r["rope_type"].is_string()) throw std::runtime_error("rope_scaling.rope_type must be a string");
      if (r.contains("type") && !r["type"].is_string()) throw std::runtime_error("rope_scaling.type must be a string");
      d.rope_scaling.factor = float(num("factor", 1.0, 1e-6, 1e6));
      d.rope_scaling.original_context = int64_t(num("original_max_position_embeddings", 0, 0, 1e9));
      d.rope_scaling.beta_fast = float(num("beta_fast", 32.0, -1e6, 1e6));
      d.rope_scaling.beta_slow = float(num("beta_slow", 1.0, -1e6, 1e6));
      d.rope_scaling.mscale = float(num("mscale", 1.0, -1e6, 1e6));
      d.rope_scaling.mscale_all_dim = float(num("mscale_all_dim", 0.0, -1e6, 1e6));
      d.rope_scaling.low_freq_factor = float(num("low_freq_factor", 1.0, -1e6, 1e6));
      d.rope_scaling.high_freq_factor = float(num("high_freq_factor", 4.0, -1e6, 1e6));
    }
    if (d.family == ModelFamily::kDeepseek) {
      d.q_lora_rank = i("q_lora_rank", 0);
      d.kv_lora_rank = i("kv_lora_rank", 0);
      d.qk_nope_head_dim = i("qk_nope_head_dim", 0);
      d.qk_rope_head_dim = i("qk_rope_head_dim", 0);
      d.v_head_dim = i("v_head_dim", 0);
      d.head_dim = d.qk_nope_head_dim + d.qk_rope_head_dim;
      d.rope_dim = d.qk_rope_head_dim;
      d.n_expert = i("n_routed_experts", 0);
      d.n_expert_used = i("num_experts_per_tok", 0);
      d.n_expert_shared = i("n_shared_experts", 0);
      d.moe_ff = i("moe_intermediate_size", 0);
      d.first_k_dense = i("first_k_dense_replace", 0);
      d.n_group = i("n_group", 1);
      d.topk_group = i("topk_group", 1);
      d.routed_scaling = float(x("routed_scaling_factor", 1.0));
      if (c.contains("norm_topk_prob") && !c["norm_topk_prob"].is_boolean()) throw std::runtime_error("'norm_topk_prob' must be true or false");
      d.norm_topk_prob = c.value("norm_topk_prob", false);
      const std::string scoring = c.value("scoring_func", std::string(v3 ? "sigmoid" : "softmax"));
      if (scoring != "softmax" && scoring != "sigmoid") throw std::runtime_error("scoring_func '" + scoring + "' is not softmax or sigmoid");
      d.gating = scoring == "sigmoid" ? ModelDescription::Gating::kSigmoid : ModelDescription::Gating::kSoftmax;
    }
  } catch (const std::exception& e) {
    return format_error(name + ": " + e.what());
  }
  if (Status s = d.validate(); !s) return Status(s.code(), name + ": " + s.message());
  return d;
}

std::optional<std::string> hf_to_gguf_name(std::string_view hf, const ModelDescription& d) {
  static const std::pair<const char*, const char*> kTop[] = {
      {"model.embed_tokens.weight", "token_embd.weight"}, {"model.norm.weight", "output_norm.weight"}, {"lm_head.weight", "output.weight"}};
  for (auto [from, to] : kTop)
    if (hf == from) return std::string(to);
  // "model.layers.<n>.<rest>"
  auto take_number = [](std::string_view& s, int64_t* out) {
    size_t k = 0;
    while (k < s.size() && k < 9 && s[k] >= '0' && s[k] <= '9') ++k;
    if (k == 0 || k == s.size() || s[k] != '.') return false;
    *out = std::stoll(std::string(s.substr(0, k)));
    s.remove_prefix(k + 1);
    return true;
  };
  std::string_view tail = hf;
  const std::string_view prefix = "model.layers.";
  int64_t n = 0;
  if (tail.substr(0, prefix.size()) != prefix) return std::nullopt;
  tail.remove_prefix(prefix.size());
  if (!take_number(tail, &n)) return std::nullopt;
  if (n >= d.n_layer) return std::nullopt;  // V3's multi-token-prediction layer: not used for generation
  const std::string rest(tail), blk = "blk." + std::to_string(n) + ".";
  static const std::pair<const char*, const char*> kLayer[] = {
      {"input_layernorm.weight", "attn_norm.weight"},
      {"post_attention_layernorm.weight", "ffn_norm.weight"},
      {"self_attn.q_proj.weight", "attn_q.weight"},
      {"self_attn.q_proj.bias", "attn_q.bias"},
      {"self_attn.k_proj.weight", "attn_k.weight"},
      {"self_attn.k_proj.bias", "attn_k.bias"},
      {"self_attn.v_proj.weight", "attn_v.weight"},
      {"self_attn.v_proj.bias", "attn_v.bias"},
      {"self_attn.o_proj.weight", "attn_output.weight"},
      {"self_attn.q_a_proj.weight", "attn_q_a.weight"},
      {"self_attn.q_a_layernorm.weight", "attn_q_a_norm.weight"},
      {"self_attn.q_b_proj.weight", "attn_q_b.weight"},
      {"self_attn.kv_a_proj_with_mqa.weight", "attn_kv_a_mqa.weight"},
      {"self_attn.kv_a_layernorm.weight", "attn_kv_a_norm.weight"},
      {"self_attn.kv_b_proj.weight", "attn_kv_b.weight"},
      {"mlp.gate_proj.weight", "ffn_gate.weight"},
      {"mlp.up_proj.weight", "ffn_up.weight"},
      {"mlp.down_proj.weight", "ffn_down.weight"},
      {"mlp.gate.weight", "ffn_gate_inp.weight"},
      {"mlp.gate.e_score_correction_bias", "exp_probs_b.bias"},
      {"mlp.shared_experts.gate_proj.weight", "ffn_gate_shexp.weight"},
      {"mlp.shared_experts.up_proj.weight", "ffn_up_shexp.weight"},
      {"mlp.shared_experts.down_proj.weight", "ffn_down_shexp.weight"},
  };
  for (auto [from, to] : kLayer)
    if (rest == from) return blk + to;
  // "mlp.experts.<e>.(gate|up|down)_proj.weight"
  std::string_view ex = tail;
  const std::string_view experts = "mlp.experts.";
  int64_t e = 0;
  if (ex.substr(0, experts.size()) == experts) {
    ex.remove_prefix(experts.size());
    if (take_number(ex, &e))
      for (const char* proj : {"gate", "up", "down"})
        if (ex == std::string(proj) + "_proj.weight") return blk + "ffn_" + proj + "_exps." + std::to_string(e) + ".weight";
  }
  return std::nullopt;
}

}  // namespace ember
