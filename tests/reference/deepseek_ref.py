"""A reference implementation of DeepSeek-V2/V3 (MLA + DeepSeekMoE) in numpy, float64.

Written from DeepSeek's published modeling code (modeling_deepseek.py of DeepSeek-V2 and V3) in
its plain form: keys and values are expanded per head from the latent with kv_b_proj, exactly as
the paper's equations (no absorption; that is the runtime's optimization this checks). Weights come
from a GGUF file through gguf-py, in either of llama.cpp's layouts (attn_kv_b, or attn_k_b +
attn_v_b). RoPE rotates adjacent pairs (DeepSeek's de-interleave + rotate_half on stored weights).
"""
import math

import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize

from .llama_ref import GgufLlama, _field


def yarn_mscale(scale, m):
    return 1.0 if scale <= 1 else 0.1 * m * math.log(scale) + 1.0


class GgufDeepseek:
    def __init__(self, path):
        r = GGUFReader(path)
        a = "deepseek2."
        f = lambda k, d=None: _field(r, a + k, d)  # noqa: E731
        self.n_embd, self.n_layer, self.n_head = f("embedding_length"), f("block_count"), f("attention.head_count")
        self.eps = f("attention.layer_norm_rms_epsilon", 1e-6)
        self.theta = f("rope.freq_base", 10000.0)
        self.rope = f("rope.dimension_count")
        # Newer llama.cpp files: latent widths under key/value_length, per-head ones under *_mla.
        self.nope = f("attention.key_length_mla", f("attention.key_length")) - self.rope
        self.v_dim = f("attention.value_length_mla", f("attention.value_length"))
        self.q_lora = f("attention.q_lora_rank", 0)
        self.kv_lora = f("attention.kv_lora_rank")
        self.n_expert = f("expert_count", 0)
        self.n_used = f("expert_used_count", 0)
        self.n_shared = f("expert_shared_count", 0)
        self.first_dense = f("leading_dense_block_count", 0)
        self.n_group = f("expert_group_count", 1)
        self.topk_group = f("expert_group_used_count", 1)
        self.scaling_factor = f("expert_weights_scale", 1.0)
        self.norm_topk = bool(f("expert_weights_norm", False))
        self.sigmoid = f("expert_gating_func", 1) == 2
        self.rs_type = f("rope.scaling.type", "none")
        self.rs_factor = f("rope.scaling.factor", 1.0)
        self.rs_orig = f("rope.scaling.original_context_length", 0)
        self.mscale_all_dim = f("rope.scaling.yarn_log_multiplier", 0.0) / 0.1
        self.w = {}
        for t in r.tensors:
            shape = tuple(int(d) for d in reversed(t.shape.tolist()))
            self.w[t.name] = dequantize(t.data, t.tensor_type).astype(np.float64).reshape(shape)
        self.out = self.w.get("output.weight", self.w["token_embd.weight"])
        self._rope_tables()

    @classmethod
    def from_hf(cls, folder):
        """A Hugging Face folder (DeepseekV2ForCausalLM / DeepseekV3ForCausalLM config.json)."""
        from .hf import read_config, read_hf_weights
        c = read_config(folder)
        self = cls.__new__(cls)
        v3 = c["architectures"][0] == "DeepseekV3ForCausalLM"
        self.n_embd, self.n_layer, self.n_head = c["hidden_size"], c["num_hidden_layers"], c["num_attention_heads"]
        self.eps, self.theta = c.get("rms_norm_eps", 1e-6), c.get("rope_theta", 10000.0)
        self.rope, self.nope, self.v_dim = c["qk_rope_head_dim"], c["qk_nope_head_dim"], c["v_head_dim"]
        self.q_lora, self.kv_lora = c.get("q_lora_rank") or 0, c["kv_lora_rank"]
        self.n_expert, self.n_used = c.get("n_routed_experts") or 0, c.get("num_experts_per_tok") or 0
        self.n_shared, self.first_dense = c.get("n_shared_experts") or 0, c.get("first_k_dense_replace", 0)
        self.n_group, self.topk_group = c.get("n_group") or 1, c.get("topk_group") or 1
        self.scaling_factor, self.norm_topk = c.get("routed_scaling_factor", 1.0), c.get("norm_topk_prob", False)
        self.sigmoid = c.get("scoring_func", "sigmoid" if v3 else "softmax") == "sigmoid"
        rs = c.get("rope_scaling") or {}
        self.rs_type = rs.get("type", rs.get("rope_type", "none"))
        self.rs_factor, self.rs_orig = rs.get("factor", 1.0), rs.get("original_max_position_embeddings", 0)
        self.rs_mscale, self.mscale_all_dim = rs.get("mscale", 1.0), rs.get("mscale_all_dim", 0.0)
        self.w = read_hf_weights(folder, self.n_layer)
        self.out = self.w.get("output.weight", self.w["token_embd.weight"])
        self._rope_tables()
        return self

    def _rope_tables(self):
        d, base = self.rope, self.theta
        inv = 1.0 / base ** (np.arange(0, d, 2, dtype=np.float64) / d)
        self.mscale = 1.0
        self.softmax_scale = (self.nope + self.rope) ** -0.5
        if self.rs_type == "yarn":
            # DeepseekV2YarnRotaryEmbedding
            def corr_dim(n_rot):
                return d * math.log(self.rs_orig / (n_rot * 2 * math.pi)) / (2 * math.log(base))
            low = max(math.floor(corr_dim(32)), 0)
            high = min(math.ceil(corr_dim(1)), d - 1)
            if low == high:
                high += 0.001
            ramp = np.clip((np.arange(d // 2) - low) / (high - low), 0, 1)
            inv_mask = 1.0 - ramp
            inv = inv / self.rs_factor * (1 - inv_mask) + inv * inv_mask
            # GGUF files carry no cos/sin mscale: llama.cpp takes it equal to mscale_all_dim.
            m_cos = getattr(self, "rs_mscale", self.mscale_all_dim)
            self.mscale = yarn_mscale(self.rs_factor, m_cos) / yarn_mscale(self.rs_factor, self.mscale_all_dim)
            if self.mscale_all_dim:
                m = yarn_mscale(self.rs_factor, self.mscale_all_dim)
                self.softmax_scale *= m * m
        self.inv_freq = inv

    rmsnorm = staticmethod(GgufLlama.rmsnorm)

    def rope_apply(self, x, pos):
        """x [..., n, heads, rope]: adjacent pairs rotate."""
        ang = pos[:, None] * self.inv_freq[None, :]
        cos, sin = np.cos(ang)[:, None, :] * self.mscale, np.sin(ang)[:, None, :] * self.mscale
        a, b = x[..., 0::2], x[..., 1::2]
        y = np.empty_like(x)
        y[..., 0::2], y[..., 1::2] = a * cos - b * sin, a * sin + b * cos
        return y

    def mlp(self, x, p, kind):
        g, u = x @ self.w[p + f"ffn_gate{kind}.weight"].T, x @ self.w[p + f"ffn_up{kind}.weight"].T
        return (g / (1 + np.exp(-g)) * u) @ self.w[p + f"ffn_down{kind}.weight"].T

    def kv_b(self, p):
        """W_UK [H, nope, kv_lora] and W_UV [H, v, kv_lora] from either GGUF layout."""
        H = self.n_head
        if p + "attn_kv_b.weight" in self.w:
            kvb = self.w[p + "attn_kv_b.weight"].reshape(H, self.nope + self.v_dim, self.kv_lora)
            return kvb[:, : self.nope], kvb[:, self.nope :]
        return self.w[p + "attn_k_b.weight"].transpose(0, 2, 1), self.w[p + "attn_v_b.weight"]

    def route(self, x, p):
        logits = x @ self.w[p + "ffn_gate_inp.weight"].T
        if self.sigmoid:
            scores = 1 / (1 + np.exp(-logits))
        else:
            e = np.exp(logits - logits.max(-1, keepdims=True))
            scores = e / e.sum(-1, keepdims=True)
        choice = scores + self.w.get(p + "exp_probs_b.bias", 0.0)
        ids, weights = [], []
        for t in range(x.shape[0]):
            c = choice[t].copy()
            if self.n_group > 1 and self.topk_group < self.n_group:
                g = c.reshape(self.n_group, -1)
                gs = np.sort(g, axis=1)[:, ::-1]
                group_score = gs[:, :2].sum(1) if self.sigmoid else gs[:, 0]
                keep = np.argsort(-group_score, kind="stable")[: self.topk_group]
                mask = np.zeros(self.n_group, bool)
                mask[keep] = True
                c = np.where(np.repeat(mask, g.shape[1]), c, 0.0)
            idx = np.argsort(-c, kind="stable")[: self.n_used]
            wt = scores[t, idx]
            norm = self.n_used > 1 and self.norm_topk
            if norm:
                wt = wt / (wt.sum() + 1e-20)
            if self.sigmoid or not norm:
                wt = wt * self.scaling_factor
            ids.append(idx)
            weights.append(wt)
        return ids, weights

    def forward(self, tokens):
        w, n, H = self.w, len(tokens), self.n_head
        nope, rope, V, R = self.nope, self.rope, self.v_dim, self.kv_lora
        x = w["token_embd.weight"][np.asarray(tokens)]
        pos = np.arange(n, dtype=np.float64)
        mask = np.triu(np.full((n, n), -np.inf), 1)
        for l in range(self.n_layer):
            p = f"blk.{l}."
            h = self.rmsnorm(x, w[p + "attn_norm.weight"], self.eps)
            if self.q_lora:
                cq = self.rmsnorm(h @ w[p + "attn_q_a.weight"].T, w[p + "attn_q_a_norm.weight"], 1e-6)
                q = cq @ w[p + "attn_q_b.weight"].T
            else:
                q = h @ w[p + "attn_q.weight"].T
            q = q.reshape(n, H, nope + rope)
            q_nope, q_rope = q[..., :nope], self.rope_apply(q[..., nope:], pos)
            kv = h @ w[p + "attn_kv_a_mqa.weight"].T
            c_kv = self.rmsnorm(kv[:, :R], w[p + "attn_kv_a_norm.weight"], 1e-6)
            k_rope = self.rope_apply(kv[:, None, R:], pos)[:, 0]
            w_uk, w_uv = self.kv_b(p)
            k_nope = np.einsum("hdr,jr->jhd", w_uk, c_kv)
            v = np.einsum("hvr,jr->jhv", w_uv, c_kv)
            out = np.empty((n, H, V))
            for hd in range(H):
                s = (q_nope[:, hd] @ k_nope[:, hd].T + q_rope[:, hd] @ k_rope.T) * self.softmax_scale + mask
                s = np.exp(s - s.max(1, keepdims=True))
                s /= s.sum(1, keepdims=True)
                out[:, hd] = s @ v[:, hd]
            x = x + out.reshape(n, H * V) @ w[p + "attn_output.weight"].T
            h = self.rmsnorm(x, w[p + "ffn_norm.weight"], self.eps)
            if self.n_expert == 0 or l < self.first_dense:
                x = x + self.mlp(h, p, "")
                continue
            y = np.zeros_like(x)
            if self.n_shared:
                y += self.mlp(h, p, "_shexp")
            ids, weights = self.route(h, p)
            for t in range(n):
                for e, wt in zip(ids[t], weights[t]):
                    g = h[t] @ w[p + "ffn_gate_exps.weight"][e].T
                    u = h[t] @ w[p + "ffn_up_exps.weight"][e].T
                    y[t] += wt * ((g / (1 + np.exp(-g)) * u) @ w[p + "ffn_down_exps.weight"][e].T)
            x = x + y
        return self.rmsnorm(x, w["output_norm.weight"], self.eps) @ self.out.T
