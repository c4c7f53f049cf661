"""Random Hugging Face checkpoints (config.json, safetensors, tokenizer.json) from a fixed seed,
written here byte by byte (the safetensors format is an 8-byte header length, a JSON header and
the raw little-endian data), so nothing is shared with Ember's reader."""
import json
import struct

import numpy as np


def to_bf16_bits(x):
    """float32 -> bfloat16 bit patterns (round to nearest even)."""
    b = np.asarray(x, np.float32).view(np.uint32).astype(np.uint64)
    return ((b + 0x7FFF + ((b >> 16) & 1)) >> 16).astype(np.uint16)


def from_bf16_bits(u):
    return (u.astype(np.uint32) << 16).view(np.float32)


def write_safetensors(path, tensors, dtype):
    """tensors: name -> float32 array; stored as dtype (F32 | F16 | BF16)."""
    header, blobs, offset = {}, [], 0
    for name, x in tensors.items():
        if dtype == "F32":
            raw = np.asarray(x, "<f4").tobytes()
        elif dtype == "F16":
            raw = np.asarray(x, "<f2").tobytes()
        else:
            raw = to_bf16_bits(x).astype("<u2").tobytes()
        header[name] = {"dtype": dtype, "shape": list(x.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def stored(x, dtype):
    """The float32 values a tensor has after being stored as dtype (what both sides read)."""
    if dtype == "F32":
        return x.astype(np.float32)
    if dtype == "F16":
        return x.astype(np.float16).astype(np.float32)
    return from_bf16_bits(to_bf16_bits(x))


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("\u00a1"), ord("\u00ac") + 1)) + list(range(ord("\u00ae"), ord("\u00ff") + 1))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


QWEN2_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+"
               r"|\s+(?!\S)|\s+")


def write_tokenizer(folder, chat_template=None):
    """A byte-level BPE tokenizer.json (256 byte symbols, a few merges, one special token) with
    Qwen2's pre-tokenizer, and a tokenizer_config.json."""
    b2u = bytes_to_unicode()
    vocab = {b2u[b]: b for b in range(256)}
    merges = [["\u0120", "t"], ["h", "e"], ["\u0120t", "he"]]
    for a, b in merges:
        vocab[a + b] = len(vocab)
    tok = {
        "version": "1.0",
        "added_tokens": [{"id": len(vocab), "content": "<|endoftext|>", "special": True}],
        "normalizer": {"type": "NFC"},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": QWEN2_SPLIT}, "behavior": "Isolated", "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}]},
        "model": {"type": "BPE", "vocab": vocab, "merges": merges},
    }
    (folder / "tokenizer.json").write_text(json.dumps(tok))
    cfg = {"eos_token": "<|endoftext|>", "add_bos_token": False}
    if chat_template:
        cfg["chat_template"] = chat_template
    (folder / "tokenizer_config.json").write_text(json.dumps(cfg))
