"""Reading Hugging Face folders for the references: safetensors (single or sharded) to float64
arrays under GGUF-convention names, routed experts stacked as GGUF stacks them."""
import json
import os
import re
import struct

import numpy as np

_DTYPES = {"F32": "<f4", "F16": "<f2", "BF16": "<u2"}

_TOP = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
        "lm_head.weight": "output.weight"}
_LAYER = {
    "input_layernorm.weight": "attn_norm.weight", "post_attention_layernorm.weight": "ffn_norm.weight",
    "self_attn.q_proj.weight": "attn_q.weight", "self_attn.k_proj.weight": "attn_k.weight",
    "self_attn.v_proj.weight": "attn_v.weight", "self_attn.o_proj.weight": "attn_output.weight",
    "self_attn.q_proj.bias": "attn_q.bias", "self_attn.k_proj.bias": "attn_k.bias", "self_attn.v_proj.bias": "attn_v.bias",
    "self_attn.q_a_proj.weight": "attn_q_a.weight", "self_attn.q_a_layernorm.weight": "attn_q_a_norm.weight",
    "self_attn.q_b_proj.weight": "attn_q_b.weight", "self_attn.kv_a_proj_with_mqa.weight": "attn_kv_a_mqa.weight",
    "self_attn.kv_a_layernorm.weight": "attn_kv_a_norm.weight", "self_attn.kv_b_proj.weight": "attn_kv_b.weight",
    "mlp.gate_proj.weight": "ffn_gate.weight", "mlp.up_proj.weight": "ffn_up.weight", "mlp.down_proj.weight": "ffn_down.weight",
    "mlp.gate.weight": "ffn_gate_inp.weight", "mlp.gate.e_score_correction_bias": "exp_probs_b.bias",
    "mlp.shared_experts.gate_proj.weight": "ffn_gate_shexp.weight", "mlp.shared_experts.up_proj.weight": "ffn_up_shexp.weight",
    "mlp.shared_experts.down_proj.weight": "ffn_down_shexp.weight",
}


def _read_file(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        x = np.frombuffer(data[a:b], dtype=_DTYPES[info["dtype"]])
        if info["dtype"] == "BF16":
            x = (x.astype(np.uint32) << 16).view(np.float32)
        out[name] = x.astype(np.float64).reshape(info["shape"])
    return out


def read_hf_weights(folder, n_layer):
    folder = str(folder)
    index = os.path.join(folder, "model.safetensors.index.json")
    raw = {}
    if os.path.exists(index):
        for shard in sorted(set(json.load(open(index))["weight_map"].values())):
            raw.update(_read_file(os.path.join(folder, shard)))
    else:
        raw = _read_file(os.path.join(folder, "model.safetensors"))
    w, experts = {}, {}
    for name, x in raw.items():
        if name in _TOP:
            w[_TOP[name]] = x
            continue
        m = re.fullmatch(r"model\.layers\.(\d+)\.(.+)", name)
        if not m or int(m.group(1)) >= n_layer:
            continue
        layer, rest = int(m.group(1)), m.group(2)
        e = re.fullmatch(r"mlp\.experts\.(\d+)\.(gate|up|down)_proj\.weight", rest)
        if e:
            experts.setdefault(f"blk.{layer}.ffn_{e.group(2)}_exps.weight", {})[int(e.group(1))] = x
        elif rest in _LAYER:
            w[f"blk.{layer}.{_LAYER[rest]}"] = x
    for name, parts in experts.items():
        w[name] = np.stack([parts[i] for i in range(len(parts))])
    return w


def read_config(folder):
    return json.load(open(os.path.join(str(folder), "config.json")))
