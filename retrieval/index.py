"""The search index: product texts, variant photos and policy passages as vectors in Chroma.

Only what changes rarely is indexed: a product's text (one vector per product) and each variant's
photo (one vector per variant). Price, availability and stock are deliberately absent, so they can
never be stale here: search checks them against the shop's system of record on every query (see
:mod:`shopagent.retrieval.search`). A stock change therefore needs no index update at all.

Every record carries a stamp of what was embedded and stored with it, so :meth:`CatalogIndex.sync` re-embeds only new or
changed products and deletes the ones gone; ``shopagent index`` rebuilds from scratch.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection as ChromaCollection
from PIL import Image
from tqdm import tqdm

from shopagent.retrieval.records import PassageDoc, PassageHit, ProductDoc, content_hash
from shopagent.retrieval.store import HNSWParams, hnsw_of, open_client, open_collection
from shopagent.settings import Settings

Kind = Literal["products", "images", "passages"]
KINDS: tuple[Kind, ...] = ("products", "images", "passages")
WRITE_BATCH = 256  # records embedded and written per step (one progress tick)
_PAGE = 5000  # records read per request when listing a collection


class Encoder(Protocol):
    """Maps a batch of inputs (texts; or images as paths, bytes or PIL images) to row vectors.

    Image encoders decode and validate their inputs themselves (size limits live there).
    """

    def encode(self, items: Sequence[Any]) -> np.ndarray: ...


@dataclass(frozen=True)
class Row:
    """One nearest-neighbour result: a product (text) or a variant photo (images) and its cosine."""

    record_id: str
    product_id: str
    score: float
    metadata: dict[str, Any]


@dataclass
class SyncReport:
    """How many records a sync embedded, kept and deleted, per collection."""

    embedded: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class _Record:
    id: str
    digest: str  # of what is embedded
    payload: Any  # what the encoder receives: a text, or an image path
    metadata: dict[str, Any]
    document: str | None = None

    @property
    def stamp(self) -> str:
        """Changes whenever the vector or the metadata stored with it would (a renamed product)."""
        return content_hash(self.digest, json.dumps(self.metadata, sort_keys=True))


class CatalogIndex:
    """Three Chroma collections (``<namespace>-products``, ``-images``, ``-passages``) and their encoders.

    ``namespace`` keeps several catalogs apart on one Chroma (evaluation stores next to the live shop,
    tests sharing one server). Without an image encoder photos are neither indexed nor searchable;
    without a text encoder the index still answers queries by vector (benchmarks).
    """

    def __init__(
        self,
        client: ClientAPI,
        text_encoder: Encoder | None,
        image_encoder: Encoder | None = None,
        namespace: str = "shopagent",
        hnsw: HNSWParams = HNSWParams(),
    ) -> None:
        self.client = client
        self.text_encoder = text_encoder
        self.image_encoder = image_encoder
        self.namespace = namespace
        self.hnsw = hnsw
        self.collections: dict[Kind, ChromaCollection] = {kind: self._open(kind) for kind in KINDS}

    @classmethod
    def open(
        cls,
        settings: Settings,
        text_encoder: Encoder | None,
        image_encoder: Encoder | None = None,
        namespace: str = "shopagent",
    ) -> CatalogIndex:
        """The index on the configured Chroma (embedded under ``data_dir``, or a server by URL)."""
        return cls(open_client(settings), text_encoder, image_encoder, namespace)

    def _open(self, kind: Kind) -> ChromaCollection:
        return open_collection(self.client, f"{self.namespace}-{kind}", self.hnsw)

    # --- reading --------------------------------------------------------------------------------

    def count(self, kind: Kind) -> int:
        return self.collections[kind].count()

    def describe(self) -> dict[str, Any]:
        """Record counts and the HNSW parameters each collection really has."""
        return {
            kind: {"records": col.count(), "hnsw": hnsw_of(col)} for kind, col in self.collections.items()
        }

    def encode_text(self, text: str) -> np.ndarray:
        return self._encoder("products").encode([text])[0]

    def encode_image(self, image: Image.Image | Path | str | bytes) -> np.ndarray:
        return self._encoder("images").encode([image])[0]

    def _encoder(self, kind: Kind) -> Encoder:
        encoder = self.image_encoder if kind == "images" else self.text_encoder
        if encoder is None:
            raise RuntimeError(f"{kind} need an encoder; this index was opened without one")
        return encoder

    def query(
        self, kind: Kind, vector: np.ndarray, n: int, product_ids: Collection[str] | None = None
    ) -> list[Row]:
        """The ``n`` records nearest to ``vector`` by HNSW, best first; only ``product_ids``' if given.

        Chroma's filtered HNSW search can miss records when few are allowed and they lie far from
        the query; rank small candidate sets with :meth:`rank_exactly` instead.
        """
        if product_ids is not None and not product_ids:
            return []
        result = self.collections[kind].query(
            query_embeddings=np.asarray(vector, dtype=np.float32)[None, :],
            n_results=max(1, n),
            where=None if product_ids is None else _of_products(product_ids),
            include=["distances", "metadatas"],
        )
        return [
            Row(record_id, meta.get("product_id", record_id), 1.0 - float(distance), meta)
            for record_id, distance, meta in zip(
                result["ids"][0], result["distances"][0], result["metadatas"][0], strict=True
            )
        ]

    def rank_exactly(self, kind: Kind, vector: np.ndarray, product_ids: Collection[str]) -> list[Row]:
        """Every record of ``product_ids``, ranked by exact cosine similarity to ``vector``."""
        if not product_ids:
            return []
        found = self.collections[kind].get(
            where=_of_products(product_ids), include=["embeddings", "metadatas"]
        )
        if not found["ids"]:
            return []
        vectors = np.asarray(found["embeddings"], dtype=np.float32)
        query = np.asarray(vector, dtype=np.float32)
        scores = vectors @ query / (np.linalg.norm(vectors, axis=1) * np.linalg.norm(query) + 1e-12)
        return [
            Row(found["ids"][i], found["metadatas"][i]["product_id"], float(scores[i]), found["metadatas"][i])
            for i in np.argsort(-scores)
        ]

    def passages(self, vector: np.ndarray, k: int) -> list[PassageHit]:
        """The ``k`` passages nearest to ``vector``, best first."""
        result = self.collections["passages"].query(
            query_embeddings=np.asarray(vector, dtype=np.float32)[None, :],
            n_results=max(1, k),
            include=["distances", "metadatas", "documents"],
        )
        return [
            PassageHit(pid, meta["title"], doc, 1.0 - float(dist))
            for pid, dist, meta, doc in zip(
                result["ids"][0],
                result["distances"][0],
                result["metadatas"][0],
                result["documents"][0],
                strict=True,
            )
        ]

    # --- writing --------------------------------------------------------------------------------

    def sync(
        self,
        products: Sequence[ProductDoc],
        passages: Sequence[PassageDoc] | None = None,
        progress: bool = False,
        photos: bool = True,
    ) -> SyncReport:
        """Make the index hold exactly ``products`` (and ``passages`` when given), embedding only changes.

        ``photos=False`` (or no image encoder) leaves the photo collection as it is: photos cost one
        image-model pass each, so a quick start-up sync may skip them.
        """
        report = SyncReport()
        self._write("products", self._product_records(products), True, report, progress)
        if photos and self.image_encoder is not None:
            self._write("images", self._image_records(products), True, report, progress)
        if passages is not None:
            self._write("passages", _passage_records(passages), True, report, progress)
        return report

    def update_products(
        self, changed: Sequence[ProductDoc], removed: Sequence[str] = (), progress: bool = False
    ) -> SyncReport:
        """Incremental update: re-index ``changed`` products (dropping photos of variants they no
        longer have) and delete ``removed`` ones. Unchanged texts and photos are not embedded again."""
        report = SyncReport()
        self._write("products", self._product_records(changed), False, report, progress)
        self._delete("products", list(removed), report)
        owners, kept = list(removed), set()
        if self.image_encoder is not None:  # without one, changed products keep their photos
            photos = self._image_records(changed)
            self._write("images", photos, False, report, progress)
            owners += [p.product_id for p in changed]
            kept = {r.id for r in photos}
        self._delete("images", [rid for rid in self._ids("images", owners) if rid not in kept], report)
        return report

    def rebuild(
        self,
        products: Sequence[ProductDoc],
        passages: Sequence[PassageDoc],
        progress: bool = False,
    ) -> SyncReport:
        """Drop every collection and index everything again (after a model or HNSW change)."""
        for kind in KINDS:
            self.client.delete_collection(f"{self.namespace}-{kind}")
            self.collections[kind] = self._open(kind)
        return self.sync(products, passages, progress)

    def _product_records(self, products: Sequence[ProductDoc]) -> list[_Record]:
        return [
            _Record(
                p.product_id,
                p.text_hash,
                p.text,
                {"product_id": p.product_id, "name": p.name, "category": p.category or ""},
            )
            for p in products
        ]

    def _image_records(self, products: Sequence[ProductDoc]) -> list[_Record]:
        return [
            _Record(
                v.item_id,
                content_hash(Path(v.image_path).read_bytes()),
                v.image_path,
                {"product_id": v.product_id, "item_id": v.item_id, "name": p.name},
            )
            for p in products
            for v in p.variants
            if v.image_path
        ]

    def _write(
        self, kind: Kind, records: list[_Record], prune: bool, report: SyncReport, progress: bool
    ) -> None:
        collection = self.collections[kind]
        known = self._stamps(kind, None if prune else [r.id for r in records])
        todo = [r for r in records if known.get(r.id) != r.stamp]
        report.embedded[kind] = len(todo)
        report.unchanged[kind] = len(records) - len(todo)
        encoder = self._encoder(kind) if todo else None
        batches = range(0, len(todo), WRITE_BATCH)
        for start in tqdm(batches, desc=f"indexing {kind}", unit="batch", disable=not progress):
            batch = todo[start : start + WRITE_BATCH]
            unique = list(dict.fromkeys(r.payload for r in batch))  # variants often share one photo
            vectors = dict(zip(unique, np.asarray(encoder.encode(unique), np.float32)))
            documents = [r.document for r in batch] if kind == "passages" else None
            collection.upsert(
                ids=[r.id for r in batch],
                embeddings=np.stack([vectors[r.payload] for r in batch]),
                metadatas=[{**r.metadata, "stamp": r.stamp} for r in batch],
                documents=documents,
            )
        if prune:
            wanted = {r.id for r in records}
            self._delete(kind, [rid for rid in known if rid not in wanted], report)

    def _delete(self, kind: Kind, ids: list[str], report: SyncReport) -> None:
        for start in range(0, len(ids), _PAGE):
            self.collections[kind].delete(ids=ids[start : start + _PAGE])
        report.deleted[kind] = report.deleted.get(kind, 0) + len(ids)

    def _stamps(self, kind: Kind, ids: Sequence[str] | None = None) -> dict[str, str]:
        """The stored stamp of every record, or of those of ``ids`` that exist."""
        if ids is None:
            rows = self._pages(kind)
        else:
            get = self.collections[kind].get
            rows = (
                row
                for start in range(0, len(ids), _PAGE)
                for row in _rows(get(ids=list(ids[start : start + _PAGE]), include=["metadatas"]))
            )
        return {rid: meta.get("stamp", "") for rid, meta in rows}

    def _ids(self, kind: Kind, product_ids: Sequence[str]) -> list[str]:
        if not product_ids:
            return []
        return [rid for rid, _ in self._pages(kind, {"product_id": {"$in": list(product_ids)}})]

    def _pages(self, kind: Kind, where: dict[str, Any] | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
        collection, offset = self.collections[kind], 0
        while True:
            page = collection.get(where=where, include=["metadatas"], limit=_PAGE, offset=offset)
            yield from _rows(page)
            if len(page["ids"]) < _PAGE:
                return
            offset += _PAGE


def _of_products(product_ids: Collection[str]) -> dict[str, Any]:
    ids = sorted(product_ids)
    return {"product_id": ids[0]} if len(ids) == 1 else {"product_id": {"$in": ids}}


def _rows(page: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    return zip(page["ids"], page["metadatas"], strict=True)


def _passage_records(passages: Sequence[PassageDoc]) -> list[_Record]:
    return [
        _Record(p.id, content_hash(p.content), p.content, {"title": p.title}, document=p.text)
        for p in passages
    ]
