"""Deterministic product pictures drawn from attributes, for stores that have no photos.

The demo store and the τ² store have no images, yet the recommender's image half needs something to
look at that carries what a photo would: silhouette (``shape``, or one per product type), ``color``,
``pattern`` and a surface texture for the ``material``. Nothing is written as text in the picture, so
an attribute that is kept out of a product's text really is visible only in its image.

The same inputs always give the same pixels (all randomness is seeded from the inputs), so image
features can be cached by content. Unknown values never fail: they map to a vocabulary entry by a
stable hash, so any imported attribute still renders distinctly.
"""

from __future__ import annotations

import hashlib
import io
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

SIZE = 224
BACKGROUND = (255, 255, 255)

COLORS: dict[str, tuple[int, int, int]] = {
    "red": (200, 30, 40),
    "burgundy": (115, 20, 45),
    "orange": (240, 130, 20),
    "mustard": (200, 160, 30),
    "yellow": (245, 220, 50),
    "green": (60, 170, 70),
    "forest green": (30, 85, 45),
    "teal": (20, 140, 140),
    "sky blue": (115, 175, 235),
    "blue": (40, 80, 200),
    "navy": (20, 30, 90),
    "purple": (120, 50, 160),
    "lilac": (195, 165, 225),
    "pink": (240, 130, 180),
    "brown": (120, 70, 30),
    "sand": (205, 180, 135),
    "beige": (225, 210, 175),
    "cream": (245, 238, 210),
    "white": (250, 250, 250),
    "gray": (135, 135, 135),
    "charcoal": (60, 62, 66),
    "black": (20, 20, 20),
}
PATTERNS = ("solid", "stripes", "dots", "checks", "zigzag", "grid", "floral", "geometric", "herringbone", "speckled")
PATTERN_ALIASES: dict[str, str] = {
    "plain": "solid", "striped": "stripes", "stripe": "stripes", "polka dot": "dots", "dotted": "dots",
    "checked": "checks", "check": "checks", "gingham": "checks", "plaid": "grid", "tartan": "grid",
    "chevron": "zigzag", "flowers": "floral", "speckle": "speckled", "spotted": "speckled",
}
TEXTURES = ("cotton", "wool", "leather", "denim", "wood", "metal", "plastic", "glass")
# Words that name (or look like) one of the textures; a material phrase takes its last such word
# ("full-grain leather" → leather). Anything else is hashed onto a texture.
MATERIAL_WORDS: dict[str, str] = {
    **{t: t for t in TEXTURES},
    **dict.fromkeys(("linen", "polyester", "nylon", "fill", "fiberfill", "plush", "paper", "board", "sailcloth",
                     "webbing", "polymer", "cardboard", "foam", "silnylon"), "cotton"),
    **dict.fromkeys(("fleece", "lambswool", "cashmere", "merino", "shearling", "felt", "felted", "knit", "boucle",
                     "velvet", "down", "acrylic", "sisal", "rope"), "wool"),
    **dict.fromkeys(("suede", "goatskin", "leather", "cork"), "leather"),
    **dict.fromkeys(("canvas", "twill", "jute", "hemp", "ripstop"), "denim"),
    **dict.fromkeys(("walnut", "oak", "pine", "ash", "beech", "maple", "birch", "cedar", "acacia", "bamboo",
                     "plywood", "veneer", "terracotta"), "wood"),
    **dict.fromkeys(("steel", "iron", "aluminium", "aluminum", "brass", "carbon", "titanium", "chrome", "cable", "graphite"),
                    "metal"),
    **dict.fromkeys(("silicone", "rubber", "tpe", "pvc", "polycarbonate", "resin", "ceramic", "stoneware",
                     "porcelain", "enamel", "eps", "fiberstone", "lacquered", "glazed", "vinyl"), "plastic"),
    **dict.fromkeys(("borosilicate", "crystal", "acrylic glass"), "glass"),
}
# Common color words beyond the palette, so imported catalogs render close to what they say.
COLOR_ALIASES: dict[str, str] = {
    "grey": "gray", "silver": "gray", "gold": "mustard", "khaki": "sand", "tan": "sand", "ivory": "cream",
    "maroon": "burgundy", "wine": "burgundy", "violet": "purple", "lavender": "lilac", "cyan": "teal",
    "olive": "forest green", "turquoise": "teal", "light blue": "sky blue", "dark green": "forest green",
}


