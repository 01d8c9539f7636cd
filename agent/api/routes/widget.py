"""The chat widget: a demo shop page at ``/`` and the embeddable ``/widget.js`` + ``/widget.css``."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter
from fastapi.responses import Response

router = APIRouter(include_in_schema=False)
_MEDIA = {"index.html": "text/html; charset=utf-8", "widget.js": "text/javascript; charset=utf-8",
          "widget.css": "text/css; charset=utf-8"}


def _asset(name: str) -> Response:
    body = resources.files("shopagent.agent").joinpath(f"widget/{name}").read_bytes()
    return Response(body, media_type=_MEDIA[name], headers={"Cache-Control": "no-cache"})


@router.get("/")
def demo_page() -> Response:
    return _asset("index.html")


@router.get("/widget.js")
def widget_script() -> Response:
    return _asset("widget.js")


@router.get("/widget.css")
def widget_style() -> Response:
    return _asset("widget.css")
