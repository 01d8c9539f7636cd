"""FastAPI application factory: one place that wires settings, runtime and routers together."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_fastapi_instrumentator import Instrumentator

from shopagent import __version__
from shopagent.agent.agents import CLIENT_ERRORS
from shopagent.agent.api.routes import chatwoot, conversations, health, openai_compat, voice, widget
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
        description="Start a conversation, post shopper messages (text or voice) and get replies with "
        "product cards and the actions taken. Every reply says what the agent awaits next (`awaiting`). "
        "Errors are JSON `{error, reason}` with a 4xx status.",
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    for router in (health.router, conversations.router, voice.router, openai_compat.router, chatwoot.router, widget.router):
        app.include_router(router)

    async def client_error(_: Request, exc: Exception) -> Response:
        status = getattr(exc, "http_status", 400)
        if not 400 <= status < 500:  # a server fault inside a speech/store call: not the caller's
            raise exc
        return JSONResponse({"error": getattr(exc, "code", "bad_request"), "reason": str(exc)}, status_code=status)

    for error in CLIENT_ERRORS:
        app.add_exception_handler(error, client_error)

    @app.middleware("http")
    async def limit_body(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > settings.max_upload_bytes:
            return JSONResponse(
                {"error": "too_large", "reason": f"the request body is larger than {settings.max_upload_bytes} bytes"},
                status_code=413,
            )
        return await call_next(request)

    Instrumentator(excluded_handlers=["/metrics", "/health", "/ready"]).instrument(app).expose(
        app, include_in_schema=False
    )
    return app
