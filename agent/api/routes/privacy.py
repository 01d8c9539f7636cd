"""Shop staff's privacy endpoints: export or erase one shopper's data, run the retention purge.

These read and erase any shopper's data, so they take their own staff key (``SHOPAGENT_STAFF_API_KEY``,
sent as ``Authorization: Bearer``; the setting may hold the key's ``sha256:<hex>`` digest
instead, as API keys may), never a platform or widget key; without one configured they are
off. What erasure keeps, and why, is in :mod:`shopagent.agent.privacy`. The router also runs the
scheduled retention purge for the service's lifetime.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from shopagent.agent import privacy
from shopagent.agent.api.deps import get_runtime
from shopagent.agent.api.schemas import ErrorResponse
from shopagent.agent.api.security import get_access

_bearer = HTTPBearer(auto_error=False, description="The staff key (SHOPAGENT_STAFF_API_KEY).")


def require_staff(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> None:
    access = get_access(request)
    if access.staff_key is None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "privacy endpoints are off: no SHOPAGENT_STAFF_API_KEY is set")
    if credentials is None or not access.is_staff(credentials.credentials):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "a valid staff key is required (Authorization: Bearer)",
                            headers={"WWW-Authenticate": "Bearer"})


def get_engine(request: Request) -> Engine:
    shop = get_runtime(request).components.get("store")
    if shop is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the store is still loading; see /ready")
    return shop.engine


@asynccontextmanager
async def purge_on_schedule(app: FastAPI) -> AsyncIterator[None]:
    """While the service runs, apply the retention settings every ``purge_interval_minutes``."""
    schedule = privacy.PurgeSchedule(app.state.runtime.settings)
    schedule.start()
    try:
        yield
    finally:
        schedule.stop()


router = APIRouter(
    lifespan=purge_on_schedule,
    prefix="/v1/privacy",
    tags=["privacy"],
    dependencies=[Depends(require_staff)],
    responses={code: {"model": ErrorResponse} for code in (401, 403, 404, 409, 503)},
)


class Erased(BaseModel):
    user_id: str
    conversations: int
    messages: int
    orders_scrubbed: int


class Purged(BaseModel):
    transcripts: int
    conversations: int


@router.get("/users/{user_id}", summary="Export everything stored about one shopper (JSON).")
async def export_user(user_id: str, engine: Annotated[Engine, Depends(get_engine)]) -> dict[str, Any]:
    return await run_in_threadpool(privacy.export_user, engine, user_id)


@router.delete(
    "/users/{user_id}",
    response_model=Erased,
    summary="Erase one shopper's personal data.",
    description="Refused (409) while the shopper has open orders. Orders stay as bookkeeping records with "
    "names and addresses blanked; the append-only audit log is kept.",
)
async def delete_user(user_id: str, engine: Annotated[Engine, Depends(get_engine)]) -> Any:
    return await run_in_threadpool(lambda: asdict(privacy.delete_user(engine, user_id)))


@router.post("/purge", response_model=Purged, summary="Apply the retention settings now.")
async def purge(request: Request, engine: Annotated[Engine, Depends(get_engine)]) -> Any:
    settings = get_runtime(request).settings
    return await run_in_threadpool(lambda: asdict(privacy.purge(engine, settings)))
