"""The service as a shop runs it, driven from outside: a real ``shopagent serve`` on a loopback port,
over a small demo store with its product photos indexed, and headless Chromium (Debian's, via
Playwright; browsers are never downloaded).

Screenshots (one per widget test, plus ``phone.png``) and the server log go to
``$SHOPAGENT_ARTIFACTS/browser`` when that is set, else to pytest's temporary folder
(``browser-artifacts*`` under ``--basetemp``).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from shopagent.agent.intents import IntentClassifier
from shopagent.agent.store.demo import DemoOptions, load_demo
from shopagent.agent.store.shop import Shop
from shopagent.agent.store.tau2 import export_tau2
from shopagent.settings import Settings

CHROMIUM = Path(os.environ.get("SHOPAGENT_CHROMIUM", "/usr/bin/chromium"))
SHOPAGENT = str(Path(sys.executable).with_name("shopagent"))
READY_TIMEOUT_S = 600
SPOKEN = "I would like to return an item."
WIDGET_KEY = "pk-browser-test"  # the server takes this publishable key (and no keyless calls)


@dataclass(frozen=True)
class Server:
    url: str
    data_dir: Path
    store: Shop

    @property
    def widget(self) -> dict[str, str]:
        """What the widget sends on its own page: the publishable key and the page's origin."""
        return {"X-Shopagent-Key": WIDGET_KEY, "Origin": self.url}

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """The store as it is now (users, orders, products), read past the agent."""
        return export_tau2(self.store.engine)


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = os.environ.get("SHOPAGENT_ARTIFACTS")
    path = Path(root) / "browser" if root else tmp_path_factory.mktemp("browser-artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, artifacts: Path) -> Iterator[Server]:
    """``shopagent index`` then ``shopagent serve`` on a 40-product demo store, templates-only replies,
    taking the widget's publishable key (so the demo page must embed it and the widget must send it)."""
    data_dir = tmp_path_factory.mktemp("browser-data")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPAGENT_")}
    env.update(SHOPAGENT_DATA_DIR=str(data_dir), SHOPAGENT_LLM="none", SHOPAGENT_LOG_LEVEL="WARNING",
               SHOPAGENT_WIDGET_KEYS=f'["{WIDGET_KEY}"]', SHOPAGENT_WIDGET_RATE_LIMIT="1000/minute")
    store = Shop.open(f"sqlite:///{data_dir / 'shop.db'}")  # the default store of that data dir
    load_demo(store.engine, DemoOptions(seed=7, products=40, users=20))
    index = subprocess.Popen([SHOPAGENT, "index"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    # Meanwhile train the intent classifier the server would otherwise train at start-up (saved in the data dir).
    IntentClassifier.load_or_train(Settings(data_dir=data_dir, llm="none"))
    output, _ = index.communicate(timeout=READY_TIMEOUT_S)
    assert index.returncode == 0, output
    port = _free_port()
    log = (artifacts / "server.log").open("w")
    process = subprocess.Popen([SHOPAGENT, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            assert process.poll() is None, f"the server exited; see {artifacts / 'server.log'}"
            try:
                if httpx.get(f"{url}/ready", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"not ready after {READY_TIMEOUT_S} s; see {artifacts / 'server.log'}"
            time.sleep(0.5)
        yield Server(url, data_dir, store)
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
        store.engine.dispose()


@pytest.fixture(scope="session")
def spoken_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A spoken request with silence either side (the fake microphone loops the file)."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    import numpy as np

    from shopagent.speech.audio import SAMPLE_RATE, to_wav
    from shopagent.speech.synth import espeak

    pause = np.zeros(int(0.6 * SAMPLE_RATE), np.float32)
    speech = espeak(SPOKEN, "en-us", 150)
    path = tmp_path_factory.mktemp("audio") / "request.wav"
    path.write_bytes(to_wav(np.concatenate([pause, speech, pause, pause, pause])))
    return path


@pytest.fixture(scope="session")
def browser(spoken_wav: Path) -> Iterator[Any]:
    if not CHROMIUM.is_file():
        reason = f"no Chromium at {CHROMIUM} (apt-get install chromium; or set SHOPAGENT_CHROMIUM)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI always installs it")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--use-fake-device-for-media-stream",
                "--use-fake-ui-for-media-stream",
                f"--use-file-for-fake-audio-capture={spoken_wav}",
                "--autoplay-policy=no-user-gesture-required",
            ],
        )
        yield browser
        browser.close()
