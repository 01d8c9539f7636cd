"""Rendered product pictures: deterministic, distinct per attribute, and named by content only."""

from __future__ import annotations

import numpy as np
import pytest

from shopagent.fusion import render

RED_STRIPES = {"color": "red", "pattern": "striped", "shape": "round"}


def _pixels(visual: dict, material: str | None = "cotton", kind: str = "Mug") -> np.ndarray:
    return np.asarray(render.render_product(visual, material, kind), dtype=np.int16)


def test_same_inputs_same_pixels() -> None:
    image = render.render_product(RED_STRIPES, "cotton", "Mug")
    assert image.size == (render.SIZE, render.SIZE) and image.mode == "RGB"
    np.testing.assert_array_equal(_pixels(RED_STRIPES), _pixels(RED_STRIPES))


@pytest.mark.parametrize("key,other", [("color", "navy"), ("pattern", "polka dot"), ("shape", "square")])
def test_each_visual_attribute_changes_the_picture(key: str, other: str) -> None:
    changed = np.abs(_pixels(RED_STRIPES) - _pixels({**RED_STRIPES, key: other})).mean()
    assert changed > 5


def test_material_changes_the_surface() -> None:
    assert np.abs(_pixels(RED_STRIPES, "full-grain leather") - _pixels(RED_STRIPES, "brushed brass")).mean() > 1


def test_color_is_what_fills_the_shape() -> None:
    center = _pixels({"color": "sky blue", "shape": "round"}, material=None)[100:124, 100:124].reshape(-1, 3)
    assert np.abs(center.mean(axis=0) - render.COLORS["sky blue"]).max() < 10


def test_unknown_and_missing_values_still_render_distinctly() -> None:
    a = _pixels({"color": "chartreuse sparkle", "pattern": "paisley", "shape": "zeppelin"}, "unobtainium")
    b = _pixels({"color": "burnt umber", "pattern": "ikat", "shape": "blimp"}, "adamantium")
    assert np.abs(a - b).mean() > 5
    assert _pixels({}, None, kind="").shape == (render.SIZE, render.SIZE, 3)


def test_vocabularies_resolve_to_distinct_looks() -> None:
    assert len(set(render.COLORS.values())) == len(render.COLORS)
    assert {render.resolve_pattern(p) for p in ("striped", "checked", "polka dot", "chevron")} == {
        "stripes", "checks", "dots", "zigzag"}
    assert render.resolve_texture("full-grain leather") == "leather"
    assert render.resolve_texture("tri-ply stainless steel") == "metal"
    assert render.resolve_shape("round-braided", "Leash") == render.SHAPES["round"]


def test_saved_file_name_is_a_content_hash(tmp_path) -> None:
    path = render.save_png(render.render_product(RED_STRIPES, "cotton", "Mug"), tmp_path)
    assert path.parent == tmp_path and path.suffix == ".png"
    assert all(word not in path.name for word in ("red", "striped", "round", "cotton", "mug"))
    assert render.save_png(render.render_product(RED_STRIPES, "cotton", "Mug"), tmp_path) == path
