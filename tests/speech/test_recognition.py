"""Real audio through the real models: synthesized speech → text within a WER bound.

The sentences are written for these tests and spoken by espeak-ng at test time (Piper too, when
installed). Bounds are loose enough for tiny.en on robotic espeak speech, tight enough that a broken
decoder, resampler or VAD cut fails them.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable

import numpy as np
import pytest

from shopagent.settings import Settings
from shopagent.speech.audio import SAMPLE_RATE, to_wav
from shopagent.speech.backends import Recognizer
from shopagent.speech.bench import errors_and_words
from shopagent.speech.transcribe import TranscribeOptions, load_recognizer, transcribe

from .media import FORMATS, encode, silence

pytestmark = pytest.mark.slow

SENTENCES = (
    "Hello, I would like to check the status of my order.",
    "The package arrived yesterday but the box was damaged.",
    "Can you send me a refund to my credit card?",
    "I want to exchange these shoes for a bigger size.",
    "Thank you very much for your help today.",
)


def corpus_wer(pairs: list[tuple[str, str]]) -> float:
    counts = [errors_and_words(ref, hyp) for ref, hyp in pairs]
    return sum(e for e, _ in counts) / sum(w for _, w in counts)


@pytest.fixture(scope="session")
def recognizer(speech_settings: Settings) -> Recognizer:
    return load_recognizer(speech_settings)  # the default: tiny.en on CTranslate2


@pytest.fixture(scope="session")
def whisper_recognizer(speech_settings: Settings) -> Recognizer:
    return load_recognizer(speech_settings, backend="whisper")  # converts tiny.en in the session dir


@pytest.mark.parametrize("backend", ["ctranslate2", "whisper"])
def test_tts_round_trip_wer(backend: str, request: pytest.FixtureRequest, say: Callable,
                            speech_settings: Settings) -> None:
    rec = request.getfixturevalue("recognizer" if backend == "ctranslate2" else "whisper_recognizer")
    pairs = []
    for i, text in enumerate(SENTENCES):
        audio = np.concatenate([silence(0.5), say(text, ("en-us", "en-gb+f3")[i % 2]), silence(0.7)])
        pairs.append((text, transcribe(to_wav(audio), settings=speech_settings, recognizer=rec).text))
    assert corpus_wer(pairs) <= 0.12, pairs


def test_piper_round_trip(recognizer: Recognizer, speech_settings: Settings) -> None:
    from shopagent.speech.tts import PiperVoice, piper_installed

    if not piper_installed():
        pytest.skip("piper-tts is not installed (pip install 'shopagent[tts]')")
    with PiperVoice(speech_settings) as voice:
        pairs = [(t, transcribe(voice.synthesize(t), settings=speech_settings, recognizer=recognizer).text)
                 for t in SENTENCES[:3]]
    assert corpus_wer(pairs) <= 0.08, pairs


def test_every_upload_format_round_trips(recognizer: Recognizer, say: Callable, speech_settings: Settings) -> None:
    text = SENTENCES[2]
    audio = np.concatenate([silence(0.3), say(text), silence(0.5)])
    for container, codec, rate in FORMATS:
        data = encode(audio, container, codec, rate=rate, channels=2)
        heard = transcribe(data, settings=speech_settings, recognizer=recognizer).text
        assert corpus_wer([(text, heard)]) <= 0.1, (container, heard)


def test_transcript_fields_and_times_follow_the_vad_cut(recognizer: Recognizer, say: Callable,
                                                        speech_settings: Settings) -> None:
    speech = say(SENTENCES[4])
    audio = np.concatenate([silence(2.0), speech, silence(1.0)])
    result = transcribe(to_wav(audio), settings=speech_settings, recognizer=recognizer)
    assert result.language == "en" and result.model == "tiny.en" and result.backend == "ctranslate2"
    assert 0.0 < result.confidence <= 1.0 and 0.0 <= result.no_speech_prob <= 1.0
    assert abs(result.duration - audio.size / SAMPLE_RATE) < 0.01
    assert 1.4 < result.speech_start < 2.0 < result.speech_end  # VAD kept the speech plus a little pad
    (segment,) = result.segments  # times are in the input audio: VAD offset + Whisper's timestamps
    assert result.speech_start <= segment.start < 2.3 and 2.0 + speech.size / SAMPLE_RATE - 0.5 < segment.end
    assert result.audio_ctx < 1500  # a short clip used a short encoder window
    assert {"decode", "vad", "asr", "normalize", "total"} <= result.timings.keys()
    json.dumps(result.to_dict())  # the API and `--json` serialize it as is


def test_spoken_email_and_order_id_come_back_written(recognizer: Recognizer, say: Callable,
                                                     speech_settings: Settings) -> None:
    email = transcribe(to_wav(say("My email is maria dot lopez at shopmail dot com.")),
                       settings=speech_settings, recognizer=recognizer).text
    assert re.search(r"\b[a-z]+\.[a-z]+@shopmail\.com\b", email), email
    order = transcribe(to_wav(say("Please cancel order W 5 3 7 2 8 6 1.", speed=140)),
                       settings=speech_settings, recognizer=recognizer).text
    assert "W5372861" in order, order


def test_long_audio_uses_the_sliding_window(recognizer: Recognizer, say: Callable,
                                            speech_settings: Settings) -> None:
    parts = [np.concatenate([say(t), silence(2.5)]) for t in SENTENCES * 2]
    audio = np.concatenate(parts)
    assert audio.size / SAMPLE_RATE > 32
    result = transcribe(to_wav(audio), settings=speech_settings, recognizer=recognizer)
    starts = [s.start for s in result.segments]
    assert len(starts) >= 4 and starts == sorted(starts) and result.segments[-1].end > 30
    assert corpus_wer([(" ".join(SENTENCES * 2), result.text)]) <= 0.15


def test_concurrent_calls_share_one_model_safely(recognizer: Recognizer, say: Callable,
                                                 speech_settings: Settings) -> None:
    assert load_recognizer(speech_settings) is recognizer  # loaded once per process
    clips = [to_wav(say(t)) for t in SENTENCES[:4]]
    expected = [transcribe(c, settings=speech_settings, recognizer=recognizer).text for c in clips]
    results: dict[int, str] = {}
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            results[i] = transcribe(clips[i % 4], settings=speech_settings).text
        except BaseException as exc:  # noqa: BLE001 - surfaced in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors and all(results[i] == expected[i % 4] for i in range(8))


def test_multilingual_model_detects_language(say: Callable, speech_settings: Settings) -> None:
    base = load_recognizer(speech_settings, model="base")
    assert base.multilingual
    spanish = say("Hola, quiero devolver los zapatos que compré la semana pasada.", voice="es")
    result = transcribe(to_wav(spanish), settings=speech_settings, recognizer=base)
    assert result.language == "es" and result.language_probability > 0.5, result
    assert "zapatos" in result.text.lower()
    forced = transcribe(to_wav(spanish), settings=speech_settings, recognizer=base,
                        options=TranscribeOptions(language="es"))
    assert forced.language == "es"
