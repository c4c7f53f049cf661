#include "convert_hf.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <vector>

#include "../tokenizer/pretokenizer.h"
#include "ember/core/quantize.h"
#include "hf_folder.h"
#include "rope_scaling.h"

namespace ember {
namespace {

using gguf::Value;

void write_hparams(const ModelDescription& d, const std::string& name, const QuantTarget& target, gguf::GgufWriter& w) {
  const std::string a = d.architecture + ".";
  auto u32 = [&](const std::string& k, int64_t v) { w.add(a + k, Value::u32(uint32_t(v))); };
  auto f32 = [&](const std::string& k, float v) { w.add(a + k, Value::f32(v)); };
  w.add("general.architecture", Value::string(d.architecture));
  w.add("general.name", Value::string(name));
  w.add("general.file_type", Value::u32(target.file_type));
  w.add("general.quantization_version", Value::u32(2));
  u32("vocab_size", d.n_vocab);
  if (d.n_ctx_train > 0) u32("context_length", d.n_ctx_train);
  u32("embedding_length", d.n_embd);
  u32("block_count", d.n_layer);
  if (d.n_ff > 0) u32("feed_forward_length", d.n_ff);
  u32("attention.head_count", d.n_head);
  u32("attention.head_count_kv", d.n_head_kv);
  f32("attention.layer_norm_rms_epsilon", d.rms_norm_eps);
  f32("rope.freq_base", d.rope_theta);
  u32("rope.dimension_count", d.rope_dim);
  if (d.family == ModelFamily::kDeepseek) {
    u32("attention.key_length", d.qk_nope_head_dim + d.qk_rope_head_dim);
    u32("attention.value_length", d.v_head_dim);
    if (d.q_lora_rank > 0) u32("attention.q_lora_rank", d.q_lora_rank);
    u32("attention.kv_lora_rank", d.kv_lora_rank);
    u32("expert_count", d.n_expert);
    u32("expert_used_count", d.n_expert_used);
    u32("expert_shared_count", d.n_expert_shared);
    u32("expert_feed_forward_length", d.moe_ff);
    u32("leading_dense_block_count", d.first_k_dense);
    u32("expert_group_count", d.n_group);
    u32("expert_group_used_count", d.topk_group);
    f32("expert_weights_scale", d.routed_scaling);
    w.add(a + "expert_weights_norm", Value::boolean(d.norm_topk_prob));
    u32("expert_gating_func", d.gating == ModelDescription::Gating::kSigmoid ? 2 : 1);
  } else {
    u32("attention.key_length", d.head_dim);
    u32("attention.value_length", d.head_dim);
  }
  const RopeScaling& s = d.rope_scaling;
  if ((s.type == "linear" || s.type == "yarn") && s.factor != 1.0f) {
    w.add(a + "rope.scaling.type", Value::string(s.type));
    f32("rope.scaling.factor", s.factor);
    if (s.original_context > 0) u32("rope.scaling.original_context_length", s.original_context);
    if (s.type == "yarn" && s.mscale_all_dim != 0) f32("rope.scaling.yarn_log_multiplier", 0.1f * s.mscale_all_dim);
  }
}

// llama.cpp's permutation for Llama's Q and K: within each head, Hugging Face's half-split rows
// (i, i + d/2) become adjacent rows (2i, 2i + 1), so GGUF's "normal" RoPE pairs the same values.
int64_t permuted_source_row(int64_t row, int64_t head_dim) {
  const int64_t h = row / head_dim, r = row % head_dim, half = head_dim / 2;
  return h * head_dim + (r % 2) * half + r / 2;
}

}  // namespace

Status convert_hf_to_gguf(const std::string& dir, const std::string& out_path, const QuantTarget& target, std::FILE* log) {
  auto folder = read_hf_folder(dir);
  if (!folder) return folder.status();
  const ModelDescription& d = folder->desc;
  if (d.family == ModelFamily::kDeepseek && d.rope_scaling.type == "yarn" && d.rope_scaling.mscale != d.rope_scaling.mscale_all_dim)
    return unsupported(dir + "/config.json: YaRN mscale " + std::to_string(d.rope_scaling.mscale) + " differs from mscale_all_dim " +
                       std::to_string(d.rope_scaling.mscale_all_dim) + ", which GGUF cannot express");
  std::string name = dir;
  while (name.size() > 1 && name.back() == '/') name.pop_back();
  name = name.substr(name.find_last_of('/') + 1);

  Vocab v = folder->tokenizer->vocab();
  if (v.model == Vocab::Model::kBpe && !v.pre_patterns.empty()) {
    v.pre = PreTokenizer::name_matching(v.pre_patterns);
    if (v.pre.empty()) return unsupported(dir + "/tokenizer.json: its pre-tokenizer matches none GGUF can name");
    v.pre_patterns.clear();
  }
  gguf::GgufWriter w;
  write_hparams(d, name, target, w);
  write_vocab_gguf(v, w);
  if (!folder->chat_template.empty()) w.add("tokenizer.chat_template", Value::string(folder->chat_template));

  std::vector<std::vector<uint8_t>> blobs;
  blobs.reserve(folder->weights->all().size() + 8);
  std::vector<float> row;
  size_t bytes_out = 0;
  // Tensors written, for the log's [i/N]: each routed expert's matrices become one stacked tensor.
  size_t n_out = 0, index = 0;
  {
    std::set<std::string> stacked;
    for (const auto& [n, t] : folder->weights->all()) {
      const size_t at = n.find("_exps.");
      if (at != std::string::npos) stacked.insert(n.substr(0, at));
      else ++n_out;
    }
    n_out += stacked.size();
  }
  // Converts rows (src_row(r) gives the source row of output row r) of `parts` stacked in order.
  auto emit = [&](const std::string& out_name, const std::vector<const Tensor*>& parts, bool permute_heads) -> Status {
    const Tensor& t0 = *parts[0];
    const int64_t cols = t0.ne[0], rows = t0.n_rows();
    const int n_dims = parts.size() > 1 ? 3 : t0.n_dims;
    const DType dt = choose_dtype(target, out_name, n_dims, cols, d.n_layer);
    blobs.emplace_back(row_bytes(dt, cols) * size_t(rows) * parts.size());
    row.resize(size_t(cols));
    uint8_t* out = blobs.back().data();
    for (const Tensor* t : parts)
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t src = permute_heads ? permuted_source_row(r, d.head_dim) : r;
        dequantize_row(t->dtype, t->row(src), row.data(), cols);
        quantize_row(dt, row.data(), out, cols);
        out += row_bytes(dt, cols);
      }
    std::vector<int64_t> ne(t0.ne.begin(), t0.ne.begin() + t0.n_dims);
    if (parts.size() > 1) ne.push_back(int64_t(parts.size()));
    bytes_out += blobs.back().size();
    if (log) {
      std::fprintf(log, "[%4zu/%zu] %-36s %-5s %s\n", ++index, n_out, out_name.c_str(), std::string(dtype_name(dt)).c_str(),
                   t0.shape_string().c_str());
      std::fflush(log);
    }
    return w.add_tensor(out_name, dt, ne, blobs.back().data());
  };

