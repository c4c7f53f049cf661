"""Ember: an embeddable on-device LLM runtime. Python bindings over its C ABI (ctypes).

    import ember
    with ember.Model("model.gguf") as model, ember.Context(model, n_ctx=2048) as ctx:
        for text in ctx.chat([{"role": "user", "content": "Hello!"}], max_tokens=64):
            print(text, end="", flush=True)

A Model may be shared by several Contexts (and threads); a Context is used by one thread at a
time, except Context.interrupt(), which any thread may call.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import queue
import threading
from typing import Iterable, Iterator, List, Mapping, Optional, Sequence

__all__ = [
    "Model", "Context", "Sampler", "EmberError", "InvalidArgumentError", "EmberIOError", "FormatError",
    "UnsupportedError", "OutOfMemoryError", "ContextFullError", "CancelledError", "InternalError",
    "version", "library_path",
]

# ---- errors ---------------------------------------------------------------------------------------


class EmberError(Exception):
    """An Ember call failed. `status` is the C status code, `args[0]` Ember's message."""

    status = -1


class InvalidArgumentError(EmberError, ValueError):
    status = 1


class EmberIOError(EmberError, OSError):
    status = 2


class FormatError(EmberError):
    status = 3


class UnsupportedError(EmberError):
    status = 4


class OutOfMemoryError(EmberError, MemoryError):
    status = 5


class ContextFullError(EmberError):
    status = 6


class CancelledError(EmberError):
    status = 7


class InternalError(EmberError):
    status = 8


_ERRORS = {c.status: c for c in (InvalidArgumentError, EmberIOError, FormatError, UnsupportedError, OutOfMemoryError,
                                 ContextFullError, CancelledError, InternalError)}

# ---- the library ----------------------------------------------------------------------------------


def _find_library() -> str:
    env = os.environ.get("EMBER_LIBRARY")
    if env:
        return env
    here = os.path.dirname(os.path.abspath(__file__))
    for name in ("libember.so", "libember.so.2", "libember.dylib"):
        if os.path.exists(os.path.join(here, name)):
            return os.path.join(here, name)
    found = ctypes.util.find_library("ember")
    if found:
        return found
    raise ImportError("libember not found: set EMBER_LIBRARY to its path, or copy it next to this package")


library_path = _find_library()
_lib = ctypes.CDLL(library_path)

c_int32, c_int64, c_uint64, c_size_t, c_float, c_double = (ctypes.c_int32, ctypes.c_int64, ctypes.c_uint64, ctypes.c_size_t,
                                                         ctypes.c_float, ctypes.c_double)
_PROGRESS = ctypes.CFUNCTYPE(ctypes.c_int, c_float, ctypes.c_void_p)
_TEXT = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_char), c_size_t, ctypes.c_void_p)


class _ModelParams(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("use_mmap", c_int32), ("progress", _PROGRESS),
                ("progress_user_data", ctypes.c_void_p)]


class _ContextParams(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("n_ctx", c_int64), ("n_batch", c_int64), ("n_threads", c_int32),
                ("seed", c_uint64), ("memory_limit", c_uint64), ("context_shift", c_int32), ("n_keep", c_int64),
                ("kv_type", c_int32)]


class _SamplerParams(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("temperature", c_float), ("top_k", c_int32), ("top_p", c_float),
                ("min_p", c_float), ("repeat_penalty", c_float), ("repeat_last_n", c_int32),
                ("presence_penalty", c_float), ("frequency_penalty", c_float), ("seed", c_uint64)]


class _GenerateParams(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("max_tokens", c_int64), ("stop", ctypes.POINTER(ctypes.c_char_p)),
                ("n_stop", c_size_t), ("add_special", c_int32), ("parse_special", c_int32)]


class _GenerateResult(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("n_prompt_tokens", c_int64), ("n_generated_tokens", c_int64),
                ("stop_reason", ctypes.c_int), ("prefill_seconds", c_double), ("decode_seconds", c_double)]


class _ChatMessage(ctypes.Structure):
    _fields_ = [("role", ctypes.c_char_p), ("content", ctypes.c_char_p)]


def _fn(name, restype, *argtypes):
    f = getattr(_lib, name)
    f.restype, f.argtypes = restype, list(argtypes)
    return f


