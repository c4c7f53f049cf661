"""GGUF interoperability with the reference Python implementation (gguf-py, PyPI `gguf`).

Both directions: a file written by Ember's writer is read by gguf-py (metadata types and values,
tensor layout, and every quantized tensor dequantized by gguf-py to exactly the floats Ember
dequantizes it to); a file written by gguf-py is read by Ember (via `ember-gguf json`).
The tool path comes from EMBER_GGUF_TOOL (set by ctest).
"""
import json
import os
import subprocess

import gguf
import numpy as np
import pytest

TOOL = os.environ.get("EMBER_GGUF_TOOL", "ember-gguf")


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    path = tmp_path_factory.mktemp("gguf") / "sample.gguf"
    subprocess.run([TOOL, "write-sample", str(path)], check=True)
    return gguf.GGUFReader(str(path))


def field_value(reader, key):
    f = reader.fields[key]
    vt = gguf.GGUFValueType(f.types[0])
    if vt == gguf.GGUFValueType.STRING:
        return bytes(f.parts[f.data[0]]).decode("utf-8")
    if vt == gguf.GGUFValueType.ARRAY:
        et = gguf.GGUFValueType(f.types[1])
        if et == gguf.GGUFValueType.STRING:
            return [bytes(f.parts[i]).decode("utf-8") for i in f.data]
        return [f.parts[i][0].item() for i in f.data]
    return f.parts[f.data[0]][0].item()


def test_gguf_py_reads_every_metadata_type_we_write(sample):
    expect = {
        "general.architecture": (gguf.GGUFValueType.STRING, "sample"),
        "sample.u8": (gguf.GGUFValueType.UINT8, 250),
        "sample.i8": (gguf.GGUFValueType.INT8, -100),
        "sample.u16": (gguf.GGUFValueType.UINT16, 65000),
        "sample.i16": (gguf.GGUFValueType.INT16, -32000),
        "sample.u32": (gguf.GGUFValueType.UINT32, 4000000000),
        "sample.i32": (gguf.GGUFValueType.INT32, -2000000000),
        "sample.u64": (gguf.GGUFValueType.UINT64, 18000000000000000000),
        "sample.i64": (gguf.GGUFValueType.INT64, -9000000000000000000),
        "sample.f32": (gguf.GGUFValueType.FLOAT32, 1.5),
        "sample.f64": (gguf.GGUFValueType.FLOAT64, -2.25),
        "sample.bool": (gguf.GGUFValueType.BOOL, True),
        "sample.string": (gguf.GGUFValueType.STRING, "caf\u00e9 \u2615"),
        "sample.strings": (gguf.GGUFValueType.ARRAY, ["<s>", "</s>", "\u0120the"]),
        "sample.ints": (gguf.GGUFValueType.ARRAY, [-1, 0, 7]),
        "sample.floats": (gguf.GGUFValueType.ARRAY, [0.5, -3.0]),
        "sample.bools": (gguf.GGUFValueType.ARRAY, [False, True]),
    }
    keys = [k for k in sample.fields if not k.startswith("GGUF.")]
    assert keys == list(expect), "keys in the order written"
    for key, (vtype, value) in expect.items():
        assert gguf.GGUFValueType(sample.fields[key].types[0]) == vtype, key
        assert field_value(sample, key) == value, key


def test_gguf_py_decodes_our_quantized_tensors_to_our_floats(sample):
    tensors = {t.name: t for t in sample.tensors}
    kinds = [n for n in tensors if not n.endswith(".dequant")]
    assert len(kinds) == 13
    for name in kinds:
        t = tensors[name]
        ref = tensors[name + ".dequant"]
        assert list(t.shape) == [512, 3], name
        assert t.tensor_type.name == name.upper(), name
        ours = np.asarray(ref.data, dtype=np.float32).reshape(3, 512)
        theirs = gguf.quants.dequantize(np.asarray(t.data), t.tensor_type).reshape(3, 512).astype(np.float32)
        # Bit for bit: compare the integer patterns (-0.0 included).
        mismatch = np.count_nonzero(ours.view(np.uint32) != theirs.view(np.uint32))
        assert mismatch == 0, f"{name}: {mismatch} values differ"


def test_we_read_a_file_gguf_py_writes(tmp_path):
    path = tmp_path / "py.gguf"
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_uint32("llama.block_count", 2)
    w.add_float32("llama.rope.freq_base", 1000000.0)
    w.add_string("tokenizer.chat_template", "{{ messages }}")
    w.add_array("tokenizer.ggml.tokens", ["<unk>", "a", "\u2581b"])
    w.add_array("tokenizer.ggml.scores", [0.0, -1.5, -2.0])
    w.add_bool("general.flag", False)
    w.add_tensor("blk.0.attn_q.weight", np.arange(64 * 2, dtype=np.float32).reshape(2, 64))
    w.add_tensor("token_embd.weight", np.ones((3, 32), dtype=np.float16))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    out = subprocess.run([TOOL, "json", str(path)], check=True, capture_output=True, text=True).stdout
    d = json.loads(out)
    md, types = d["metadata"], d["types"]
    assert md["general.architecture"] == "llama"
    assert md["llama.block_count"] == 2 and types["llama.block_count"] == "UINT32"
    assert md["llama.rope.freq_base"] == 1000000.0 and types["llama.rope.freq_base"] == "FLOAT32"
    assert md["tokenizer.chat_template"] == "{{ messages }}"
    assert md["tokenizer.ggml.tokens"] == ["<unk>", "a", "\u2581b"]
    assert md["tokenizer.ggml.scores"] == [0.0, -1.5, -2.0]
    assert md["general.flag"] is False
    tensors = {t["name"]: t for t in d["tensors"]}
    assert tensors["blk.0.attn_q.weight"]["type"] == "F32" and tensors["blk.0.attn_q.weight"]["ne"] == [64, 2]
    assert tensors["token_embd.weight"]["type"] == "F16" and tensors["token_embd.weight"]["ne"] == [32, 3]
