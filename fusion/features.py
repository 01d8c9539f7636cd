"""Catalog records as the fusion layer sees them, and their cached text and image features.

Fusion takes plain records, never store rows: a product is its id, the text a shopper can read about
it, and its picture. Whatever is not in that text or picture (for instance visual attributes kept out
of the text) cannot reach the recommender.

Encoding is the slow part (EfficientNet-Lite0 manages a few images a second on a busy small CPU), so
features are cached as ``.npy`` files keyed by the sha256 of what was encoded and by which model.
Encoders load only when something is missing from the cache.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from shopagent.fusion.image import ImageEncoder, ImageInput, UndecodableImage
from shopagent.settings import Settings

TEXT_MODEL = "minilm"
IMAGE_MODEL = "efficientnet-lite0"
# Bumped when encoding changes (pooling, preprocessing), so stale cached features are never reused.
CACHE_VERSION = 1


@dataclass(frozen=True)
class CatalogItem:
    """One product: ``text`` is everything public about it, ``image`` a file, bytes or a drawn image."""

    product_id: str
    title: str
    text: str
    image: ImageInput


def image_key(image: ImageInput) -> str:
    """A content hash of an image (the file's bytes, or the pixels of an in-memory image)."""
    digest = hashlib.sha256()
    if isinstance(image, Image.Image):
        digest.update(f"{image.mode}:{image.size}".encode())
        digest.update(image.tobytes())
    elif isinstance(image, bytes):
        digest.update(image)
    else:
        try:
            digest.update(Path(image).read_bytes())
        except OSError as exc:
            raise UndecodableImage(f"cannot read image file: {exc.strerror}") from exc
    return digest.hexdigest()


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class FeatureCache:
    """``.npy`` files under ``<data_dir>/features/<model>-v<CACHE_VERSION>/``, one per encoded input."""

    def __init__(self, settings: Settings) -> None:
        self.root = settings.data_dir / "features"

    def get(
        self, model: str, keys: Sequence[str], compute: Callable[[list[int]], np.ndarray]
    ) -> np.ndarray:
        """Rows for ``keys`` in order; ``compute(indices)`` encodes the missing ones."""
        folder = self.root / f"{model}-v{CACHE_VERSION}"
        rows: dict[int, np.ndarray] = {}
        missing: list[int] = []
        for i, key in enumerate(keys):
            path = folder / f"{key}.npy"
            try:
                rows[i] = np.load(path)
            except (OSError, ValueError):
                missing.append(i)
        if missing:
            computed = compute(missing)
            folder.mkdir(parents=True, exist_ok=True)
            for i, row in zip(missing, computed):
                rows[i] = row
                buffer = io.BytesIO()
                np.save(buffer, row)
                tmp = folder / f"{keys[i]}.tmp"
                tmp.write_bytes(buffer.getvalue())
                tmp.replace(folder / f"{keys[i]}.npy")
        return np.stack([rows[i] for i in range(len(keys))]) if keys else np.zeros((0, 0), np.float32)


def encode_texts(texts: Sequence[str], settings: Settings, progress: bool = False) -> np.ndarray:
    """MiniLM vectors ``(n, 384)`` for ``texts``, through the cache."""

    def compute(missing: list[int]) -> np.ndarray:
        from shopagent.fusion.text import TextEncoder

        return TextEncoder.load(settings).encode([texts[i] for i in missing], progress=progress)

    return FeatureCache(settings).get(TEXT_MODEL, [text_key(t) for t in texts], compute)


def encode_images(images: Sequence[ImageInput], settings: Settings, progress: bool = False) -> np.ndarray:
    """EfficientNet-Lite0 features ``(n, 1280)`` for ``images``, through the cache."""

    def compute(missing: list[int]) -> np.ndarray:
        return ImageEncoder.load(settings).encode([images[i] for i in missing], progress=progress)

    return FeatureCache(settings).get(IMAGE_MODEL, [image_key(i) for i in images], compute)


def catalog_features(
    items: Sequence[CatalogItem], settings: Settings, progress: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """``(text, image)`` feature matrices for a catalog, in its order."""
    return (
        encode_texts([item.text for item in items], settings, progress),
        encode_images([item.image for item in items], settings, progress),
    )
