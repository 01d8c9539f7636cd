"""`shopagent doctor`: what is installed and configured, so an operator can see why something fails."""

from __future__ import annotations

from importlib import metadata
from typing import Any

from sqlalchemy.engine import make_url

from shopagent.agent.prepare import required_models
from shopagent.registry import MODELS, model_status
from shopagent.settings import Settings

PACKAGES = (
    "torch", "transformers", "openai-whisper", "faster-whisper", "ctranslate2", "chromadb",
    "langchain-core", "langchain-openai", "llama-cpp-python", "fastapi", "sqlalchemy", "alembic",
    "av", "scikit-learn", "piper-tts",
)


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def collect(settings: Settings) -> dict[str, dict[str, Any]]:
    """Everything doctor prints, as plain data (also used by `--json`)."""
    needed = set(required_models(settings))
    models = {}
    for name, spec in MODELS.items():
        ok, detail = model_status(name, settings)
        usage = "used" if name in needed else "optional"
        models[name] = f"{'ok' if ok else 'MISSING'} ({usage}; {', '.join(spec.distributions)}; {spec.license}) {detail}"
    return {
        "settings": {
            "data_dir": settings.data_dir,
            "store": make_url(settings.database_url).render_as_string(hide_password=True),
            "chroma": settings.chroma_url or settings.chroma_dir,
            "llm": settings.llm if settings.llm != "openai" else f"openai ({settings.llm_url})",
            "asr": f"{settings.asr_model} via {settings.asr_backend}",
        },
        "threads": {
            "torch": settings.threads_torch,
            "asr (ctranslate2/whisper)": settings.threads_asr,
            "llm (llama.cpp)": settings.threads_llm,
        },
        "models": models,
        "packages": {dist: _version(dist) for dist in PACKAGES},
    }
