"""The index survives a restart: of the process (embedded Chroma) and of the Chroma server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from shopagent.retrieval.index import CatalogIndex
from shopagent.retrieval.records import ProductDoc
from shopagent.retrieval.search import InMemoryCatalog, Searcher, SearchQuery
from shopagent.retrieval.store import open_client
from shopagent.settings import Settings

from .conftest import HashingTextEncoder, start_server

# Run in a fresh interpreter: no Chroma state cached in this process can help it.
READER = """
import json, sys
from shopagent.retrieval.index import CatalogIndex
from shopagent.retrieval.store import open_client
from shopagent.settings import Settings
settings = Settings(data_dir=sys.argv[1], llm="none")
index = CatalogIndex(open_client(settings), text_encoder=None, namespace=sys.argv[2])
rows = index.query("products", json.loads(sys.argv[3]), 1)
print(json.dumps({"count": index.count("products"), "top": rows[0].product_id}))
"""


def test_embedded_index_persists_across_processes(tmp_path: Path, catalog_docs: list[ProductDoc]) -> None:
    settings = Settings(data_dir=tmp_path / "data", llm="none")
    encoder = HashingTextEncoder()
    CatalogIndex(open_client(settings), encoder, namespace="shop").sync(catalog_docs)
    vector = encoder.encode(["leather hiking boots"])[0].tolist()
    result = subprocess.run(
        [sys.executable, "-c", READER, str(settings.data_dir), "shop", json.dumps(vector)],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"count": len(catalog_docs), "top": "boot"}


def test_server_index_persists_across_server_restarts(tmp_path: Path, catalog_docs: list[ProductDoc]) -> None:
    server = start_server(tmp_path / "db")
    try:
        settings = Settings(data_dir=tmp_path / "data", chroma_url=server.url, llm="none")
        CatalogIndex(open_client(settings), HashingTextEncoder(), namespace="shop").sync(catalog_docs)
        server.stop()
        server.start()
        index = CatalogIndex(open_client(settings), HashingTextEncoder(), namespace="shop")
        assert index.count("products") == len(catalog_docs)
        hits = Searcher(index, InMemoryCatalog(catalog_docs)).search(SearchQuery(text="leather hiking boots"))
        assert hits[0].product_id == "boot"
    finally:
        server.stop()
