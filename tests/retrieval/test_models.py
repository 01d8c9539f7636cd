"""Search with the real encoders (MiniLM text, EfficientNet-Lite0 photos) on both Chroma backends."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from shopagent.retrieval.index import Encoder
from shopagent.retrieval.records import PassageDoc, ProductDoc
from shopagent.retrieval.search import InMemoryCatalog, SearchFilters, Searcher, SearchQuery
from shopagent.settings import Settings

from .conftest import Backend, make_catalog, variant

pytestmark = pytest.mark.slow

RGB = {"red": (200, 30, 40), "blue": (40, 80, 200), "green": (40, 150, 60), "black": (25, 25, 25),
       "yellow": (240, 210, 40)}


class Remembering:
    """Wraps an encoder so the second backend's run of a test reuses the first one's vectors."""

    def __init__(self, encoder: Encoder, images: bool) -> None:
        self.encoder = encoder
        self.images = images
        self.seen: dict[bytes, np.ndarray] = {}

    def _key(self, item: object) -> bytes:
        if not self.images:
            return str(item).encode()
        return item.tobytes() if isinstance(item, Image.Image) else Path(str(item)).read_bytes()

    def encode(self, items: list) -> np.ndarray:
        keys = [self._key(i) for i in items]
        missing = [i for i, key in enumerate(keys) if key not in self.seen]
        if missing:
            for i, row in zip(missing, self.encoder.encode([items[i] for i in missing])):
                self.seen[keys[i]] = row
        return np.stack([self.seen[key] for key in keys])


@pytest.fixture(scope="session")
def text_encoder(tmp_path_factory: pytest.TempPathFactory) -> Encoder:
    from shopagent.fusion.text import TextEncoder

    settings = Settings(data_dir=tmp_path_factory.mktemp("models"), llm="none")
    return Remembering(TextEncoder.load(settings), images=False)


@pytest.fixture(scope="session")
def image_encoder(tmp_path_factory: pytest.TempPathFactory) -> Encoder:
    from shopagent.fusion.image import ImageEncoder

    settings = Settings(data_dir=tmp_path_factory.mktemp("models"), llm="none")
    return Remembering(ImageEncoder.load(settings), images=True)


QUESTIONS = [
    ("something to keep my drinks cold all day", "bottle"),
    ("shoes for running on muddy trails", "runner"),
    ("boots that stay dry on a long hike", "boot"),
    ("a slim notebook computer that lasts all day on battery", "laptop"),
    ("headphones to block out noise on a plane", "headphones"),
    ("shelter for camping with a friend", "tent"),
    ("a warm shirt for winter", "flannel"),
]


def test_minilm_queries_retrieve_the_right_product(backend: Backend, text_encoder: Encoder) -> None:
    docs = make_catalog()
    index = backend.index(text_encoder)
    index.sync(docs, [
        PassageDoc("returns", "Returns", "Delivered items can be returned within 30 days for a refund."),
        PassageDoc("shipping", "Shipping", "Orders ship in 2 to 5 business days; free over $50."),
    ])
    searcher = Searcher(index, InMemoryCatalog(docs))
    for question, expected in QUESTIONS:
        assert searcher.search(SearchQuery(text=question, k=1))[0].product_id == expected, question
    cheap = SearchFilters(max_price_cents=3000)
    hits = searcher.search(SearchQuery(text="a shirt", filters=cheap, k=5))
    assert [h.product_id for h in hits] == ["tee", "bottle"]  # the only products with a variant ≤ $30
    assert searcher.passages("how long does delivery take", k=1)[0].id == "shipping"


def shirt(color: str, seed: int, sleeve: float = 1.0, body: float = 1.0) -> Image.Image:
    """A flat t-shirt on white, nudged and turned a little."""
    rng = np.random.default_rng(seed)
    image = Image.new("RGB", (224, 224), "white")
    cx, top = 112 + int(rng.integers(-8, 9)), 40 + int(rng.integers(-6, 7))
    w, s = 60 * body, 40 * sleeve
    ImageDraw.Draw(image).polygon(
        [(cx - 25, top), (cx - w, top + 15), (cx - w - s, top + 55), (cx - w - s * 0.4, top + 75),
         (cx - w + 5, top + 55), (cx - w + 5, top + 160), (cx + w - 5, top + 160), (cx + w - 5, top + 55),
         (cx + w + s * 0.4, top + 75), (cx + w + s, top + 55), (cx + w, top + 15), (cx + 25, top),
         (cx, top + 20)],
        fill=RGB[color], outline=(40, 40, 40),
    )
    return image.rotate(float(rng.uniform(-8, 8)), fillcolor="white")


def mug(color: str) -> Image.Image:
    image = Image.new("RGB", (224, 224), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((60, 60, 150, 180), fill=RGB[color], outline=(40, 40, 40))
    draw.ellipse((140, 90, 190, 150), outline=RGB[color], width=12)
    return image


def ball(color: str) -> Image.Image:
    image = Image.new("RGB", (224, 224), "white")
    ImageDraw.Draw(image).ellipse((40, 40, 184, 184), fill=RGB[color])
    return image


def test_photo_of_a_red_shirt_retrieves_red_shirts_first(
    backend: Backend, image_encoder: Encoder, text_encoder: Encoder, tmp_path: Path
) -> None:
    def saved(image: Image.Image, name: str) -> str:
        image.save(tmp_path / f"{name}.png")
        return str(tmp_path / f"{name}.png")

    cuts = {"crew": (1.0, 1.0), "boxy": (0.6, 1.1), "raglan": (1.3, 0.9)}
    docs = [
        ProductDoc(f"{cut}-tee", f"{cut.title()} Tee", "shirts", None, {}, tuple(
            variant(f"{cut}-tee", n, 20, color=color)
            for n, color in enumerate(RGB)
        ))
        for cut in cuts
    ] + [
        ProductDoc("mug", "Mug", "kitchen", None, {}, (variant("mug", 0, 9, color="red"),)),
        ProductDoc("ball", "Ball", "toys", None, {}, (variant("ball", 0, 5, color="red"),)),
    ]
    photos = {}
    for doc in docs:
        for v in doc.variants:
            color = v.options["color"]
            if doc.category == "shirts":
                sleeve, body = cuts[doc.product_id.split("-")[0]]
                image = shirt(color, seed=len(photos), sleeve=sleeve, body=body)
            else:
                image = mug(color) if doc.product_id == "mug" else ball(color)
            photos[v.item_id] = saved(image, v.item_id)
    docs = [replace(d, variants=tuple(replace(v, image_path=photos[v.item_id]) for v in d.variants)) for d in docs]
    index = backend.index(text_encoder, image_encoder)
    index.sync(docs)
    searcher = Searcher(index, InMemoryCatalog(docs))

    # A new photo: a cut and pose the index has never seen, slightly blurred.
    photo = shirt("red", seed=1000, sleeve=0.9, body=1.05).filter(ImageFilter.GaussianBlur(1))
    hits = searcher.search(SearchQuery(image=photo, k=3))
    assert {h.product_id for h in hits} == {"crew-tee", "boxy-tee", "raglan-tee"}
    assert all(h.variants[0].options["color"] == "red" for h in hits)
    assert hits[-1].score > max(h.score for h in searcher.search(SearchQuery(image=photo, k=5))[3:])
