"""Sentence embeddings from all-MiniLM-L6-v2, shared by intents, retrieval and fusion.

Plain ``transformers`` plus mean pooling and L2 normalisation reproduce SentenceTransformer's output
for this model (see MODELS.md) without pulling in sentence-transformers. One encoder is loaded per
process and model folder; a lock serialises calls because a fast tokenizer is not safe to share
across threads and torch already uses every thread it was given for one batch.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
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
        self._lock = threading.Lock()

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
            out[index] = self._encode_batch([texts[i] for i in index])
        return out

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        with self._lock, torch.inference_mode():
            batch = self.tokenizer(
                texts, padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt"
            )
            hidden = self.model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, p=2, dim=1).numpy()


_load_lock = threading.Lock()


@lru_cache(maxsize=None)
def _cached(folder: Path) -> TextEncoder:
    return TextEncoder(folder)
