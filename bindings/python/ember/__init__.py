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
import sys
import threading
from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

__all__ = [
    "Model", "Context", "Sampler", "EmberError", "InvalidArgumentError", "EmberIOError", "FormatError",
    "UnsupportedError", "OutOfMemoryError", "ContextFullError", "CancelledError", "InternalError",
    "version", "library_path", "GenerateResult",
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


_ERRORS: Dict[int, type] = {c.status: c for c in (InvalidArgumentError, EmberIOError, FormatError, UnsupportedError,
                                                  OutOfMemoryError, ContextFullError, CancelledError, InternalError)}

# ---- the library ----------------------------------------------------------------------------------

_SONAME = "libember.so.2"  # the ABI these bindings speak


def _candidates() -> List[str]:
    """Where libember is looked for, in order: EMBER_LIBRARY (an override), the copy this package
    carries (a wheel built by `pip install bindings/python`), the loader's own search (an installed
    prefix: /usr/lib, /usr/local/lib, LD_LIBRARY_PATH), then the usual install prefixes by path."""
    out: List[str] = []
    env = os.environ.get("EMBER_LIBRARY")
    if env:
        out.append(env)
    here = os.path.dirname(os.path.abspath(__file__))
    out += [os.path.join(here, name) for name in (_SONAME, "libember.so", "libember.dylib")]
    out.append(_SONAME)
    found = ctypes.util.find_library("ember")
    if found:
        out.append(found)
    prefixes = [sys.prefix, "/usr/local", "/usr"]
    for prefix in prefixes:
        for libdir in ("lib", "lib64", os.path.join("lib", f"{os.uname().machine}-linux-gnu")):
            out.append(os.path.join(prefix, libdir, _SONAME))
    return out


def _load_library() -> Tuple[str, ctypes.CDLL]:
    tried: List[str] = []
    for path in _candidates():
        if os.path.isabs(path) and not os.path.exists(path):
            tried.append(f"{path} (no such file)")
            continue
        try:
            return path, ctypes.CDLL(path)
        except OSError as e:
            tried.append(f"{path} ({e})")
            if path == os.environ.get("EMBER_LIBRARY"):
                break  # an explicit override that fails is an error, not a hint to look elsewhere
    raise ImportError("libember not found. Tried:\n  " + "\n  ".join(tried) +
                      "\nInstall the package with its library (pip install bindings/python), install Ember "
                      "(cmake --install, or the libember2 .deb), or set EMBER_LIBRARY to libember.so's path.")


library_path, _lib = _load_library()

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


def _fn(name: str, restype: Any, *argtypes: Any) -> Any:
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

Message = Mapping[str, str]


def version() -> str:
    return str(_version_string().decode())


if _abi_version() != 2:
    raise ImportError(f"{library_path} has ABI version {_abi_version()}; these bindings speak version 2")


def _check(status: int, message: Optional[bytes] = None) -> None:
    if status != 0:
        text = (message if message is not None else _last_error()).decode("utf-8", "replace")
        raise _ERRORS.get(status, EmberError)(text or _status_str(status).decode())


def _snprintf_call(call: Callable[[Any, int, Any], int]) -> str:
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

    _what = "handle"
    _h: ctypes.c_void_p
    _free: Callable[[ctypes.c_void_p], None]  # each handle class's ember_*_free

    def close(self) -> None:
        if getattr(self, "_h", None):
            self._free(self._h)
            self._h = _P()

    def __enter__(self) -> Any:  # each handle class narrows it to itself
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def _handle(self) -> ctypes.c_void_p:
        if not self._h:
            raise InvalidArgumentError(f"the {self._what} is closed")
        return self._h


# ---- models ---------------------------------------------------------------------------------------


class Model(_Handle):
    """A loaded model: a GGUF file or a Hugging Face folder (or GGUF bytes via `from_bytes`)."""

    _what = "model"

    @staticmethod
    def _free(handle: ctypes.c_void_p) -> None:
        _model_free(handle)

    def __init__(self, path: Union[str, "os.PathLike[str]", None] = None, *, use_mmap: bool = True,
                 _handle: Optional[int] = None) -> None:
        self._h = _P()
        if _handle is not None:
            self._h.value = _handle
            return
        if path is None:
            raise TypeError("Model() needs the path of a GGUF file or a Hugging Face folder")
        p = _ModelParams()
        _model_params_init(ctypes.byref(p))
        p.use_mmap = 1 if use_mmap else 0
        _check(_model_load(os.fsencode(path), ctypes.byref(p), ctypes.byref(self._h)))

    def __enter__(self) -> "Model":
        return self

    @classmethod
    def from_bytes(cls, data: bytes) -> "Model":
        h = _P()
        _check(_model_load_from_memory(data, len(data), None, ctypes.byref(h)))
        return cls(_handle=h.value)

    @property
    def architecture(self) -> str:
        return str(_model_architecture(self._handle()).decode())

    @property
    def n_vocab(self) -> int:
        return int(_model_ints["n_vocab"](self._handle()))

    @property
    def n_embd(self) -> int:
        return int(_model_ints["n_embd"](self._handle()))

    @property
    def n_layer(self) -> int:
        return int(_model_ints["n_layer"](self._handle()))

    @property
    def n_ctx_train(self) -> int:
        return int(_model_ints["n_ctx_train"](self._handle()))

    @property
    def size_bytes(self) -> int:
        return int(_model_size_bytes(self._handle()))

    @property
    def bos(self) -> int:
        return int(_model_tokens["bos"](self._handle()))

    @property
    def eos(self) -> int:
        return int(_model_tokens["eos"](self._handle()))

    @property
    def eot(self) -> int:
        return int(_model_tokens["eot"](self._handle()))

    @property
    def chat_template(self) -> str:
        return str(_model_chat_template(self._handle()).decode("utf-8", "replace"))

    def meta(self, key: str) -> str:
        """A GGUF metadata value as text."""
        h = self._handle()
        return _snprintf_call(lambda b, n, need: int(_model_meta(h, key.encode(), b, n, need)))

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
        return _snprintf_call(lambda b, n, need: int(_detokenize(h, arr, len(tokens), int(special), b, n, need)))

    def token_to_piece(self, token: int, special: bool = False) -> bytes:
        """The bytes of one token as they appear inside a text (may be part of a character)."""
        h, needed = self._handle(), c_size_t(0)
        buf = ctypes.create_string_buffer(64)
        _check(_token_to_piece(h, token, int(special), buf, len(buf), ctypes.byref(needed)))
        if needed.value >= len(buf):
            buf = ctypes.create_string_buffer(needed.value + 1)
            _check(_token_to_piece(h, token, int(special), buf, len(buf), ctypes.byref(needed)))
        return bytes(buf.raw[: needed.value])

    def apply_chat_template(self, messages: Iterable[Message], add_generation_prompt: bool = True) -> str:
        msgs = list(messages)
        arr = (_ChatMessage * len(msgs))(*[_ChatMessage(m["role"].encode(), m["content"].encode()) for m in msgs])
        h = self._handle()
        return _snprintf_call(lambda b, n, need: int(_chat_apply(h, arr, len(msgs), int(add_generation_prompt), b, n, need)))


# ---- sampling -------------------------------------------------------------------------------------


class Sampler(_Handle):
    """Temperature, top-k, top-p, min-p and penalties; the same seed reproduces a run."""

    _what = "sampler"

    @staticmethod
    def _free(handle: ctypes.c_void_p) -> None:
        _sampler_free(handle)

    def __init__(self, model: Model, *, temperature: float = 0.8, top_k: int = 40, top_p: float = 0.95, min_p: float = 0.05,
                 repeat_penalty: float = 1.0, repeat_last_n: int = 64, presence_penalty: float = 0.0,
                 frequency_penalty: float = 0.0, seed: int = 0) -> None:
        p = _SamplerParams()
        _sampler_params_init(ctypes.byref(p))
        p.temperature, p.top_k, p.top_p, p.min_p = temperature, top_k, top_p, min_p
        p.repeat_penalty, p.repeat_last_n = repeat_penalty, repeat_last_n
        p.presence_penalty, p.frequency_penalty, p.seed = presence_penalty, frequency_penalty, seed
        self._h = _P()
        self._model = model
        _check(_sampler_create(model._handle(), ctypes.byref(p), ctypes.byref(self._h)))

    def __enter__(self) -> "Sampler":
        return self

    def sample(self, ctx: "Context") -> int:
        tok = c_int32()
        _check(_sampler_sample(self._handle(), ctx._handle(), ctypes.byref(tok)))
        return int(tok.value)


# ---- contexts -------------------------------------------------------------------------------------


class GenerateResult(Dict[str, Any]):
    """How a generate() or chat() ended: stop_reason (one of STOP_REASONS), n_prompt_tokens,
    n_generated_tokens, prefill_seconds, decode_seconds."""


class Context(_Handle):
    """One conversation's state (KV cache) over a Model."""

    _what = "context"

    @staticmethod
    def _free(handle: ctypes.c_void_p) -> None:
        _context_free(handle)

    def __init__(self, model: Model, *, n_ctx: int = 0, n_batch: int = 0, n_threads: int = 0, seed: int = 0,
                 memory_limit: int = 0, context_shift: bool = False, n_keep: int = 0, kv_type: str = "f32") -> None:
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
        self.last_result: Optional[GenerateResult] = None

    def __enter__(self) -> "Context":
        return self

    def _check(self, status: int) -> None:
        if status != 0:
            _check(status, _context_last_error(self._h))

    @property
    def n_ctx(self) -> int:
        return int(_context_n_ctx(self._handle()))

    @property
    def n_past(self) -> int:
        return int(_context_n_past(self._handle()))

    @property
    def memory_bytes(self) -> int:
        return int(_context_memory_bytes(self._handle()))

    def decode(self, tokens: Sequence[int]) -> None:
        arr = (c_int32 * len(tokens))(*tokens)
        self._check(_decode(self._handle(), arr, len(tokens)))

    def logits(self) -> List[float]:
        p = _get_logits(self._handle())
        if not p:
            raise InvalidArgumentError("no logits yet: decode first")
        return list(p[: self.model.n_vocab])

    def embeddings(self, pooling: str = "last") -> List[float]:
        poolings = {"last": 0, "mean": 1}
        if pooling not in poolings:
            raise ValueError(f"pooling must be 'last' or 'mean', not {pooling!r}")
        n = self.model.n_embd
        out = (c_float * n)()
        _check(_get_embeddings(self._handle(), poolings[pooling], out, n))
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
        return bytes(buf.raw)

    def load_state(self, state: bytes) -> None:
        self._check(_state_load(self._handle(), state, len(state)))

    def generate(self, prompt: str = "", *, max_tokens: int = 256, stop: Optional[Sequence[str]] = None,
                 sampler: Optional[Sampler] = None, temperature: Optional[float] = None, top_k: Optional[int] = None,
                 top_p: Optional[float] = None, min_p: Optional[float] = None, repeat_penalty: Optional[float] = None,
                 repeat_last_n: Optional[int] = None, presence_penalty: Optional[float] = None,
                 frequency_penalty: Optional[float] = None, seed: Optional[int] = None,
                 parse_special: bool = False) -> Iterator[str]:
        """Streams the continuation of prompt (appended to what the context holds) as text pieces.

        With no sampler and no sampling keyword, decoding is greedy. Any sampling keyword
        (temperature, top_k, top_p, min_p, the penalties, seed) makes a Sampler from those given
        and Sampler's defaults for the rest (temperature 0.8); temperature=0 is greedy. A sampler
        and sampling keywords together are a TypeError. Leaving the loop early stops generation;
        `last_result` then holds the stop reason and timing either way."""
        given: Dict[str, Any] = {k: v for k, v in (("temperature", temperature), ("top_k", top_k), ("top_p", top_p), ("min_p", min_p),
                                   ("repeat_penalty", repeat_penalty), ("repeat_last_n", repeat_last_n),
                                   ("presence_penalty", presence_penalty), ("frequency_penalty", frequency_penalty),
                                   ("seed", seed)) if v is not None}
        own: Optional[Sampler] = None
        if given:
            if sampler is not None:
                raise TypeError(f"generate() takes a sampler or sampling keywords, not both (got {', '.join(given)})")
            own = sampler = Sampler(self.model, **given)
        return self._stream(prompt, max_tokens, list(stop or []), sampler, own, parse_special)

    def chat(self, messages: Iterable[Message], *, max_tokens: int = 256, stop: Optional[Sequence[str]] = None,
             sampler: Optional[Sampler] = None, temperature: Optional[float] = None, top_k: Optional[int] = None,
             top_p: Optional[float] = None, min_p: Optional[float] = None, repeat_penalty: Optional[float] = None,
             repeat_last_n: Optional[int] = None, presence_penalty: Optional[float] = None,
             frequency_penalty: Optional[float] = None, seed: Optional[int] = None) -> Iterator[str]:
        """OpenAI-style messages rendered with the model's chat template (the context is reset
        first), then generate() with the same keywords."""
        prompt = self.model.apply_chat_template(messages, add_generation_prompt=True)
        self.reset()
        return self.generate(prompt, max_tokens=max_tokens, stop=stop, sampler=sampler, temperature=temperature,
                             top_k=top_k, top_p=top_p, min_p=min_p, repeat_penalty=repeat_penalty,
                             repeat_last_n=repeat_last_n, presence_penalty=presence_penalty,
                             frequency_penalty=frequency_penalty, seed=seed, parse_special=True)

    def _stream(self, prompt: str, max_tokens: int, stop: List[str], sampler: Optional[Sampler], own: Optional[Sampler],
                parse_special: bool) -> Iterator[str]:
        # A short queue: the generating thread stays at most two pieces ahead of the consumer, so
        # leaving the loop early stops generation close to where the consumer stopped reading.
        pieces: "queue.Queue[object]" = queue.Queue(maxsize=2)
        done = object()
        stopping = threading.Event()

        def on_text(text: Any, n: int, _user: Any) -> int:
            pieces.put(ctypes.string_at(text, n).decode("utf-8", "replace"))
            return 1 if stopping.is_set() else 0

        callback = _TEXT(on_text)  # kept alive by this frame while the worker runs

        p = _GenerateParams()
        _generate_params_init(ctypes.byref(p))
        p.max_tokens = max_tokens
        stops = (ctypes.c_char_p * max(1, len(stop)))(*[s.encode() for s in stop])
        p.stop, p.n_stop, p.parse_special = stops, len(stop), int(parse_special)
        result = _GenerateResult()
        _generate_result_init(ctypes.byref(result))
        outcome: Dict[str, Any] = {}
        h = self._handle()
        sh = sampler._h if sampler is not None else None
        data = prompt.encode("utf-8")

        def run() -> None:
            try:
                outcome["status"] = _generate(h, sh, data, ctypes.byref(p), callback, None, ctypes.byref(result))
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
                assert isinstance(item, str)
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
            # Also after an early break (the generator is closed here): how it ended.
            self.last_result = GenerateResult(
                stop_reason=STOP_REASONS[result.stop_reason], n_prompt_tokens=result.n_prompt_tokens,
                n_generated_tokens=result.n_generated_tokens, prefill_seconds=result.prefill_seconds,
                decode_seconds=result.decode_seconds)
        _check(outcome.get("status", 0), outcome.get("message"))
