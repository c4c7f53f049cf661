"""A user's program: `import ember` from the installed package (pip install bindings/python), with
no environment variable, continuing a prompt greedily and then sampling. Typed: mypy --strict
checks it against the package's hints."""
import sys
from typing import List

import ember


def main(model_path: str) -> int:
    with ember.Model(model_path) as model, ember.Context(model, n_ctx=256, n_threads=1) as ctx:
        pieces: List[str] = list(ctx.generate("Once upon a time", max_tokens=16))
        text = "Once upon a time" + "".join(pieces)
        print(f"{ember.library_path}: {text}")
        result = ctx.last_result
        assert result is not None and result["stop_reason"] == "length"
        ctx.reset()
        sampled = "".join(ctx.generate("Once upon a time", max_tokens=16, temperature=0.9, seed=42))
        print(f"sampled: {sampled}")
        return 0 if "there was a little girl" in text and sampled else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