_P, _S = ctypes.c_void_p, ctypes.c_int  # handles, ember_status
_version_string = _fn("ember_version_string", ctypes.c_char_p)
_abi_version = _fn("ember_abi_version", c_int32)
_status_str = _fn("ember_status_str", ctypes.c_char_p, ctypes.c_int)
_last_error = _fn("ember_last_error", ctypes.c_char_p)
_model_params_init = _fn("ember_model_params_init", None, ctypes.POINTER(_ModelParams))
_model_load = _fn("ember_model_load", _S, ctypes.c_char_p, ctypes.POINTER(_ModelParams), ctypes.POINTER(_P))
_model_load_from_memory = _fn("ember_model_load_from_memory", _S, ctypes.c_void_p, c_size_t, ctypes.POINTER(_ModelParams),
                              ctypes.POINTER(_P))
_model_free = _fn("ember_model_free", None, _P)
_model_architecture = _fn("ember_model_architecture", ctypes.c_char_p, _P)
_model_ints = {k: _fn(f"ember_model_{k}", c_int64, _P) for k in ("n_vocab", "n_embd", "n_layer", "n_ctx_train")}
_model_size_bytes = _fn("ember_model_size_bytes", c_uint64, _P)
_model_tokens = {k: _fn(f"ember_model_token_{k}", c_int32, _P) for k in ("bos", "eos", "eot")}
_model_chat_template = _fn("ember_model_chat_template", ctypes.c_char_p, _P)
_model_meta = _fn("ember_model_meta", _S, _P, ctypes.c_char_p, ctypes.c_char_p, c_size_t, ctypes.POINTER(c_size_t))
_tokenize = _fn("ember_tokenize", _S, _P, ctypes.c_char_p, c_int64, c_int32, c_int32, ctypes.POINTER(c_int32), c_size_t,
                ctypes.POINTER(c_size_t))
_detokenize = _fn("ember_detokenize", _S, _P, ctypes.POINTER(c_int32), c_size_t, c_int32, ctypes.c_char_p, c_size_t,
                  ctypes.POINTER(c_size_t))
_token_to_piece = _fn("ember_token_to_piece", _S, _P, c_int32, c_int32, ctypes.c_char_p, c_size_t, ctypes.POINTER(c_size_t))
_chat_apply = _fn("ember_chat_apply_template", _S, _P, ctypes.POINTER(_ChatMessage), c_size_t, c_int32, ctypes.c_char_p, c_size_t,
                  ctypes.POINTER(c_size_t))
_context_params_init = _fn("ember_context_params_init", None, ctypes.POINTER(_ContextParams))
_context_create = _fn("ember_context_create", _S, _P, ctypes.POINTER(_ContextParams), ctypes.POINTER(_P))
_context_free = _fn("ember_context_free", None, _P)
_context_n_ctx = _fn("ember_context_n_ctx", c_int64, _P)
_context_n_past = _fn("ember_context_n_past", c_int64, _P)
_context_memory_bytes = _fn("ember_context_memory_bytes", c_uint64, _P)
_context_truncate = _fn("ember_context_truncate", _S, _P, c_int64)
_context_interrupt = _fn("ember_context_interrupt", None, _P)
_context_last_error = _fn("ember_context_last_error", ctypes.c_char_p, _P)
_decode = _fn("ember_decode", _S, _P, ctypes.POINTER(c_int32), c_size_t)
_get_logits = _fn("ember_get_logits", ctypes.POINTER(c_float), _P)
_get_embeddings = _fn("ember_get_embeddings", _S, _P, ctypes.c_int, ctypes.POINTER(c_float), c_size_t)
_state_save = _fn("ember_context_state_save", _S, _P, ctypes.c_void_p, c_size_t, ctypes.POINTER(c_size_t))
_state_load = _fn("ember_context_state_load", _S, _P, ctypes.c_void_p, c_size_t)
_sampler_params_init = _fn("ember_sampler_params_init", None, ctypes.POINTER(_SamplerParams))
_sampler_create = _fn("ember_sampler_create", _S, _P, ctypes.POINTER(_SamplerParams), ctypes.POINTER(_P))
_sampler_free = _fn("ember_sampler_free", None, _P)
_sampler_sample = _fn("ember_sampler_sample", _S, _P, _P, ctypes.POINTER(c_int32))
_generate_params_init = _fn("ember_generate_params_init", None, ctypes.POINTER(_GenerateParams))
_generate_result_init = _fn("ember_generate_result_init", None, ctypes.POINTER(_GenerateResult))
_generate = _fn("ember_generate", _S, _P, _P, ctypes.c_char_p, ctypes.POINTER(_GenerateParams), _TEXT, ctypes.c_void_p,
                ctypes.POINTER(_GenerateResult))

