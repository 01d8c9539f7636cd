"""Chroma clients and collections, configured in one place.

Two rules hold for every collection opened here:
- Chroma never embeds anything. Its default embedding function downloads an ONNX model on first use
  (and ``embedding_function=None`` does not stop that on a persistent client), so each collection is
  bound to :class:`PrecomputedOnly`, which refuses to embed: shopagent always passes its own vectors.
- HNSW parameters are explicit (:class:`HNSWParams`) instead of Chroma's defaults, so they can be
  reported and benchmarked. They are fixed when a collection is created; only ``ef_search`` can change
  later (:func:`set_ef_search`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

import chromadb
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.config import Settings as ChromaSettings
from chromadb.utils.embedding_functions import register_embedding_function

from shopagent.settings import Settings


@dataclass(frozen=True)
class HNSWParams:
    """HNSW index parameters (see ``shopagent bench retrieval`` for what they buy).

    Cosine space because every encoder here returns L2-normalised vectors, so 1 − distance is the
    cosine similarity the re-ranker and the evaluation use. ``max_neighbors`` (M) and
    ``ef_construction`` are above Chroma's defaults (16, 100): embeddings of one shop's products are
    tightly clustered, where a denser graph keeps recall@10 ≥ 0.95 at 100k vectors for little extra
    build time. ``ef_search`` is the per-query beam width (Chroma's default).
    """

    space: Space = "cosine"
    max_neighbors: int = 32
    ef_construction: int = 200
    ef_search: int = 100
    sync_threshold: int = 1000  # vectors added before the graph is written to disk

    def as_configuration(self) -> dict[str, Any]:
        return {"hnsw": asdict(self)}


@register_embedding_function
class PrecomputedOnly(EmbeddingFunction[Documents]):
    """An embedding function that refuses to run: vectors always come from shopagent's encoders.

    Registered under its own name so a reopened collection finds it instead of falling back to
    Chroma's downloading default.
    """

    def __init__(self) -> None:
        pass

    def __call__(self, input: Documents) -> Embeddings:
        raise RuntimeError(
            "shopagent passes its own vectors; Chroma was asked to embed documents itself"
        )

    @staticmethod
    def name() -> str:
        return "shopagent-precomputed"

    def get_config(self) -> dict[str, Any]:
        return {}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> PrecomputedOnly:
        return PrecomputedOnly()

    def default_space(self) -> Space:
        return "cosine"


def open_client(settings: Settings) -> ClientAPI:
    """A Chroma server client when ``settings.chroma_url`` is set, else an embedded persistent one."""
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        url = urlsplit(settings.chroma_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"chroma_url must look like http://host:port, got {settings.chroma_url!r}")
        return chromadb.HttpClient(
            host=url.hostname,
            port=url.port or (443 if url.scheme == "https" else 8000),
            ssl=url.scheme == "https",
            settings=chroma_settings,
        )
    settings.chroma_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)


def open_collection(client: ClientAPI, name: str, hnsw: HNSWParams) -> Collection:
    """Open (or create with ``hnsw``) a collection that only ever receives precomputed vectors."""
    return client.get_or_create_collection(
        name, configuration=hnsw.as_configuration(), embedding_function=PrecomputedOnly()
    )


def hnsw_of(collection: Collection) -> dict[str, Any]:
    """The HNSW parameters a collection was really created with (they outlive code changes)."""
    return dict(collection.configuration.get("hnsw") or {})


def set_ef_search(collection: Collection, ef_search: int) -> None:
    collection.modify(configuration={"hnsw": {"ef_search": ef_search}})
