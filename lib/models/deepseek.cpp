// The DeepSeek family: DeepSeek-V2, V2-Lite, V3/R1 (DeepSeek-AI 2024, "DeepSeek-V2", sections 2.1-2.2).
//
// Multi-head Latent Attention. Per token, with x = RMSNorm(h):
//   c_q = RMSNorm(W_qa x)              q = W_qb c_q            (or q = W_q x without q_lora_rank)
//   [c_kv | k_R] = W_kva x             c_kv <- RMSNorm(c_kv)   k_R <- RoPE(k_R), one key for all heads
//   each query head is [q_C | q_R], q_R <- RoPE(q_R)
//   score(h, j) = (q_C,h · W_UK,h c_kv,j + q_R,h · k_R,j) * scale,   o_h = W_UV,h Σ_j p(h, j) c_kv,j
// The cache keeps only [c_kv | k_R] per token. Attention runs in the latent space by absorbing W_UK
// into the query (q_C,h · W_UK,h c = (W_UK,h^T q_C,h) · c) and W_UV after the weighted sum, so
// keys and values are never expanded per head. W_UK and W_UV are the two halves of kv_b_proj
// (rows head-major [k_nope | v]); llama.cpp's newer GGUF files store them split (attn_k_b, attn_v_b).
//
// DeepSeekMoE: after first_k_dense dense layers, y = Σ_{e in topk} g_e FFN_e(x) + FFN_shared(x).
// V2 scores experts by softmax, V3 by sigmoid plus a bias used only to choose; both can limit the
// choice to the best topk_group of n_group groups (V2 ranks a group by its best score, V3 by the
// sum of its best two).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "ember/core/quantize.h"
#include "ember/kernels/kernels.h"
#include "families.h"
#include "rope_scaling.h"

namespace ember {
namespace {

using model_util::linear;

constexpr float kLatentNormEps = 1e-6f;  // q_a_layernorm / kv_a_layernorm, whatever rms_norm_eps says

// The 2-D matrix `index` of a stack of matrices (ne = {cols, rows, n}).
Tensor slice(const Tensor& stack, int64_t index) {
  Tensor t = stack;
  t.data = stack.row(0, index);
  t.n_dims = 2;
  t.ne[2] = t.ne[3] = 1;
  t.nb[2] = t.nb[3] = t.nb[1] * size_t(t.ne[1]);
  return t;
}

// Rows [r0, r0 + n) of a matrix, as a matrix.
using model_util::rows;

class DeepseekModel final : public Model {
 public:
  struct Layer {
    const float* attn_norm = nullptr;
    Tensor wq, wq_a, wq_b;  // wq without q_lora_rank, else wq_a / wq_b
    const float* q_a_norm = nullptr;
    Tensor wkv_a;
    const float* kv_a_norm = nullptr;
    std::vector<Tensor> wk_b;  // per head: kv_lora_rank x qk_nope (W_UK transposed)
    std::vector<Tensor> wv_b;  // per head: v_head_dim x kv_lora_rank (W_UV)
    Tensor wo;
    const float* ffn_norm = nullptr;
    bool moe = false;
    Tensor w_gate, w_up, w_down;                 // dense layers; shared experts in MoE layers
    Tensor router;                               // n_expert x n_embd
    const float* router_bias = nullptr;          // V3's e_score_correction_bias
    std::vector<Tensor> e_gate, e_up, e_down;    // routed experts
  };

