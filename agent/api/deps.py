"""FastAPI dependencies: the runtime and its components, injected into routes."""

from __future__ import annotations

from fastapi import HTTPException, Request, status

from shopagent.agent.agents import ShopAgent
from shopagent.agent.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


def get_agent(request: Request) -> ShopAgent:
    """The agent, once warm-up has loaded it; 503 until then."""
    agent = get_runtime(request).components.get("agent")
    if agent is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the agent is still loading; see /ready")
    return agent