  std::map<std::string, std::vector<const Tensor*>> experts;  // stacked name -> per-expert tensors
  for (const auto& [n, t] : folder->weights->all()) {
    // "blk.N.ffn_gate_exps.E.weight" -> stacked "blk.N.ffn_gate_exps.weight"
    const size_t at = n.find("_exps.");
    if (at != std::string::npos && n.compare(n.size() - 7, 7, ".weight") == 0 && n.size() > at + 6 + 7) {
      const std::string stacked = n.substr(0, at + 5) + ".weight";
      const size_t e = size_t(std::stoll(n.substr(at + 6)));
      auto& v2 = experts[stacked];
      if (v2.size() <= e) v2.resize(e + 1, nullptr);
      v2[e] = &t;
      continue;
    }
    const bool permute = d.architecture == "llama" &&
                         (n.find("attn_q.weight") != std::string::npos || n.find("attn_k.weight") != std::string::npos);
    if (Status s = emit(n, {&t}, permute); !s) return s;
  }
  for (auto& [n, parts] : experts) {
    if (int64_t(parts.size()) != d.n_expert || std::find(parts.begin(), parts.end(), nullptr) != parts.end())
      return format_error(dir + ": experts of '" + n + "' are incomplete (" + std::to_string(d.n_expert) + " expected)");
    if (Status s = emit(n, parts, false); !s) return s;
  }
  if (d.architecture == "llama" && d.rope_scaling.type == "llama3" && d.rope_scaling.factor != 1.0f) {
    // llama.cpp reads Llama 3.1's scaling as a divisor per frequency.
    auto scaled = make_rope_table(d);
    if (!scaled) return scaled.status();
    ModelDescription plain = d;
    plain.rope_scaling = RopeScaling();
    auto base = make_rope_table(plain);
    std::vector<float> factors(scaled->inv_freq.size());
    for (size_t i = 0; i < factors.size(); ++i) factors[i] = float(base->inv_freq[i] / scaled->inv_freq[i]);
    blobs.emplace_back(factors.size() * sizeof(float));
    std::memcpy(blobs.back().data(), factors.data(), blobs.back().size());
    if (Status s = w.add_tensor("rope_freqs.weight", DType::F32, {int64_t(factors.size())}, blobs.back().data()); !s) return s;
  }
  if (log) std::fprintf(log, "%s: %.1f MiB of weights\n", out_path.c_str(), double(bytes_out) / (1 << 20));
  return w.write(out_path);
}

}  // namespace ember