@dataclass(frozen=True)
class Silhouette:
    """A product outline: ``sides`` 0 is smooth; ``aspect`` is height/width; ``taper`` > 0 narrows the
    top; ``pinch`` < 1 pulls every other corner in (a star)."""

    sides: int
    aspect: float = 1.0
    taper: float = 0.0
    pinch: float = 1.0


# Shape words with an obvious outline; any other word gets its own outline from a stable hash.
SHAPES: dict[str, Silhouette] = {
    "round": Silhouette(0), "circle": Silhouette(0), "globe": Silhouette(0, 0.95),
    "oval": Silhouette(0, 0.65), "squat": Silhouette(0, 0.55, -0.2), "bulbous": Silhouette(0, 0.9, 0.3),
    "teardrop": Silhouette(0, 1.3, 0.55), "bell": Silhouette(0, 1.1, 0.4), "domed": Silhouette(0, 0.75, 0.45),
    "egg": Silhouette(0, 1.25, 0.2), "square": Silhouette(4), "cube": Silhouette(4, 1.0, 0.12),
    "boxy": Silhouette(4, 0.9), "rectangular": Silhouette(4, 0.6), "landscape": Silhouette(4, 0.7),
    "portrait": Silhouette(4, 1.45), "tall": Silhouette(4, 1.7), "wide": Silhouette(4, 0.5),
    "slim": Silhouette(4, 1.9), "cylindrical": Silhouette(8, 1.4), "tapered": Silhouette(4, 1.3, 0.45),
    "trapezoid": Silhouette(4, 0.7, 0.5), "flared": Silhouette(4, 1.0, -0.45), "conical": Silhouette(3, 1.1, 0.0),
    "triangle": Silhouette(3), "delta": Silhouette(3, 0.7), "pentagon": Silhouette(5), "hexagon": Silhouette(6),
    "hexagonal": Silhouette(6), "octagon": Silhouette(8), "diamond": Silhouette(4, 1.4, 0.0, 0.999),
    "star": Silhouette(10, 1.0, 0.0, 0.45),
}


def _stable_int(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()[:8], "big")


def _words(value: str) -> list[str]:
    return value.lower().replace("-", " ").replace("_", " ").split()


def resolve_color(name: str) -> tuple[int, int, int]:
    """The RGB of a color name; unknown names get a stable color of their own."""
    key = " ".join(_words(name))
    words = _words(name)
    for candidate in (key, " ".join(words[-2:]), *reversed(words)):  # "light sky blue" → sky blue
        candidate = COLOR_ALIASES.get(candidate, candidate)
        if candidate in COLORS:
            return COLORS[candidate]
    if not key:
        return COLORS["gray"]
    h = _stable_int("color", key)
    return (40 + h % 180, 40 + (h >> 8) % 180, 40 + (h >> 16) % 180)


def resolve_shape(shape: str, kind: str) -> Silhouette:
    """The outline for a shape word; with no shape, one chosen per product type."""
    key = " ".join(_words(shape or kind))
    if key in SHAPES:
        return SHAPES[key]
    for word in reversed(key.split()):  # "round-braided" → round
        if word in SHAPES:
            return SHAPES[word]
    h = _stable_int("shape", key)
    sides = (0, 3, 4, 5, 6, 8)[h % 6]
    star = sides >= 5 and (h >> 32) % 4 == 0
    return Silhouette(
        sides=2 * sides if star else sides,
        aspect=round(0.55 * (3.2 ** ((h >> 8) % 1000 / 999)), 3),  # 0.55 … 1.76, log-uniform
        taper=round(((h >> 20) % 1000 / 999 - 0.5) * 0.9, 3),
        pinch=0.55 if star else 1.0,
    )


