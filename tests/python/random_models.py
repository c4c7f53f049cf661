"""Random model checkpoints from a fixed seed, written by gguf-py's own GGUFWriter (not Ember's)."""
import gguf
import numpy as np
from gguf.quants import quantize

Q = gguf.GGMLQuantizationType


def add_tokenizer(w, n_vocab):
    """An SPM-style vocabulary: the runtime needs one, the forward pass does not care which."""
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    tokens += [f"\u2581w{i}" for i in range(n_vocab - len(tokens))]
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores([0.0] * 259 + [-float(i) for i in range(n_vocab - 259)])
    w.add_token_types([2, 3, 3] + [6] * 256 + [1] * (n_vocab - 259))
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)


class Tensors:
    """Adds random tensors to a writer: matrices in `wtype`, vectors in F32."""

    def __init__(self, writer, seed, wtype):
        self.w, self.rng, self.wtype = writer, np.random.default_rng(seed), wtype

    def mat(self, name, *shape, scale=None, dtype=None):
        x = (self.rng.standard_normal(shape) * (scale or 1 / np.sqrt(shape[-1]))).astype(np.float32)
        t = self.wtype if dtype is None else dtype
        if t == Q.F32:
            self.w.add_tensor(name, x)
        elif t == Q.F16:
            self.w.add_tensor(name, x.astype(np.float16))
        else:
            self.w.add_tensor(name, quantize(x, t), raw_dtype=t)

    def vec(self, name, n, base=1.0, spread=0.1):
        self.w.add_tensor(name, (base + spread * self.rng.standard_normal(n)).astype(np.float32))


def finish(w):
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