  static Result<std::unique_ptr<Model>> create(const ModelDescription& d, std::unique_ptr<Weights> w) {
    std::unique_ptr<DeepseekModel> m(new DeepseekModel());
    m->desc_ = d;
    const int64_t E = d.n_embd, H = d.n_head, nope = d.qk_nope_head_dim, rdim = d.qk_rope_head_dim, V = d.v_head_dim;
    const int64_t R = d.kv_lora_rank;
    model_util::TensorGetter get(*w);
    auto mat = [&](const std::string& name, int64_t cols, int64_t rows_) { return get.mat(name, cols, rows_); };
    auto vec = [&](const std::string& name, int64_t n, bool required = true) { return get.vec(name, n, required); };
    m->tok_embd_ = mat("token_embd.weight", E, d.n_vocab);
    m->out_norm_ = vec("output_norm.weight", E);
    m->output_ = d.tied_embeddings || !w->has("output.weight") ? m->tok_embd_ : mat("output.weight", E, d.n_vocab);
    Status st;  // errors of the tensors assembled here rather than fetched
    for (int64_t l = 0; l < d.n_layer && get.status() && st; ++l) {
      const std::string p = "blk." + std::to_string(l) + ".";
      Layer L;
      L.attn_norm = vec(p + "attn_norm.weight", E);
      if (d.q_lora_rank > 0) {
        L.wq_a = mat(p + "attn_q_a.weight", E, d.q_lora_rank);
        L.q_a_norm = vec(p + "attn_q_a_norm.weight", d.q_lora_rank);
        L.wq_b = mat(p + "attn_q_b.weight", d.q_lora_rank, H * (nope + rdim));
      } else {
        L.wq = mat(p + "attn_q.weight", E, H * (nope + rdim));
      }
      L.wkv_a = mat(p + "attn_kv_a_mqa.weight", E, R + rdim);
      L.kv_a_norm = vec(p + "attn_kv_a_norm.weight", R);
      if (get.status()) st = m->load_kv_b(*w, p, L);
      L.wo = mat(p + "attn_output.weight", H * V, E);
      L.ffn_norm = vec(p + "ffn_norm.weight", E);
      L.moe = d.n_expert > 0 && l >= d.first_k_dense;
      if (!L.moe) {
        L.w_gate = mat(p + "ffn_gate.weight", E, d.n_ff);
        L.w_up = mat(p + "ffn_up.weight", E, d.n_ff);
        L.w_down = mat(p + "ffn_down.weight", d.n_ff, E);
      } else {
        L.router = mat(p + "ffn_gate_inp.weight", E, d.n_expert);
        L.router_bias = d.gating == ModelDescription::Gating::kSigmoid ? vec(p + "exp_probs_b.bias", d.n_expert, false) : nullptr;
        if (d.n_expert_shared > 0) {
          const int64_t S = d.moe_ff * d.n_expert_shared;
          L.w_gate = mat(p + "ffn_gate_shexp.weight", E, S);
          L.w_up = mat(p + "ffn_up_shexp.weight", E, S);
          L.w_down = mat(p + "ffn_down_shexp.weight", S, E);
        }
        if (get.status() && st) st = m->load_experts(*w, p, L);
      }
      m->layers_.push_back(std::move(L));
    }
    if (!get.status()) return get.status();
    if (!st) return st;
    auto rope_table = make_rope_table(d);
    if (!rope_table) return Status(rope_table.status().code(), w->name() + ": " + rope_table.status().message());
    m->rope_ = std::move(*rope_table);
    m->scale_ = 1.0f / std::sqrt(float(nope + rdim));
    if (d.rope_scaling.type == "yarn" && d.rope_scaling.mscale_all_dim != 0) {
      const float ms = yarn_mscale(d.rope_scaling.factor, d.rope_scaling.mscale_all_dim);
      m->scale_ *= ms * ms;
    }
    m->weight_bytes_ = w->total_bytes();
    m->weights_ = std::move(w);
    return std::unique_ptr<Model>(std::move(m));
  }

  size_t active_weight_bytes() const override {
    using model_util::bytes;
    size_t n = bytes(output_);
    for (const Layer& L : layers_) {
      for (const Tensor* t : {&L.wq, &L.wq_a, &L.wq_b, &L.wkv_a, &L.wo, &L.w_gate, &L.w_up, &L.w_down, &L.router}) n += bytes(*t);
      for (const Tensor& t : L.wk_b) n += bytes(t);
      for (const Tensor& t : L.wv_b) n += bytes(t);
      if (L.moe && !L.e_gate.empty())
        n += size_t(desc_.n_expert_used) * (bytes(L.e_gate[0]) + bytes(L.e_up[0]) + bytes(L.e_down[0]));
    }
    return n;
  }