def resolve_pattern(pattern: str) -> str:
    key = " ".join(_words(pattern))
    key = PATTERN_ALIASES.get(key, key)
    if not key:
        return "solid"
    return key if key in PATTERNS else PATTERNS[_stable_int("pattern", key) % len(PATTERNS)]


def resolve_texture(material: str | None) -> str | None:
    if not material:
        return None
    for word in reversed(_words(material)):
        if word in MATERIAL_WORDS:
            return MATERIAL_WORDS[word]
    return TEXTURES[_stable_int("material", material.lower()) % len(TEXTURES)]


def render_product(visual: Mapping[str, object], material: str | None = None, kind: str = "") -> Image.Image:
    """Draw a 224×224 RGB picture of a product.

    ``visual`` may hold ``color``, ``pattern`` and ``shape``; ``kind`` (product type or category)
    picks the outline when there is no shape; ``material`` adds a surface texture.
    """
    rng = np.random.default_rng(_stable_int("render", sorted(visual.items()), material, kind))
    fill = np.asarray(resolve_color(str(visual.get("color") or "")), dtype=np.float32)
    surface = np.broadcast_to(fill, (SIZE, SIZE, 3)).copy()
    surface = _apply_pattern(surface, resolve_pattern(str(visual.get("pattern") or "")), fill, rng)
    texture = resolve_texture(material)
    if texture:
        surface = _apply_texture(surface, texture, rng)

    mask = _silhouette(resolve_shape(str(visual.get("shape") or ""), kind), rng)
    canvas = np.broadcast_to(np.asarray(BACKGROUND, np.float32), (SIZE, SIZE, 3)).copy()
    alpha = np.asarray(mask, dtype=np.float32)[..., None] / 255.0
    canvas = canvas * (1 - alpha) + surface * alpha
    image = Image.fromarray(np.clip(canvas, 0, 255).astype(np.uint8), "RGB")
    outline = mask.filter(ImageFilter.FIND_EDGES).point(lambda v: 255 if v > 60 else 0)
    image.paste((40, 40, 40), mask=outline)
    return image