STOP_REASONS = ("eog", "stop", "length", "callback", "cancelled", "context_full")


def version() -> str:
    return _version_string().decode()


if _abi_version() != 2:
    raise ImportError(f"{library_path} has ABI version {_abi_version()}; these bindings speak version 2")


def _check(status: int, message: Optional[bytes] = None) -> None:
    if status != 0:
        text = (message if message is not None else _last_error()).decode("utf-8", "replace")
        raise _ERRORS.get(status, EmberError)(text or _status_str(status).decode())


def _snprintf_call(call) -> str:
    """Calls call(buf, size, needed) twice if needed: once to size, once to fill."""
    needed = c_size_t(0)
    buf = ctypes.create_string_buffer(256)
    _check(call(buf, len(buf), ctypes.byref(needed)))
    if needed.value >= len(buf):
        buf = ctypes.create_string_buffer(needed.value + 1)
        _check(call(buf, len(buf), ctypes.byref(needed)))
    return buf.raw[: needed.value].decode("utf-8", "replace")


class _Handle:
    """Owns one C handle: freed by close(), by leaving a `with` block, or when collected."""

    _free = None  # the ember_*_free function of the subclass
    _what = "handle"

    def close(self) -> None:
        if getattr(self, "_h", None):
            self._free(self._h)
            self._h = _P()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def _handle(self) -> _P:
        if not self._h:
            raise InvalidArgumentError(f"the {self._what} is closed")
        return self._h


# ---- models ---------------------------------------------------------------------------------------


class Model(_Handle):
    """A loaded model: a GGUF file or a Hugging Face folder (or GGUF bytes via `from_bytes`)."""

    _free, _what = staticmethod(_model_free), "model"

    def __init__(self, path: Optional[str] = None, *, use_mmap: bool = True, _handle: Optional[int] = None):
        self._h = _P()
        if _handle is not None:
            self._h.value = _handle
            return
        p = _ModelParams()
        _model_params_init(ctypes.byref(p))
        p.use_mmap = 1 if use_mmap else 0
        _check(_model_load(os.fsencode(path), ctypes.byref(p), ctypes.byref(self._h)))

    @classmethod
    def from_bytes(cls, data: bytes) -> "Model":
        h = _P()
        _check(_model_load_from_memory(data, len(data), None, ctypes.byref(h)))
        return cls(_handle=h.value)

    architecture = property(lambda self: _model_architecture(self._handle()).decode())
    n_vocab = property(lambda self: _model_ints["n_vocab"](self._handle()))
    n_embd = property(lambda self: _model_ints["n_embd"](self._handle()))
    n_layer = property(lambda self: _model_ints["n_layer"](self._handle()))
    n_ctx_train = property(lambda self: _model_ints["n_ctx_train"](self._handle()))
    size_bytes = property(lambda self: _model_size_bytes(self._handle()))
    bos = property(lambda self: _model_tokens["bos"](self._handle()))
    eos = property(lambda self: _model_tokens["eos"](self._handle()))
    eot = property(lambda self: _model_tokens["eot"](self._handle()))
    chat_template = property(lambda self: _model_chat_template(self._handle()).decode("utf-8", "replace"))

    def meta(self, key: str) -> str:
        """A GGUF metadata value as text."""
        h = self._handle()
        return _snprintf_call(lambda b, n, need: _model_meta(h, key.encode(), b, n, need))

    def tokenize(self, text: str, add_special: bool = True, parse_special: bool = False) -> List[int]:
        data = text.encode("utf-8")
        n = c_size_t(0)
        cap = len(data) + 8
        out = (c_int32 * cap)()
        _check(_tokenize(self._handle(), data, len(data), int(add_special), int(parse_special), out, cap, ctypes.byref(n)))
        if n.value > cap:
            out = (c_int32 * n.value)()
            _check(_tokenize(self._handle(), data, len(data), int(add_special), int(parse_special), out, n.value, ctypes.byref(n)))
        return list(out[: n.value])

    def detokenize(self, tokens: Sequence[int], special: bool = False) -> str:
        arr = (c_int32 * len(tokens))(*tokens)
        h = self._handle()
        return _snprintf_call(lambda b, n, need: _detokenize(h, arr, len(tokens), int(special), b, n, need))

    def token_to_piece(self, token: int, special: bool = False) -> bytes:
        """The bytes of one token as they appear inside a text (may be part of a character)."""
        h, needed = self._handle(), c_size_t(0)
        buf = ctypes.create_string_buffer(64)
        _check(_token_to_piece(h, token, int(special), buf, len(buf), ctypes.byref(needed)))
        if needed.value >= len(buf):
            buf = ctypes.create_string_buffer(needed.value + 1)
            _check(_token_to_piece(h, token, int(special), buf, len(buf), ctypes.byref(needed)))
        return buf.raw[: needed.value]

    def apply_chat_template(self, messages: Iterable[Mapping[str, str]], add_generation_prompt: bool = True) -> str:
        msgs = list(messages)
        arr = (_ChatMessage * len(msgs))(*[_ChatMessage(m["role"].encode(), m["content"].encode()) for m in msgs])
        h = self._handle()
        return _snprintf_call(lambda b, n, need: _chat_apply(h, arr, len(msgs), int(add_generation_prompt), b, n, need))


