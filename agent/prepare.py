"""Warm-up steps shared by `shopagent prepare` (foreground, with progress) and the service (background).

One list of steps, so what `prepare` does ahead of time is exactly what `serve` would otherwise do
on its first start.
"""

from __future__ import annotations

from functools import partial

from tqdm import tqdm

from shopagent.agent.runtime import Runtime
from shopagent.logs import get_logger
from shopagent.agent.store.demo import prepare_store
from shopagent.registry import resolve_model
from shopagent.settings import Settings

log = get_logger(__name__)


def required_models(settings: Settings) -> list[str]:
    """Registry models the configured stack uses."""
    models = [f"whisper-{settings.asr_model}", "minilm", "efficientnet-lite0"]
    if settings.llm == "local":
        models.append("qwen2.5-0.5b-instruct")
    return models


def register_warmup(runtime: Runtime) -> None:
    """Add every warm-up step the service needs, in order."""
    settings = runtime.settings
    settings.ensure_dirs()
    runtime.add_step("store", partial(prepare_store, settings.database_url))
    for name in required_models(settings):
        runtime.add_step(f"model:{name}", partial(resolve_model, name, settings))
    runtime.add_step("search", partial(_open_search, settings))  # after "store": indexes its catalog
    runtime.add_step("speech:recognizer", partial(_load_recognizer, settings))
    runtime.add_step("speech:voice", partial(_load_voice, settings))
    runtime.add_step("intents", partial(_load_intents, settings))
    runtime.add_step("agent", partial(_build_agent, runtime))  # last: composes the steps above


def _open_search(settings: Settings) -> object:
    """Open the search index and bring it up to date with the store (photos: `shopagent index`).

    A Chroma server may be down now or later: the service then answers everything but searches, and
    reconnects by itself (:mod:`shopagent.agent.availability`)."""
    from shopagent.agent.search import warm_searcher  # imports chromadb and the encoders

    if settings.chroma_url:
        from shopagent.agent.availability import GuardedSearcher

        return GuardedSearcher(partial(warm_searcher, settings))
    return warm_searcher(settings)


def _load_recognizer(settings: Settings) -> object:
    """Load (and on first run convert, logging each stage) the configured Whisper model."""
    from shopagent.speech.transcribe import load_recognizer  # imports torch / CTranslate2

    return load_recognizer(settings)


def _load_voice(settings: Settings) -> object | None:
    """Spoken replies when the optional Piper extra is installed; text-only replies otherwise."""
    from shopagent.speech.errors import TTSUnavailable
    from shopagent.speech.tts import PiperVoice

    try:
        return PiperVoice(settings)
    except TTSUnavailable as exc:
        log.info("spoken_replies_off", reason=str(exc))
        return None


def _load_intents(settings: Settings) -> object:
    from shopagent.agent.intents import IntentClassifier

    return IntentClassifier.load_or_train(settings)


def _build_agent(runtime: Runtime) -> object:
    from shopagent.agent.build import build_agent

    parts = runtime.components
    return build_agent(
        runtime.settings,
        shop=parts["store"],
        intents=parts["intents"],
        searcher=parts.get("search"),
        recognizer=parts.get("speech:recognizer"),
    )


def run_preparation(settings: Settings) -> Runtime:
    """Run all warm-up steps now, showing progress; raise if any fails."""
    runtime = Runtime(settings)
    register_warmup(runtime)
    runtime.warm_up(progress=lambda steps: tqdm(steps, desc="preparing", unit="step"))
    failed = [f"{s.name}: {s.error}" for s in runtime.steps if s.state == "failed"]
    if failed:
        raise SystemExit("preparation failed:\n  " + "\n  ".join(failed))
    return runtime