def save_png(image: Image.Image, folder: Path) -> Path:
    """Write ``image`` under a name made of its content hash, so the name says nothing about it."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    data = buffer.getvalue()
    path = folder / f"{hashlib.sha256(data).hexdigest()[:20]}.png"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return path


# --- drawing helpers -----------------------------------------------------------------------------


def _silhouette(shape: Silhouette, rng: np.random.Generator) -> Image.Image:
    """An anti-aliased mask of the outline, slightly moved, scaled and turned (like real photos)."""
    scale = 4  # draw large, then downsample: smooth edges
    big = SIZE * scale
    steps = 96 if shape.sides == 0 else shape.sides
    # Polygons stand on a flat side, stars point up, a "diamond" (pinch just under 1) stands on a corner.
    start = -math.pi / 2 if shape.pinch < 0.99 else math.pi / 2 + (math.pi / steps if shape.pinch == 1.0 else 0.0)
    angles = start + 2 * math.pi * np.arange(steps) / steps + rng.uniform(-0.12, 0.12)
    radii = np.where(np.arange(steps) % 2 == 1, shape.pinch, 1.0) if shape.pinch < 0.99 else np.ones(steps)
    x, y = radii * np.cos(angles), radii * np.sin(angles)
    y = y * shape.aspect
    x = x * (1 - shape.taper * (-y / max(shape.aspect, 1e-6)))  # y < 0 is the top: narrower when taper > 0
    extent = max(np.abs(x).max(), np.abs(y).max())
    radius = rng.uniform(0.37, 0.43) * big / extent
    cx, cy = (big / 2 + rng.uniform(-8, 8) * scale for _ in range(2))
    mask = Image.new("L", (big, big), 0)
    ImageDraw.Draw(mask).polygon([(cx + radius * a, cy + radius * b) for a, b in zip(x, y)], fill=255)
    return mask.resize((SIZE, SIZE), Image.Resampling.LANCZOS)


def _shade(fill: np.ndarray) -> np.ndarray:
    """A tone of the same hue that stands out: darker on light colors, lighter on dark ones."""
    return fill * 0.45 if fill.mean() > 110 else fill + (255 - fill) * 0.55


def _apply_pattern(surface: np.ndarray, pattern: str, fill: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if pattern == "solid":
        return surface
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    period = rng.uniform(15, 20)
    yy, xx = yy + rng.uniform(0, period), xx + rng.uniform(0, period)
    cy, cx = yy % period - period / 2, xx % period - period / 2  # position within a tile
    if pattern == "stripes":
        on = (yy % period) < period * 0.45
    elif pattern == "dots":
        on = cy * cy + cx * cx < (period * 0.28) ** 2
    elif pattern == "checks":
        on = ((yy // period + xx // period) % 2) == 0
    elif pattern == "zigzag":
        tooth = np.abs((xx % period) - period / 2)
        on = np.abs(((yy - tooth) % period) - period / 2) < period * 0.18
    elif pattern == "grid":
        on = (yy % period < 3) | (xx % period < 3)
    elif pattern == "floral":  # five petals around a center in every tile
        petal = period * 0.17
        on = cy * cy + cx * cx < (petal * 0.8) ** 2
        for k in range(5):
            a = 2 * math.pi * k / 5
            py, px = cy - 1.9 * petal * math.sin(a), cx - 1.9 * petal * math.cos(a)
            on |= py * py + px * px < petal**2
    elif pattern == "geometric":  # every tile split into two triangles
        on = (xx % period) > (yy % period)
    elif pattern == "herringbone":  # short slanted bars, direction alternating per column
        column = (xx // (period / 2)) % 2 == 0
        slant = np.where(column, xx + yy, xx - yy)
        on = (slant % (period / 2)) < period * 0.16
    else:  # speckled: scattered flecks
        on = np.asarray(
            Image.fromarray((rng.random((SIZE, SIZE)) < 0.035).astype(np.uint8) * 255).filter(ImageFilter.MaxFilter(3))
        ) > 0
    surface[on] = _shade(fill)
    return surface


def _smooth_noise(rng: np.random.Generator, cell: int) -> np.ndarray:
    """Value noise in [-1, 1]: random values on a coarse grid, smoothly resized up."""
    cells = max(2, SIZE // cell)
    coarse = rng.uniform(0, 255, (cells, cells)).astype(np.uint8)
    up = Image.fromarray(coarse, "L").resize((SIZE, SIZE), Image.Resampling.BICUBIC)
    return np.asarray(up, dtype=np.float32) / 127.5 - 1.0


def _apply_texture(surface: np.ndarray, texture: str, rng: np.random.Generator) -> np.ndarray:
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    if texture in ("plastic", "glass"):
        glow = np.exp(-(((xx - 80) / 34) ** 2 + ((yy - 70) / 22) ** 2))[..., None]
        if texture == "glass":
            surface = surface * 0.7 + 255 * 0.3
        return surface * (1 - 0.8 * glow) + 255 * 0.8 * glow
    if texture == "cotton":
        light, amount = rng.normal(0, 1, (SIZE, SIZE)).clip(-2, 2) / 2, 0.08
    elif texture == "wool":
        light, amount = _smooth_noise(rng, 6) + rng.normal(0, 0.3, (SIZE, SIZE)), 0.18
    elif texture == "leather":
        light, amount = _smooth_noise(rng, 12) * 0.7 + _smooth_noise(rng, 3) * 0.3, 0.2
    elif texture == "denim":
        light, amount = np.sin((xx + yy) * 1.6) * 0.7 + rng.normal(0, 0.3, (SIZE, SIZE)), 0.14
    elif texture == "wood":
        warp = _smooth_noise(rng, 40) * 12
        light, amount = np.sin((yy + warp) * 0.5), 0.22
    else:  # metal: brushed streaks and a vertical sheen
        streaks = np.repeat(rng.normal(0, 1, (SIZE, 1)), SIZE, axis=1)
        light, amount = 0.5 * streaks.clip(-2, 2) / 2 + np.cos(xx / SIZE * 2 * math.pi), 0.25
    return surface * (1 + amount * light.astype(np.float32)[..., None])