# ---- sampling -------------------------------------------------------------------------------------


class Sampler(_Handle):
    """Temperature, top-k, top-p, min-p and penalties; the same seed reproduces a run."""

    _free, _what = staticmethod(_sampler_free), "sampler"

    def __init__(self, model: Model, *, temperature: float = 0.8, top_k: int = 40, top_p: float = 0.95, min_p: float = 0.05,
                 repeat_penalty: float = 1.0, repeat_last_n: int = 64, presence_penalty: float = 0.0,
                 frequency_penalty: float = 0.0, seed: int = 0):
        p = _SamplerParams()
        _sampler_params_init(ctypes.byref(p))
        p.temperature, p.top_k, p.top_p, p.min_p = temperature, top_k, top_p, min_p
        p.repeat_penalty, p.repeat_last_n = repeat_penalty, repeat_last_n
        p.presence_penalty, p.frequency_penalty, p.seed = presence_penalty, frequency_penalty, seed
        self._h = _P()
        self._model = model
        _check(_sampler_create(model._handle(), ctypes.byref(p), ctypes.byref(self._h)))

    def sample(self, ctx: "Context") -> int:
        tok = c_int32()
        _check(_sampler_sample(self._handle(), ctx._handle(), ctypes.byref(tok)))
        return tok.value



# ---- contexts -------------------------------------------------------------------------------------


