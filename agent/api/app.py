"""FastAPI application factory: one place that wires settings, runtime and routers together."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from shopagent import __version__
from shopagent.agent.api.routes import health
from shopagent.agent.prepare import register_warmup
from shopagent.agent.runtime import Runtime
from shopagent.settings import Settings, get_settings


def create_app(settings: Settings | None = None, *, warm_up: bool = True) -> FastAPI:
    """Build the service. ``warm_up=False`` skips background loading (tests drive it themselves)."""
    settings = settings or get_settings()
    runtime = Runtime(settings)
    register_warmup(runtime)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if warm_up:
            runtime.start_background_warm_up()
        yield

    app = FastAPI(
        title="shopagent",
        version=__version__,
        summary="Customer-service agent for online shops: chat, voice and platform API.",
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.include_router(health.router)
    return app
