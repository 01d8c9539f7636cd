"""FastAPI application factory: one place that wires settings, runtime and routers together."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http import HTTPStatus

from fastapi import Depends, FastAPI, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from prometheus_fastapi_instrumentator import Instrumentator
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from shopagent import __version__
from shopagent.agent.agents import CLIENT_ERRORS
from shopagent.agent.api.routes import chatwoot, conversations, health, openai_compat, privacy, voice, widget
from shopagent.agent.api.security import Access, BodyLimit, platform_caller
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
        "Errors are JSON `{error, reason}` with a 4xx status (503 while loading).\n\n"
        "**Access.** Platforms send a secret API key (`Authorization: Bearer <key>` or `X-API-Key`); the chat "
        "widget sends its publishable key (`X-Shopagent-Key`) from an allowlisted origin, limited per IP. "
        "A server with no keys configured answers loopback clients only. The shop's page may add "
        "`X-Shopper-Token`, an HS256 JWT (`sub` = customer id or email, `exp`) signed with the shop's secret, "
        "to authenticate the shopper without asking for email or zip code.",
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.state.access = Access(settings)
    for router in (health.router, conversations.router, voice.router, openai_compat.router, chatwoot.router, widget.router,
                   privacy.router):
        app.include_router(router)

    async def client_error(_: Request, exc: Exception) -> Response:
        status = getattr(exc, "http_status", 400)
        if not 400 <= status < 500:  # a server fault inside a speech/store call: not the caller's
            raise exc
        return JSONResponse({"error": getattr(exc, "code", "bad_request"), "reason": str(exc)}, status_code=status)

    for error in CLIENT_ERRORS:
        app.add_exception_handler(error, client_error)

    async def http_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        code = HTTPStatus(exc.status_code).phrase.lower().replace(" ", "_").replace("-", "_")
        return JSONResponse({"error": code, "reason": str(exc.detail)}, exc.status_code, headers=exc.headers)

    async def invalid_request(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = jsonable_encoder(exc.errors())
        reason = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors[:3])
        return JSONResponse({"error": "invalid_request", "reason": reason, "detail": errors}, 422)

    async def store_busy(_: Request, exc: Exception) -> Response:
        if "database is locked" not in str(exc):  # SQLite's writer queue outlasted its busy timeout
            raise exc
        return JSONResponse({"error": "store_busy", "reason": "the store is busy; retry shortly"}, 503,
                            headers={"Retry-After": "1"})

    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(OperationalError, store_busy)
    app.add_exception_handler(RequestValidationError, invalid_request)

    app.add_middleware(BodyLimit, limit=settings.max_upload_bytes)
    Instrumentator(excluded_handlers=["/metrics", "/health", "/ready"]).instrument(app).expose(
        app, include_in_schema=False, dependencies=[Depends(platform_caller)]  # scrapers send a platform key
    )
    if settings.widget_origins:  # outermost, so refusals and preflights carry the CORS headers too
        app.add_middleware(
            CORSMiddleware,
            allow_origins=[origin.rstrip("/") for origin in settings.widget_origins],
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "Idempotency-Key", "X-Shopagent-Key", "X-Shopper-Token"],
            expose_headers=["Retry-After"],
            max_age=600,
        )
    return app
