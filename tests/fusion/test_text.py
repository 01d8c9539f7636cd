"""The shared MiniLM text encoder: unit vectors, meaning, batching, caching and threads."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from shopagent.fusion.text import DIMENSIONS, TextEncoder
from shopagent.settings import Settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def encoder(fusion_settings: Settings) -> TextEncoder:
    return TextEncoder.load(fusion_settings)


def test_vectors_are_unit_length_float32(encoder: TextEncoder) -> None:
    vectors = encoder.encode(["hello", "a much longer sentence about returning a pair of hiking boots"])
    assert vectors.shape == (2, DIMENSIONS) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert encoder.encode([]).shape == (0, DIMENSIONS)


@pytest.mark.parametrize(
    ("query", "paraphrase", "unrelated"),
    [
        ("where is my package", "has my order shipped yet", "what is the capital of France"),
        ("I want my money back for these shoes", "please refund the sneakers", "show me red t-shirts"),
        ("a laptop with lots of memory", "notebook computer with 32GB RAM", "a garden hose"),
    ],
)
def test_paraphrase_ranks_above_unrelated_text(
    encoder: TextEncoder, query: str, paraphrase: str, unrelated: str
) -> None:
    q, p, u = encoder.encode([query, paraphrase, unrelated])
    assert q @ p > q @ u + 0.15


def test_batching_and_length_sorting_keep_input_order(encoder: TextEncoder) -> None:
    texts = ["short", "a somewhat longer text", "x", "the longest text of all in this little batch", "mid size"]
    together = encoder.encode(texts, batch_size=2)
    alone = np.vstack([encoder.encode([t]) for t in texts])
    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_long_text_is_truncated_not_rejected(encoder: TextEncoder) -> None:
    assert encoder.encode(["return " * 1000]).shape == (1, DIMENSIONS)


def test_loaded_once_per_process(encoder: TextEncoder, fusion_settings: Settings) -> None:
    assert TextEncoder.load(fusion_settings) is encoder


def test_concurrent_callers_get_the_same_vectors(encoder: TextEncoder) -> None:
    texts = [f"question number {i} about my order" for i in range(8)]
    expected = encoder.encode(texts)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda t: encoder.encode([t])[0], texts))
    np.testing.assert_allclose(np.vstack(results), expected, atol=1e-5)
