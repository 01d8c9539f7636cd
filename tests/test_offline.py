"""Offline guard: start-up and every command run with no network but loopback.

Each command runs in a fresh network namespace (``unshare -n``, loopback up), so a hub download
would fail; the test also proves such a failure is immediate, not a 70 s retry loop.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

SHOPAGENT = str(Path(sys.executable).with_name("shopagent"))


def _offline_prefix() -> list[str]:
    for prefix in (["unshare", "-n"], ["unshare", "-rn"]):
        if shutil.which("unshare") and subprocess.run([*prefix, "true"], capture_output=True).returncode == 0:
            return [*prefix, "sh", "-c", 'ip link set lo up && exec "$@"', "offline"]
    if os.environ.get("CI"):
        pytest.fail("CI must be able to create a network namespace (unshare -n)")
    pytest.skip("cannot create a network namespace here")


@pytest.fixture(scope="module")
def offline_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One data dir for the module, as one installation: `prepare` runs first, later commands reuse it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SHOPAGENT_", "HF_", "TRANSFORMERS_"))}
    env["SHOPAGENT_DATA_DIR"] = str(tmp_path_factory.mktemp("offline") / "data")
    env["SHOPAGENT_LLM"] = "none"
    return env


def run_offline(args: list[str], env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*_offline_prefix(), *args], env=env, capture_output=True, text=True, timeout=timeout)


def test_namespace_really_has_no_network(offline_env: dict[str, str]) -> None:
    probe = "import socket; s=socket.socket(); s.settimeout(5); print(s.connect_ex(('1.1.1.1', 443)))"
    result = run_offline([sys.executable, "-c", probe], offline_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() != "0"


def test_hub_call_fails_fast(offline_env: dict[str, str]) -> None:
    code = (
        "import shopagent, time, transformers\n"
        "t = time.time()\n"
        "try:\n    transformers.AutoConfig.from_pretrained('bert-base-uncased')\n"
        "except Exception as e:\n    print('failed', type(e).__name__, round(time.time() - t, 1))\n"
    )
    started = time.monotonic()
    result = run_offline([sys.executable, "-c", code], offline_env, timeout=60)
    assert "failed" in result.stdout, result.stdout + result.stderr
    assert time.monotonic() - started < 30


@pytest.mark.parametrize(
    "command",
    [["--help"], ["prepare"], ["doctor"], ["index"]],
    ids=lambda c: " ".join(c),
)
def test_command_runs_offline(command: list[str], offline_env: dict[str, str]) -> None:
    result = run_offline([SHOPAGENT, *command], offline_env, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr


def test_text_and_voice_turns_offline(offline_env: dict[str, str], tmp_path: Path) -> None:
    from shopagent.speech.audio import to_wav
    from shopagent.speech.synth import espeak

    recording = tmp_path / "turn.wav"
    recording.write_bytes(to_wav(espeak("I would like to return an item.")))
    result = subprocess.run(
        [*_offline_prefix(), SHOPAGENT, "chat", "--voice", str(recording)],
        env=offline_env, input="where is my order?\n", capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stderr
    # The spoken turn and the typed one (the typed reply follows the "you> " prompt on its line).
    assert result.stdout.count("agent> ") == 2, result.stdout + result.stderr
    assert "return" in result.stdout.lower()  # the heard transcript is echoed


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_service_starts_and_becomes_ready_offline(offline_env: dict[str, str]) -> None:
    port = _free_port()
    # Server and client share one namespace: both run inside the same `sh`.
    client = (
        "import json, time, urllib.request\n"
        f"url = 'http://127.0.0.1:{port}'\n"
        "deadline = time.time() + 800\n"
        "while time.time() < deadline:\n"
        "    try:\n"
        "        with urllib.request.urlopen(url + '/ready', timeout=5) as r:\n"
        "            print(json.dumps(json.load(r))); break\n"
        "    except Exception:\n"
        "        time.sleep(0.5)\n"
    )
    script = (
        f"{SHOPAGENT} serve --port {port} & pid=$!; "
        f"{sys.executable} -c \"$1\"; status=$?; kill $pid; wait $pid; exit $status"
    )
    prefix = _offline_prefix()[:2]
    result = subprocess.run(
        [*prefix, "sh", "-c", f"ip link set lo up && {script}", "offline", client],
        env=offline_env, capture_output=True, text=True, timeout=900,
    )
    assert result.stdout.strip(), result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["ready"] is True, report
