"""The Hugging Face front door: random safetensors checkpoints (F32, F16, BF16; single and sharded)
with config.json and tokenizer.json, loaded by Ember directly and compared with the numpy
references reading the same files (Hugging Face conventions: Llama/Qwen2 rotate head halves).
Then the GGUF converter (ember-quantize FOLDER OUT.gguf TYPE): the converted file must give Ember
the same logits as the folder, must read correctly in gguf-py and the GGUF-convention reference
(which proves the Q/K permutation and expert stacking), and must name its pre-tokenizer."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from gguf import GGUFReader

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))
from ember_tools import GENERATE, QUANTIZE, ember_logits  # noqa: E402
from hf_checkpoints import stored, write_safetensors, write_tokenizer  # noqa: E402
from reference.deepseek_ref import GgufDeepseek  # noqa: E402
from reference.llama_ref import GgufLlama  # noqa: E402

PROMPT = [1, 200, 17, 255, 45, 299, 3, 120, 77, 281, 5, 260, 261]
TEMPLATE = "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}\n{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}"


def llama_config(arch, tied, **kw):
    c = {"architectures": [arch], "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2,
         "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 300, "rms_norm_eps": 1e-5,
         "rope_theta": 10000.0, "max_position_embeddings": 256, "tie_word_embeddings": tied}
    c.update(kw)
    return c


def llama_tensors(c, rng, bias):
    E, F, H, KV, V = c["hidden_size"], c["intermediate_size"], c["num_attention_heads"], c["num_key_value_heads"], c["vocab_size"]
    hd = E // H
    mat = lambda r, k: rng.standard_normal((r, k)).astype(np.float32) / np.sqrt(k)  # noqa: E731
    vec = lambda n: (1 + 0.1 * rng.standard_normal(n)).astype(np.float32)  # noqa: E731
    t = {"model.embed_tokens.weight": rng.standard_normal((V, E)).astype(np.float32), "model.norm.weight": vec(E)}
    if not c["tie_word_embeddings"]:
        t["lm_head.weight"] = mat(V, E)
    for l in range(c["num_hidden_layers"]):
        p = f"model.layers.{l}."
        t[p + "input_layernorm.weight"] = vec(E)
        t[p + "post_attention_layernorm.weight"] = vec(E)
        for name, rows in (("q", H * hd), ("k", KV * hd), ("v", KV * hd)):
            t[p + f"self_attn.{name}_proj.weight"] = mat(rows, E)
            if bias:
                t[p + f"self_attn.{name}_proj.bias"] = (0.5 * rng.standard_normal(rows)).astype(np.float32)
        t[p + "self_attn.o_proj.weight"] = mat(E, H * hd)
        t[p + "mlp.gate_proj.weight"] = mat(F, E)
        t[p + "mlp.up_proj.weight"] = mat(F, E)
        t[p + "mlp.down_proj.weight"] = mat(E, F)
    return t


def deepseek_config(v3, **kw):
    c = {"architectures": ["DeepseekV3ForCausalLM" if v3 else "DeepseekV2ForCausalLM"], "hidden_size": 64,
         "intermediate_size": 96, "moe_intermediate_size": 32, "num_hidden_layers": 3, "num_attention_heads": 4,
         "num_key_value_heads": 4, "vocab_size": 300, "rms_norm_eps": 1e-6, "rope_theta": 10000.0,
         "max_position_embeddings": 256, "q_lora_rank": 32 if v3 else None, "kv_lora_rank": 32, "qk_nope_head_dim": 16,
         "qk_rope_head_dim": 8, "v_head_dim": 16, "n_routed_experts": 8, "num_experts_per_tok": 3, "n_shared_experts": 1,
         "first_k_dense_replace": 1, "n_group": 4 if v3 else 1, "topk_group": 2 if v3 else 1, "norm_topk_prob": v3,
         "routed_scaling_factor": 2.5 if v3 else 1.0, "scoring_func": "sigmoid" if v3 else "softmax",
         "tie_word_embeddings": False}
    if v3:
        c["rope_scaling"] = {"type": "yarn", "factor": 4.0, "original_max_position_embeddings": 64, "beta_fast": 32,
                             "beta_slow": 1, "mscale": 0.707, "mscale_all_dim": 0.707}
    c.update(kw)
    return c


def deepseek_tensors(c, rng):
    E, H, V = c["hidden_size"], c["num_attention_heads"], c["vocab_size"]
    nope, rope, vd, R, Fm = c["qk_nope_head_dim"], c["qk_rope_head_dim"], c["v_head_dim"], c["kv_lora_rank"], c["moe_intermediate_size"]
    mat = lambda r, k: rng.standard_normal((r, k)).astype(np.float32) / np.sqrt(k)  # noqa: E731
    vec = lambda n: (1 + 0.1 * rng.standard_normal(n)).astype(np.float32)  # noqa: E731
    t = {"model.embed_tokens.weight": rng.standard_normal((V, E)).astype(np.float32), "model.norm.weight": vec(E),
         "lm_head.weight": mat(V, E)}
    for l in range(c["num_hidden_layers"] + 1):  # one extra: V3's multi-token-prediction layer, ignored
        p = f"model.layers.{l}."
        t[p + "input_layernorm.weight"] = vec(E)
        t[p + "post_attention_layernorm.weight"] = vec(E)
        if c["q_lora_rank"]:
            t[p + "self_attn.q_a_proj.weight"] = mat(c["q_lora_rank"], E)
            t[p + "self_attn.q_a_layernorm.weight"] = vec(c["q_lora_rank"])
            t[p + "self_attn.q_b_proj.weight"] = mat(H * (nope + rope), c["q_lora_rank"])
        else:
            t[p + "self_attn.q_proj.weight"] = mat(H * (nope + rope), E)
        t[p + "self_attn.kv_a_proj_with_mqa.weight"] = mat(R + rope, E)
        t[p + "self_attn.kv_a_layernorm.weight"] = vec(R)
        t[p + "self_attn.kv_b_proj.weight"] = mat(H * (nope + vd), R)
        t[p + "self_attn.o_proj.weight"] = mat(E, H * vd)
        if l < c["first_k_dense_replace"]:
            for n, shape in (("gate", (96, E)), ("up", (96, E)), ("down", (E, 96))):
                t[p + f"mlp.{n}_proj.weight"] = mat(*shape)
            continue
        t[p + "mlp.gate.weight"] = rng.standard_normal((c["n_routed_experts"], E)).astype(np.float32)
        if c["scoring_func"] == "sigmoid":
            t[p + "mlp.gate.e_score_correction_bias"] = (0.3 * rng.standard_normal(c["n_routed_experts"])).astype(np.float32)
        for e in range(c["n_routed_experts"]):
            for n, shape in (("gate", (Fm, E)), ("up", (Fm, E)), ("down", (E, Fm))):
                t[p + f"mlp.experts.{e}.{n}_proj.weight"] = mat(*shape)
        S = Fm * c["n_shared_experts"]
        for n, shape in (("gate", (S, E)), ("up", (S, E)), ("down", (E, S))):
            t[p + f"mlp.shared_experts.{n}_proj.weight"] = mat(*shape)
    return t


def write_folder(folder, config, tensors, dtype, shards=1):
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(config))
    write_tokenizer(folder, TEMPLATE)
    names = list(tensors)
    if shards == 1:
        write_safetensors(folder / "model.safetensors", tensors, dtype)
        return
    weight_map = {}
    for s in range(shards):
        part = {n: tensors[n] for n in names[s::shards]}
        fname = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
        write_safetensors(folder / fname, part, dtype)
        weight_map.update({n: fname for n in part})
    (folder / "model.safetensors.index.json").write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))


CASES = {
    "llama_f32": ("llama", dict(arch="LlamaForCausalLM", tied=False), "F32", 1),
    "llama_f16_sharded": ("llama", dict(arch="LlamaForCausalLM", tied=False), "F16", 3),
    "qwen2_bf16_tied_bias": ("qwen2", dict(arch="Qwen2ForCausalLM", tied=True), "BF16", 1),
    "llama3_scaling_bf16": ("llama", dict(arch="LlamaForCausalLM", tied=False, rope_scaling={
        "rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
        "original_max_position_embeddings": 64}), "BF16", 2),
    "deepseek_v2_f32": ("deepseek", dict(v3=False), "F32", 1),
    "deepseek_v3_bf16_sharded": ("deepseek", dict(v3=True), "BF16", 2),
}


def make_case(name, tmp_path, seed=0):
    family, kw, dtype, shards = CASES[name]
    rng = np.random.default_rng(100 + seed + sorted(CASES).index(name))
    if family == "deepseek":
        c = deepseek_config(**kw)
        t = deepseek_tensors(c, rng)
    else:
        kw = dict(kw)
        c = llama_config(kw.pop("arch"), kw.pop("tied"), **kw)
        t = llama_tensors(c, rng, bias=family == "qwen2")
    folder = tmp_path / name
    write_folder(folder, c, t, dtype, shards)
    return family, folder


@pytest.mark.parametrize("name", sorted(CASES))
def test_folder_logits_match_reference(name, tmp_path):
    family, folder = make_case(name, tmp_path)
    ref = GgufDeepseek.from_hf(folder) if family == "deepseek" else GgufLlama.from_hf(folder)
    want = ref.forward(PROMPT)
    span = want.max() - want.min()
    for batch in (len(PROMPT), 1):
        err = np.abs(ember_logits(folder, PROMPT, tmp_path, batch) - want).max() / span
        print(f"{name} (folder) batch {batch}: max |diff| = {err:.2e} of the range")
        assert err <= 1e-4


@pytest.mark.parametrize("name", sorted(CASES))
def test_converted_gguf_matches_folder_and_gguf_reference(name, tmp_path):
    family, folder = make_case(name, tmp_path)
    out = tmp_path / "converted.gguf"
    subprocess.run([QUANTIZE, str(folder), str(out), "F32"], check=True, capture_output=True)
    from_folder = ember_logits(folder, PROMPT, tmp_path)
    from_gguf = ember_logits(out, PROMPT, tmp_path)
    span = from_folder.max() - from_folder.min()
    assert np.abs(from_gguf - from_folder).max() <= 1e-5 * span
    ref = GgufDeepseek(str(out)) if family == "deepseek" else GgufLlama(str(out))
    assert np.abs(ref.forward(PROMPT) - from_folder).max() <= 1e-4 * span
    r = GGUFReader(str(out))
    f = r.fields["tokenizer.ggml.pre"]
    assert bytes(f.parts[f.data[0]]).decode() == "qwen2"
    f = r.fields["tokenizer.chat_template"]
    assert bytes(f.parts[f.data[0]]).decode() == TEMPLATE


def test_converted_quantized_gguf_is_close(tmp_path):
    family, folder = make_case("llama_f32", tmp_path)
    out = tmp_path / "q8.gguf"
    subprocess.run([QUANTIZE, str(folder), str(out), "Q8_0"], check=True, capture_output=True)
    want = GgufLlama.from_hf(folder).forward(PROMPT)
    err = np.abs(ember_logits(out, PROMPT, tmp_path) - want).max() / (want.max() - want.min())
    assert err <= 2e-2
