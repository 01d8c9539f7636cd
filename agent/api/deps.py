"""FastAPI dependencies: the runtime and its components, injected into routes (HTTP and WebSocket)."""

from __future__ import annotations

from fastapi import HTTPException, status
from starlette.requests import HTTPConnection, Request

from shopagent.agent.agents import ShopAgent
from shopagent.agent.runtime import Runtime


def get_runtime(conn: HTTPConnection) -> Runtime:
    return conn.app.state.runtime


def get_agent(conn: HTTPConnection) -> ShopAgent:
    """The agent, once warm-up has loaded it; 503 until then."""
    agent = get_runtime(conn).components.get("agent")
    if agent is None:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, "the agent is still loading; see /ready", headers={"Retry-After": "5"}
        )
    return agent


def json_body(request: Request) -> None:
    """415 for a body sent as another media type: clearer than the validation error FastAPI would give."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media and media != "application/json" and not media.endswith("+json"):
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, f"send the body as application/json, not {media}")
