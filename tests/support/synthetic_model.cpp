#include "synthetic_model.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <list>
#include <random>
#include <vector>

#include "ember/core/quantize.h"
#include "ember/formats/gguf.h"
#include "ember/tokenizer/tokenizer.h"

namespace ember {

std::vector<float> normal_floats(int64_t n, uint64_t seed, float scale) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(rng);
  return v;
}

namespace {

// A vocabulary of n SentencePiece-style pieces: <unk>, <s>, </s>, then "▁w3", "▁w4", ...
Vocab synthetic_vocab(int64_t n) {
  Vocab v;
  v.model = Vocab::Model::kSpm;
  v.bos = 1, v.eos = 2, v.unk = 0, v.add_bos = true;
  v.tokens.reserve(size_t(n));
  for (int64_t i = 0; i < n; ++i) {
    v.tokens.push_back(i == 0 ? "<unk>" : i == 1 ? "<s>" : i == 2 ? "</s>" : "\xE2\x96\x81w" + std::to_string(i));
    v.scores.push_back(-float(i));
    v.types.push_back(i == 0 ? TokenType::kUnknown : i < 3 ? TokenType::kControl : TokenType::kNormal);
  }
  return v;
}

}  // namespace

DType storable_type(DType t, int64_t cols) {
  if (cols % dtype_block_size(t) == 0) return t;
  // llama.cpp's fallbacks for rows the 256-value K blocks do not divide (Qwen2.5-0.5B's 896).
  switch (t) {
    case DType::Q4_K: return DType::Q5_0;
    case DType::Q5_K: return DType::Q5_1;
    default: return DType::Q8_0;
  }
}

