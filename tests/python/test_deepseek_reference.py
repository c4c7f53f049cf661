"""Ember's DeepSeek forward pass (MLA in the latent space + DeepSeekMoE) against the numpy
reference in tests/reference/deepseek_ref.py, which expands keys and values per head as the
published code does. Random checkpoints from fixed seeds, written by gguf-py.

Covers: q_lora present and absent, dense-first layers, shared experts, softmax (V2) and sigmoid +
bias (V3) routing, group-limited routing (V2: best score per group; V3: sum of the best two),
norm_topk_prob with and without routed scaling, YaRN scaling with mscale, both GGUF layouts of
kv_b_proj, F32, F16 and Q8_0 weights; prefill, token-by-token decode and a mix.
"""
import json
import os
import subprocess
import sys

import gguf
import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))
from reference.deepseek_ref import GgufDeepseek  # noqa: E402
from ember_tools import GENERATE, QUANTIZE, ember_logits  # noqa: E402
from random_models import Q, Tensors, add_tokenizer, finish  # noqa: E402



def write_deepseek(path, *, seed, wtype=Q.F32, q_lora=32, kv_lora=32, nope=16, rope=8, v_dim=16, n_embd=64, n_head=4,
                   n_layer=3, n_ff=96, moe_ff=32, n_expert=8, n_used=3, n_shared=2, first_dense=1, n_group=1,
                   topk_group=1, sigmoid=False, bias=False, norm=False, scale=1.0, yarn=None, split_kv_b=False,
                   n_vocab=300):
    w = gguf.GGUFWriter(str(path), "deepseek2")
    w.add_context_length(256)
    w.add_embedding_length(n_embd)
    w.add_block_count(n_layer)
    w.add_feed_forward_length(n_ff)
    w.add_head_count(n_head)
    w.add_layer_norm_rms_eps(1e-6)
    w.add_rope_freq_base(10000.0)
    w.add_rope_dimension_count(rope)
    if q_lora:
        w.add_q_lora_rank(q_lora)
    w.add_kv_lora_rank(kv_lora)
    if split_kv_b:  # llama.cpp's newer converter: MQA over the latent, per-head widths in *_mla
        w.add_head_count_kv(1)
        w.add_key_length(kv_lora + rope)
        w.add_value_length(kv_lora)
        w.add_key_length_mla(nope + rope)
        w.add_value_length_mla(v_dim)
    else:
        w.add_head_count_kv(n_head)
        w.add_key_length(nope + rope)
        w.add_value_length(v_dim)
    w.add_expert_count(n_expert)
    w.add_expert_used_count(n_used)
    w.add_expert_shared_count(n_shared)
    w.add_expert_feed_forward_length(moe_ff)
    w.add_leading_dense_block_count(first_dense)
    w.add_expert_group_count(n_group)
    w.add_expert_group_used_count(topk_group)
    w.add_expert_weights_scale(scale)
    w.add_expert_weights_norm(norm)
    w.add_expert_gating_func(gguf.ExpertGatingFuncType.SIGMOID if sigmoid else gguf.ExpertGatingFuncType.SOFTMAX)
    if yarn:
        factor, mscale_all_dim = yarn
        w.add_rope_scaling_type(gguf.RopeScalingType.YARN)
        w.add_rope_scaling_factor(factor)
        w.add_rope_scaling_orig_ctx_len(64)
        w.add_rope_scaling_yarn_log_mul(0.1 * mscale_all_dim)
    add_tokenizer(w, n_vocab)
    t = Tensors(w, seed, wtype)
    t.mat("token_embd.weight", n_vocab, n_embd, scale=1.0)
    t.vec("output_norm.weight", n_embd)
    t.mat("output.weight", n_vocab, n_embd)
    H = n_head
    for l in range(n_layer):
        p = f"blk.{l}."
        t.vec(p + "attn_norm.weight", n_embd)
        if q_lora:
            t.mat(p + "attn_q_a.weight", q_lora, n_embd)
            t.vec(p + "attn_q_a_norm.weight", q_lora)
            t.mat(p + "attn_q_b.weight", H * (nope + rope), q_lora)
        else:
            t.mat(p + "attn_q.weight", H * (nope + rope), n_embd)
        t.mat(p + "attn_kv_a_mqa.weight", kv_lora + rope, n_embd)
        t.vec(p + "attn_kv_a_norm.weight", kv_lora)
        if split_kv_b:
            t.mat(p + "attn_k_b.weight", H, kv_lora, nope, dtype=Q.F32)
            t.mat(p + "attn_v_b.weight", H, v_dim, kv_lora)
        else:
            t.mat(p + "attn_kv_b.weight", H * (nope + v_dim), kv_lora)
        t.mat(p + "attn_output.weight", n_embd, H * v_dim)
        t.vec(p + "ffn_norm.weight", n_embd)
        if l < first_dense:
            t.mat(p + "ffn_gate.weight", n_ff, n_embd)
            t.mat(p + "ffn_up.weight", n_ff, n_embd)
            t.mat(p + "ffn_down.weight", n_embd, n_ff)
            continue
        t.mat(p + "ffn_gate_inp.weight", n_expert, n_embd, scale=1.0, dtype=Q.F32)
        if bias:
            t.vec(p + "exp_probs_b.bias", n_expert, base=0.0, spread=0.3)
        t.mat(p + "ffn_gate_exps.weight", n_expert, moe_ff, n_embd)
        t.mat(p + "ffn_up_exps.weight", n_expert, moe_ff, n_embd)
        t.mat(p + "ffn_down_exps.weight", n_expert, n_embd, moe_ff)
        if n_shared:
            t.mat(p + "ffn_gate_shexp.weight", moe_ff * n_shared, n_embd)
            t.mat(p + "ffn_up_shexp.weight", moe_ff * n_shared, n_embd)
            t.mat(p + "ffn_down_shexp.weight", n_embd, moe_ff * n_shared)
    finish(w)


