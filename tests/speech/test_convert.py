"""CT2 → openai-whisper conversion: exact names, cached once, and the same tokens as CT2 on real speech."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from shopagent.registry import resolve_model
from shopagent.settings import Settings
from shopagent.speech.audio import decode_audio
from shopagent.speech.convert import read_ct2, whisper_checkpoint
from shopagent.speech.errors import ConversionError

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def checkpoint(speech_settings: Settings) -> Path:
    return whisper_checkpoint("tiny.en", speech_settings)


def test_conversion_reproduces_ct2_tokens_on_a_real_clip(checkpoint: Path, pocketsphinx_dir: Path,
                                                         speech_settings: Settings) -> None:
    import ctranslate2
    import torch
    import whisper

    model = whisper.load_model(str(checkpoint), device="cpu")  # plain openai-whisper loads it
    ct2 = ctranslate2.models.Whisper(str(resolve_model("whisper-tiny.en", speech_settings)),
                                     device="cpu", compute_type="float32", intra_threads=2)
    tokenizer = whisper.tokenizer.get_tokenizer(False)
    for name in ("sense_and_sensibility_01_austen_64kb-0870", "sense_and_sensibility_01_austen_64kb-0890"):
        audio = decode_audio((pocketsphinx_dir / f"{name}.wav").read_bytes())
        mel = whisper.log_mel_spectrogram(torch.from_numpy(whisper.pad_or_trim(audio)))
        ours = whisper.decode(model, mel, whisper.DecodingOptions(language="en", without_timestamps=True, fp16=False))
        theirs = ct2.generate(ctranslate2.StorageView.from_array(mel[None].numpy()),
                              [[*tokenizer.sot_sequence, tokenizer.no_timestamps]], beam_size=1)[0]
        assert ours.tokens == list(theirs.sequences_ids[0]), (ours.text, tokenizer.decode(theirs.sequences_ids[0]))
        assert len(ours.tokens) > 10  # a real sentence, not an empty decode


def test_conversion_runs_once_and_records_its_verification(checkpoint: Path, speech_settings: Settings) -> None:
    mtime = checkpoint.stat().st_mtime_ns
    assert whisper_checkpoint("tiny.en", speech_settings) == checkpoint
    assert checkpoint.stat().st_mtime_ns == mtime  # cached: not converted again
    check = json.loads(checkpoint.with_suffix(".json").read_text())["verification"]
    assert check["tokens_match"] and check["logits_max_abs_diff"] < 1e-2


def test_multilingual_base_converts(speech_settings: Settings) -> None:
    import torch

    path = whisper_checkpoint("base", speech_settings)
    saved = torch.load(path, map_location="cpu", weights_only=True)
    assert saved["dims"]["n_vocab"] == 51865 and saved["dims"]["n_audio_layer"] == 6


def test_unreadable_model_is_a_conversion_error(tmp_path: Path) -> None:
    bad = tmp_path / "model.bin"
    bad.write_bytes(np.arange(100, dtype=np.uint32).tobytes())
    with pytest.raises(ConversionError):
        read_ct2(bad)