  KvShape kv_shape() const override { return {desc_.n_layer, desc_.kv_lora_rank + desc_.qk_rope_head_dim, 0}; }

  // Queries per pass of the latent attention (forward).
  static constexpr int64_t kAttnTokens = 64;

  // Floats each of gate and up hold for a batch of n: a slice of the dense FFN or of the shared
  // experts (model_util::ffn slices both at kFfnSlice columns), a routed expert, and the per-head
  // products' gathered inputs and outputs (per_head), whichever is largest.
  int64_t hidden_floats(int64_t n) const {
    const ModelDescription& d = desc_;
    const int64_t shared = d.moe_ff * std::max<int64_t>(d.n_expert_shared, 1);
    const int64_t ff = std::max({std::min(d.n_ff, model_util::kFfnSlice), std::min(shared, model_util::kFfnSlice), d.moe_ff,
                                 d.kv_lora_rank, d.qk_nope_head_dim, d.v_head_dim});
    return std::max(n * ff, d.n_ff);
  }

  // The buffers only a layer's attention uses and those only its feed-forward uses, for a batch of
  // n: the two sets share one region (neither is live in the other phase), so a batch's scratch is
  // the larger of them, not both (256 tokens of V2-Lite: 11.5 and 6.4 MiB). Over a null region only
  // *floats, the region's size, is computed (phase_floats).
  struct PhaseBuffers {
    float *cq, *q, *q_lat, *att, *o;                  // attention
    float *moe_in, *moe_out, *part, *scores, *choice, *route_w;  // feed-forward
    int32_t* route_id;
  };
  PhaseBuffers phase_buffers(float* region, int64_t n, int64_t* floats) const {
    const ModelDescription& d = desc_;
    const int64_t H = d.n_head, lat = d.kv_lora_rank + d.qk_rope_head_dim, nt = std::min(n, kAttnTokens);
    PhaseBuffers b;
    model_util::ScratchArena attn(region), ffn(region);
    b.cq = attn.take(n * std::max<int64_t>(d.q_lora_rank, 1));
    b.q = attn.take(n * H * (d.qk_nope_head_dim + d.qk_rope_head_dim));
    b.q_lat = attn.take(nt * H * lat);
    b.att = attn.take(nt * H * lat);
    b.o = attn.take(n * H * d.v_head_dim);
    b.moe_in = ffn.take(n * d.n_embd);
    b.moe_out = ffn.take(n * d.n_embd);
    b.part = ffn.take(n * d.n_embd);
    b.scores = ffn.take(n * d.n_expert);
    b.choice = ffn.take(n * d.n_expert);
    b.route_w = ffn.take(n * d.n_expert_used);
    b.route_id = reinterpret_cast<int32_t*>(ffn.take(n * d.n_expert_used));
    *floats = std::max(attn.used(), ffn.used());
    return b;
  }
  int64_t phase_floats(int64_t n) const {
    int64_t floats = 0;
    phase_buffers(nullptr, n, &floats);
    return floats;
  }

  size_t scratch_bytes(int64_t n_batch) const override {
    using A = model_util::ScratchArena;
    const int64_t floats = 3 * A::rounded(n_batch * desc_.n_embd) +
                           A::rounded(n_batch * (desc_.kv_lora_rank + desc_.qk_rope_head_dim)) +  // new rows, F16 cache
                           phase_floats(n_batch) +
                           2 * A::rounded(hidden_floats(n_batch));
    return size_t(floats) * sizeof(float) + kTensorAlignment;
  }

