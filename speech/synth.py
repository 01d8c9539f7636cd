"""Synthesized customer-service utterances with known text, for the speech benchmark and tests.

Public speech corpora rarely say "cancel order W4820193" or spell an email address, which is exactly
what a shop's callers do. This module writes such utterances from fixed templates and a seeded RNG,
speaks them with espeak-ng (several voices and speeds) and, when installed, Piper, adds white noise
to some, and stores wav files with their transcripts. Nothing is committed: sets are regenerated into
a cache folder on demand.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from shopagent.speech.audio import SAMPLE_RATE, decode_audio, to_wav

VERSION = 1  # bump when templates or rendering change, to regenerate cached sets

PRODUCTS = (
    "wireless earbuds", "espresso machine", "yoga mat", "mechanical keyboard", "water bottle",
    "hiking backpack", "smart watch", "desk lamp", "air purifier", "electric toothbrush", "running shoes",
    "bluetooth speaker", "coffee grinder", "office chair", "digital camera", "sleeping bag", "tea kettle",
    "laptop stand", "rain jacket", "phone case",
)
COLORS = ("black", "white", "red", "blue", "green", "gray")
SIZES = ("small", "medium", "large", "extra large")
FIRST = ("john", "maria", "david", "sofia", "liam", "emma", "noah", "olivia", "ethan", "ava", "lucas", "mia")
LAST = ("smith", "garcia", "brown", "miller", "davis", "wilson", "moore", "taylor", "clark", "lewis")
DOMAINS = ("example", "mailbox", "shopmail", "inbox")
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")

# (written truth, spoken form): {order}/{email} have different written and spoken forms.
TEMPLATES = (
    "I want to cancel order {order}.",
    "Where is my order {order}? It has not arrived yet.",
    "Can you check the status of order {order} please?",
    "I would like to return the {product} from order {order}.",
    "My email is {email}.",
    "You can reach me at my email address {email}.",
    "The account email is {email}, and the order number is {order}.",
    "I bought a {color} {product} last week and it stopped working.",
    "Do you have the {product} in {color}?",
    "Can I exchange the {color} {product} for a {size} one?",
    "How much is the {product}?",
    "The {product} arrived damaged, I need a refund.",
    "I was charged twice for the {product}.",
    "Can I change the shipping address on my order?",
    "I want to pay with a gift card instead of my credit card.",
    "Please send the tracking number to my email.",
    "My package was supposed to arrive on {day} but it is late.",
    "Is the {product} still under warranty?",
    "I would like to speak to a person about my refund.",
    "Do you ship to Canada, and how long does delivery take?",
    "Can I return the {size} {product} and get a {size2} instead?",
    "I never received the {product} from order {order}.",
    "Please cancel the {product} but keep the rest of the order.",
    "What is your return policy for opened items?",
)

ESPEAK_VOICES = ("en-us", "en-us+f3", "en-gb", "en-gb-scotland+m3", "en-029", "en-gb-x-rp+f2", "en-us-nyc")
ESPEAK_SPEEDS = (140, 160, 175, 190)  # words per minute
NOISE_SNR_DB = (20.0, 15.0, 10.0)


@dataclass(frozen=True)
class Utterance:
    id: str
    text: str  # the written truth
    spoken: str  # what the synthesizer reads (ids and emails spelled out)
    engine: str  # "espeak" or "piper"
    voice: str
    speed: float  # espeak words/minute, or Piper length scale
    snr_db: float | None  # white noise added at this SNR; None = clean


def _order_id(rng: random.Random) -> tuple[str, str]:
    digits = "".join(rng.choice("0123456789") for _ in range(7))
    return f"W{digits}", "W " + " ".join(digits)


def _email(rng: random.Random) -> tuple[str, str]:
    first, last, domain = rng.choice(FIRST), rng.choice(LAST), rng.choice(DOMAINS)
    return f"{first}.{last}@{domain}.com", f"{first} dot {last} at {domain} dot com"


def make_utterances(count: int = 72, *, seed: int = 7, piper: bool = False) -> list[Utterance]:
    """``count`` utterances cycling through the templates, voices, speeds and noise levels.

    With ``piper`` every fourth utterance is spoken by Piper (a natural voice) instead of espeak-ng.
    """
    rng = random.Random(seed)
    out = []
    for i in range(count):
        template = TEMPLATES[i % len(TEMPLATES)]
        (order, order_spoken), (email, email_spoken) = _order_id(rng), _email(rng)
        size, size2 = rng.sample(SIZES, 2)
        slots = dict(product=rng.choice(PRODUCTS), color=rng.choice(COLORS), size=size, size2=size2,
                     day=rng.choice(DAYS))
        text = template.format(order=order, email=email, **slots)
        spoken = template.format(order=order_spoken, email=email_spoken, **slots)
        snr = NOISE_SNR_DB[(i // 3) % len(NOISE_SNR_DB)] if i % 3 == 2 else None
        if piper and i % 4 == 3:
            out.append(Utterance(f"u{i:03d}", text, spoken, "piper", "piper-joe", rng.choice((0.9, 1.0, 1.1)), snr))
        else:
            out.append(Utterance(f"u{i:03d}", text, spoken, "espeak", ESPEAK_VOICES[i % len(ESPEAK_VOICES)],
                                 ESPEAK_SPEEDS[(i // 2) % len(ESPEAK_SPEEDS)], snr))
    return out


def espeak(text: str, voice: str = "en-us", speed: float = 160) -> np.ndarray:
    """Speak ``text`` with espeak-ng; 16 kHz mono float32."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise FileNotFoundError("espeak-ng is not installed (apt-get install espeak-ng)")
    wav = subprocess.run([exe, "-v", voice, "-s", str(int(speed)), "--stdout", text],
                         capture_output=True, check=True, timeout=60).stdout
    return decode_audio(wav, max_seconds=600)


def add_noise(audio: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """White noise at ``snr_db`` below the speech power (measured where the signal is not silent)."""
    voiced = audio[np.abs(audio) > 0.01]
    power = float(np.mean(voiced**2)) if voiced.size else 1e-4
    noise = rng.standard_normal(audio.size).astype(np.float32) * np.sqrt(power / 10 ** (snr_db / 10))
    return np.clip(audio + noise, -1.0, 1.0).astype(np.float32)


def render(utterance: Utterance, piper_say: Callable[[str, float], np.ndarray] | None = None,
           seed: int = 0) -> np.ndarray:
    """The utterance's audio: speech with 0.2–0.8 s of silence either side (as a mic button records)."""
    rng = np.random.default_rng(seed)
    if utterance.engine == "piper":
        if piper_say is None:
            raise ValueError(f"{utterance.id} needs Piper")
        speech = piper_say(utterance.spoken, utterance.speed)
    else:
        speech = espeak(utterance.spoken, utterance.voice, utterance.speed)
    lead, tail = (np.zeros(int(rng.uniform(0.2, 0.8) * SAMPLE_RATE), np.float32) for _ in range(2))
    audio = np.concatenate([lead, speech, tail])
    return add_noise(audio, utterance.snr_db, rng) if utterance.snr_db is not None else audio


def write_set(folder: Path, utterances: list[Utterance],
              piper_say: Callable[[str, float], np.ndarray] | None = None) -> list[tuple[Path, Utterance]]:
    """Write ``<id>.wav`` files and ``manifest.jsonl`` into ``folder``; reuse them when unchanged."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest = folder / "manifest.jsonl"
    rows = [dict(asdict(u), version=VERSION) for u in utterances]
    if manifest.is_file() and manifest.read_text() == "".join(json.dumps(r) + "\n" for r in rows):
        if all((folder / f"{u.id}.wav").is_file() for u in utterances):
            return [(folder / f"{u.id}.wav", u) for u in utterances]
    for i, utterance in enumerate(utterances):
        (folder / f"{utterance.id}.wav").write_bytes(to_wav(render(utterance, piper_say, seed=i)))
    manifest.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return [(folder / f"{u.id}.wav", u) for u in utterances]
