"""All configuration in one place.

Values come, highest priority first, from keyword arguments, ``SHOPAGENT_*`` environment variables,
a TOML settings file (``SHOPAGENT_CONFIG``, default ``./shopagent.toml`` when present) and the defaults
below. Every default runs offline on embedded services: SQLite and an embedded Chroma under
``data_dir``, and models from installed PyPI wheels (see :mod:`shopagent.registry`).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


def _default_data_dir() -> Path:
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg) / "shopagent"


class Settings(BaseSettings):
    """Runtime settings; see README "Configuration" for the full table."""

    model_config = SettingsConfigDict(
        env_prefix="SHOPAGENT_",
        env_nested_delimiter="__",
        extra="ignore",
        validate_default=True,
    )

    # --- state -----------------------------------------------------------------------------
    data_dir: Path = Field(default_factory=_default_data_dir, description="All local state.")
    store_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the shop database; default SQLite in data_dir. "
        "PostgreSQL: postgresql+psycopg://user:pass@host/db",
    )
    chroma_path: Path | None = Field(default=None, description="Embedded Chroma folder.")
    chroma_url: str | None = Field(
        default=None, description="Chroma server URL (http://host:port); overrides chroma_path."
    )

    # --- models ----------------------------------------------------------------------------
    asr_model: Literal["tiny.en", "base"] = "tiny.en"
    asr_backend: Literal["whisper", "ctranslate2"] = "ctranslate2"
    llm: Literal["local", "openai", "none"] = Field(
        default="local", description="Reply writer: local llama.cpp, an OpenAI-compatible URL, or templates only."
    )
    llm_url: str | None = Field(default=None, description="Base URL of an OpenAI-compatible server.")
    llm_model: str = "qwen2.5-0.5b-instruct"
    llm_api_key: str | None = None
    llm_timeout_s: float = 20.0
    model_paths: dict[str, Path] = Field(
        default_factory=dict,
        description="Override any registry model with a local path, e.g. "
        'SHOPAGENT_MODEL_PATHS=\'{"minilm": "/models/minilm"}\'.',
    )

    # --- CPU budget ------------------------------------------------------------------------
    # torch, CTranslate2 and llama.cpp each default to every core; on a small box running them
    # side by side oversubscribes the CPU. Each gets an explicit share instead.
    # The small encoders (MiniLM, EfficientNet) run one short query at a time: measured 33 ms with one
    # thread versus 0.2–1 s with two on a busy 2-core box, so they default to half the cores.
    # llama.cpp's threads spin at a barrier after every op: on a busy 2-core box one thread wrote the
    # first reply sentence in 1.7 s (p50), two threads in 6.8 s. It defaults to half the cores too.
    threads_torch: int = Field(default=0, ge=0, description="0 = half the cores (at least 1).")
    threads_asr: int = Field(default=0, ge=0, description="0 = all cores.")
    threads_llm: int = Field(default=0, ge=0, description="0 = half the cores (at least 1).")

    # --- service ---------------------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: str = "INFO"
    # glibc gives each busy thread its own heap arena; with ~40 request threads the service's memory kept
    # growing under load. Measured (`shopagent bench load`, 50 conversations, 90 s): RSS slope +135 MiB/min
    # with glibc's default, +76 MiB/min with 2 arenas, at slightly higher throughput. 0 = glibc's default.
    malloc_arenas: int = Field(default=2, ge=0, description="glibc malloc arenas for `serve` (0 = glibc default).")
    # glibc's sliding mmap threshold moves big short-lived blocks (tensors) onto the heap, which then
    # fragments: see `runtime.fix_mmap_threshold` for the measurement.
    malloc_mmap_threshold_kib: int = Field(
        default=128, ge=0, description="glibc mmap threshold for `serve`, KiB (0 = glibc's sliding default)."
    )
    log_json: bool = False

    # --- access ----------------------------------------------------------------------------
    # With no keys at all the API answers loopback clients only (a shop trying it on its own machine);
    # anything reachable from elsewhere needs keys. See README "Access".
    api_keys: list[str] = Field(
        default_factory=list,
        description="Secret keys for the platform API (Authorization: Bearer or X-API-Key); an entry "
        "`sha256:<hex>` is the digest of a key, so the key itself need not be stored.",
    )
    widget_keys: list[str] = Field(
        default_factory=list, description="Publishable keys for the chat widget (X-Shopagent-Key); public by design."
    )
    widget_origins: list[str] = Field(
        default_factory=list, description="Origins (https://shop.example) whose pages may use a publishable key."
    )
    widget_rate_limit: str = Field(
        default="30/minute;300/hour", description="Per-IP limit on widget requests (`limits` notation)."
    )
    rate_limit_storage: str = Field(
        default="memory://",
        description="Where rate-limit counters live (a `limits` storage URI): `memory://` counts per process; "
        "`redis://host:6379` shares one count between several workers (needs the `redis` package).",
    )
    shopper_token_secret: SecretStr | None = Field(
        default=None, description="HS256 secret of signed shopper tokens (X-Shopper-Token); at least 32 bytes."
    )

    # --- integrations ----------------------------------------------------------------------
    chatwoot_url: str | None = Field(default=None, description="Chatwoot base URL for the agent-bot webhook.")
    chatwoot_token: str | None = Field(default=None, description="Chatwoot agent bot access token.")
    chatwoot_webhook_secret: SecretStr | None = Field(
        default=None, description="The agent bot's webhook secret: deliveries must carry its X-Chatwoot-Signature."
    )

    # --- privacy ---------------------------------------------------------------------------
    # Days to keep shoppers' data (0 = keep). Recordings are never stored: they are transcribed in
    # memory and dropped, so only the text of voice turns (transcripts) has a retention.
    retention_transcripts_days: int = Field(default=0, ge=0, description="Delete voice-turn text after N days.")
    retention_conversations_days: int = Field(
        default=0, ge=0, description="Delete conversations idle for N days (messages, state, handoffs)."
    )
    purge_interval_minutes: float = Field(
        default=0, ge=0, description="The service runs the retention purge this often (0 = only `privacy purge`)."
    )
    staff_api_key: SecretStr | None = Field(
        default=None, description="Bearer key of the staff privacy endpoints (export/erase a shopper); unset = off."
    )

    # --- limits ----------------------------------------------------------------------------
    max_message_chars: int = Field(default=4000, ge=1)
    max_upload_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    max_audio_seconds: float = Field(default=60.0, gt=0)
    max_image_pixels: int = Field(default=40_000_000, ge=1)

    @model_validator(mode="after")
    def _fill_derived(self) -> "Settings":
        cores = os.cpu_count() or 1
        defaults = {"threads_torch": max(1, cores // 2), "threads_asr": cores, "threads_llm": max(1, cores // 2)}
        for name, default in defaults.items():
            if getattr(self, name) == 0:
                object.__setattr__(self, name, default)
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        config = os.environ.get("SHOPAGENT_CONFIG", "shopagent.toml")
        toml = TomlConfigSettingsSource(settings_cls, toml_file=config)
        return (init_settings, env_settings, toml, file_secret_settings)

    # --- derived paths ---------------------------------------------------------------------
    @property
    def database_url(self) -> str:
        return self.store_url or f"sqlite:///{self.data_dir / 'shop.db'}"

    @property
    def chroma_dir(self) -> Path:
        return self.chroma_path or self.data_dir / "chroma"

    @property
    def models_dir(self) -> Path:
        """Where converted or joined model files are cached (never downloaded)."""
        return self.data_dir / "models"

    def ensure_dirs(self) -> None:
        for path in (self.data_dir, self.models_dir):
            path.mkdir(parents=True, exist_ok=True)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (tests build their own ``Settings`` instead)."""
    return Settings()
