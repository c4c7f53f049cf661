"""ember-server over HTTP with a real client (urllib): the OpenAI endpoints, streaming (SSE),
concurrent requests, and the 4xx errors. Uses the bundled stories260K model."""
import json
import os
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest

SERVER = os.environ.get("EMBER_SERVER_TOOL", "")
MODEL = os.path.join(os.path.dirname(__file__), "..", "..", "models", "stories260K.gguf")
pytestmark = pytest.mark.skipif(not SERVER, reason="ember-server not built (EMBER_SERVER_TOOL)")
GREEDY = ", there was a little girl named Lily."


@pytest.fixture(scope="module")
def base():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([SERVER, "-m", MODEL, "--port", str(port), "--parallel", "2", "-c", "512"],
                            stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/health", timeout=1)
            break
        except OSError:
            time.sleep(0.05)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def post(url, body, raw=None):
    data = raw if raw is not None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_health_and_models(base):
    assert json.load(urllib.request.urlopen(base + "/health")) == {"status": "ok"}
    models = json.load(urllib.request.urlopen(base + "/v1/models"))
    assert models["object"] == "list" and models["data"][0]["id"] == "stories260K.gguf"


def test_completion(base):
    status, text = post(base + "/v1/completions", {"prompt": "Once upon a time", "max_tokens": 20, "temperature": 0})
    assert status == 200
    r = json.loads(text)
    assert r["object"] == "text_completion"
    assert r["choices"][0]["text"].startswith(GREEDY)
    assert r["choices"][0]["finish_reason"] == "length"
    assert r["usage"]["completion_tokens"] == 20
    named = {"prompt": "Once upon a time", "max_tokens": 5, "temperature": 0, "model": "stories260K.gguf"}
    assert post(base + "/v1/completions", named)[0] == 200  # the served model, by its /v1/models id


def test_streaming_completion_and_chat(base):
    for path, body in (("/v1/completions", {"prompt": "Once upon a time"}),
                       ("/v1/chat/completions", {"messages": [{"role": "user", "content": "Once upon a time"}]})):
        body.update({"max_tokens": 20, "temperature": 0, "stream": True})
        status, text = post(base + path, body)
        assert status == 200
        events = [line[6:] for line in text.split("\n") if line.startswith("data: ")]
        assert events[-1] == "[DONE]"
        chunks = [json.loads(e) for e in events[:-1]]
        if "chat" in path:
            pieces = [c["choices"][0]["delta"].get("content", "") for c in chunks]
            assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
        else:
            pieces = [c["choices"][0]["text"] for c in chunks]
        assert "".join(pieces).startswith(GREEDY)
        assert chunks[-1]["choices"][0]["finish_reason"] == "length"


def test_stop_strings(base):
    status, text = post(base + "/v1/completions", {"prompt": "Once upon a time", "max_tokens": 50, "temperature": 0,
                                                   "stop": ["Lily"]})
    assert status == 200
    r = json.loads(text)["choices"][0]
    assert r["text"] == ", there was a little girl named " and r["finish_reason"] == "stop"


def test_concurrent_requests_do_not_disturb_each_other(base):
    results = [None] * 6

    def one(i):
        results[i] = post(base + "/v1/completions", {"prompt": "Once upon a time", "max_tokens": 40, "temperature": 0})

    threads = [threading.Thread(target=one, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    texts = {json.loads(t)["choices"][0]["text"] for s, t in results}
    assert all(s == 200 for s, _ in results)
    assert len(texts) == 1 and texts.pop().startswith(GREEDY)


@pytest.mark.parametrize("path,body,raw,code", [
    ("/v1/completions", None, b"{not json", 400),
    ("/v1/completions", {"max_tokens": 5}, None, 400),
    ("/v1/completions", {"prompt": 5}, None, 400),
    ("/v1/completions", {"prompt": "x", "temperature": "hot"}, None, 400),
    ("/v1/completions", {"prompt": "x", "max_tokens": -3}, None, 400),
    ("/v1/chat/completions", {"messages": "hello"}, None, 400),
    ("/v1/chat/completions", {"messages": [{"role": "user"}]}, None, 400),
    ("/v1/completions", None, b"{\"prompt\": \"" + b"a" * (2 << 20) + b"\"}", 413),
    ("/v1/nothing", {}, None, 404),
    # A model other than the one served is not found; a prompt the context cannot hold is refused
    # before any prefill (it was a 500 after seconds of it).
    ("/v1/completions", {"prompt": "x", "model": "gpt-4"}, None, 404),
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": "x"}], "model": 7}, None, 400),
    ("/v1/completions", {"prompt": "Once upon a time " * 200}, None, 400),
])
def test_bad_requests_get_json_errors(base, path, body, raw, code):
    status, text = post(base + path, body, raw)
    assert status == code, text
    err = json.loads(text)["error"]
    assert err["message"] and err["type"] == "invalid_request_error"
