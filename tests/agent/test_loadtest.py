"""The load test's client against the real service (in-process uvicorn on loopback, real agent)."""

from __future__ import annotations

import asyncio
import os
import random
import re
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from shopagent.agent.api.app import create_app
from shopagent.agent.loadtest import LoadOptions, drive, free_port, script, shoppers_from_store
from shopagent.agent.turn import TurnInput


@pytest.fixture
def live_url(agent, agent_settings) -> Iterator[str]:
    app = create_app(agent_settings, warm_up=False)
    app.state.runtime.components["agent"] = agent
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    yield f"http://127.0.0.1:{server.config.port}"
    server.should_exit = True
    thread.join(timeout=30)


@pytest.mark.slow
def test_scripted_shoppers_authenticate_with_the_stores_own_data(shop, agent) -> None:
    """A script's identity turn really identifies the shopper, so the load exercises order look-ups."""
    shoppers = shoppers_from_store(shop.engine, 3, seed=5)
    assert len({s.email for s in shoppers}) == 3
    rng = random.Random(5)
    for i, shopper in enumerate(shoppers):
        turns = script(shopper, rng)
        conversation = [agent.handle(TurnInput(f"shopper-{i}", text=text)) for text in turns[:3]]  # hi, order, id
        assert conversation[1].awaiting == "identity", conversation[1].text
        assert conversation[2].awaiting != "identity", (turns[2], conversation[2].text)


@pytest.mark.slow
def test_load_run_answers_every_turn_and_reports_real_numbers(live_url: str, shop) -> None:
    options = LoadOptions(conversations=4, duration_s=4.0, warmup_s=0.5, think_s=0.05, timeout_s=30.0)
    report = asyncio.run(drive(live_url, shoppers_from_store(shop.engine, 20, seed=0), options, os.getpid()))

    assert report.count("error") == 0, report.errors()
    assert report.count("ok") == len(report.measured) > options.conversations
    latencies = report.latencies()
    assert latencies.size and (latencies > 0).all() and (latencies < options.timeout_s).all()
    assert report.throughput == pytest.approx(latencies.size / options.duration_s)
    windows = report.windows()
    assert len(windows) == options.windows and all(rss > 50 for _, rss, _ in windows)
    summary = report.table().splitlines()[4]
    cells = [c.strip() for c in summary.strip("|").split("|")]
    assert cells[0] == "templates only" and float(cells[3]) > 0
    assert [float(x) for x in cells[4:7]] == sorted(float(x) for x in cells[4:7])  # p50 ≤ p95 ≤ p99
    assert re.fullmatch(r"[+-]\d+\.\d", cells[12])  # the RSS slope is a number
