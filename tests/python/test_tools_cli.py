"""The command-line tools as a person meets them: --help everywhere, usage errors, ember-chat's
commands and Ctrl-C (in a real pseudo-terminal), ember-quantize's progress, warning and type names."""
import os
import pty
import select
import signal
import subprocess
import time

import pytest

TOOLS_DIR = os.environ.get("EMBER_TOOLS_DIR", "")
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
STORIES = os.path.join(ROOT, "models", "stories260K.gguf")
SMOLLM2 = os.environ.get("EMBER_SMOLLM2_GGUF", "")
TOOLS = ["ember-chat", "ember-generate", "ember-server", "ember-quantize", "ember-convert", "ember-gguf",
         "ember-tokenize", "ember-template", "ember-selfcheck", "appliance"]

pytestmark = pytest.mark.skipif(not TOOLS_DIR, reason="EMBER_TOOLS_DIR not set (run through ctest)")


def tool(name):
    if name == "ember-bench":
        return os.environ["EMBER_BENCH_TOOL"]
    return os.path.join(TOOLS_DIR, name)


@pytest.mark.parametrize("name", TOOLS + ["ember-bench"])
def test_help_and_usage_errors(name):
    if name == "ember-bench" and not os.environ.get("EMBER_BENCH_TOOL"):
        pytest.skip("ember-bench not built")
    if name == "ember-server" and not os.path.exists(tool(name)):
        pytest.skip("ember-server not built")
    for flag in ("--help", "-h"):
        r = subprocess.run([tool(name), flag], capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
        assert r.returncode == 0, r.stderr
        assert r.stdout.startswith("usage: " + name) and len(r.stdout.splitlines()) >= 3, r.stdout
        assert r.stderr == ""
    r = subprocess.run([tool(name), "--no-such-option", "x", "y", "z"], capture_output=True, text=True, timeout=30,
                       stdin=subprocess.DEVNULL)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "usage:" in r.stderr and r.stdout == ""


def test_chat_commands():
    r = subprocess.run([tool("ember-chat"), "-m", STORIES, "--temp", "0", "-n", "20"], capture_output=True, text=True,
                       input="/bogus\n//Once upon a time\n/quit\nnever read\n", timeout=60)
    assert r.returncode == 0, r.stderr
    assert "unknown command '/bogus'" in r.stderr
    assert "/Once upon a time" in r.stdout  # "//" sends a line that starts with "/"
    assert "never read" not in r.stdout


def wait_exit(pid, timeout=30.0):
    """The child's exit status, or a failure (after killing it) if it has not ended in time."""
    end = time.time() + timeout
    while time.time() < end:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    pytest.fail("the program did not exit")


def at_prompt(fd):
    """Waits for ember-chat's prompt, and for the line editor to take the terminal over: a key
    typed in the instant between the prompt and that would be read by the terminal's own line
    discipline instead (a person cannot type that fast)."""
    read_until(fd, b"> ")
    time.sleep(0.3)


def read_until(fd, want, timeout=60.0):
    """Reads a pseudo-terminal until `want` appears; returns what was read."""
    got = b""
    end = time.time() + timeout
    while want not in got:
        left = end - time.time()
        assert left > 0, f"timed out waiting for {want!r}; got {got[-400:]!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            got += chunk
    return got


@pytest.mark.skipif(not os.path.isfile(SMOLLM2), reason="SmolLM2 GGUF not fetched (EMBER_SMOLLM2_GGUF)")
def test_chat_ctrl_c_in_a_terminal():
    pid, fd = pty.fork()
    if pid == 0:  # the child: ember-chat on the terminal, a long reply asked for
        os.execv(tool("ember-chat"), [tool("ember-chat"), "-m", SMOLLM2, "-n", "3000", "-t", "1", "--temp", "0.8",
                                     "--seed", "1"])
    try:
        at_prompt(fd)
        os.write(fd, b"Write a very long story about a dragon, with many chapters.\r")
        read_until(fd, b"Write a very long story")
        time.sleep(1.0)  # the reply is streaming
        os.write(fd, b"\x03")  # Ctrl-C: stops the reply, back at the prompt
        after = read_until(fd, b"> ")
        assert b"stop: cancelled" in after, after[-400:]
        time.sleep(0.3)
        os.write(fd, b"\x03")  # Ctrl-C at the prompt: quits
        status = wait_exit(pid)
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 130, status
    finally:
        os.close(fd)


def test_chat_ctrl_d_quits_in_a_terminal():
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(tool("ember-chat"), [tool("ember-chat"), "-m", STORIES, "--temp", "0", "-n", "10"])
    try:
        at_prompt(fd)
        os.write(fd, b"Once upon a time\r")
        reply = read_until(fd, b"there was")
        if b"> " not in reply.split(b"there was", 1)[1]:
            read_until(fd, b"> ")
        time.sleep(0.3)
        os.write(fd, b"\x04")  # Ctrl-D
        status = wait_exit(pid)
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
    finally:
        os.close(fd)


def test_quantize_reports_progress_takes_any_case_and_warns(tmp_path):
    q8 = tmp_path / "s-q8.gguf"
    r = subprocess.run([tool("ember-quantize"), STORIES, str(q8), "q8_0"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    lines = [l for l in r.stdout.splitlines() if l.startswith("[")]
    n = len(lines)
    assert n > 10 and lines[0].startswith(f"[   1/{n}]") and lines[-1].startswith(f"[{n:4d}/{n}]"), r.stdout[:400]
    assert "already quantized" not in r.stderr
    again = subprocess.run([tool("ember-quantize"), str(q8), str(tmp_path / "s-q4.gguf"), "Q4_0"], capture_output=True,
                           text=True, timeout=120)
    assert again.returncode == 0 and "already quantized (Q8_0)" in again.stderr, again.stderr
    bad = subprocess.run([tool("ember-quantize"), STORIES, str(tmp_path / "x.gguf"), "q9_9"], capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown quantization type 'q9_9'" in bad.stderr


def test_generate_refuses_a_run_longer_than_the_trained_context():
    """Without -c, a run that needs more than the model was trained for is refused at once (it
    used to size the context to a whole 1 MB prompt and run for minutes)."""
    prompt = "Once upon a time there was a cat. " * 100  # about 900 tokens; stories260K knows 512
    t0 = time.time()
    r = subprocess.run([tool("ember-generate"), "-m", STORIES, "-p", prompt, "-n", "8"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 1 and "more than the model's 512" in r.stderr, r.stderr
    assert time.time() - t0 < 10


def test_gguf_json_shows_invalid_utf8_metadata(tmp_path):
    """A metadata string that is not UTF-8 is shown with U+FFFD (ember-gguf json used to abort)."""
    data = bytearray(open(STORIES, "rb").read())
    at = data.find(b"stories260K")
    data[at:at + 2] = b"\xff\xfe"
    bad = tmp_path / "bad-name.gguf"
    bad.write_bytes(bytes(data))
    for mode in ("json", "dump"):
        r = subprocess.run([tool("ember-gguf"), mode, str(bad)], capture_output=True, timeout=60)
        assert r.returncode == 0, r.stderr
        assert "\ufffd\ufffdories260K" in r.stdout.decode("utf-8")
    import json
    out = json.loads(subprocess.run([tool("ember-gguf"), "json", str(bad)], capture_output=True).stdout)
    assert "\ufffd\ufffdories260K" in json.dumps(out, ensure_ascii=False)
