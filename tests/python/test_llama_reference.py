"""Ember's Llama-family forward pass against the numpy reference in tests/reference/llama_ref.py.

Tiny random checkpoints are written from a fixed seed by gguf-py's own GGUFWriter (not Ember's),
in every weight dtype gguf-py can quantize; Ember's K-quant mixes come from ember-quantize and are
dequantized for the reference by gguf-py. Ember's logits (ember-generate --logits-out) are compared
at every position for a whole-prompt prefill, token-by-token decode (--batch 1) and a mix
(--batch 3), and greedy continuations must be the reference's.
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
from reference.llama_ref import GgufLlama  # noqa: E402
from ember_tools import GENERATE, QUANTIZE, ember_logits  # noqa: E402
from random_models import Q, Tensors, add_tokenizer, finish  # noqa: E402



def write_model(path, *, seed, arch="llama", n_embd=64, n_head=4, n_head_kv=4, head_dim=None, n_ff=96,
                n_layer=2, n_vocab=300, tied=False, bias=False, wtype=Q.F32, scaling=None, rope_freqs=False):
    """A random Llama/Qwen2 GGUF."""
    head_dim = head_dim or n_embd // n_head
    w = gguf.GGUFWriter(str(path), arch)
    w.add_context_length(256)
    w.add_embedding_length(n_embd)
    w.add_block_count(n_layer)
    w.add_feed_forward_length(n_ff)
    w.add_head_count(n_head)
    w.add_head_count_kv(n_head_kv)
    w.add_key_length(head_dim)
    w.add_value_length(head_dim)
    w.add_rope_dimension_count(head_dim)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_freq_base(10000.0)
    if scaling:
        w.add_rope_scaling_type(gguf.RopeScalingType(scaling[0]))
        w.add_rope_scaling_factor(scaling[1])
        w.add_rope_scaling_orig_ctx_len(64)
    add_tokenizer(w, n_vocab)
    t = Tensors(w, seed, wtype)
    t.mat("token_embd.weight", n_vocab, n_embd, scale=1.0)
    if rope_freqs:  # Llama 3.1 style per-frequency divisors
        w.add_tensor("rope_freqs.weight", np.geomspace(1.0, 8.0, head_dim // 2).astype(np.float32))
    t.vec("output_norm.weight", n_embd)
    if not tied:
        t.mat("output.weight", n_vocab, n_embd)
    for l in range(n_layer):
        p = f"blk.{l}."
        t.vec(p + "attn_norm.weight", n_embd)
        t.mat(p + "attn_q.weight", n_head * head_dim, n_embd)
        t.mat(p + "attn_k.weight", n_head_kv * head_dim, n_embd)
        t.mat(p + "attn_v.weight", n_head_kv * head_dim, n_embd)
        if bias:
            for name, rows in (("q", n_head), ("k", n_head_kv), ("v", n_head_kv)):
                t.vec(p + f"attn_{name}.bias", rows * head_dim, base=0.0, spread=0.5)
        t.mat(p + "attn_output.weight", n_embd, n_head * head_dim)
        t.vec(p + "ffn_norm.weight", n_embd)
        t.mat(p + "ffn_gate.weight", n_ff, n_embd)
        t.mat(p + "ffn_up.weight", n_ff, n_embd)
        t.mat(p + "ffn_down.weight", n_embd, n_ff)
    finish(w)


def ember_greedy(model, tokens, n):
    r = subprocess.run([GENERATE, "-m", str(model), "--tokens", ",".join(map(str, tokens)), "-n", str(n),
                        "--temp", "0", "--json"], check=True, capture_output=True, text=True)
    return json.loads(r.stdout)["generated_tokens"]


PROMPT = [1, 300 - 7, 17, 260, 45, 299, 3, 120, 77, 281, 5, 260, 261]

# name -> (writer arguments, relative tolerance of the decode path (int8 activations for block types))
VARIANTS = {
    "llama_f32_untied_mha": (dict(seed=1), 1e-4),
    "llama_f32_rope_freqs": (dict(seed=9, n_head_kv=2, rope_freqs=True), 1e-4),
    "qwen2_f32_tied_bias_gqa2": (dict(seed=2, arch="qwen2", n_head_kv=2, tied=True, bias=True), 1e-4),
    "llama_f16_gqa7_linear": (dict(seed=3, n_head=7, n_head_kv=1, head_dim=32, wtype=Q.F16, scaling=("linear", 2.0)), 1e-4),
    "llama_bf16_gqa2": (dict(seed=4, n_head_kv=2, wtype=Q.BF16), 1e-4),
    "llama_q8_0_llama3": (dict(seed=5, n_head_kv=2, wtype=Q.Q8_0, scaling=("llama3", 4.0)), 2e-2),
    "qwen2_q4_0_bias": (dict(seed=6, arch="qwen2", n_head_kv=2, bias=True, wtype=Q.Q4_0), 2e-2),
    "llama_q4_1_tied": (dict(seed=7, tied=True, wtype=Q.Q4_1), 2e-2),
    "llama_q5_0": (dict(seed=8, wtype=Q.Q5_0), 2e-2),
    "qwen2_q5_1": (dict(seed=10, arch="qwen2", n_head_kv=1, wtype=Q.Q5_1), 2e-2),
}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_logits_match_reference(name, tmp_path):
    args, decode_tol = VARIANTS[name]
    if args.get("scaling") and args["scaling"][0] == "llama3" and not hasattr(gguf.RopeScalingType, "LLAMA3"):
        args = dict(args, scaling=None)
    path = tmp_path / f"{name}.gguf"
    write_model(path, **args)
    ref = GgufLlama(str(path))
    want = ref.forward(PROMPT)
    span = want.max() - want.min()
    # Whole prompt at once (GEMM, F32 arithmetic), token by token (matvec through the cache), chunks
    # of 5, 5, 3; and the whole prompt with the GEMM this CPU makes fastest (BF16 operands for block
    # and BF16 weights where the CPU has BF16 units: measured 1.7e-3 to 3.2e-3 of the range).
    for batch, tol, exact in ((len(PROMPT), 1e-4, True), (1, decode_tol, True), (5, decode_tol, True),
                              (len(PROMPT), 1e-2, False)):
        got = ember_logits(path, PROMPT, tmp_path, batch, exact=exact)
        err = np.abs(got - want).max() / span
        print(f"{name} batch {batch}{'' if exact else ' (fastest GEMM)'}: max |diff| = {err:.2e} of the logit range")
        assert err <= tol, f"{name}, batch {batch}: max abs diff {err:.3e} of the range > {tol}"
    if decode_tol <= 1e-4:
        want_ids = ref.greedy(PROMPT, 8)
        if 2 in want_ids:  # Ember stops at the end-of-sequence token, as it should
            want_ids = want_ids[: want_ids.index(2) + 1]
        assert ember_greedy(path, PROMPT, 8) == want_ids


@pytest.mark.parametrize("target", ["Q4_K_M", "Q6_K", "Q3_K", "Q2_K", "Q5_K"])
def test_k_quant_mixes_match_reference(target, tmp_path):
    """ember-quantize's K-quant files, dequantized for the reference by gguf-py."""
    src, dst = tmp_path / "f32.gguf", tmp_path / f"{target}.gguf"
    write_model(src, seed=11, n_embd=256, n_head=4, n_head_kv=2, n_ff=512, n_layer=2, n_vocab=320)
    subprocess.run([QUANTIZE, str(src), str(dst), target], check=True, capture_output=True)
    ref = GgufLlama(str(dst))
    want = ref.forward(PROMPT)
    span = want.max() - want.min()
    for batch, tol in ((len(PROMPT), 1e-4), (1, 3e-2)):
        err = np.abs(ember_logits(dst, PROMPT, tmp_path, batch) - want).max() / span
        print(f"{target} batch {batch}: max |diff| = {err:.2e} of the logit range")
        assert err <= tol
