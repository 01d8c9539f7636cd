from pathlib import Path

import pytest
from pydantic import ValidationError

from shopagent.settings import Settings


def test_env_prefix_and_derived_paths(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SHOPAGENT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SHOPAGENT_THREADS_ASR", "1")
    monkeypatch.setenv("SHOPAGENT_MODEL_PATHS", '{"minilm": "/models/minilm"}')
    settings = Settings()
    assert settings.data_dir == tmp_path
    assert settings.database_url == f"sqlite:///{tmp_path / 'shop.db'}"
    assert settings.chroma_dir == tmp_path / "chroma"
    assert settings.threads_asr == 1
    assert settings.model_paths == {"minilm": Path("/models/minilm")}


def test_zero_threads_means_the_default_share() -> None:
    import os

    cores = os.cpu_count() or 1
    settings = Settings(threads_torch=0, threads_asr=0, threads_llm=3)
    assert settings.threads_torch == max(1, cores // 2)
    assert settings.threads_asr == cores
    assert settings.threads_llm == 3


def test_settings_file_is_read_and_env_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "shop.toml"
    config.write_text('llm = "none"\nport = 9001\nstore_url = "postgresql+psycopg://u@h/db"\n')
    monkeypatch.setenv("SHOPAGENT_CONFIG", str(config))
    monkeypatch.setenv("SHOPAGENT_PORT", "9002")
    settings = Settings()
    assert settings.llm == "none"
    assert settings.port == 9002
    assert settings.database_url == "postgresql+psycopg://u@h/db"


@pytest.mark.parametrize("field,value", [("llm", "gpt"), ("port", 0), ("asr_model", "large")])
def test_invalid_values_are_rejected(field: str, value: object) -> None:
    with pytest.raises(ValidationError):
        Settings(**{field: value})


def test_hub_access_is_off_by_default() -> None:
    import os

    import shopagent  # noqa: F401  (import sets the defaults)

    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert os.environ["TRANSFORMERS_OFFLINE"] == "1"
