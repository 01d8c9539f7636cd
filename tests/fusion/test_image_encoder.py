"""EfficientNet-Lite0: real ImageNet weights, and defensive decoding of untrusted images."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from shopagent.fusion.image import (
    DIMENSIONS,
    ImageEncoder,
    ImageTooLarge,
    UndecodableImage,
    open_image,
    preprocess,
)

ESPRESSO, CUP = 967, 968
CATS = {281, 282, 283, 284, 285}  # tabby, tiger cat, Persian, Siamese, Egyptian cat


def _png_header(width: int, height: int) -> bytes:
    """A PNG that only claims a size: a few bytes that would decode into a huge picture."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0")) + chunk(b"IEND", b"")


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.slow
def test_real_weights_classify_skimage_photos(image_encoder: ImageEncoder) -> None:
    from skimage import data

    logits = image_encoder.logits([Image.fromarray(data.coffee()), Image.fromarray(data.chelsea())])
    assert int(logits[0].argmax()) in {ESPRESSO, CUP}
    assert int(logits[1].argmax()) in CATS


@pytest.mark.slow
def test_features_are_pooled_1280_and_deterministic(image_encoder: ImageEncoder) -> None:
    from skimage import data

    photo = Image.fromarray(data.astronaut())
    first = image_encoder.encode([photo, _png(photo)])
    assert first.shape == (2, DIMENSIONS) and first.dtype == np.float32
    np.testing.assert_allclose(first[0], first[1], atol=1e-5)  # a PIL image and its PNG bytes agree
    np.testing.assert_array_equal(first, image_encoder.encode([photo, _png(photo)]))


def test_preprocess_keeps_aspect_and_scales_pixels() -> None:
    wide = Image.new("RGB", (400, 100), (0, 0, 0))
    tensor = preprocess(wide)
    assert tuple(tensor.shape) == (3, 224, 224)
    assert float(tensor[0, 0, 0]) == pytest.approx((255 - 127) / 128)  # white padding above
    assert float(tensor[0, 112, 112]) == pytest.approx(-127 / 128)  # the black picture in the middle


def test_transparent_areas_become_white() -> None:
    clear = Image.new("RGBA", (10, 10), (255, 0, 0, 0))
    assert open_image(_png(clear), 1_000).getpixel((5, 5)) == (255, 255, 255)


@pytest.mark.parametrize(
    "data",
    [b"", b"not an image at all", _png(Image.new("RGB", (64, 64), "red"))[:60]],
    ids=["empty", "text", "truncated"],
)
def test_undecodable_images_are_refused(data: bytes) -> None:
    with pytest.raises(UndecodableImage):
        open_image(data, 40_000_000)


def test_missing_file_is_refused(tmp_path) -> None:
    with pytest.raises(UndecodableImage, match="cannot read"):
        open_image(tmp_path / "nope.png", 40_000_000)


def test_more_pixels_than_the_setting_are_refused_before_decoding() -> None:
    with pytest.raises(ImageTooLarge, match="limit is 1,000 pixels"):
        open_image(_png(Image.new("RGB", (40, 40))), 1_000)
    with pytest.raises(ImageTooLarge):
        open_image(_png_header(10_000, 10_000), 40_000_000)  # 100 M pixels claimed by ~60 bytes


def test_pillow_decompression_bomb_limit_is_an_error() -> None:
    # With a generous setting, Pillow's own limit (2 × Image.MAX_IMAGE_PIXELS) still refuses it.
    side = int((2 * Image.MAX_IMAGE_PIXELS) ** 0.5) + 10
    with pytest.raises(ImageTooLarge, match="decompression bomb"):
        open_image(_png_header(side, side), 10**12)


def test_huge_dimensions_are_refused() -> None:
    with pytest.raises(ImageTooLarge, match="sides over"):
        open_image(_png_header(1_000_000, 1), 10**12)


@pytest.mark.slow
def test_encoder_reports_bad_input_with_a_typed_error(image_encoder: ImageEncoder) -> None:
    with pytest.raises(UndecodableImage):
        image_encoder.encode([b"garbage"])