  Status forward(const int32_t* tokens, int64_t n, int64_t pos0, KvCache& kv, Scratch& scratch, ThreadPool* pool,
                 float* logits, bool all_logits, float* hidden) const override {
    const ModelDescription& d = desc_;
    const int64_t E = d.n_embd, H = d.n_head, nope = d.qk_nope_head_dim, rdim = d.qk_rope_head_dim, V = d.v_head_dim;
    const int64_t R = d.kv_lora_rank, lat = R + rdim, QW = nope + rdim;
    if (Status s = model_util::check_batch(d, tokens, n, pos0, kv, scratch); !s) return s;

    model_util::ScratchArena arena(scratch);
    auto take = [&](int64_t floats) { return arena.take(floats); };
    const int64_t ffn_floats = hidden_floats(n);
    float* x = take(n * E);
    float* xn = take(n * E);
    float* tmp = take(n * E);
    float* gate = take(ffn_floats);
    float* up = take(ffn_floats);
    float* kv_rows = take(n * lat);
    const bool in_place = kv.type() == DType::F32;
    int64_t region = phase_floats(n);
    const PhaseBuffers pb = phase_buffers(take(region), n, &region);
    float *cq = pb.cq, *q = pb.q, *q_lat = pb.q_lat, *att = pb.att, *o = pb.o;
    float *moe_in = pb.moe_in, *moe_out = pb.moe_out, *part = pb.part, *scores = pb.scores, *choice = pb.choice,
          *route_w = pb.route_w;
    int32_t* route_id = pb.route_id;

    for (int64_t t = 0; t < n; ++t) model_util::embed(tok_embd_, tokens[t], x + t * E);
    for (int64_t l = 0; l < d.n_layer; ++l) {
      const Layer& L = layers_[size_t(l)];
      // [c_kv | k_R] rows of this batch: in place in an F32 cache; an F16 one takes them once
      // they are final (after the norm and RoPE).
      float* kv_new = in_place ? kv.k_f32(l) + pos0 * lat : kv_rows;
      model_util::rmsnorm_rows(x, L.attn_norm, xn, n, E, d.rms_norm_eps, pool);
      // Queries (through their low-rank latent when q_lora_rank > 0), and the compressed key/value
      // latent with the shared RoPE key into kv_new: one pass over xn.
      if (d.q_lora_rank > 0) {
        model_util::linear_many({{&L.wq_a, cq}, {&L.wkv_a, kv_new}}, xn, n, pool);
        model_util::rmsnorm_rows(cq, L.q_a_norm, cq, n, d.q_lora_rank, kLatentNormEps, pool);
        linear(L.wq_b, cq, n, q, pool);
      } else {
        model_util::linear_many({{&L.wq, q}, {&L.wkv_a, kv_new}}, xn, n, pool);
      }
      model_util::for_tokens(n, pool, [&](int64_t t0, int64_t t1) {
        for (int64_t t = t0; t < t1; ++t) {
          float* row = kv_new + t * lat;
          rmsnorm(row, L.kv_a_norm, row, R, kLatentNormEps);
          rope(row + R, 1, rdim, rdim, pos0 + t, rope_.inv_freq.data(), d.rope_style, rope_.mscale);
          rope(q + t * H * QW + nope, H, QW, rdim, pos0 + t, rope_.inv_freq.data(), d.rope_style, rope_.mscale);
        }
      });
      if (!in_place) kv.store_rows(kv.k(l), lat, pos0, kv_new, n);
      // Attention in the latent space, kAttnTokens queries at a time (their latent queries and
      // outputs are 16 x 576 floats a token for V2-Lite: 9.4 MiB for 256 tokens at once).
      for (int64_t t0 = 0; t0 < n; t0 += kAttnTokens) {
        const int64_t nt = std::min(kAttnTokens, n - t0);
        const float* qt = q + t0 * H * QW;
        // Absorb W_UK: each head's query becomes [W_UK,h^T q_C,h | q_R,h] in the latent space.
        per_head(L.wk_b, qt, QW, q_lat, lat, nt, gate, up, pool);
        for (int64_t t = 0; t < nt; ++t)
          for (int64_t h = 0; h < H; ++h)
            std::memcpy(q_lat + (t * H + h) * lat + R, qt + (t * H + h) * QW + nope, size_t(rdim) * sizeof(float));
        // One shared latent "head" serves as key (all lat values) and value (its first R values).
        const AttentionShape shape{nt, pos0 + t0 + nt, H, 1, lat, pos0 + t0, lat, scale_};
        attention(q_lat, kv.k(l), kv.k(l), kv.type(), att, shape, pool);
        per_head(L.wv_b, att, lat, o + t0 * H * V, V, nt, gate, up, pool);
      }
      linear(L.wo, o, n, tmp, pool);
      model_util::add_rows(x, tmp, n, E, pool);

      // Feed-forward: dense, or shared + routed experts.
      model_util::rmsnorm_rows(x, L.ffn_norm, xn, n, E, d.rms_norm_eps, pool);
      if (L.w_gate.data) {
        model_util::ffn(L.w_gate, L.w_up, L.w_down, xn, n, gate, up, ffn_floats, tmp, part, pool);
        model_util::add_rows(x, tmp, n, E, pool);
      }
      if (L.moe) {
        linear(L.router, xn, n, scores, pool);
        for (int64_t t = 0; t < n; ++t)
          route(L, scores + t * d.n_expert, choice + t * d.n_expert, route_id + t * d.n_expert_used, route_w + t * d.n_expert_used);
        // Expert by expert, the tokens that chose it as one batch: its weights are read once.
        std::fill(moe_out, moe_out + n * E, 0.0f);
        for (int64_t e = 0; e < d.n_expert; ++e) {
          int64_t m = 0;
          int32_t who[512];
          float weight[512];
          for (int64_t t = 0; t < n; ++t)
            for (int64_t k = 0; k < d.n_expert_used; ++k)
              if (route_id[t * d.n_expert_used + k] == e) {
                if (m == 512) {  // a batch larger than the buffer: flush the first 512
                  expert_batch(L, e, who, weight, m, xn, moe_in, gate, up, ffn_floats, tmp, part, moe_out, pool);
                  m = 0;
                }
                who[m] = int32_t(t);
                weight[m++] = route_w[t * d.n_expert_used + k];
              }
          if (m) expert_batch(L, e, who, weight, m, xn, moe_in, gate, up, ffn_floats, tmp, part, moe_out, pool);
        }
        model_util::add_rows(x, moe_out, n, E, pool);
      }
    }
    model_util::lm_head(x, n, all_logits, out_norm_, output_, d.rms_norm_eps, xn, logits, hidden, pool);
    return Status::ok();
  }

