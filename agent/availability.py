"""Product search that degrades instead of failing when a Chroma server is unreachable.

With ``SHOPAGENT_CHROMA_URL`` the index lives in another process that can be down at start-up or go
away later. :class:`GuardedSearcher` stands in for the searcher: while the server is unreachable
every search raises :class:`SearchUnavailable` (the dialogue apologises; order flows need no index),
and it reconnects by itself once the server answers again, so no restart is needed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
from prometheus_client import Counter

from shopagent.logs import get_logger

log = get_logger(__name__)

UNAVAILABLE = Counter("shopagent_search_unavailable", "Searches refused because the Chroma server was unreachable.")
RETRY_S = 2.0  # how often a searcher that never opened tries again (each try costs a connection attempt)


class SearchUnavailable(ConnectionError):
    """The search index cannot be reached right now."""


class GuardedSearcher:
    """A searcher opened by ``open_searcher``, or retried on use (at most every ``retry_s``) until it opens.

    ``search`` and ``passages`` turn transport failures into :class:`SearchUnavailable`; anything else
    is passed through to the opened searcher.
    """

    def __init__(self, open_searcher: Callable[[], Any], retry_s: float = RETRY_S) -> None:
        self._open = open_searcher
        self._retry_s = retry_s
        self._searcher: Any = None
        self._next_try = 0.0
        self._lock = threading.Lock()
        try:
            self._opened()
        except SearchUnavailable:
            pass  # the service starts without the index and keeps trying

    def search(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("search", *args, **kwargs)

    def passages(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("passages", *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # never for this object's own state (copies, pickling)
            raise AttributeError(name)
        return getattr(self._opened(), name)

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return getattr(self._opened(), method)(*args, **kwargs)
        except httpx.TransportError as exc:
            raise self._down(exc) from exc

    def _opened(self) -> Any:
        with self._lock:
            if self._searcher is None:
                if time.monotonic() < self._next_try:
                    raise self._down(None)
                try:
                    self._searcher = self._open()
                except (ValueError, httpx.TransportError) as exc:  # chromadb: ValueError "Could not connect"
                    self._next_try = time.monotonic() + self._retry_s
                    raise self._down(exc) from exc
                log.info("search_connected")
            return self._searcher

    @staticmethod
    def _down(cause: Exception | None) -> SearchUnavailable:
        UNAVAILABLE.inc()
        reason = f"{type(cause).__name__}: {cause}" if cause else "still unreachable"
        log.warning("search_unavailable", reason=reason)
        return SearchUnavailable(f"the search index is unreachable ({reason})")
