"""Retrieval fixtures: a small hand-made catalog, instant stand-in encoders, and a Chroma server.

Every index test runs twice, on an embedded Chroma and on a ``chroma run`` server started once per
session (each test in its own namespace). Tests that need real models are marked ``slow``.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from shopagent.retrieval.index import CatalogIndex, Encoder
from shopagent.retrieval.records import ProductDoc, VariantRecord
from shopagent.retrieval.store import open_client
from shopagent.settings import Settings

CHROMA = Path(sys.executable).with_name("chroma")


class HashingTextEncoder:
    """Bag of words hashed into 384 dimensions: instant and deterministic, for tests of mechanics."""

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), 384), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % 384] += 1.0
            out[row, 0] += 1e-3  # never all zero
        return out / np.linalg.norm(out, axis=1, keepdims=True)


class TinyImageEncoder:
    """A photo's 4×4 thumbnail, centred and normalised: enough to tell solid colours apart."""

    def encode(self, images: Sequence[Image.Image | str]) -> np.ndarray:
        opened = [im if isinstance(im, Image.Image) else Image.open(im) for im in images]
        rows = [np.asarray(im.convert("RGB").resize((4, 4)), dtype=np.float32).ravel() - 127.5 for im in opened]
        out = np.stack(rows) + 1e-3
        return out / np.linalg.norm(out, axis=1, keepdims=True)


COLORS = {"red": (200, 30, 30), "blue": (30, 60, 200), "green": (30, 160, 60), "black": (20, 20, 20)}


def variant(
    product_id: str, n: int, price: float, *, stock: int | None = 5, available: bool = True,
    image_dir: Path | None = None, **options: str,
) -> VariantRecord:
    item_id = f"{product_id}-{n}"
    image_path = None
    if image_dir is not None and options.get("color") in COLORS:
        image_path = str(image_dir / f"{item_id}.png")
        Image.new("RGB", (32, 32), COLORS[options["color"]]).save(image_path)
    return VariantRecord(item_id, product_id, options, available, round(price * 100), stock, image_path)


def make_catalog(image_dir: Path | None = None) -> list[ProductDoc]:
    """Nine products whose variants make filters tricky (the right options split across variants)."""
    v = lambda pid, n, price, **kw: variant(pid, n, price, image_dir=image_dir, **kw)  # noqa: E731
    return [
        ProductDoc("tee", "Cotton T-Shirt", "shirts", "A soft crew neck t-shirt for everyday wear.",
                   {"material": "cotton"}, (
                       v("tee", 1, 20, color="red", size="L"),
                       v("tee", 2, 20, color="blue", size="M"),
                       v("tee", 3, 20, color="red", size="M", stock=0),
                   )),
        ProductDoc("polo", "Pique Polo Shirt", "shirts", "A collared polo shirt in breathable pique.",
                   {"material": "cotton"}, (
                       v("polo", 1, 35, color="red", size="M"),
                       v("polo", 2, 35, color="green", size="S"),
                   )),
        ProductDoc("flannel", "Flannel Shirt", "shirts", "A warm checked flannel shirt for cold days.",
                   {"material": "wool blend"}, (
                       v("flannel", 1, 55, color="red", size="M", available=False),
                       v("flannel", 2, 55, color="black", size="XL"),
                   )),
        ProductDoc("runner", "Trail Running Shoes", "shoes", "Grippy lightweight shoes for trail running.",
                   {"use": "running"}, (
                       v("runner", 1, 120, color="black", size="42"),
                       v("runner", 2, 110, color="blue", size="44", stock=None),
                   )),
        ProductDoc("boot", "Leather Hiking Boots", "shoes", "Waterproof leather boots for long hikes.",
                   {"use": "hiking"}, (v("boot", 1, 160, color="black", size="43"),)),
        ProductDoc("bottle", "Steel Water Bottle", "outdoor", "Keeps drinks cold for 24 hours.",
                   {"capacity": "750 ml"}, (v("bottle", 1, 25, color="green"),)),
        ProductDoc("tent", "Two-Person Tent", "outdoor", "A light tent that sets up in minutes.",
                   {"weight": "1.9 kg"}, (v("tent", 1, 240, color="green"),)),
        ProductDoc("laptop", "Ultrabook 14", "electronics", "A thin laptop with a long battery life.",
                   {}, (v("laptop", 1, 999, ram="16GB"), v("laptop", 2, 1299, ram="32GB"))),
        ProductDoc("headphones", "Noise-Cancelling Headphones", "electronics",
                   "Over-ear wireless headphones that block out noise.", {},
                   (v("headphones", 1, 199, color="black"),)),
    ]


# --- Chroma server ---------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class ChromaServer:
    """``chroma run`` on loopback, persisting to ``path``; can be stopped and started again."""

    path: Path
    port: int
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> None:
        log = open(self.path.parent / f"chroma-{self.port}.log", "ab")  # noqa: SIM115 (outlives call)
        self.process = subprocess.Popen(
            [str(CHROMA), "run", "--host", "127.0.0.1", "--port", str(self.port), "--path", str(self.path)],
            stdout=log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"chroma run exited with {self.process.returncode}; see {log.name}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/v2/heartbeat", timeout=2):
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"chroma run did not answer its heartbeat within {timeout} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


def start_server(path: Path) -> ChromaServer:
    """A started server; under CI a failure to start fails the test, elsewhere it skips it."""
    server = ChromaServer(path, _free_port())
    try:
        server.start()
    except (OSError, RuntimeError) as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"cannot start a Chroma server: {exc}")
        pytest.skip(f"cannot start a Chroma server: {exc}")
    return server


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    server = start_server(tmp_path_factory.mktemp("chroma-server") / "db")
    yield server
    server.stop()


@dataclass
class Backend:
    """Where an index lives: settings naming an embedded folder or a server, and a namespace."""

    name: str
    settings: Settings
    namespace: str

    def index(self, text_encoder: Encoder, image_encoder: Encoder | None = None) -> CatalogIndex:
        return CatalogIndex(open_client(self.settings), text_encoder, image_encoder, self.namespace)


@pytest.fixture(params=["embedded", "server"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    data_dir = tmp_path / "data"
    if request.param == "server":
        url = request.getfixturevalue("chroma_server").url
        settings = Settings(data_dir=data_dir, chroma_url=url, llm="none")
    else:
        settings = Settings(data_dir=data_dir, llm="none")
    return Backend(request.param, settings, f"t{uuid.uuid4().hex[:12]}")


@pytest.fixture
def catalog_docs(tmp_path: Path) -> list[ProductDoc]:
    image_dir = tmp_path / "images"
    image_dir.mkdir()
    return make_catalog(image_dir)
