"""The reply LLM down or slow: every turn is still answered, from the templates, and the degradation
is logged and counted in the Prometheus metrics.

The LLM is a real OpenAI-compatible client (``SHOPAGENT_LLM=openai``) pointed at a closed loopback
port (refused) or at a loopback server that accepts and never answers (slow past the timeout).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from structlog.testing import capture_logs

from shopagent.agent.api.app import create_app
from shopagent.agent.build import build_agent
from shopagent.agent.intents import IntentClassifier
from shopagent.agent.store.shop import Shop
from shopagent.agent.turn import TurnInput
from shopagent.settings import Settings
from retrieval.conftest import _free_port

EMAIL = "emma.brown5032@example.com"
SCRIPT = ("hello there", f"where is my order? my email is {EMAIL}", "which payment methods do I have?", "thanks, bye")


@pytest.fixture
def hanging_llm() -> Iterator[str]:
    """A loopback server that reads the request and answers nothing until the test ends."""
    release = threading.Event()

    class Hang(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            release.wait(30)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hang)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    release.set()
    server.shutdown()


def _unavailable() -> float:
    return REGISTRY.get_sample_value("shopagent_replies_total", {"outcome": "llm_unavailable"}) or 0.0


@pytest.mark.parametrize("fault", ["refused", "hanging"])
def test_every_turn_is_answered_from_templates(
    fault: str, request: pytest.FixtureRequest, shop: Shop, intents: IntentClassifier, agent_settings: Settings
) -> None:
    closed = f"http://127.0.0.1:{_free_port()}/v1"  # nothing listens there
    url = request.getfixturevalue("hanging_llm") if fault == "hanging" else closed
    settings = agent_settings.model_copy(update={"llm": "openai", "llm_url": url, "llm_timeout_s": 0.5})
    degraded = build_agent(settings, shop=shop, intents=intents)  # loads the configured OpenAI-compatible client
    reference = build_agent(agent_settings, shop=shop, intents=intents, chat_model=None)
    counted = _unavailable()

    with capture_logs() as logs:
        for text in SCRIPT:
            got = degraded.handle(TurnInput("degraded", text=text))
            want = reference.handle(TurnInput("reference", text=text))
            assert (got.text, got.awaiting, [a.name for a in got.actions]) == (
                want.text, want.awaiting, [a.name for a in want.actions])

    fallbacks = degraded.stages.writer.stats.fallback
    assert fallbacks >= len(SCRIPT) - 1  # every rephrasable reply fell back (exact ones never ask the LLM)
    assert degraded.stages.writer.stats.llm == 0
    assert sum(e["event"] == "llm_unavailable" for e in logs) == fallbacks
    assert _unavailable() - counted == fallbacks

    app = create_app(settings, warm_up=False)
    with TestClient(app, client=("127.0.0.1", 5000)) as client:  # a keyless server: local scrapers only
        metrics = client.get("/metrics").text
    assert 'shopagent_replies_total{outcome="llm_unavailable"}' in metrics
