"""Ember's tokenizer against Hugging Face `tokenizers` (PyPI) on text chosen to be hard: emoji and
ZWJ sequences, CJK, Arabic, Devanagari, combining marks (NFC matters), whitespace runs, digits,
contractions, code. The Qwen tokenizer.json in ../shared/data (Qwen2/2.5 and R1-Distill-Qwen BPE)
is the vocabulary; both sides load the same file.
"""
import json
import os
import subprocess

import pytest

tokenizers = pytest.importorskip("tokenizers")

TOOL = os.environ.get("EMBER_TOKENIZE_TOOL", "ember-tokenize")
SHARED = os.environ.get("EMBER_SHARED_DATA", os.path.join(os.path.dirname(__file__), "../../../shared/data"))
QWEN_JSON = os.path.join(SHARED, "tokenizers/qwen3/tokenizer.json")

CASES = [
    "Hello, world! How's it going? I'm fine, they'll see, we'd go, you've won.",
    "HELLO'S WE'LL I'D",
    "emoji 🦙🔥👍🏽 family 👨‍👩‍👧‍👦 flags 🇯🇵🇫🇷 keycap 1️⃣",
    "日本語のテキストと中文文本，还有한국어 텍스트。",
    "مرحبا بالعالم، كيف حالك؟ ١٢٣",
    "हिन्दी में लिखा गया पाठ",
    "combining: e\u0301 a\u0308 o\u0303 n\u0303 — precomposed: é ä õ ñ",
    "Å vs A\u030a, ﬁ ligature, ½ ⅓, ² ³, Ω Ω",
    "spaces:  two   three    four\ttab\t\ttabs\n\nnewlines\r\n\r\ncrlf   \n  trailing   ",
    "digits 1234567890 3.14159 1,000,000 0x1F 12:30 2026-11-29",
    "def f(x):\n    return x**2  # square\n\nif __name__ == '__main__':\n    print(f(3))",
    "<html><body class=\"a\">&amp; &lt;tag&gt;</body></html>",
    "Zero\u200bwidth\u200cjoin\u200d NBSP\u00a0here ideographic\u3000space",
    "   leading spaces and a very long word: pneumonoultramicroscopicsilicovolcanoconiosis",
    "Ünïcödé ÀÉÎÕÜ straße ǅ ǈ Ꭰ 𐐀 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "",
    " ",
    "\n",
    "a\u0300\u0301\u0302 stacked marks",
    "Mixed 中English文 and123numbers456",
]


@pytest.fixture(scope="module")
def hf():
    if not os.path.exists(QWEN_JSON):
        pytest.skip("tokenizer.json not present")
    return tokenizers.Tokenizer.from_file(QWEN_JSON)


def ember_encode(texts):
    inp = "".join(json.dumps(t) + "\n" for t in texts)
    out = subprocess.run([TOOL, "--hf-json", QWEN_JSON, "--jsonl"], input=inp, capture_output=True, text=True, check=True)
    return [json.loads(line) for line in out.stdout.splitlines()]


def test_ids_match_hugging_face_tokenizers(hf):
    ours = ember_encode(CASES)
    assert len(ours) == len(CASES)
    for text, got in zip(CASES, ours):
        want = hf.encode(text, add_special_tokens=False).ids
        assert got == want, f"{text!r}"


def test_special_tokens_in_text_match(hf):
    text = "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi 🦙<|im_end|>\n"
    inp = json.dumps(text) + "\n"
    out = subprocess.run([TOOL, "--hf-json", QWEN_JSON, "--jsonl", "--special"], input=inp, capture_output=True,
                         text=True, check=True)
    assert json.loads(out.stdout) == hf.encode(text, add_special_tokens=False).ids
