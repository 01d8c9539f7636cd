"""Spoken replies with Piper, run as a separate process.

piper-tts is GPL-3.0-or-later and shopagent is Apache-2.0, so shopagent never imports it: it starts
``python -m piper`` (an optional extra, ``pip install 'shopagent[tts]'``) and talks to it over pipes.
The process stays up between replies because loading a voice takes ~2 s; each line written to its
stdin becomes one wav file, whose path Piper logs on stderr.
"""

from __future__ import annotations

import importlib.util
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from shopagent.logs import get_logger
from shopagent.registry import ModelUnavailable, resolve_model
from shopagent.settings import Settings, get_settings
from shopagent.speech.errors import TTSFailed, TTSUnavailable

log = get_logger(__name__)

_WROTE = re.compile(r"Wrote (.+\.wav)\s*$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def piper_installed(python: str = sys.executable) -> bool:
    """Whether ``python -m piper`` can run (checked without importing piper into this process)."""
    if python == sys.executable:
        return importlib.util.find_spec("piper") is not None
    check = "import importlib.util, sys; sys.exit(importlib.util.find_spec('piper') is None)"
    probe = subprocess.run([python, "-c", check], capture_output=True, timeout=30)
    return probe.returncode == 0


class PiperVoice:
    """One Piper voice in its own process. Thread-safe; restarts the process if it dies."""

    def __init__(self, settings: Settings | None = None, *, voice: str = "piper-joe",
                 length_scale: float | None = None, python: str = sys.executable, timeout_s: float = 60.0) -> None:
        settings = settings or get_settings()
        if not piper_installed(python):
            raise TTSUnavailable("spoken replies need piper-tts, an optional GPL extra run out of process: "
                                 "pip install 'shopagent[tts]'")
        try:
            folder = resolve_model(voice, settings)
        except ModelUnavailable as exc:
            raise TTSUnavailable(f"Piper voice unavailable: {exc}") from exc
        onnx = next(folder.glob("*.onnx"), None)
        if onnx is None:
            raise TTSUnavailable(f"no .onnx voice file in {folder}")
        self.max_chars = settings.max_message_chars
        self.timeout_s = timeout_s
        self._out = Path(tempfile.mkdtemp(prefix="shopagent-tts-"))
        self._command = [python, "-m", "piper", "-m", str(onnx), "-c", f"{onnx}.json", "-d", str(self._out)]
        if length_scale is not None:
            self._command += ["--length-scale", str(length_scale)]
        self._lock = threading.Lock()
        self._process: subprocess.Popen[str] | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()

    def synthesize(self, text: str) -> bytes:
        """Wav bytes (16-bit mono, the voice's rate: 22.05 kHz for joe) for ``text``."""
        line = _CONTROL.sub(" ", text).strip()  # one line = one utterance for Piper
        if not line:
            raise ValueError("nothing to say: the text is empty")
        if len(line) > self.max_chars:
            raise ValueError(f"the text is {len(line)} characters; the limit is {self.max_chars}")
        with self._lock:
            process = self._ensure_started()
            try:
                process.stdin.write(line + "\n")
                process.stdin.flush()
            except (BrokenPipeError, OSError) as exc:
                self._stop()
                raise TTSFailed(f"the Piper process exited: {exc}") from exc
            path = self._wait_for_file()
            try:
                return path.read_bytes()
            finally:
                path.unlink(missing_ok=True)

    def close(self) -> None:
        with self._lock:
            self._stop()
        shutil.rmtree(self._out, ignore_errors=True)

    def __enter__(self) -> "PiperVoice":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _ensure_started(self) -> subprocess.Popen[str]:
        if self._process is not None and self._process.poll() is None:
            return self._process
        self._lines = queue.Queue()
        self._process = subprocess.Popen(self._command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.PIPE, text=True, bufsize=1)
        threading.Thread(target=self._read_stderr, args=(self._process, self._lines), daemon=True,
                         name="piper-stderr").start()
        return self._process

    @staticmethod
    def _read_stderr(process: subprocess.Popen[str], lines: queue.Queue[str | None]) -> None:
        for line in process.stderr:
            lines.put(line)
        lines.put(None)  # the process closed stderr: it exited

    def _wait_for_file(self) -> Path:
        recent: list[str] = []
        while True:
            try:
                line = self._lines.get(timeout=self.timeout_s)
            except queue.Empty:
                self._stop()
                raise TTSFailed(f"Piper gave no audio within {self.timeout_s:g} s") from None
            if line is None:
                code = self._process.wait() if self._process else None
                self._process = None
                raise TTSFailed(f"Piper exited (code {code}): {' | '.join(recent[-5:]).strip()}")
            if match := _WROTE.search(line):
                return Path(match.group(1))
            recent.append(line.strip())
            log.debug("piper", line=line.strip())

    def _stop(self) -> None:
        if self._process is None:
            return
        if self._process.stdin:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None
