"""The chat widget: a demo shop page at ``/`` and the embeddable ``/widget.js`` + ``/widget.css``."""

from __future__ import annotations

import html
from importlib import resources

from fastapi import APIRouter, Request
from fastapi.responses import Response

router = APIRouter(include_in_schema=False)
_MEDIA = {"index.html": "text/html; charset=utf-8", "widget.js": "text/javascript; charset=utf-8",
          "widget.css": "text/css; charset=utf-8"}
_EMBED = '<script src="/widget.js" defer></script>'


def _read(name: str) -> str:
    return resources.files("shopagent.agent").joinpath(f"widget/{name}").read_text(encoding="utf-8")


def _asset(name: str, body: str | None = None) -> Response:
    return Response(body if body is not None else _read(name), media_type=_MEDIA[name],
                    headers={"Cache-Control": "no-cache"})


@router.get("/")
def demo_page(request: Request) -> Response:
    """The demo shop embeds the widget as a shop would: with a publishable key when the server has one
    (keys listed only as ``sha256:`` digests cannot be shown, and the page then embeds none)."""
    keys = [k for k in request.app.state.runtime.settings.widget_keys if not k.startswith("sha256:")]
    page = _read("index.html")
    if keys:
        page = page.replace(_EMBED, _EMBED.replace(" defer", f' data-key="{html.escape(keys[0])}" defer'))
    return _asset("index.html", page)


@router.get("/widget.js")
def widget_script() -> Response:
    return _asset("widget.js")


@router.get("/widget.css")
def widget_style() -> Response:
    return _asset("widget.css")
