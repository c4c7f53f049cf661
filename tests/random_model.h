// Tiny random models written with Ember's GgufWriter, for tests that check identities (incremental
// decode == prefill, cache layout, state) on every build, including the sanitizer and AArch64 ones.
// Their numbers are checked against the independent numpy reference in tests/python.
#pragma once

#include <unistd.h>

#include <cmath>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "ember/formats/gguf.h"
#include "ember/tokenizer/tokenizer.h"
#include "test_util.h"

namespace ember::test {

struct RandomModel {
  std::string arch = "llama";  // llama | qwen2 | deepseek2
  DType wtype = DType::F32;
  int64_t n_embd = 64, n_head = 4, n_head_kv = 2, n_ff = 96, n_layer = 2, n_vocab = 300;
  // deepseek2
  int64_t q_lora = 32, kv_lora = 32, nope = 16, rope = 8, v_dim = 16, moe_ff = 32, n_expert = 8, n_used = 3, n_shared = 1,
          first_dense = 1, n_group = 1, topk_group = 1;
  bool sigmoid = false;
  uint64_t seed = 1;
  std::string omit;  // a tensor not to write (tests of the missing-tensor error)

  // Writes the model to a per-process temporary file and returns its path.
  std::string write(const std::string& name) const {
    gguf::GgufWriter w;
    using gguf::Value;
    const std::string a = arch + ".";
    w.add("general.architecture", Value::string(arch));
    auto u32 = [&](const std::string& k, int64_t v) { w.add(a + k, Value::u32(uint32_t(v))); };
    u32("context_length", 256);
    u32("embedding_length", n_embd);
    u32("block_count", n_layer);
    u32("feed_forward_length", n_ff);
    u32("attention.head_count", n_head);
    u32("attention.head_count_kv", n_head_kv);
    w.add(a + "attention.layer_norm_rms_epsilon", Value::f32(1e-5f));
    w.add(a + "rope.freq_base", Value::f32(10000.0f));
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
    }
    Vocab v;
    v.model = Vocab::Model::kSpm;
    v.bos = 1, v.eos = 2, v.unk = 0, v.add_bos = true;
    for (int64_t i = 0; i < n_vocab; ++i) {
      v.tokens.push_back(i == 0 ? "<unk>" : i == 1 ? "<s>" : i == 2 ? "</s>" : "\xE2\x96\x81w" + std::to_string(i));
      v.scores.push_back(-float(i));
      v.types.push_back(i == 0 ? TokenType::kUnknown : i < 3 ? TokenType::kControl : TokenType::kNormal);
    }
    write_vocab_gguf(v, w);

    uint64_t s = seed;
    auto mat = [&](const std::string& n, std::vector<int64_t> ne, DType t) {
      if (n == omit) return;
      int64_t rows = 1;
      for (size_t i = 1; i < ne.size(); ++i) rows *= ne[i];
      const std::vector<float> x = random_floats(ne[0] * rows, ++s, 1.0f / std::sqrt(float(ne[0])));
      std::vector<uint8_t>& q = store_[n];
      q.resize(row_bytes(t, ne[0]) * size_t(rows));
      for (int64_t r = 0; r < rows; ++r) quantize_row(t, x.data() + r * ne[0], q.data() + size_t(r) * row_bytes(t, ne[0]), ne[0]);
      EXPECT_TRUE(w.add_tensor(n, t, ne, q.data()));
    };
    auto vec = [&](const std::string& n, int64_t len) {
      if (n == omit) return;
      std::vector<float> x = random_floats(len, ++s, 0.1f);
      for (float& f : x) f += 1.0f;
      std::vector<uint8_t>& q = store_[n];
      q.resize(size_t(len) * 4);
      std::memcpy(q.data(), x.data(), q.size());
      EXPECT_TRUE(w.add_tensor(n, DType::F32, {len}, q.data()));
    };
    const DType T = wtype;
    mat("token_embd.weight", {n_embd, n_vocab}, T);
    vec("output_norm.weight", n_embd);
    mat("output.weight", {n_embd, n_vocab}, T);
    const int64_t hd = n_embd / n_head;
    for (int64_t l = 0; l < n_layer; ++l) {
      const std::string p = "blk." + std::to_string(l) + ".";
      vec(p + "attn_norm.weight", n_embd);
      vec(p + "ffn_norm.weight", n_embd);
      if (!ds) {
        mat(p + "attn_q.weight", {n_embd, n_head * hd}, T);
        mat(p + "attn_k.weight", {n_embd, n_head_kv * hd}, T);
        mat(p + "attn_v.weight", {n_embd, n_head_kv * hd}, T);
        mat(p + "attn_output.weight", {n_head * hd, n_embd}, T);
      } else {
        if (q_lora) {
          mat(p + "attn_q_a.weight", {n_embd, q_lora}, T);
          vec(p + "attn_q_a_norm.weight", q_lora);
          mat(p + "attn_q_b.weight", {q_lora, n_head * (nope + rope)}, T);
        } else {
          mat(p + "attn_q.weight", {n_embd, n_head * (nope + rope)}, T);
        }
        mat(p + "attn_kv_a_mqa.weight", {n_embd, kv_lora + rope}, T);
        vec(p + "attn_kv_a_norm.weight", kv_lora);
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
      if (sigmoid) vec(p + "exp_probs_b.bias", n_expert);
      mat(p + "ffn_gate_exps.weight", {n_embd, moe_ff, n_expert}, T);
      mat(p + "ffn_up_exps.weight", {n_embd, moe_ff, n_expert}, T);
      mat(p + "ffn_down_exps.weight", {moe_ff, n_embd, n_expert}, T);
      if (n_shared) {
        mat(p + "ffn_gate_shexp.weight", {n_embd, moe_ff * n_shared}, T);
        mat(p + "ffn_up_shexp.weight", {n_embd, moe_ff * n_shared}, T);
        mat(p + "ffn_down_shexp.weight", {moe_ff * n_shared, n_embd}, T);
      }
    }
    const std::string path = ::testing::TempDir() + "/ember-" + name + "-" + std::to_string(::getpid()) + ".gguf";
    EXPECT_TRUE(w.write(path));
    return path;
  }

 private:
  mutable std::map<std::string, std::vector<uint8_t>> store_;
};

}  // namespace ember::test
