"""The Python bindings against the bundled stories260K model (and SmolLM2 for chat, when fetched):
loading, metadata, tokens, streaming generation, cancellation, state, errors as exceptions."""
import os
import threading

import pytest

import ember

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
STORIES = os.path.join(ROOT, "models", "stories260K.gguf")
SMOLLM2 = os.environ.get("EMBER_SMOLLM2_GGUF", "")
GREEDY_START = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park."


@pytest.fixture(scope="module")
def model():
    with ember.Model(STORIES) as m:
        yield m


def test_version_and_library():
    assert ember.version() == "0.2.0"
    assert os.path.exists(ember.library_path) or ember.library_path


def test_model_facts(model):
    assert model.architecture == "llama"
    assert (model.n_vocab, model.n_embd, model.n_layer, model.n_ctx_train) == (512, 64, 5, 512)
    assert model.bos == 1 and model.eos == 2
    assert model.meta("llama.block_count") == "5"
    assert model.chat_template == ""
    with pytest.raises(ember.InvalidArgumentError):
        model.meta("no.such.key")


def test_tokens_round_trip(model):
    ids = model.tokenize("Once upon a time")
    assert ids[0] == model.bos
    assert model.detokenize(ids[1:]) == "Once upon a time"
    assert model.token_to_piece(ids[1]) == b" Once"
    with pytest.raises(ember.UnsupportedError):
        model.apply_chat_template([{"role": "user", "content": "hi"}])


def test_greedy_generation_streams_the_reference_story(model):
    with ember.Context(model, n_threads=1) as ctx:
        pieces = list(ctx.generate("Once upon a time", max_tokens=40))
        assert len(pieces) > 10
        text = "Once upon a time" + "".join(pieces)
        assert text.startswith(GREEDY_START)
        assert ctx.last_result["stop_reason"] == "length"
        assert ctx.last_result["n_generated_tokens"] == 40


def test_a_half_precision_cache_keeps_the_greedy_story(model):
    with ember.Context(model, n_threads=1, kv_type="f16") as ctx:
        text = "Once upon a time" + "".join(ctx.generate("Once upon a time", max_tokens=40))
        assert text.startswith(GREEDY_START)
    with pytest.raises(ValueError):
        ember.Context(model, kv_type="q8_0")


def test_stop_strings_and_seeded_sampling(model):
    with ember.Context(model) as ctx:
        assert "".join(ctx.generate("Once upon a time", max_tokens=100, stop=["Lily"])) == ", there was a little girl named "
        assert ctx.last_result["stop_reason"] == "stop"
        ctx.reset()
        a = "".join(ctx.generate("Once upon a time", max_tokens=30, temperature=1.0, seed=5))
        ctx.reset()
        b = "".join(ctx.generate("Once upon a time", max_tokens=30, temperature=1.0, seed=5))
        assert a == b


def test_leaving_the_loop_stops_generation(model):
    with ember.Context(model) as ctx:
        for i, _ in enumerate(ctx.generate("Once upon a time", max_tokens=200)):
            if i == 2:
                break
        assert ctx.n_past < 20
        # The context is usable afterwards.
        assert len("".join(ctx.generate("", max_tokens=5))) > 0


def test_last_result_after_an_early_break(model):
    with ember.Context(model, n_threads=1) as ctx:
        for i, _ in enumerate(ctx.generate("Once upon a time", max_tokens=200)):
            if i == 1:
                break
        assert ctx.last_result is not None
        assert ctx.last_result["stop_reason"] in ("callback", "cancelled")
        assert 2 <= ctx.last_result["n_generated_tokens"] < 20


def test_sampling_keywords_are_never_ignored(model):
    def story(ctx, **kw):
        ctx.reset()
        return "".join(ctx.generate("Once upon a time", max_tokens=30, **kw))

    with ember.Context(model, n_threads=1) as ctx:
        greedy = story(ctx)
        # A seed alone samples (at Sampler's default temperature), reproducibly.
        seeded = story(ctx, seed=5)
        assert seeded != greedy and seeded == story(ctx, seed=5)
        # top_k=1 leaves one candidate: greedy whatever the temperature; without it, not greedy.
        assert story(ctx, temperature=1.5, seed=3, top_k=1) == greedy
        assert story(ctx, temperature=1.5, seed=3) != greedy
        # top_p and min_p are applied too: a tiny nucleus is greedy.
        assert story(ctx, temperature=1.5, seed=3, top_p=1e-6) == greedy
        assert story(ctx, temperature=1.5, seed=3, min_p=0.999) == greedy
        assert story(ctx, temperature=0) == greedy
        with pytest.raises(TypeError):
            story(ctx, tempreature=0.5)  # misspelt: an error, not silently greedy
        with pytest.raises(TypeError):
            ctx.chat([{"role": "user", "content": "hi"}], topk=3)
        with ember.Sampler(model, temperature=0) as s, pytest.raises(TypeError):
            story(ctx, sampler=s, seed=1)


def test_interrupt_from_another_thread(model):
    with ember.Context(model) as ctx:
        got = []
        for piece in ctx.generate("Once upon a time", max_tokens=400):
            got.append(piece)
            if len(got) == 3:
                threading.Thread(target=ctx.interrupt).start()
        assert ctx.last_result["stop_reason"] in ("cancelled", "length", "context_full")
        assert ctx.last_result["n_generated_tokens"] < 400


def test_decode_logits_embeddings_and_state(model):
    with ember.Context(model, n_threads=1) as a, ember.Context(model, n_threads=1) as b:
        a.decode([1, 403, 407, 261])
        logits = a.logits()
        assert max(range(512), key=lambda i: logits[i]) == 378
        assert len(a.embeddings("mean")) == 64
        b.load_state(a.save_state())
        assert b.n_past == 4 and b.logits() == logits
        with pytest.raises(ember.InvalidArgumentError):
            b.load_state(b"not a state")
        with pytest.raises(ember.InvalidArgumentError, match="512"):
            a.decode([512])


def test_errors_are_exceptions(tmp_path):
    with pytest.raises(ember.EmberIOError):
        ember.Model(str(tmp_path / "missing.gguf"))
    with open(STORIES, "rb") as f:
        data = f.read()
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(data[:100])
    with pytest.raises(ember.FormatError):
        ember.Model(str(bad))
    with ember.Model.from_bytes(data) as m:
        assert m.n_layer == 5
    with pytest.raises(ember.FormatError):
        ember.Model.from_bytes(data[: len(data) // 2])
    with ember.Model(STORIES) as m:
        with pytest.raises(ember.OutOfMemoryError):
            ember.Context(m, n_ctx=512, memory_limit=1000)
        ctx = ember.Context(m, n_ctx=8)
        with pytest.raises(ember.ContextFullError):
            ctx.decode(list(range(3, 20)))
        ctx.close()
        with pytest.raises(ember.InvalidArgumentError):
            ctx.decode([1])


@pytest.mark.skipif(not os.path.isfile(SMOLLM2), reason="SmolLM2 GGUF not fetched (EMBER_SMOLLM2_GGUF)")
def test_chat_with_an_instruct_model():
    with ember.Model(SMOLLM2) as m, ember.Context(m, n_ctx=512) as ctx:
        answer = "".join(ctx.chat([{"role": "user", "content": "What is 2 + 2?"}], max_tokens=40))
        assert answer == "The answer to this classic math problem is 4."
        assert ctx.last_result["stop_reason"] == "eog"
