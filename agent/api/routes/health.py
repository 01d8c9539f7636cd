"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status
from pydantic import BaseModel

from shopagent import __version__
from shopagent.agent.api.deps import get_runtime
from shopagent.agent.runtime import Runtime

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    version: str


class StepReport(BaseModel):
    name: str
    state: str
    seconds: float | None = None
    error: str | None = None


class Readiness(BaseModel):
    ready: bool
    steps: list[StepReport]


@router.get("/health", response_model=Health, summary="Liveness: the process answers.")
def health() -> Health:
    return Health(status="ok", version=__version__)


@router.get(
    "/ready",
    response_model=Readiness,
    summary="Readiness: models and index are loaded.",
    responses={503: {"model": Readiness, "description": "Still loading, or a step failed."}},
)
def ready(response: Response, runtime: Annotated[Runtime, Depends(get_runtime)]) -> Readiness:
    report = Readiness(
        ready=runtime.ready,
        steps=[StepReport(name=s.name, state=s.state, seconds=s.seconds, error=s.error) for s in runtime.steps],
    )
    if not report.ready:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return report
