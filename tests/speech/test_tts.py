"""Piper stays an optional, out-of-process engine: never imported, clear error when absent."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from shopagent.settings import Settings
from shopagent.speech.audio import decode_audio
from shopagent.speech.errors import TTSUnavailable

SPEECH = Path(__file__).resolve().parents[2] / "speech"


def test_no_project_module_imports_piper() -> None:
    for path in SPEECH.rglob("*.py"):
        assert not re.search(r"^\s*(import|from)\s+piper\b", path.read_text(), re.MULTILINE), path


def test_piper_missing_is_a_clear_error(settings: Settings, tmp_path: Path) -> None:
    from shopagent.speech.tts import PiperVoice

    fake_python = tmp_path / "python"  # an interpreter that has no piper module
    fake_python.write_text(f"#!/bin/sh\nexec {sys.executable} -I -S \"$@\"\n")
    fake_python.chmod(0o755)
    with pytest.raises(TTSUnavailable, match=r"shopagent\[tts\]"):
        PiperVoice(settings, python=str(fake_python))


@pytest.mark.slow
def test_synthesis_runs_out_of_process(settings: Settings) -> None:
    from shopagent.speech.tts import PiperVoice, piper_installed

    if not piper_installed():
        pytest.skip("piper-tts is not installed (pip install 'shopagent[tts]')")
    with PiperVoice(settings) as voice:
        first = decode_audio(voice.synthesize("Your refund was sent today.\nIt takes five days."))
        assert 1.5 < first.size / 16_000 < 8
        with pytest.raises(ValueError):
            voice.synthesize("  \n ")
        voice._process.kill()  # a crashed engine is restarted on the next reply
        voice._process.wait()
        assert decode_audio(voice.synthesize("Goodbye.")).size > 0
    # The engine never entered this process.
    check = "import sys, shopagent.speech.tts, shopagent.speech.transcribe; print('piper' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", check], capture_output=True, text=True).stdout.strip() == "False"