  void shift_cache(KvCache& kv, int64_t from, int64_t count, int64_t to) const override {
    const ModelDescription& d = desc_;
    const int64_t lat = d.kv_lora_rank + d.qk_rope_head_dim;
    kv.move_rows(from, count, to);
    std::vector<float> row(static_cast<size_t>(lat));
    for (int64_t l = 0; l < d.n_layer; ++l)
      for (int64_t t = to; t < to + count; ++t) {  // only k_R carries a position
        kv.load_rows(kv.k(l), lat, t, row.data(), 1);
        rope(row.data() + d.kv_lora_rank, 1, d.qk_rope_head_dim, d.qk_rope_head_dim, to - from, rope_.inv_freq.data(),
             d.rope_style, 1.0f);
        kv.store_rows(kv.k(l), lat, t, row.data(), 1);
      }
  }

 private:
  DeepseekModel() = default;

  // W_UK per head as a kv_lora x nope matrix and W_UV as v x kv_lora, from attn_k_b/attn_v_b or
  // from kv_b_proj (whose W_UK half is transposed here once, at load).
  Status load_kv_b(const Weights& w, const std::string& p, Layer& L) {
    const ModelDescription& d = desc_;
    const int64_t H = d.n_head, nope = d.qk_nope_head_dim, V = d.v_head_dim, R = d.kv_lora_rank;
    if (w.has(p + "attn_k_b.weight")) {
      auto kb = w.matrices(p + "attn_k_b.weight", nope, R, H);
      if (!kb) return kb.status();
      auto vb = w.matrices(p + "attn_v_b.weight", R, V, H);
      if (!vb) return vb.status();
      for (int64_t h = 0; h < H; ++h) {
        L.wk_b.push_back(slice(*kb, h));
        L.wv_b.push_back(slice(*vb, h));
      }
      return Status::ok();
    }
    auto kvb = w.matrix(p + "attn_kv_b.weight", R, H * (nope + V));
    if (!kvb) return kvb.status();
    // Transposed copies keep the source's precision class: F32 stays F32, F16 stays F16, block
    // types become Q8_0 (about what they had), anything else F32.
    DType t = kvb->dtype == DType::F16 ? DType::F16 : dtype_traits(kvb->dtype).block_size > 1 && nope % 32 == 0 ? DType::Q8_0 : DType::F32;
    std::vector<float> head(size_t(nope * R)), trans(size_t(R * nope));
    for (int64_t h = 0; h < H; ++h) {
      for (int64_t i = 0; i < nope; ++i) dequantize_row(kvb->dtype, kvb->row(h * (nope + V) + i), head.data() + i * R, R);
      for (int64_t i = 0; i < nope; ++i)
        for (int64_t j = 0; j < R; ++j) trans[size_t(j * nope + i)] = head[size_t(i * R + j)];
      AlignedBuffer buf(row_bytes(t, nope) * size_t(R));
      if (!buf.data()) return out_of_memory("no memory for the absorbed attention weights");
      for (int64_t j = 0; j < R; ++j) quantize_row(t, trans.data() + j * nope, static_cast<char*>(buf.data()) + size_t(j) * row_bytes(t, nope), nope);
      L.wk_b.push_back(Tensor::view(t, buf.data(), {nope, R}));
      owned_.push_back(std::move(buf));
      L.wv_b.push_back(rows(*kvb, h * (nope + V) + nope, V));
    }
    return Status::ok();
  }

