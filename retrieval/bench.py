"""Retrieval speed: encoder throughput, then index build and query latency against exact search.

The index part uses synthetic vectors so 100k products need no hour of encoding. They imitate
sentence embeddings of a catalog: 384-d, L2-normalised, products in clusters of about a hundred on a
48-d latent manifold plus noise, all sharing a common offset (MiniLM vectors of unrelated products
have a median cosine of about 0.26; these about 0.2). Queries are fresh draws, never indexed vectors.

Each query runs through:
- ``exact``: numpy brute force (the ground truth for recall@10), with the filter as a mask;
- ``chroma``: the HNSW collection alone (``where`` on metadata when filtered);
- ``search``: :meth:`Searcher.search_vector`, i.e. HNSW plus the live check against an in-memory
  catalog, with widening for filters: what the service really does per query, minus encoding.
The filter keeps one category in ``categories`` (10% of products by default).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from PIL import Image
from tqdm import tqdm

from shopagent.retrieval.index import CatalogIndex, Encoder
from shopagent.retrieval.records import ProductDoc, VariantRecord
from shopagent.retrieval.search import InMemoryCatalog, SearchFilters, Searcher
from shopagent.retrieval.store import open_client
from shopagent.settings import Settings

DIM, LATENT, CLUSTER_SIZE = 384, 48, 100
ADD_BATCH = 5000


@dataclass(frozen=True)
class BenchOptions:
    sizes: tuple[int, ...] = (10_000, 100_000)
    queries: int = 200
    texts: int = 256
    images: int = 32
    k: int = 10
    categories: int = 10
    seed: int = 0

    @classmethod
    def quick(cls) -> BenchOptions:
        """Seconds, for CI: proves every path runs, the numbers mean little."""
        return cls(sizes=(2_000,), queries=40, texts=32, images=4)


@dataclass(frozen=True)
class Throughput:
    encoder: str
    items: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.items / self.seconds


@dataclass(frozen=True)
class Build:
    products: int
    seconds: float


@dataclass(frozen=True)
class Latency:
    products: int
    filtered: bool
    engine: str
    p50_ms: float
    p99_ms: float
    recall_at_k: float


@dataclass
class BenchReport:
    options: BenchOptions
    hnsw: dict[str, Any]
    cpus: int
    throughput: list[Throughput] = field(default_factory=list)
    builds: list[Build] = field(default_factory=list)
    latencies: list[Latency] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class CatalogSpace:
    """Catalog-like unit vectors: ``products // CLUSTER_SIZE`` clusters fixed by ``seed``."""

    def __init__(self, products: int, seed: int) -> None:
        space = np.random.default_rng(seed)
        self.centres = space.normal(size=(max(10, products // CLUSTER_SIZE), LATENT))
        self.lift = space.normal(size=(LATENT, DIM)) / np.sqrt(LATENT)
        offset = space.normal(size=DIM)
        self.offset = offset / np.linalg.norm(offset)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        latent = self.centres[rng.integers(0, len(self.centres), n)] + 0.8 * rng.normal(size=(n, LATENT))
        x = latent @ self.lift
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        x += 0.5 * rng.normal(size=(n, DIM)) / np.sqrt(DIM) + 0.6 * self.offset
        return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def _texts(n: int, rng: np.random.Generator) -> list[str]:
    words = (
        "soft organic cotton hoodie with a lined hood for cool evenings in navy grey or red "
        "lightweight trail running shoes waterproof leather boots steel bottle keeps drinks cold"
    ).split()
    return [" ".join(rng.choice(words, size=int(rng.integers(25, 45)))) for _ in range(n)]


def _images(n: int, rng: np.random.Generator) -> list[Image.Image]:
    return [Image.fromarray(rng.integers(0, 256, (320, 320, 3), dtype=np.uint8)) for _ in range(n)]


def throughput(name: str, encoder: Encoder, items: Sequence[Any]) -> Throughput:
    encoder.encode(list(items[:2]))  # first call pays one-off allocations
    started = time.perf_counter()
    encoder.encode(list(items))
    return Throughput(name, len(items), time.perf_counter() - started)


def _timed(run: Callable[[], list[str]]) -> tuple[list[str], float]:
    started = time.perf_counter()
    ids = run()
    return ids, (time.perf_counter() - started) * 1000


def _top_k(scores: np.ndarray, k: int) -> np.ndarray:
    top = np.argpartition(-scores, k)[:k]
    return top[np.argsort(-scores[top])]


def bench_size(n: int, options: BenchOptions, progress: bool) -> tuple[Build, list[Latency], dict[str, Any]]:
    """Build an embedded index of ``n`` synthetic products and time every engine on fresh queries."""
    rng, space = np.random.default_rng(options.seed), CatalogSpace(n, options.seed)
    vectors, queries = space.sample(n, rng), space.sample(options.queries, rng)
    ids = [f"p{i}" for i in range(n)]
    categories = np.arange(n) % options.categories
    docs = [
        ProductDoc(pid, pid, f"c{c}", variants=(VariantRecord(f"{pid}-1", pid, {}, True, 100),))
        for pid, c in zip(ids, categories, strict=True)
    ]
    with tempfile.TemporaryDirectory(prefix="shopagent-bench-") as tmp:
        client = open_client(Settings(data_dir=tmp, chroma_path=tmp, chroma_url=None))
        index = CatalogIndex(client, text_encoder=None, namespace="bench")
        collection = index.collections["products"]
        started = time.perf_counter()
        for start in tqdm(range(0, n, ADD_BATCH), desc=f"indexing {n:,}", unit="batch", disable=not progress):
            batch = slice(start, start + ADD_BATCH)
            collection.add(
                ids=ids[batch],
                embeddings=vectors[batch],
                metadatas=[
                    {"product_id": i, "category": f"c{c}"} for i, c in zip(ids[batch], categories[batch])
                ],
            )
        build = Build(n, time.perf_counter() - started)
        searcher = Searcher(index, InMemoryCatalog(docs))
        hnsw = index.describe()["products"]["hnsw"]

        timings: dict[tuple[bool, str], list[float]] = {}
        recalls: dict[tuple[bool, str], list[float]] = {}
        for qi, q in enumerate(tqdm(queries, desc="querying", unit="query", disable=not progress)):
            category = qi % options.categories
            for filtered in (False, True):
                mask = categories == category if filtered else None
                where = {"category": f"c{category}"} if filtered else None
                filters = SearchFilters(category=f"c{category}") if filtered else SearchFilters()

                def exact() -> list[str]:
                    scores = vectors @ q
                    if mask is not None:
                        scores = np.where(mask, scores, -np.inf)
                    return [ids[i] for i in _top_k(scores, options.k)]

                def chroma() -> list[str]:
                    found = collection.query(
                        query_embeddings=q[None, :], n_results=options.k, where=where, include=["distances"]
                    )
                    return found["ids"][0]

                def search() -> list[str]:
                    return [h.product_id for h in searcher.search_vector("products", q, filters, options.k)]

                truth: set[str] = set()
                for engine, run in (("exact", exact), ("chroma", chroma), ("search", search)):
                    found, ms = _timed(run)
                    if engine == "exact":
                        truth = set(found)
                    timings.setdefault((filtered, engine), []).append(ms)
                    recalls.setdefault((filtered, engine), []).append(len(truth & set(found)) / options.k)
    latencies = [
        Latency(n, filtered, engine, float(np.percentile(ms, 50)), float(np.percentile(ms, 99)),
                float(np.mean(recalls[(filtered, engine)])))
        for (filtered, engine), ms in timings.items()
    ]
    return build, latencies, hnsw


def run_bench(
    options: BenchOptions, text_encoder: Encoder, image_encoder: Encoder | None, progress: bool = False
) -> BenchReport:
    rng = np.random.default_rng(options.seed)
    report = BenchReport(options, {}, os.cpu_count() or 1)
    report.throughput.append(throughput("text (MiniLM)", text_encoder, _texts(options.texts, rng)))
    if image_encoder is not None:
        images = _images(options.images, rng)
        report.throughput.append(throughput("image (EfficientNet-Lite0)", image_encoder, images))
    for n in options.sizes:
        build, latencies, report.hnsw = bench_size(n, options, progress)
        report.builds.append(build)
        report.latencies += latencies
    return report


def format_report(report: BenchReport) -> str:
    """Markdown tables, with the HNSW parameters and the machine they were measured on."""
    lines = [f"CPUs: {report.cpus}; load average: {os.getloadavg()[0]:.1f}; HNSW: {report.hnsw}",
             "", "| encoder | items | items/s |", "|---|---:|---:|"]
    lines += [f"| {t.encoder} | {t.items} | {t.per_second:.1f} |" for t in report.throughput]
    lines += ["", "| products | Chroma build s | vectors/s |", "|---:|---:|---:|"]
    lines += [f"| {b.products:,} | {b.seconds:.1f} | {b.products / b.seconds:,.0f} |" for b in report.builds]
    lines += [
        "",
        f"| products | filter | engine | p50 ms | p99 ms | recall@{report.options.k} vs exact | p50 / exact |",
        "|---:|---|---|---:|---:|---:|---:|",
    ]
    exact = {(r.products, r.filtered): r.p50_ms for r in report.latencies if r.engine == "exact"}
    for r in report.latencies:
        share = f"1 category of {report.options.categories}" if r.filtered else "none"
        lines.append(
            f"| {r.products:,} | {share} | {r.engine} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | "
            f"{r.recall_at_k:.3f} | {r.p50_ms / exact[(r.products, r.filtered)]:.2f} |"
        )
    return "\n".join(lines)
