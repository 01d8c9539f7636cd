"""`shopagent bench retrieval` machinery on a tiny size (stand-in encoders: no models)."""

from __future__ import annotations

import numpy as np

from shopagent.retrieval.bench import BenchOptions, CatalogSpace, format_report, run_bench

from .conftest import HashingTextEncoder, TinyImageEncoder


def test_catalog_space_queries_share_the_index_clusters() -> None:
    rng = np.random.default_rng(0)
    space = CatalogSpace(2000, seed=0)
    vectors, queries = space.sample(2000, rng), space.sample(20, rng)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    nearest = np.sort(queries @ vectors.T, axis=1)[:, -10:]
    assert nearest.mean() > 0.5 > float(np.median(queries @ vectors.T))  # clustered, not uniform


def test_bench_measures_every_engine_and_filter() -> None:
    options = BenchOptions(sizes=(1000,), queries=10, texts=8, images=2)
    report = run_bench(options, HashingTextEncoder(), TinyImageEncoder())
    assert [t.items for t in report.throughput] == [8, 2]
    assert {(r.filtered, r.engine) for r in report.latencies} == {
        (f, e) for f in (False, True) for e in ("exact", "chroma", "search")
    }
    assert all(r.recall_at_k >= 0.9 for r in report.latencies)
    assert report.hnsw["max_neighbors"] == 32
    table = format_report(report)
    assert "| 1,000 | 1 category of 10 | search |" in table