class Context(_Handle):
    """One conversation's state (KV cache) over a Model."""

    _free, _what = staticmethod(_context_free), "context"

    def __init__(self, model: Model, *, n_ctx: int = 0, n_batch: int = 0, n_threads: int = 0, seed: int = 0,
                 memory_limit: int = 0, context_shift: bool = False, n_keep: int = 0, kv_type: str = "f32"):
        p = _ContextParams()
        _context_params_init(ctypes.byref(p))
        p.n_ctx, p.n_batch, p.n_threads, p.seed = n_ctx, n_batch, n_threads, seed
        p.memory_limit, p.context_shift, p.n_keep = memory_limit, int(context_shift), n_keep
        kv_types = {"f32": 0, "f16": 1}
        if kv_type not in kv_types:
            raise ValueError(f"kv_type must be 'f32' or 'f16', not {kv_type!r}")
        p.kv_type = kv_types[kv_type]
        self.model = model
        self._h = _P()
        _check(_context_create(model._handle(), ctypes.byref(p), ctypes.byref(self._h)))
        self.last_result: Optional[dict] = None

    def _check(self, status: int) -> None:
        if status != 0:
            _check(status, _context_last_error(self._h))

    n_ctx = property(lambda self: _context_n_ctx(self._handle()))
    n_past = property(lambda self: _context_n_past(self._handle()))
    memory_bytes = property(lambda self: _context_memory_bytes(self._handle()))

    def decode(self, tokens: Sequence[int]) -> None:
        arr = (c_int32 * len(tokens))(*tokens)
        self._check(_decode(self._handle(), arr, len(tokens)))

    def logits(self) -> List[float]:
        p = _get_logits(self._handle())
        if not p:
            raise InvalidArgumentError("no logits yet: decode first")
        return p[: self.model.n_vocab]

    def embeddings(self, pooling: str = "last") -> List[float]:
        n = self.model.n_embd
        out = (c_float * n)()
        _check(_get_embeddings(self._handle(), {"last": 0, "mean": 1}[pooling], out, n))
        return list(out)

    def truncate(self, n_keep: int) -> None:
        self._check(_context_truncate(self._handle(), n_keep))

    def reset(self) -> None:
        self.truncate(0)

    def interrupt(self) -> None:
        """Stops the running (or next) decode/generate; safe from any thread."""
        if self._h:
            _context_interrupt(self._h)

    def save_state(self) -> bytes:
        needed = c_size_t(0)
        _check(_state_save(self._handle(), None, 0, ctypes.byref(needed)))
        buf = ctypes.create_string_buffer(needed.value)
        _check(_state_save(self._handle(), buf, needed.value, ctypes.byref(needed)))
        return buf.raw

    def load_state(self, state: bytes) -> None:
        self._check(_state_load(self._handle(), state, len(state)))

    def generate(self, prompt: str = "", *, max_tokens: int = 256, stop: Optional[Sequence[str]] = None,
                 sampler: Optional[Sampler] = None, temperature: Optional[float] = None, seed: int = 0,
                 parse_special: bool = False, **sampling) -> Iterator[str]:
        """Streams the continuation of prompt (appended to what the context holds) as text pieces.
        Without a sampler, temperature=None or 0 is greedy; otherwise a Sampler is made from
        temperature, seed and the other keyword arguments. Leaving the loop early stops generation;
        `last_result` then holds the stop reason and timing."""
        own = None
        if sampler is None and temperature:
            own = sampler = Sampler(self.model, temperature=temperature, seed=seed, **sampling)
        return self._stream(prompt, max_tokens, stop or [], sampler, own, parse_special)

    def chat(self, messages: Iterable[Mapping[str, str]], **kwargs) -> Iterator[str]:
        """OpenAI-style messages rendered with the model's chat template, then generate()."""
        prompt = self.model.apply_chat_template(messages, add_generation_prompt=True)
        self.reset()
        return self.generate(prompt, parse_special=True, **kwargs)

    def _stream(self, prompt, max_tokens, stop, sampler, own, parse_special) -> Iterator[str]:
        # A short queue: the generating thread stays at most two pieces ahead of the consumer, so
        # leaving the loop early stops generation close to where the consumer stopped reading.
        pieces: "queue.Queue[object]" = queue.Queue(maxsize=2)
        done = object()
        stopping = threading.Event()

        @_TEXT
        def on_text(text, n, _user):
            pieces.put(ctypes.string_at(text, n).decode("utf-8", "replace"))
            return 1 if stopping.is_set() else 0

        p = _GenerateParams()
        _generate_params_init(ctypes.byref(p))
        p.max_tokens = max_tokens
        stops = (ctypes.c_char_p * max(1, len(stop)))(*[s.encode() for s in stop])
        p.stop, p.n_stop, p.parse_special = stops, len(stop), int(parse_special)
        result = _GenerateResult()
        _generate_result_init(ctypes.byref(result))
        outcome = {}
        h = self._handle()
        sh = sampler._h if sampler is not None else None
        data = prompt.encode("utf-8")

        def run():
            try:
                outcome["status"] = _generate(h, sh, data, ctypes.byref(p), on_text, None, ctypes.byref(result))
                outcome["message"] = _context_last_error(h)
            finally:
                pieces.put(done)

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        try:
            while True:
                item = pieces.get()
                if item is done:
                    break
                yield item
        finally:
            if worker.is_alive():  # the consumer left early: stop the generation, then wait for it
                stopping.set()
                self.interrupt()
                while worker.is_alive():  # keep the queue moving so the worker can see the stop
                    try:
                        pieces.get(timeout=0.05)
                    except queue.Empty:
                        pass
                worker.join()
            if own is not None:
                own.close()
        _check(outcome.get("status", 0), outcome.get("message"))
        self.last_result = {"stop_reason": STOP_REASONS[result.stop_reason], "n_prompt_tokens": result.n_prompt_tokens,
                            "n_generated_tokens": result.n_generated_tokens, "prefill_seconds": result.prefill_seconds,
                            "decode_seconds": result.decode_seconds}
