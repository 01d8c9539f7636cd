"""The load test's client against the real service (in-process uvicorn on loopback, real agent)."""

from __future__ import annotations

import asyncio
import math
import os
import random
import re
import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest
import uvicorn

from shopagent.agent.api.app import create_app
from shopagent.agent.loadtest import LoadOptions, LoadReport, drive, free_port, script, shoppers_from_store
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
    # windows of 2 s: RSS is sampled every 0.5 s, so even a busy CI box gets samples into each window
    options = LoadOptions(conversations=4, duration_s=6.0, warmup_s=0.5, think_s=0.05, timeout_s=30.0, windows=3)
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
    assert all(re.fullmatch(r"[+-]\d+\.\d", cell) for cell in cells[12:14])  # RSS slopes: whole run, 2nd half
    assert cells[14] in ("flat", "levelling off", "growing")


@pytest.mark.parametrize(("label", "rss", "trend"), [
    ("leak", lambda t: 900 + 0.5 * t, "growing"),  # 30 MiB/min throughout
    ("pools filling, then full", lambda t: 900 + 60 * (1 - math.exp(-t / 15)), "flat"),
    ("filling more slowly", lambda t: 900 + 60 * (1 - math.exp(-t / 25)), "levelling off"),
    ("steady", lambda t: 900 + math.sin(t), "flat"),
])
def test_memory_trend_tells_a_leak_from_a_level_that_is_reached(label: str, rss, trend: str) -> None:
    options = LoadOptions(duration_s=120.0)
    samples = [(t, rss(t)) for t in np.arange(0.0, 120.0, 0.5)]
    report = LoadReport(options, samples=[], rss_mib=samples)
    assert report.memory_trend() == trend, (label, report.rss_slope(), report.rss_slope(since=60.0))
    assert len(report.windows()) == options.windows


def test_the_llm_run_is_judged_after_its_memory_has_filled() -> None:
    """The LLM's slower turns fill memory over about two minutes: its report run is longer, so the
    second half that decides the verdict starts after that, with as many windows per minute."""
    templates, llm = LoadOptions.full("none"), LoadOptions.full("local")
    assert llm.llm == "local" and templates.llm == "none"
    assert llm.duration_s / 2 >= 120.0 > templates.duration_s / 2
    assert llm.duration_s / llm.windows <= templates.duration_s / templates.windows * 1.5
