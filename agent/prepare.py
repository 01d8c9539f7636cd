"""Warm-up steps shared by `shopagent prepare` (foreground, with progress) and the service (background).

One list of steps, so what `prepare` does ahead of time is exactly what `serve` would otherwise do
on its first start.
"""

from __future__ import annotations

from functools import partial

from tqdm import tqdm

from shopagent.agent.runtime import Runtime
from shopagent.registry import resolve_model
from shopagent.settings import Settings


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
    for name in required_models(settings):
        runtime.add_step(f"model:{name}", partial(resolve_model, name, settings))


def run_preparation(settings: Settings) -> Runtime:
    """Run all warm-up steps now, showing progress; raise if any fails."""
    runtime = Runtime(settings)
    register_warmup(runtime)
    runtime.warm_up(progress=lambda steps: tqdm(steps, desc="preparing", unit="step"))
    failed = [f"{s.name}: {s.error}" for s in runtime.steps if s.state == "failed"]
    if failed:
        raise SystemExit("preparation failed:\n  " + "\n  ".join(failed))
    return runtime
