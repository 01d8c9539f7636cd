"""``shopagent bench speech``: accuracy and speed of the default recognition path against plain Whisper.

One run, same audio, warm models, the same thread budget for every system. The reference is plain
openai-whisper ``transcribe()`` (greedy, 30 s window) on the converted checkpoint; every other row
is this package's pipeline with one setting changed, so each lever's cost and gain shows separately.

WER is corpus-level (errors summed over utterances / reference words) after the same normalization
of reference and hypothesis: spoken ids/emails written out (so formatting is not scored), then
Whisper's ``EnglishTextNormalizer``. The 95% interval is a bootstrap over utterances.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

import numpy as np

from shopagent.settings import Settings
from shopagent.speech.audio import SAMPLE_RATE, decode_audio
from shopagent.speech.errors import AudioError
from shopagent.speech.normalize import normalize_spoken
from shopagent.speech.synth import PRODUCTS, make_utterances, write_set
from shopagent.speech.transcribe import TranscribeOptions, load_recognizer, transcribe

POCKETSPHINX = Path("/usr/share/pocketsphinx/test/data")
_ID_OR_EMAIL = re.compile(r"\bW\d{7}\b|[\w.]+@[\w.]+\w")


@dataclass(frozen=True)
class Clip:
    id: str
    source: str  # pocketsphinx | espeak | piper (+ "+noise")
    text: str
    data: bytes
    duration: float


@dataclass
class SystemResult:
    name: str
    description: str
    hypotheses: list[str] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)  # end of audio → text, per clip


@dataclass(frozen=True)
class System:
    name: str
    description: str
    run: Callable[[Clip], str]


def pocketsphinx_clips() -> list[Clip]:
    """The LibriVox and card-game recordings of Debian's pocketsphinx-testdata, with their transcripts."""
    clips = []
    for folder, transcript in (("librivox", "transcription"), ("cards", "cards.transcription")):
        path = POCKETSPHINX / folder / transcript
        if not path.is_file():
            continue
        for line in path.read_text().splitlines():
            if match := re.match(r"<s>(.*)</s>\s*\((.+)\)", line.strip()):
                wav = POCKETSPHINX / folder / f"{match.group(2)}.wav"
                data = wav.read_bytes()
                clips.append(Clip(f"{folder}/{match.group(2)}", "pocketsphinx", match.group(1).strip(), data,
                                  decode_audio(data, max_seconds=600).size / SAMPLE_RATE))
    return clips


def synthesized_clips(settings: Settings, count: int, piper: bool) -> list[Clip]:
    """``count`` synthesized support utterances, generated once into the data dir."""
    utterances = make_utterances(count, piper=piper)
    voices: dict[float, object] = {}

    def piper_say(text: str, scale: float) -> np.ndarray:
        from shopagent.speech.tts import PiperVoice

        if scale not in voices:
            voices[scale] = PiperVoice(settings, length_scale=scale)
        return decode_audio(voices[scale].synthesize(text), max_seconds=600)

    try:
        written = write_set(settings.data_dir / "bench" / "speech-synth", utterances, piper_say)
    finally:
        for voice in voices.values():
            voice.close()
    clips = []
    for path, u in written:
        data = path.read_bytes()
        clips.append(Clip(u.id, u.engine + ("+noise" if u.snr_db else ""), u.text, data,
                          decode_audio(data, max_seconds=600).size / SAMPLE_RATE))
    return clips


@cache
def _english_normalizer() -> Callable[[str], str]:
    from whisper.normalizers import EnglishTextNormalizer

    return EnglishTextNormalizer()


def score_text(text: str) -> str:
    """The WER view of a text: spoken forms written out, then Whisper's English normalization."""
    return _english_normalizer()(normalize_spoken(text))


def errors_and_words(reference: str, hypothesis: str) -> tuple[int, int]:
    import jiwer

    ref, hyp = score_text(reference), score_text(hypothesis)
    words = len(ref.split())
    if not hyp.strip():
        return words, words
    out = jiwer.process_words(ref, hyp)
    return out.substitutions + out.deletions + out.insertions, words


