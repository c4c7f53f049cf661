// The Llama family: Llama-2/3, Qwen2/Qwen2.5 and the DeepSeek-R1 distills of Qwen. Pre-norm
// decoder blocks (Touvron et al. 2023):
//   h = x + W_o · Attention(RoPE(W_q·n(x) + b_q), RoPE(W_k·n(x) + b_k), W_v·n(x) + b_v)
//   y = h + W_down · (silu(W_gate·n(h)) ⊙ W_up·n(h))
// with n = RMSNorm, grouped-query attention (n_head query heads share n_head_kv key/value heads),
// biases only in Qwen2, and logits = W_out · n(y_last) (W_out = the embedding matrix when tied).
#include <cmath>
#include <cstring>

#include "ember/kernels/kernels.h"
#include "families.h"
#include "rope_scaling.h"

namespace ember {
namespace {

using model_util::add_bias;
using model_util::linear;

class LlamaModel final : public Model {
 public:
  struct Layer {
    const float* attn_norm = nullptr;
    Tensor wq, wk, wv, wo;
    const float *bq = nullptr, *bk = nullptr, *bv = nullptr;
    const float* ffn_norm = nullptr;
    Tensor w_gate, w_up, w_down;
  };

  static Result<std::unique_ptr<Model>> create(const ModelDescription& d, std::unique_ptr<Weights> w) {
    std::unique_ptr<LlamaModel> m(new LlamaModel());
    m->desc_ = d;
    const int64_t E = d.n_embd, Q = d.n_head * d.head_dim, KV = d.n_head_kv * d.head_dim;
    model_util::TensorGetter get(*w);
    auto mat = [&](const std::string& name, int64_t cols, int64_t rows_) { return get.mat(name, cols, rows_); };
    auto vec = [&](const std::string& name, int64_t n, bool required = true) { return get.vec(name, n, required); };
    m->tok_embd_ = mat("token_embd.weight", E, d.n_vocab);
    m->out_norm_ = vec("output_norm.weight", E);
    m->output_ = d.tied_embeddings || !w->has("output.weight") ? m->tok_embd_ : mat("output.weight", E, d.n_vocab);
    for (int64_t l = 0; l < d.n_layer && get.status(); ++l) {
      const std::string p = "blk." + std::to_string(l) + ".";
      Layer L;
      L.attn_norm = vec(p + "attn_norm.weight", E);
      L.wq = mat(p + "attn_q.weight", E, Q);
      L.wk = mat(p + "attn_k.weight", E, KV);
      L.wv = mat(p + "attn_v.weight", E, KV);
      L.wo = mat(p + "attn_output.weight", Q, E);
      L.bq = vec(p + "attn_q.bias", Q, d.attn_qkv_bias);
      L.bk = vec(p + "attn_k.bias", KV, d.attn_qkv_bias);
      L.bv = vec(p + "attn_v.bias", KV, d.attn_qkv_bias);
      L.ffn_norm = vec(p + "ffn_norm.weight", E);
      L.w_gate = mat(p + "ffn_gate.weight", E, d.n_ff);
      L.w_up = mat(p + "ffn_up.weight", E, d.n_ff);
      L.w_down = mat(p + "ffn_down.weight", d.n_ff, E);
      m->layers_.push_back(L);
    }
    if (!get.status()) return get.status();
    auto rope = make_rope_table(d);
    if (!rope) return Status(rope.status().code(), w->name() + ": " + rope.status().message());
    m->rope_ = std::move(*rope);
    if (w->has("rope_freqs.weight")) {
      // Llama 3.1 GGUF files carry the llama3 scaling rule's result: a divisor per frequency.
      auto f = w->vector("rope_freqs.weight", d.rope_dim / 2);
      if (!f) return f.status();
      for (size_t i = 0; i < m->rope_.inv_freq.size(); ++i) m->rope_.inv_freq[i] /= (*f)[i];
    }
    m->weight_bytes_ = w->total_bytes();
    m->weights_ = std::move(w);
    return std::unique_ptr<Model>(std::move(m));
  }

  size_t active_weight_bytes() const override {
    size_t n = model_util::bytes(output_);
    for (const Layer& L : layers_)
      for (const Tensor* t : {&L.wq, &L.wk, &L.wv, &L.wo, &L.w_gate, &L.w_up, &L.w_down}) n += model_util::bytes(*t);
    return n;
  }

  KvShape kv_shape() const override {
    const int64_t kv = desc_.n_head_kv * desc_.head_dim;
    return {desc_.n_layer, kv, kv};
  }

  // x, xn: n_embd; q, att: n_head * head_dim; new K and V rows before an F16 cache takes them:
  // n_head_kv * head_dim each; gate, up: n_ff (per token of the batch).
  size_t scratch_bytes(int64_t n_batch) const override {
    const ModelDescription& d = desc_;
    const int64_t per_token = 4 * d.n_embd + 2 * d.n_head * d.head_dim + 2 * d.n_head_kv * d.head_dim;
    return size_t(n_batch * per_token + 2 * model_util::ffn_hidden_floats(n_batch, d.n_ff)) * sizeof(float) +
           16 * kTensorAlignment;  // each take rounds up to 64 bytes
  }