PROMPT = [1, 293, 17, 260, 45, 299, 3, 120, 77, 281, 5, 260, 261]

VARIANTS = {
    "v2_lite_like": (dict(seed=21, q_lora=0), 1e-4),
    "v3_like_split_kv_b_yarn": (dict(seed=22, sigmoid=True, bias=True, n_group=4, topk_group=2, norm=True, scale=2.5,
                                     yarn=(4.0, 0.707), split_kv_b=True), 1e-4),
    "v2_group_limited_f16": (dict(seed=23, wtype=Q.F16, n_group=2, topk_group=1, norm=True, scale=16.0), 1e-4),
    "v2_no_shared_two_dense_q8_0": (dict(seed=24, wtype=Q.Q8_0, n_shared=0, first_dense=2, n_layer=4), 3e-2),
}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_logits_match_reference(name, tmp_path):
    args, decode_tol = VARIANTS[name]
    path = tmp_path / f"{name}.gguf"
    write_deepseek(path, **args)
    want = GgufDeepseek(str(path)).forward(PROMPT)
    span = want.max() - want.min()
    # With block-quantized weights even a prefill runs small products through the 8-bit-activation
    # path (per-head absorbed matrices, experts chosen by fewer than 4 tokens): decode tolerance.
    for batch in (len(PROMPT), 1, 5):
        tol = decode_tol
        err = np.abs(ember_logits(path, PROMPT, tmp_path, batch) - want).max() / span
        print(f"{name} batch {batch}: max |diff| = {err:.2e} of the logit range")
        assert err <= tol, f"{name}, batch {batch}: {err:.3e} of the range > {tol}"


def greedy(ref, tokens, n):
    toks = list(tokens)
    for _ in range(n):
        toks.append(int(np.argmax(ref.forward(toks)[-1])))
    return toks[len(tokens):]


@pytest.mark.parametrize("name", ["v2_lite_like", "v3_like_split_kv_b_yarn"])
def test_greedy_continuation_matches_reference(name, tmp_path):
    args, _ = VARIANTS[name]
    path = tmp_path / f"{name}.gguf"
    write_deepseek(path, **args)
    want = greedy(GgufDeepseek(str(path)), PROMPT, 8)
    if 2 in want:  # Ember stops at the end-of-sequence token
        want = want[: want.index(2) + 1]
    r = subprocess.run([GENERATE, "-m", str(path), "--tokens", ",".join(map(str, PROMPT)), "-n", "8", "--temp", "0",
                        "--json"], check=True, capture_output=True, text=True)
    assert json.loads(r.stdout)["generated_tokens"] == want


def test_cache_holds_only_the_latent(tmp_path):
    """KV bytes per token and layer = (kv_lora_rank + qk_rope_head_dim) x 4 (F32 cache)."""
    path = tmp_path / "m.gguf"
    write_deepseek(path, seed=25)
    r = subprocess.run([GENERATE, "-m", str(path), "--tokens", "1,2", "-n", "0", "--json"], check=True,
                       capture_output=True, text=True)
    info = json.loads(r.stdout)
    assert info["kv_bytes_per_token_per_layer"] == (32 + 8) * 4
    assert info["mha_kv_bytes_per_token_per_layer"] == 4 * (16 + 8 + 16) * 4
