"""FastAPI dependencies: the runtime and its components, injected into routes."""

from __future__ import annotations

from fastapi import Request

from shopagent.agent.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime
