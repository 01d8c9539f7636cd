"""Who may call the API, how often and how much, and which shopper a conversation serves.

Callers (README "Access"):

- a platform with a secret API key (``Authorization: Bearer`` or ``X-API-Key``): every API route;
- the chat widget with a publishable key (``X-Shopagent-Key``). Anyone can read that key in the page
  source, so it only counts from an allowlisted ``Origin`` (or the service's own pages), is limited per
  IP, and opens the conversation routes only;
- with no keys configured at all, loopback clients (a shop trying ``make run`` on its own machine).
  A request relayed by a proxy (``Forwarded`` / ``X-Forwarded-For``) never counts as loopback.

Separately, the shop's page may vouch for its logged-in shopper with an HS256 JWT (``X-Shopper-Token``,
claims ``sub`` = user id or email and ``exp``) signed with the shop's secret: the conversation is then
authenticated as that user without asking for email or zip. Identity never comes from message text.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import time
from typing import Annotated, Literal

import jwt
from fastapi import Depends, Header, HTTPException, status
from fastapi.security import APIKeyHeader, HTTPBearer
from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from starlette.datastructures import Headers
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket

from shopagent.agent.api.deps import get_agent
from shopagent.agent.store.errors import NotFound
from shopagent.agent.store.shop import ShopSession
from shopagent.logs import get_logger
from shopagent.settings import Settings

log = get_logger(__name__)
Caller = Literal["platform", "widget", "loopback"]
MIN_SECRET_BYTES = 32  # RFC 7518 §3.2: an HS256 key at least as long as the hash
_PROXY_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")


class _Bearer(HTTPBearer):
    """fastapi's bearer scheme (declared in OpenAPI), readable on WebSocket routes too."""

    async def __call__(self, conn: HTTPConnection) -> str | None:  # type: ignore[override]
        scheme, _, credentials = conn.headers.get("authorization", "").partition(" ")
        return (credentials.strip() or None) if scheme.lower() == "bearer" else None


class _KeyHeader(APIKeyHeader):
    """fastapi's API-key header scheme (declared in OpenAPI), readable on WebSocket routes too."""

    async def __call__(self, conn: HTTPConnection) -> str | None:  # type: ignore[override]
        return conn.headers.get(self.model.name) or None


bearer = _Bearer(auto_error=False, scheme_name="Bearer", description="A secret platform API key.")
api_key = _KeyHeader(name="X-API-Key", auto_error=False, scheme_name="ApiKey",
                     description="A secret platform API key (instead of Authorization: Bearer).")
publishable_key = _KeyHeader(
    name="X-Shopagent-Key", auto_error=False, scheme_name="PublishableKey",
    description="The chat widget's publishable key; accepted only from an allowlisted Origin, limited per IP.",
)


class Access:
    """The access rules of one service, built from its settings."""

    def __init__(self, settings: Settings) -> None:
        self.secret_keys = frozenset(_key_digest(entry) for entry in settings.api_keys)
        self.widget_keys = frozenset(_key_digest(entry) for entry in settings.widget_keys)
        staff = settings.staff_api_key.get_secret_value() if settings.staff_api_key else ""
        self.staff_key = _key_digest(staff) if staff else None  # None: the staff endpoints are off
        self.origins = frozenset(origin.rstrip("/").lower() for origin in settings.widget_origins)
        self.loopback_only = not (self.secret_keys or self.widget_keys)
        self.widget_limits: list[RateLimitItem] = parse_many(settings.widget_rate_limit)
        self.limiter = MovingWindowRateLimiter(storage_from_string(settings.rate_limit_storage))
        secret = settings.shopper_token_secret.get_secret_value() if settings.shopper_token_secret else None
        if secret is not None and len(secret.encode()) < MIN_SECRET_BYTES:
            raise ValueError(f"shopper_token_secret must be at least {MIN_SECRET_BYTES} bytes")
        self.shopper_secret = secret
        if self.loopback_only:
            log.warning("no_api_keys", detail="no API or widget keys configured: the API answers loopback clients only")

    def identify(self, conn: HTTPConnection, key: str | None) -> Caller:
        """The kind of caller, or 401/403/429 with the reason."""
        if key:
            digest = _digest(key)
            if digest in self.secret_keys:
                return "platform"
            if digest in self.widget_keys:
                self._check_origin(conn)
                self._limit(conn)
                return "widget"
            raise _unauthorized("the API key is not valid")
        if self.loopback_only:
            if _is_loopback(conn):
                return "loopback"
            raise _unauthorized("this server has no API keys configured, so it answers loopback clients only; "
                                "set SHOPAGENT_API_KEYS (README, Access)")
        raise _unauthorized("send an API key (Authorization: Bearer <key> or X-API-Key; the widget: X-Shopagent-Key)")

    def is_staff(self, key: str) -> bool:
        """The staff key, compared by digest in constant time (no timing hint of how much matched)."""
        return self.staff_key is not None and hmac.compare_digest(_digest(key), self.staff_key)

    def shopper(self, token: str) -> str:
        """The verified ``sub`` of a shopper token, or 401."""
        if self.shopper_secret is None:
            raise _unauthorized("this server takes no shopper tokens (SHOPAGENT_SHOPPER_TOKEN_SECRET is not set)")
        try:
            claims = jwt.decode(token, self.shopper_secret, algorithms=["HS256"], options={"require": ["exp", "sub"]})
        except jwt.ExpiredSignatureError:
            raise _unauthorized("the shopper token has expired") from None
        except jwt.InvalidTokenError as exc:
            raise _unauthorized(f"the shopper token is not valid: {exc}") from None
        return claims["sub"]

    def _check_origin(self, conn: HTTPConnection) -> None:
        origin = conn.headers.get("origin", "").rstrip("/").lower()
        own = f"{conn.url.scheme.replace('ws', 'http')}://{conn.url.netloc}".lower()
        if not origin:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "a publishable key is accepted only with an Origin header")
        if origin not in self.origins and origin != own:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"the origin {origin} is not allowed to use this key")

    def _limit(self, conn: HTTPConnection) -> None:
        ip = conn.client.host if conn.client else "unknown"
        for item in self.widget_limits:
            if not self.limiter.hit(item, "widget", ip):
                reset = self.limiter.get_window_stats(item, "widget", ip).reset_time
                raise HTTPException(
                    status.HTTP_429_TOO_MANY_REQUESTS,
                    f"too many requests from this address (limit {item}); retry later",
                    headers={"Retry-After": str(max(1, math.ceil(reset - time.time())))},
                )


class BodyLimit:
    """ASGI middleware: 413 for a body over ``limit`` bytes, declared (Content-Length) or streamed (chunked),
    raised when a route reads it, so it never sits in memory."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = Headers(scope=scope).get("content-length", "")
        received = int(declared) if declared.isdigit() and int(declared) > self.limit else 0

        async def counted() -> Message:
            nonlocal received
            if received <= self.limit:
                message = await receive()
                received += len(message.get("body", b""))
                if received <= self.limit:
                    return message
            raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE,
                                f"the request body is larger than {self.limit} bytes")

        await self.app(scope, counted, send)


def get_access(conn: HTTPConnection) -> Access:
    return conn.app.state.access


def caller(
    conn: HTTPConnection,
    access: Annotated[Access, Depends(get_access)],
    bearer_key: Annotated[str | None, Depends(bearer)],
    header_key: Annotated[str | None, Depends(api_key)],
    widget_key: Annotated[str | None, Depends(publishable_key)],
) -> Caller:
    """Any allowed caller: platform, widget or (keyless servers) loopback."""
    # Browsers cannot set headers on a WebSocket: the widget's live voice sends its key in the query.
    query_key = conn.query_params.get("key") if isinstance(conn, WebSocket) else None
    return access.identify(conn, bearer_key or header_key or widget_key or query_key)


def platform_caller(
    conn: HTTPConnection,
    access: Annotated[Access, Depends(get_access)],
    bearer_key: Annotated[str | None, Depends(bearer)],
    header_key: Annotated[str | None, Depends(api_key)],
) -> Caller:
    """A platform (or loopback) caller: the publishable key does not open platform-only routes."""
    who = access.identify(conn, bearer_key or header_key or conn.headers.get(publishable_key.model.name))
    if who == "widget":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the publishable key opens the conversation routes only")
    return who


def shopper_subject(
    access: Annotated[Access, Depends(get_access)],
    token: Annotated[str | None, Header(
        alias="X-Shopper-Token",
        description="Optional HS256 JWT from the shop's page (claims `sub` = user id or email, `exp`), signed "
        "with the shop's secret: the conversation is authenticated as that shopper.",
    )] = None,
) -> str | None:
    return access.shopper(token) if token else None


def bind_shopper(session: ShopSession, subject: str | None) -> None:
    """Authenticate the conversation as the token's shopper; another shopper than the one it serves is 403."""
    if subject is None:
        return
    try:
        session.authenticate_signed(subject)
    except NotFound:
        raise _unauthorized("the shopper token names no customer of this shop") from None


def conversation_shopper(
    conn: HTTPConnection, subject: Annotated[str | None, Depends(shopper_subject)]
) -> None:
    """On routes naming a conversation: bind it to the signed shopper, if a token came."""
    conversation_id = conn.path_params.get("conversation_id")
    if subject is not None and conversation_id is not None:
        bind_shopper(get_agent(conn).shop.existing_session(conversation_id, actor="shopper-token"), subject)


# The guards of every route that names a conversation (REST, SSE, voice, photo): any caller, and the
# signed shopper bound to the conversation when a token came.
CONVERSATION_GUARDS = [Depends(caller), Depends(conversation_shopper)]


def _unauthorized(reason: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, reason, headers={"WWW-Authenticate": "Bearer"})


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _key_digest(entry: str) -> str:
    """A configured key as its digest: ``sha256:<hex>`` entries already are one."""
    if not entry.startswith("sha256:"):
        return _digest(entry)
    digest = entry.removeprefix("sha256:").lower()
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise ValueError("a `sha256:` key entry must be followed by 64 hex digits")
    return digest


def _is_loopback(conn: HTTPConnection) -> bool:
    if any(name in conn.headers for name in _PROXY_HEADERS) or conn.client is None:
        return False
    try:
        return ipaddress.ip_address(conn.client.host).is_loopback
    except ValueError:
        return False
