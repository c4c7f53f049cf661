"""Running Ember's command-line tools from the tests (paths from the environment ctest sets)."""
import os
import subprocess

import numpy as np

GENERATE = os.environ.get("EMBER_GENERATE_TOOL", "ember-generate")
QUANTIZE = os.environ.get("EMBER_QUANTIZE_TOOL", "ember-quantize")


def ember_logits(model, tokens, tmp_path, batch=None, exact=True):
    """Float32 logits of every position of `tokens` (n x n_vocab), prompt fed `batch` at a time.
    exact: F32 arithmetic in the batched products (EMBER_GEMM=f32); else whatever the CPU makes
    fastest (BF16 for block-quantized and BF16 weights where the CPU multiplies BF16)."""
    out = tmp_path / f"logits-{batch}-{exact}.f32"
    env = dict(os.environ, EMBER_GEMM="f32") if exact else {k: v for k, v in os.environ.items() if k != "EMBER_GEMM"}
    subprocess.run([GENERATE, "-m", str(model), "--tokens", ",".join(map(str, tokens)), "-n", "0", "-t", "2",
                    "--batch", str(batch or len(tokens)), "--logits-out", str(out)], check=True, env=env)
    return np.fromfile(out, dtype=np.float32).reshape(len(tokens), -1)