def wer_interval(pairs: list[tuple[int, int]], rounds: int = 2000, seed: int = 0) -> tuple[float, float, float]:
    """Corpus WER and its bootstrap 95% interval (utterances resampled with replacement)."""
    errors, words = np.array(pairs, dtype=float).T
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(pairs), size=(rounds, len(pairs)))
    samples = errors[idx].sum(1) / np.maximum(words[idx].sum(1), 1)
    return errors.sum() / words.sum(), float(np.percentile(samples, 2.5)), float(np.percentile(samples, 97.5))


def build_systems(settings: Settings, ablations: bool) -> list[System]:
    """The reference, the default path, and (with ``ablations``) one-change variants of the default."""
    import torch
    import whisper

    from shopagent.speech.convert import whisper_checkpoint

    torch.set_num_threads(settings.threads_torch)
    reference_model = whisper.load_model(str(whisper_checkpoint(settings.asr_model, settings)), device="cpu")

    def reference(clip: Clip) -> str:
        audio = decode_audio(clip.data, max_seconds=600)
        return whisper.transcribe(reference_model, audio, temperature=0.0, fp16=False, verbose=None)["text"]

    def pipeline(backend: str, options: TranscribeOptions) -> Callable[[Clip], str]:
        recognizer = load_recognizer(settings, backend=backend)

        def run(clip: Clip) -> str:
            try:
                return transcribe(clip.data, settings=settings, options=options, recognizer=recognizer).text
            except AudioError:  # NoSpeech on a clip with speech: every word is an error
                return ""

        return run

    default = TranscribeOptions()
    other = "whisper" if settings.asr_backend == "ctranslate2" else "ctranslate2"
    systems = [
        System("reference", f"openai-whisper transcribe(), {settings.asr_model} converted, fp32 greedy, 30 s window",
               reference),
        System("default", f"shopagent default: {settings.asr_backend}, VAD, window = speech + "
               f"{default.context_margin_s:g} s (min {default.min_context_s:g} s), no prompt",
               pipeline(settings.asr_backend, default)),
    ]
    if ablations:
        systems += [
            System("catalog", "default + the catalog's product names as prompt",
                   pipeline(settings.asr_backend, replace(default, vocabulary=PRODUCTS))),
            System("support", "default + generic support wording as prompt",
                   pipeline(settings.asr_backend, replace(default, support_prompt=True))),
            System("full-window", "default with the full 30 s window",
                   pipeline(settings.asr_backend, replace(default, short_context=False))),
            System("min-window-4", "default with windows down to 4 s (loops → full-window redo)",
                   pipeline(settings.asr_backend, replace(default, min_context_s=4.0))),
            System(other, f"default path on the {other} backend", pipeline(other, default)),
        ]
    return systems


def run_systems(systems: list[System], clips: list[Clip], echo: Callable[[str], None]) -> list[SystemResult]:
    """Every system on every clip, interleaved clip by clip, so load changes on a shared machine hit all
    systems alike."""
    for system in systems:
        system.run(clips[0])  # warm-up: first-call allocations are not what a running service pays
    results = [SystemResult(system.name, system.description) for system in systems]
    for i, clip in enumerate(clips, start=1):
        for system, result in zip(systems, results, strict=True):
            started = time.perf_counter()
            result.hypotheses.append(system.run(clip))
            result.seconds.append(time.perf_counter() - started)
        if i % 10 == 0 or i == len(clips):
            echo(f"  {i}/{len(clips)} clips")
    return results


def summarize(result: SystemResult, clips: list[Clip], reference: SystemResult) -> dict:
    pairs = [errors_and_words(c.text, h) for c, h in zip(clips, result.hypotheses, strict=True)]
    wer, lo, hi = wer_interval(pairs)
    seconds, durations = np.array(result.seconds), np.array([c.duration for c in clips])
    short = durations <= 10.0
    mid = (durations >= 3.0) & (durations <= 6.0)
    targets = [(c, h) for c, h in zip(clips, result.hypotheses, strict=True) if _ID_OR_EMAIL.search(c.text)]
    exact = sum(all(t.lower() in h.lower() for t in _ID_OR_EMAIL.findall(c.text)) for c, h in targets)
    return dict(
        name=result.name, description=result.description, wer=wer, wer_low=lo, wer_high=hi,
        errors=int(sum(e for e, _ in pairs)), words=int(sum(w for _, w in pairs)),
        rtf=float(seconds.sum() / durations.sum()),
        speedup_short=float(np.sum(np.array(reference.seconds)[short]) / max(seconds[short].sum(), 1e-9)),
        p50_3_6s=float(np.median(seconds[mid])) if mid.any() else float("nan"),
        p90_3_6s=float(np.percentile(seconds[mid], 90)) if mid.any() else float("nan"),
        ids_exact=f"{exact}/{len(targets)}",
    )


