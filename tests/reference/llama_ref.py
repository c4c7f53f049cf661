"""A reference implementation of the Llama family (Llama-2/3, Qwen2) in numpy, float64.

Written from the published model code's equations (Hugging Face `modeling_llama.py` /
`modeling_qwen2.py`, Meta's `model.py`), not from Ember's C++. Weights come from a GGUF file
through the `gguf` PyPI package, which also dequantizes every block type, so nothing here shares
code with the runtime under test.

GGUF conventions it follows: tensors are stored [rows, cols] (gguf-py returns them so), Llama
files have Q/K rows permuted so RoPE rotates adjacent pairs (2i, 2i+1), Qwen2 files keep Hugging
Face's half split (i, i + d/2).
"""
import math

import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize


def _field(reader, key, default=None):
    f = reader.fields.get(key)
    if f is None:
        return default
    part = f.parts[f.data[0]]
    if f.types[0].name == "STRING":
        return bytes(part).decode("utf-8")
    return part[0].item()


class GgufLlama:
    def __init__(self, path):
        r = GGUFReader(path)
        self.arch = _field(r, "general.architecture")
        a = self.arch + "."
        self.n_embd = _field(r, a + "embedding_length")
        self.n_layer = _field(r, a + "block_count")
        self.n_head = _field(r, a + "attention.head_count")
        self.n_head_kv = _field(r, a + "attention.head_count_kv", self.n_head)
        self.head_dim = _field(r, a + "attention.key_length", self.n_embd // self.n_head)
        self.rope_dim = _field(r, a + "rope.dimension_count", self.head_dim)
        self.eps = _field(r, a + "attention.layer_norm_rms_epsilon", 1e-5)
        self.theta = _field(r, a + "rope.freq_base", 10000.0)
        self.scaling = _field(r, a + "rope.scaling.type", "none")
        self.factor = _field(r, a + "rope.scaling.factor", 1.0)
        self.orig_ctx = _field(r, a + "rope.scaling.original_context_length", 0)
        self.neox = self.arch == "qwen2"
        self.w = {}
        for t in r.tensors:
            x = dequantize(t.data, t.tensor_type).astype(np.float64)
            shape = tuple(int(d) for d in reversed(t.shape.tolist()))  # rows first
            self.w[t.name] = x.reshape(shape)
        self.n_vocab = self.w["token_embd.weight"].shape[0]
        self.out = self.w.get("output.weight", self.w["token_embd.weight"])
        self.inv_freq = self._inv_freq()
        if "rope_freqs.weight" in self.w:  # Llama 3.1 files: the llama3 rule's divisors, precomputed
            self.inv_freq = self.inv_freq / self.w["rope_freqs.weight"]

    @classmethod
    def from_hf(cls, folder):
        """A Hugging Face folder: both Llama and Qwen2 checkpoints rotate the two halves of a head."""
        from .hf import read_config, read_hf_weights
        c = read_config(folder)
        self = cls.__new__(cls)
        self.arch = {"LlamaForCausalLM": "llama", "Qwen2ForCausalLM": "qwen2"}[c["architectures"][0]]
        self.n_embd, self.n_layer, self.n_head = c["hidden_size"], c["num_hidden_layers"], c["num_attention_heads"]
        self.n_head_kv = c.get("num_key_value_heads", self.n_head)
        self.head_dim = c.get("head_dim", self.n_embd // self.n_head)
        self.rope_dim = self.head_dim
        self.eps, self.theta = c.get("rms_norm_eps", 1e-6), c.get("rope_theta", 10000.0)
        rs = c.get("rope_scaling") or {}
        self.scaling = rs.get("rope_type", rs.get("type", "none"))
        self.factor, self.orig_ctx = rs.get("factor", 1.0), rs.get("original_max_position_embeddings", 0)
        self.neox = True
        self.w = read_hf_weights(folder, self.n_layer)
        self.n_vocab = self.w["token_embd.weight"].shape[0]
        self.out = self.w.get("output.weight", self.w["token_embd.weight"])
        self.inv_freq = self._inv_freq()
        return self

    def _inv_freq(self):
        d = self.rope_dim
        inv = 1.0 / (self.theta ** (np.arange(0, d, 2, dtype=np.float64) / d))
        if self.scaling == "linear":
            inv = inv / self.factor
        elif self.scaling == "llama3":
            # transformers _compute_llama3_parameters (low_freq_factor 1, high_freq_factor 4: GGUF
            # files of Llama 3.1 carry the result as rope_freqs instead; tests write these defaults)
            low, high = 1.0, 4.0
            low_wl, high_wl = self.orig_ctx / low, self.orig_ctx / high
            wl = 2 * math.pi / inv
            smooth = (self.orig_ctx / wl - low) / (high - low)
            mid = (1 - smooth) * inv / self.factor + smooth * inv
            inv = np.where(wl < high_wl, inv, np.where(wl > low_wl, inv / self.factor, mid))
        elif self.scaling not in ("none", None):
            raise NotImplementedError(self.scaling)
        return inv

    @staticmethod
    def rmsnorm(x, w, eps):
        return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w

    def rope(self, x, pos):
        """x: [n, heads, head_dim], rotated in place of the first rope_dim values."""
        d = self.rope_dim
        ang = pos[:, None] * self.inv_freq[None, :]
        cos, sin = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
        x = x.copy()
        if self.neox:
            a, b = x[..., : d // 2].copy(), x[..., d // 2 : d].copy()
            x[..., : d // 2], x[..., d // 2 : d] = a * cos - b * sin, a * sin + b * cos
        else:
            a, b = x[..., 0:d:2].copy(), x[..., 1:d:2].copy()
            x[..., 0:d:2], x[..., 1:d:2] = a * cos - b * sin, a * sin + b * cos
        return x

    def forward(self, tokens):
        """Logits [n, n_vocab] for every position of a causal pass over `tokens`."""
        w, n = self.w, len(tokens)
        hd, nh, nkv = self.head_dim, self.n_head, self.n_head_kv
        x = w["token_embd.weight"][np.asarray(tokens)]
        pos = np.arange(n, dtype=np.float64)
        mask = np.triu(np.full((n, n), -np.inf), 1)
        for l in range(self.n_layer):
            p = f"blk.{l}."
            h = self.rmsnorm(x, w[p + "attn_norm.weight"], self.eps)
            q, k, v = (h @ w[p + f"attn_{t}.weight"].T for t in "qkv")
            if p + "attn_q.bias" in w:
                q, k, v = q + w[p + "attn_q.bias"], k + w[p + "attn_k.bias"], v + w[p + "attn_v.bias"]
            q = self.rope(q.reshape(n, nh, hd), pos)
            k = self.rope(k.reshape(n, nkv, hd), pos)
            v = v.reshape(n, nkv, hd)
            group = nh // nkv
            out = np.empty((n, nh, hd))
            for head in range(nh):
                kh = head // group
                s = q[:, head, :] @ k[:, kh, :].T / math.sqrt(hd) + mask
                s = np.exp(s - s.max(axis=1, keepdims=True))
                s /= s.sum(axis=1, keepdims=True)
                out[:, head, :] = s @ v[:, kh, :]
            x = x + out.reshape(n, nh * hd) @ w[p + "attn_output.weight"].T
            h = self.rmsnorm(x, w[p + "ffn_norm.weight"], self.eps)
            g, u = h @ w[p + "ffn_gate.weight"].T, h @ w[p + "ffn_up.weight"].T
            x = x + (g / (1 + np.exp(-g)) * u) @ w[p + "ffn_down.weight"].T
        return self.rmsnorm(x, w["output_norm.weight"], self.eps) @ self.out.T

    def greedy(self, tokens, n_new):
        toks = list(tokens)
        for _ in range(n_new):
            toks.append(int(np.argmax(self.forward(toks)[-1])))
        return toks[len(tokens):]
