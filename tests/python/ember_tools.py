"""Running Ember's command-line tools from the tests (paths from the environment ctest sets)."""
import os
import subprocess

import numpy as np

GENERATE = os.environ.get("EMBER_GENERATE_TOOL", "ember-generate")
QUANTIZE = os.environ.get("EMBER_QUANTIZE_TOOL", "ember-quantize")


def ember_logits(model, tokens, tmp_path, batch=None):
    """Float32 logits of every position of `tokens` (n x n_vocab), prompt fed `batch` at a time."""
    out = tmp_path / f"logits-{batch}.f32"
    subprocess.run([GENERATE, "-m", str(model), "--tokens", ",".join(map(str, tokens)), "-n", "0", "-t", "2",
                    "--batch", str(batch or len(tokens)), "--logits-out", str(out)], check=True)
    return np.fromfile(out, dtype=np.float32).reshape(len(tokens), -1)