  // Routed experts stacked in one tensor per projection (GGUF) or one per expert (Hugging Face).
  Status load_experts(const Weights& w, const std::string& p, Layer& L) {
    const ModelDescription& d = desc_;
    const int64_t E = d.n_embd, F = d.moe_ff;
    struct Proj {
      const char* name;
      int64_t cols, rows;
      std::vector<Tensor>* out;
    } projs[] = {{"ffn_gate_exps", E, F, &L.e_gate}, {"ffn_up_exps", E, F, &L.e_up}, {"ffn_down_exps", F, E, &L.e_down}};
    for (const Proj& pr : projs) {
      const std::string stacked = p + pr.name + ".weight";
      if (w.has(stacked)) {
        auto s = w.matrices(stacked, pr.cols, pr.rows, d.n_expert);
        if (!s) return s.status();
        for (int64_t e = 0; e < d.n_expert; ++e) pr.out->push_back(slice(*s, e));
      } else {
        for (int64_t e = 0; e < d.n_expert; ++e) {
          const std::string one = p + pr.name + "." + std::to_string(e) + ".weight";
          if (!w.has(one)) return format_error(w.name() + ": missing tensor '" + stacked + "' (or per expert, '" + one + "')");
          auto m = w.matrix(one, pr.cols, pr.rows);
          if (!m) return m.status();
          pr.out->push_back(*m);
        }
      }
    }
    return Status::ok();
  }

  // out[(t H + h) * out_stride ..] = W_h in[(t H + h) * in_stride ..] for every token t < n and head
  // h < H: the absorbed per-head products. One token: the heads split across threads. A batch: per
  // head one matmul over the batch's rows, gathered into `gathered` and scattered from `product`
  // (scratch of n x cols and n x rows floats).
  static void per_head(const std::vector<Tensor>& w, const float* in, int64_t in_stride, float* out, int64_t out_stride,
                       int64_t n, float* gathered, float* product, ThreadPool* pool) {
    const int64_t H = int64_t(w.size());
    if (n == 1) {
      parallel_for(pool, H, 1, [&](int64_t h0, int64_t h1) {
        for (int64_t h = h0; h < h1; ++h) linear(w[size_t(h)], in + h * in_stride, 1, out + h * out_stride, nullptr);
      });
      return;
    }
    for (int64_t h = 0; h < H; ++h) {
      const Tensor& W = w[size_t(h)];
      const int64_t cols = W.ne[0], rows = W.ne[1];
      for (int64_t t = 0; t < n; ++t)
        std::memcpy(gathered + t * cols, in + (t * H + h) * in_stride, size_t(cols) * sizeof(float));
      linear(W, gathered, n, product, pool);
      for (int64_t t = 0; t < n; ++t)
        std::memcpy(out + (t * H + h) * out_stride, product + t * rows, size_t(rows) * sizeof(float));
    }
  }

