"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status
from pydantic import BaseModel, Field

from shopagent import __version__
from shopagent.agent.api.deps import get_runtime
from shopagent.agent.runtime import Runtime

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str = Field(examples=["ok"])
    version: str


class StepReport(BaseModel):
    """One start-up step (a model, the index, the store)."""

    name: str
    state: str = Field(description="`pending`, `running`, `done` or `failed`.")
    seconds: float | None = Field(default=None, description="How long it took.")
    error: str | None = Field(default=None, description="Why it failed.")


class Readiness(BaseModel):
    ready: bool = Field(description="Every step is done: the service answers turns.")
    steps: list[StepReport]


@router.get(
    "/health",
    response_model=Health,
    summary="Liveness: the process answers.",
    description="Always 200 while the process runs; needs no key.",
)
def health() -> Health:
    return Health(status="ok", version=__version__)


@router.get(
    "/ready",
    response_model=Readiness,
    summary="Readiness: models and index are loaded.",
    description="200 once every start-up step is done; 503 while loading or after a failed step. Needs no key.",
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
