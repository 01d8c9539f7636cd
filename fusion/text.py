"""Sentence embeddings from all-MiniLM-L6-v2, shared by intents, retrieval and fusion.

Plain ``transformers`` plus mean pooling and L2 normalisation reproduce SentenceTransformer's output
for this model (see MODELS.md) without pulling in sentence-transformers. One encoder is loaded per
process and model folder; calls are serialised because a fast tokenizer is not safe to share
across threads and torch already uses every thread it was given for one batch. Under concurrent
load (many conversations, each embedding one short message) the waiting calls are merged into one
forward pass (:class:`_Coalescer`): measured on 2 cores, a batch of 16 short texts costs about a
third per text of 16 single calls, and ``bench load`` turned the wait for this lock from the largest
share of a turn into a small one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm
from transformers import AutoModel, AutoTokenizer

from shopagent.registry import resolve_model
from shopagent.settings import Settings, get_settings

DIMENSIONS = 384
MAX_TOKENS = 256  # the sentence-transformers max_seq_length of all-MiniLM-L6-v2


class TextEncoder:
    """Encodes texts into L2-normalised 384-d float32 vectors (cosine similarity = dot product)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.tokenizer = AutoTokenizer.from_pretrained(folder)
        self.model = AutoModel.from_pretrained(folder).eval()
        _read_every_weight(self.model)
        self._batches = _Coalescer(self._forward)

    @classmethod
    def load(cls, settings: Settings | None = None) -> "TextEncoder":
        """The process-wide encoder for the configured ``minilm`` model (loaded on first call)."""
        settings = settings or get_settings()
        torch.set_num_threads(settings.threads_torch)
        folder = resolve_model("minilm", settings)
        with _load_lock:  # two threads asking at once must not load the weights twice
            return _cached(folder)

    def encode(self, texts: Sequence[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
        """Embed ``texts`` as an ``(n, 384)`` float32 array, in input order."""
        # Sorting by length keeps padding (wasted compute) small within each batch.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        starts = range(0, len(order), batch_size)
        for start in tqdm(starts, desc="encoding", unit="batch", disable=not progress):
            index = order[start : start + batch_size]
            out[index] = self._batches.run([texts[i] for i in index], batch_size)
        return out

    def _forward(self, texts: list[str]) -> np.ndarray:
        with torch.inference_mode():
            batch = self.tokenizer(
                texts, padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt"
            )
            hidden = self.model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, p=2, dim=1).numpy()


def _read_every_weight(model: torch.nn.Module) -> None:
    """Touch all weights once, so the whole model is resident from the start, not paged in over hours.

    transformers maps the safetensors file, and the OS reads a page of it when it is first touched: a
    forward pass touches every layer, but only the rows of the word-embedding table (47 of the 90 MB)
    for the words it sees, so RSS kept rising with every new word the service met (measured: 3 MiB of
    the file resident after loading, 43 after one text, 48 after 320 random ones; +5.6 MiB in 2 minutes
    of `bench load`).
    """
    with torch.inference_mode():
        for tensor in model.state_dict().values():
            tensor.sum()


class _Coalescer:
    """Runs ``forward`` one call at a time, merging the calls that wait meanwhile into one batch.

    No extra thread: whichever waiting caller gets the lock runs every pending request (oldest first,
    up to ``limit`` texts) and hands each caller its rows; a caller whose rows are done returns.
    """

    def __init__(self, forward: Callable[[list[str]], np.ndarray]) -> None:
        self._forward = forward
        self._run = threading.Lock()
        self._guard = threading.Lock()
        self._pending: list[_Request] = []

    def run(self, texts: list[str], limit: int) -> np.ndarray:
        request = _Request(texts)
        with self._guard:
            self._pending.append(request)
        while not request.done:
            with self._run:
                if request.done:
                    break
                with self._guard:
                    taken, size = [], 0
                    while self._pending and (not taken or size + len(self._pending[0].texts) <= limit):
                        size += len(self._pending[0].texts)
                        taken.append(self._pending.pop(0))
                try:
                    vectors = self._forward([text for r in taken for text in r.texts])
                except BaseException as exc:  # every caller in the batch sees the failure
                    for r in taken:
                        r.error, r.done = exc, True
                else:
                    start = 0
                    for r in taken:
                        r.vectors, r.done, start = vectors[start : start + len(r.texts)], True, start + len(r.texts)
        if request.error is not None:
            raise request.error
        assert request.vectors is not None
        return request.vectors


@dataclass
class _Request:
    texts: list[str]
    vectors: np.ndarray | None = None
    error: BaseException | None = None
    done: bool = False


_load_lock = threading.Lock()


@lru_cache(maxsize=None)
def _cached(folder: Path) -> TextEncoder:
    return TextEncoder(folder)