Status SyntheticModel::write(const std::string& path) const {
  gguf::GgufWriter w;
  using gguf::Value;
  const std::string a = arch + ".";
  w.add("general.architecture", Value::string(arch));
  w.add("general.name", Value::string("ember synthetic " + arch));
  auto u32 = [&](const std::string& k, int64_t v) { w.add(a + k, Value::u32(uint32_t(v))); };
  u32("context_length", n_ctx_train);
  u32("embedding_length", n_embd);
  u32("block_count", n_layer);
  u32("feed_forward_length", n_ff);
  u32("attention.head_count", n_head);
  u32("attention.head_count_kv", n_head_kv);
  w.add(a + "attention.layer_norm_rms_epsilon", Value::f32(1e-5f));
  w.add(a + "rope.freq_base", Value::f32(rope_theta));
  const bool ds = arch == "deepseek2";
  if (ds) {
    u32("rope.dimension_count", rope);
    u32("attention.key_length", nope + rope);
    u32("attention.value_length", v_dim);
    if (q_lora) u32("attention.q_lora_rank", q_lora);
    u32("attention.kv_lora_rank", kv_lora);
    u32("expert_count", n_expert);
    u32("expert_used_count", n_used);
    u32("expert_shared_count", n_shared);
    u32("expert_feed_forward_length", moe_ff);
    u32("leading_dense_block_count", first_dense);
    u32("expert_group_count", n_group);
    u32("expert_group_used_count", topk_group);
    u32("expert_gating_func", sigmoid ? 2 : 1);
    w.add(a + "expert_weights_scale", Value::f32(1.5f));
    w.add(a + "expert_weights_norm", Value::boolean(sigmoid));
  } else if (head_dim && head_dim != n_embd / n_head) {
    u32("attention.key_length", head_dim);
    u32("attention.value_length", head_dim);
  }
  write_vocab_gguf(synthetic_vocab(n_vocab), w);

  std::list<std::vector<uint8_t>> store;  // tensor bytes, alive until w.write()
  Status st;
  uint64_t s = seed;
  auto mat = [&](const std::string& name, std::vector<int64_t> ne, DType t) {
    if (name == omit || !st.is_ok()) return;
    t = storable_type(t, ne[0]);
    int64_t rows = 1;
    for (size_t i = 1; i < ne.size(); ++i) rows *= ne[i];
    const int64_t cols = ne[0];
    const size_t rb = row_bytes(t, cols);
    const float scale = 1.0f / std::sqrt(float(cols));
    std::vector<uint8_t>& q = store.emplace_back(rb * size_t(rows));
    const int64_t distinct = fill == Fill::kRandom ? rows : std::min<int64_t>(rows, 256);
    const std::vector<float> x = normal_floats(cols * distinct, ++s, scale);
    for (int64_t r = 0; r < distinct; ++r) quantize_row(t, x.data() + r * cols, q.data() + size_t(r) * rb, cols);
    for (int64_t r = distinct; r < rows; r += distinct)
      std::memcpy(q.data() + size_t(r) * rb, q.data(), size_t(std::min(distinct, rows - r)) * rb);
    st = w.add_tensor(name, t, ne, q.data());
  };
  auto vec = [&](const std::string& name, int64_t len, float center) {
    if (name == omit || !st.is_ok()) return;
    std::vector<float> x = normal_floats(len, ++s, 0.1f);
    for (float& f : x) f += center;
    std::vector<uint8_t>& q = store.emplace_back(size_t(len) * 4);
    std::memcpy(q.data(), x.data(), q.size());
    st = w.add_tensor(name, DType::F32, {len}, q.data());
  };
  const DType T = wtype;
  mat("token_embd.weight", {n_embd, n_vocab}, T);
  vec("output_norm.weight", n_embd, 1.0f);
  if (!tied_output) mat("output.weight", {n_embd, n_vocab}, T);
  const int64_t hd = head_dim ? head_dim : n_embd / n_head;
  for (int64_t l = 0; l < n_layer; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    vec(p + "attn_norm.weight", n_embd, 1.0f);
    vec(p + "ffn_norm.weight", n_embd, 1.0f);
    if (!ds) {
      mat(p + "attn_q.weight", {n_embd, n_head * hd}, T);
      mat(p + "attn_k.weight", {n_embd, n_head_kv * hd}, T);
      mat(p + "attn_v.weight", {n_embd, n_head_kv * hd}, T);
      mat(p + "attn_output.weight", {n_head * hd, n_embd}, T);
      if (qkv_bias) {
        vec(p + "attn_q.bias", n_head * hd, 0.0f);
        vec(p + "attn_k.bias", n_head_kv * hd, 0.0f);
        vec(p + "attn_v.bias", n_head_kv * hd, 0.0f);
      }
    } else {
      if (q_lora) {
        mat(p + "attn_q_a.weight", {n_embd, q_lora}, T);
        vec(p + "attn_q_a_norm.weight", q_lora, 1.0f);
        mat(p + "attn_q_b.weight", {q_lora, n_head * (nope + rope)}, T);
      } else {
        mat(p + "attn_q.weight", {n_embd, n_head * (nope + rope)}, T);
      }
      mat(p + "attn_kv_a_mqa.weight", {n_embd, kv_lora + rope}, T);
      vec(p + "attn_kv_a_norm.weight", kv_lora, 1.0f);
      mat(p + "attn_kv_b.weight", {kv_lora, n_head * (nope + v_dim)}, T);
      mat(p + "attn_output.weight", {n_head * v_dim, n_embd}, T);
    }
    if (!ds || l < first_dense) {
      mat(p + "ffn_gate.weight", {n_embd, n_ff}, T);
      mat(p + "ffn_up.weight", {n_embd, n_ff}, T);
      mat(p + "ffn_down.weight", {n_ff, n_embd}, T);
      continue;
    }
    mat(p + "ffn_gate_inp.weight", {n_embd, n_expert}, DType::F32);
    if (sigmoid) vec(p + "exp_probs_b.bias", n_expert, 0.0f);
    mat(p + "ffn_gate_exps.weight", {n_embd, moe_ff, n_expert}, T);
    mat(p + "ffn_up_exps.weight", {n_embd, moe_ff, n_expert}, T);
    mat(p + "ffn_down_exps.weight", {moe_ff, n_embd, n_expert}, T);
    if (n_shared) {
      mat(p + "ffn_gate_shexp.weight", {n_embd, moe_ff * n_shared}, T);
      mat(p + "ffn_up_shexp.weight", {n_embd, moe_ff * n_shared}, T);
      mat(p + "ffn_down_shexp.weight", {moe_ff * n_shared, n_embd}, T);
    }
  }
  if (!st.is_ok()) return st;
  return w.write(path);
}

SyntheticModel qwen25_05b_shape(DType t) {
  SyntheticModel m;
  m.arch = "qwen2";
  m.wtype = t;
  m.n_embd = 896, m.n_head = 14, m.n_head_kv = 2, m.n_ff = 4864, m.n_layer = 24, m.n_vocab = 151936;
  m.n_ctx_train = 32768, m.rope_theta = 1000000.0f, m.tied_output = true, m.qkv_bias = true;
  m.fill = SyntheticModel::Fill::kRepeatRows;
  return m;
}

SyntheticModel qwen25_15b_shape(DType t) {
  SyntheticModel m = qwen25_05b_shape(t);
  m.n_embd = 1536, m.n_head = 12, m.n_head_kv = 2, m.n_ff = 8960, m.n_layer = 28;
  return m;
}

SyntheticModel deepseek_v2_lite_shape(DType t, int64_t layers) {
  SyntheticModel m;
  m.arch = "deepseek2";
  m.wtype = t;
  m.n_embd = 2048, m.n_head = 16, m.n_head_kv = 16, m.n_ff = 10944, m.n_layer = layers, m.n_vocab = 102400;
  m.n_ctx_train = 163840;
  m.q_lora = 1536, m.kv_lora = 512, m.nope = 128, m.rope = 64, m.v_dim = 128;
  m.moe_ff = 1408, m.n_expert = 64, m.n_used = 6, m.n_shared = 2, m.first_dense = 1, m.n_group = 1, m.topk_group = 1;
  m.fill = SyntheticModel::Fill::kRepeatRows;
  return m;
}

}  // namespace ember
