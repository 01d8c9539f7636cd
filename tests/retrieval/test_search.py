"""Search mechanics on a hand-made catalog, with instant stand-in encoders, on both Chroma backends."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PIL import Image

from shopagent.retrieval.records import PassageDoc, ProductDoc
from shopagent.retrieval.search import (
    InMemoryCatalog,
    PhotosNotIndexed,
    SearchFilters,
    Searcher,
    SearchQuery,
)
from shopagent.retrieval.store import HNSWParams

from .conftest import COLORS, Backend, HashingTextEncoder, TinyImageEncoder, variant


@pytest.fixture
def searcher(backend: Backend, catalog_docs: list[ProductDoc]) -> Searcher:
    index = backend.index(HashingTextEncoder(), TinyImageEncoder())
    index.sync(catalog_docs, [PassageDoc("returns", "Returns", "Return delivered items within 30 days.")])
    return Searcher(index, InMemoryCatalog(catalog_docs))


def brute_force(docs: list[ProductDoc], filters: SearchFilters) -> dict[str, set[str]]:
    return {
        p.product_id: {v.item_id for v in p.variants if filters.matches_variant(v)}
        for p in docs
        if filters.matches_product(p.category, p.name) and any(filters.matches_variant(v) for v in p.variants)
    }


FILTERS = [
    SearchFilters(options={"color": "red", "size": "M"}, in_stock=True),
    SearchFilters(options={"Color": " RED "}),
    SearchFilters(category="Shirts", max_price_cents=3000),
    SearchFilters(min_price_cents=10000, max_price_cents=20000, in_stock=True),
    SearchFilters(category="electronics", options={"ram": "32gb"}),
    SearchFilters(category="pique polo shirt"),  # a product's name works as its own category
    SearchFilters(options={"color": "purple"}),
]


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: str(f)[14:60])
def test_filters_are_exact_at_variant_level(
    searcher: Searcher, catalog_docs: list[ProductDoc], filters: SearchFilters
) -> None:
    hits = searcher.search(SearchQuery(text="red shirt", filters=filters, k=len(catalog_docs)))
    found = {h.product_id: {v.item_id for v in h.variants} for h in hits}
    assert found == brute_force(catalog_docs, filters)


def test_red_m_in_stock_needs_one_variant_with_all_three(searcher: Searcher) -> None:
    filters = SearchFilters(options={"color": "red", "size": "M"}, in_stock=True)
    hits = searcher.search(SearchQuery(text="red shirt", filters=filters))
    # The tee has a red L, and a red M out of stock; the flannel's red M is unavailable.
    assert [(h.product_id, [v.item_id for v in h.variants]) for h in hits] == [("polo", ["polo-1"])]


def test_stock_changes_are_seen_without_reindexing(searcher: Searcher) -> None:
    catalog = searcher.catalog
    assert isinstance(catalog, InMemoryCatalog)
    query = SearchQuery(text="polo shirt", filters=SearchFilters(category="shirts", in_stock=True))
    assert "polo" in [h.product_id for h in searcher.search(query)]
    polo = catalog.products["polo"]
    catalog.products["polo"] = replace(polo, variants=tuple(replace(v, stock=0) for v in polo.variants))
    assert "polo" not in [h.product_id for h in searcher.search(query)]
    catalog.products["polo"] = polo
    assert "polo" in [h.product_id for h in searcher.search(query)]


def test_products_gone_from_the_shop_are_never_returned(searcher: Searcher) -> None:
    catalog = searcher.catalog
    assert isinstance(catalog, InMemoryCatalog)
    del catalog.products["tent"]
    hits = searcher.search(SearchQuery(text="two person tent", k=20))
    assert "tent" not in {h.product_id for h in hits}
    assert len(hits) == len(catalog.products)


def test_selective_filter_reaches_beyond_the_oversampled_neighbours(backend: Backend) -> None:
    docs = [
        ProductDoc(f"mug{i}", f"Coffee mug number {i}", "kitchen", "A ceramic coffee mug.", {},
                   (variant(f"mug{i}", 1, 10, color="white"),))
        for i in range(100)
    ] + [ProductDoc("kettle", "Kettle", "kitchen", "Boils water.", {}, (variant("kettle", 1, 40, color="red"),))]
    index = backend.index(HashingTextEncoder())
    index.sync(docs)
    searcher = Searcher(index, InMemoryCatalog(docs))
    red = SearchFilters(options={"color": "red"})
    # k=1 widens 4 → 16 → 64 neighbours, all mugs, then ranks the catalog's only red product.
    assert [h.product_id for h in searcher.search(SearchQuery(text="coffee mug", filters=red, k=1))] == ["kettle"]
    assert [h.product_id for h in searcher.search(SearchQuery(text="coffee mug", filters=red, k=3))] == ["kettle"]


def test_sync_embeds_only_what_changed(backend: Backend, catalog_docs: list[ProductDoc]) -> None:
    index = backend.index(HashingTextEncoder(), TinyImageEncoder())
    first = index.sync(catalog_docs)
    assert first.embedded == {"products": 9, "images": 13}
    # A stock or price change is not indexed at all; a description change re-embeds one product.
    tee, *rest = catalog_docs
    changed = [replace(tee, description="Now organic.", variants=tee.variants[:1]), *rest]
    changed[1] = replace(changed[1], variants=tuple(replace(v, stock=0, price_cents=1) for v in changed[1].variants))
    second = index.sync(changed[:-1])  # and the headphones are discontinued
    assert second.embedded == {"products": 1, "images": 0}
    assert second.deleted == {"products": 1, "images": 3}  # headphones, tee's 2 dropped variants
    assert index.count("products") == 8 and index.count("images") == 10


def test_update_and_remove_one_product(backend: Backend, catalog_docs: list[ProductDoc]) -> None:
    index = backend.index(HashingTextEncoder(), TinyImageEncoder())
    index.sync(catalog_docs)
    polo = catalog_docs[1]
    renamed = replace(polo, name="Polo Shirt Deluxe", variants=polo.variants[:1])
    report = index.update_products([renamed])
    assert report.embedded == {"products": 1, "images": 1}  # the kept photo now carries the new name
    assert report.deleted == {"products": 0, "images": 1}  # the dropped variant's photo
    searcher = Searcher(index, InMemoryCatalog([renamed, *catalog_docs[2:]]))
    assert searcher.search(SearchQuery(text="polo shirt deluxe", k=1))[0].name == "Polo Shirt Deluxe"
    photo = Image.open(renamed.variants[0].image_path)
    names = {h.product_id: h.name for h in searcher.search(SearchQuery(image=photo, k=3))}
    assert names["polo"] == "Polo Shirt Deluxe"
    report = index.update_products([], removed=["polo"])
    assert report.deleted == {"products": 1, "images": 1}
    assert index.count("products") == 8 and index.count("images") == 11
    # Opened without an image encoder, an update leaves other products' photos alone.
    text_only = backend.index(HashingTextEncoder())
    assert text_only.update_products([catalog_docs[0]]).deleted == {"products": 0, "images": 0}
    assert text_only.count("images") == 11


def test_photo_query_ranks_matching_colour_variant_first(searcher: Searcher) -> None:
    photo = Image.new("RGB", (48, 48), tuple(c + 10 for c in COLORS["red"]))  # not an indexed image
    hits = searcher.search(SearchQuery(image=photo, k=3))
    assert all(h.variants[0].options.get("color") == "red" for h in hits)
    filtered = searcher.search(SearchQuery(image=photo, filters=SearchFilters(category="shoes"), k=2))
    assert {h.product_id for h in filtered} == {"runner", "boot"}


def test_photo_query_before_photos_are_indexed_says_so(backend: Backend, catalog_docs: list[ProductDoc]) -> None:
    index = backend.index(HashingTextEncoder(), TinyImageEncoder())
    index.sync(catalog_docs, photos=False)
    with pytest.raises(PhotosNotIndexed, match="shopagent index"):
        Searcher(index, InMemoryCatalog(catalog_docs)).search(SearchQuery(image=Image.new("RGB", (8, 8))))


def test_passages(searcher: Searcher) -> None:
    [hit] = searcher.passages("how do I return an item", k=1)
    assert (hit.id, hit.title) == ("returns", "Returns") and "30 days" in hit.text


def test_query_needs_exactly_one_of_text_or_image(searcher: Searcher) -> None:
    with pytest.raises(ValueError):
        searcher.search(SearchQuery())


def test_chroma_is_never_asked_to_embed(searcher: Searcher) -> None:
    with pytest.raises(Exception, match="shopagent passes its own vectors"):
        searcher.index.collections["products"].query(query_texts=["red shirt"], n_results=1)


def test_collections_have_the_configured_hnsw_parameters(searcher: Searcher) -> None:
    expected = HNSWParams()
    for info in searcher.index.describe().values():
        assert {k: info["hnsw"][k] for k in ("space", "max_neighbors", "ef_construction", "ef_search")} == {
            "space": expected.space,
            "max_neighbors": expected.max_neighbors,
            "ef_construction": expected.ef_construction,
            "ef_search": expected.ef_search,
        }