  void expert_batch(const Layer& L, int64_t e, const int32_t* who, const float* weight, int64_t m, const float* xn, float* in,
                    float* gate, float* up, int64_t hidden, float* y, float* part, float* out, ThreadPool* pool) const {
    const int64_t E = desc_.n_embd;
    for (int64_t i = 0; i < m; ++i) std::memcpy(in + i * E, xn + who[i] * E, size_t(E) * sizeof(float));
    model_util::ffn(L.e_gate[size_t(e)], L.e_up[size_t(e)], L.e_down[size_t(e)], in, m, gate, up, hidden, y, part, pool);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < E; ++j) out[who[i] * E + j] += weight[i] * y[i * E + j];
  }

  // Router: scores -> chosen experts and their weights (DeepSeek's MoEGate, V2 and V3).
  void route(const Layer& L, float* s, float* choice, int32_t* id, float* weight) const {
    const ModelDescription& d = desc_;
    const int64_t N = d.n_expert, K = d.n_expert_used;
    const bool v3 = d.gating == ModelDescription::Gating::kSigmoid;
    if (v3) {
      for (int64_t e = 0; e < N; ++e) s[e] = 1.0f / (1.0f + std::exp(-s[e]));
    } else {
      softmax(s, N);
    }
    for (int64_t e = 0; e < N; ++e) choice[e] = s[e] + (L.router_bias ? L.router_bias[e] : 0.0f);
    if (d.n_group > 1 && d.topk_group < d.n_group) {
      // Rank groups (V2: best score; V3: sum of the best two), keep topk_group, zero the rest.
      const int64_t G = d.n_group, per = N / G;
      float group_score[256];
      int32_t best_groups[256];
      float unused[256];
      for (int64_t g = 0; g < G; ++g) {
        int32_t top_id[2];
        float top_val[2];
        topk(choice + g * per, per, std::min<int64_t>(v3 ? 2 : 1, per), top_id, top_val);
        group_score[g] = v3 && per >= 2 ? top_val[0] + top_val[1] : top_val[0];
      }
      topk(group_score, G, d.topk_group, best_groups, unused);
      for (int64_t g = 0; g < G; ++g)
        if (std::find(best_groups, best_groups + d.topk_group, int32_t(g)) == best_groups + d.topk_group)
          std::fill(choice + g * per, choice + (g + 1) * per, 0.0f);
    }
    topk(choice, N, K, id, weight);
    for (int64_t k = 0; k < K; ++k) weight[k] = s[id[k]];  // the unbiased score weighs the expert
    const bool norm = K > 1 && d.norm_topk_prob;
    if (norm) {
      float sum = 0;
      for (int64_t k = 0; k < K; ++k) sum += weight[k];
      for (int64_t k = 0; k < K; ++k) weight[k] /= sum + 1e-20f;
    }
    // V3 always scales; V2's code scales only when it does not normalize.
    if (v3 || !norm)
      for (int64_t k = 0; k < K; ++k) weight[k] *= d.routed_scaling;
  }

  Tensor tok_embd_, output_;
  const float* out_norm_ = nullptr;
  std::vector<Layer> layers_;
  RopeTable rope_;
  float scale_ = 1.0f;
  std::vector<AlignedBuffer> owned_;
};

}  // namespace

Result<std::unique_ptr<Model>> make_deepseek_model(const ModelDescription& d, std::unique_ptr<Weights> w) {
  if (d.n_group > 256) return unsupported(w->name() + ": more than 256 expert groups");
  return DeepseekModel::create(d, std::move(w));
}

}  // namespace ember