  Status forward(const int32_t* tokens, int64_t n, int64_t pos0, KvCache& kv, Scratch& scratch, ThreadPool* pool,
                 float* logits, bool all_logits, float* hidden) const override {
    const ModelDescription& d = desc_;
    const int64_t E = d.n_embd, hd = d.head_dim, Q = d.n_head * hd, KV = d.n_head_kv * hd;
    if (Status s = model_util::check_batch(d, tokens, n, pos0, kv, scratch); !s) return s;

    model_util::ScratchArena arena(scratch);
    auto take = [&](int64_t floats) { return arena.take(floats); };
    float* x = take(n * E);
    float* xn = take(n * E);
    float* q = take(n * Q);
    float* att = take(n * Q);
    const int64_t ffn_floats = model_util::ffn_hidden_floats(n, d.n_ff);
    float* gate = take(ffn_floats);
    float* up = take(ffn_floats);
    float* ffn_out = take(n * E);
    float* ffn_part = take(n * E);
    float* k_rows = take(n * KV);
    float* v_rows = take(n * KV);
    const bool in_place = kv.type() == DType::F32;

    for (int64_t t = 0; t < n; ++t) model_util::embed(tok_embd_, tokens[t], x + t * E);
    const float scale = 1.0f / std::sqrt(float(hd));
    for (int64_t l = 0; l < d.n_layer; ++l) {
      const Layer& L = layers_[size_t(l)];
      // This batch's keys and values go straight into an F32 cache; an F16 one takes them once
      // they are final (after bias and RoPE).
      float* k_new = in_place ? kv.k_f32(l) + pos0 * KV : k_rows;
      float* v_new = in_place ? kv.v_f32(l) + pos0 * KV : v_rows;
      // Attention block.
      model_util::rmsnorm_rows(x, L.attn_norm, xn, n, E, d.rms_norm_eps, pool);
      model_util::linear_many({{&L.wq, q}, {&L.wk, k_new}, {&L.wv, v_new}}, xn, n, pool);
      if (L.bq) {
        add_bias(q, L.bq, n, Q, pool);
        add_bias(k_new, L.bk, n, KV, pool);
        add_bias(v_new, L.bv, n, KV, pool);
      }
      model_util::for_tokens(n, pool, [&](int64_t t0, int64_t t1) {
        for (int64_t t = t0; t < t1; ++t) {
          rope(q + t * Q, d.n_head, hd, d.rope_dim, pos0 + t, rope_.inv_freq.data(), d.rope_style, rope_.mscale);
          rope(k_new + t * KV, d.n_head_kv, hd, d.rope_dim, pos0 + t, rope_.inv_freq.data(), d.rope_style, rope_.mscale);
        }
      });
      if (!in_place) {
        kv.store_rows(kv.k(l), KV, pos0, k_new, n);
        kv.store_rows(kv.v(l), KV, pos0, v_new, n);
      }
      const AttentionShape shape{n, pos0 + n, d.n_head, d.n_head_kv, hd, pos0, KV, scale};
      attention(q, kv.k(l), kv.v(l), kv.type(), att, shape, pool);
      linear(L.wo, att, n, xn, pool);
      model_util::add_rows(x, xn, n, E, pool);
      // Feed-forward block.
      model_util::rmsnorm_rows(x, L.ffn_norm, xn, n, E, d.rms_norm_eps, pool);
      model_util::ffn(L.w_gate, L.w_up, L.w_down, xn, n, gate, up, ffn_floats, ffn_out, ffn_part, pool);
      model_util::add_rows(x, ffn_out, n, E, pool);
    }
    model_util::lm_head(x, n, all_logits, out_norm_, output_, d.rms_norm_eps, xn, logits, hidden, pool);
    return Status::ok();
  }

  void shift_cache(KvCache& kv, int64_t from, int64_t count, int64_t to) const override {
    const ModelDescription& d = desc_;
    const int64_t KV = d.n_head_kv * d.head_dim;
    kv.move_rows(from, count, to);
    // Keys were rotated for their old positions; rotating by (to - from) more gives the new ones,
    // since rotations compose by adding angles. mscale was applied once already.
    std::vector<float> key(static_cast<size_t>(KV));
    for (int64_t l = 0; l < d.n_layer; ++l)
      for (int64_t t = to; t < to + count; ++t) {
        kv.load_rows(kv.k(l), KV, t, key.data(), 1);
        rope(key.data(), d.n_head_kv, d.head_dim, d.rope_dim, to - from, rope_.inv_freq.data(), d.rope_style, 1.0f);
        kv.store_rows(kv.k(l), KV, t, key.data(), 1);
      }
  }

 private:
  LlamaModel() = default;
  Tensor tok_embd_, output_;
  const float* out_norm_ = nullptr;
  std::vector<Layer> layers_;
  RopeTable rope_;
};

}  // namespace

Result<std::unique_ptr<Model>> make_llama_model(const ModelDescription& d, std::unique_ptr<Weights> w) {
  return LlamaModel::create(d, std::move(w));
}

}  // namespace ember