def format_table(rows: list[dict]) -> str:
    head = (f"{'system':<12} {'WER %':>6} {'95% CI':>13} {'err/words':>10} {'RTF':>6} {'×ref≤10s':>8} "
            f"{'p50 3-6s':>8} {'p90 3-6s':>8} {'ids/emails':>10}")
    lines = [head, "-" * len(head)]
    for r in rows:
        interval = f"[{100 * r['wer_low']:.1f}, {100 * r['wer_high']:.1f}]"
        counts = f"{r['errors']}/{r['words']}"
        lines.append(
            f"{r['name']:<12} {100 * r['wer']:6.2f} {interval:>13} {counts:>10} {r['rtf']:6.3f} "
            f"{r['speedup_short']:8.2f} {r['p50_3_6s']:7.3f}s {r['p90_3_6s']:7.3f}s {r['ids_exact']:>10}"
        )
    return "\n".join(lines)


def goals(rows: list[dict]) -> list[str]:
    ref, default = rows[0], rows[1]
    checks = [
        (default["speedup_short"] >= 2.0, f"default ≥ 2× faster than reference on clips ≤ 10 s: "
         f"{default['speedup_short']:.2f}×"),
        (default["wer"] <= ref["wer_high"], f"default WER {100 * default['wer']:.2f}% ≤ reference upper bound "
         f"{100 * ref['wer_high']:.2f}%"),
        (default["p50_3_6s"] < 0.6, f"end-of-audio → text p50 for 3–6 s clips < 0.6 s: "
         f"{default['p50_3_6s']:.3f} s"),
    ]
    return [("PASS " if ok else "FAIL ") + text for ok, text in checks]


def run_bench(settings: Settings, *, synth_count: int = 72, piper: bool = True, ablations: bool = True,
              threads: int = 2, echo: Callable[[str], None] = print) -> dict:
    """Build the corpus, run every system, print and return the table (also saved as JSON)."""
    from shopagent.speech.tts import piper_installed

    settings = settings.model_copy(update=dict(threads_asr=threads, threads_torch=threads))
    piper = piper and piper_installed()
    echo(f"corpus: pocketsphinx-testdata + {synth_count} synthesized utterances "
         f"(espeak-ng{' + Piper' if piper else ''}) ...")
    clips = pocketsphinx_clips() + synthesized_clips(settings, synth_count, piper)
    sources: dict[str, int] = {}
    for clip in clips:
        sources[clip.source] = sources.get(clip.source, 0) + 1
    echo(f"  {len(clips)} clips, {sum(c.duration for c in clips):.0f} s of audio: "
         + ", ".join(f"{k} {v}" for k, v in sorted(sources.items())))
    echo(f"loading models ({settings.asr_model}, {threads} threads) ...")
    systems = build_systems(settings, ablations)
    load_before = os.getloadavg()
    results = run_systems(systems, clips, echo)
    # Timings mean little on a machine that other jobs keep busy: say how busy it was.
    load = f"1-min load average {load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after ({os.cpu_count()} cores)"
    rows = [summarize(r, clips, results[0]) for r in results]
    table = format_table(rows)
    echo("")
    echo(table)
    echo("")
    for row in rows:
        echo(f"  {row['name']:<12} {row['description']}")
    echo("")
    for line in goals(rows):
        echo(line)
    echo(load)
    report = dict(rows=rows, goals=goals(rows), load=load, clips=len(clips), sources=sources, threads=threads,
                  model=settings.asr_model, table=table,
                  per_clip=[dict(id=c.id, source=c.source, duration=round(c.duration, 2), text=c.text,
                                 **{r.name: [r.hypotheses[i], round(r.seconds[i], 3)] for r in results})
                            for i, c in enumerate(clips)])
    out = settings.data_dir / "bench" / "speech-results.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1, default=str))
    echo(f"\nper-clip results: {out}")
    return report

