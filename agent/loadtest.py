"""``shopagent bench load``: many concurrent scripted conversations against a real ``shopagent serve``.

The service runs as its own process (uvicorn on a free loopback port, on a bench data dir whose shop
is re-seeded for every run), so the client's CPU and memory are not the server's, and its RSS can be
sampled from outside. The client is a closed loop: each of ``conversations`` asyncio tasks plays one
shopper after another, waits a stated think time between turns and gives up on a request after a
client timeout. Shoppers are drawn from the store itself (real emails, names, zips and order ids;
real product names and options), and every turn's wording is picked at random from a few phrasings,
so no two conversations are alike.

A 429 or 503 that carries ``Retry-After`` is the service shedding load on purpose: it is counted as
backpressure (not an error) and the shopper retries after the stated delay. Anything else that is not
a 2xx, a timeout or a broken connection is an error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import selectinload

from shopagent.agent.store.db import transaction
from shopagent.agent.store.schema import Product, User

# Settings passed through to the server; everything else about it is the bench's (data dir, LLM, store).
_PASS_THROUGH = ("SHOPAGENT_THREADS_", "SHOPAGENT_MODEL_PATHS", "SHOPAGENT_ASR_", "SHOPAGENT_MALLOC_")
FLAT_MIB_PER_MIN = 2.0  # second-half RSS slope still called flat: about the sampling noise of a minute's run


@dataclass(frozen=True)
class LoadOptions:
    conversations: int = 50  # concurrent shoppers
    # Measured time: twice the 60 s, because memory still fills caches for about the first minute
    # (measured: +11, +3, +2 MiB in the first 20 s windows, then flat), and the memory verdict is about the
    # second half; a 60 s run's second half is still warming up.
    duration_s: float = 120.0
    warmup_s: float = 10.0  # load before measuring (first-call allocations), not reported
    think_s: float = 1.0  # mean pause between a reply and the next message (uniform 0.5×–1.5×)
    timeout_s: float = 30.0  # client timeout per request
    windows: int = 6  # memory windows (several, to tell growth from a high-water mark levelling off)
    llm: str = "none"  # none (templates only) or local
    seed: int = 0

    @classmethod
    def quick(cls, llm: str = "none") -> LoadOptions:
        return cls(conversations=10, duration_s=15.0, warmup_s=3.0, llm=llm)

    @classmethod
    def full(cls, llm: str = "none") -> LoadOptions:
        """The report's run for a reply writer. The LLM answers fewer turns a second, so its memory takes
        longer to reach its working size: measured over 300 s, RSS slopes per minute +15.5, +4.9, +0.5,
        -0.5, +0.4 MiB (flat from the third minute), so a 120 s run judged the still-filling second
        minute. It gets 240 s in 8 windows, its second half from 120 s."""
        return cls(llm=llm, duration_s=240.0, windows=8) if llm != "none" else cls(llm=llm)


@dataclass(frozen=True)
class Shopper:
    """What a scripted shopper knows about themselves and the shop."""

    email: str
    name: str
    zip: str
    order_ids: tuple[str, ...]
    product: str
    option: str


@dataclass(frozen=True)
class Sample:
    started: float  # seconds since the measured phase began (negative: warm-up)
    seconds: float
    kind: str  # create | message
    outcome: str  # ok | backpressure | retried (after a broken connection) | error
    detail: str = ""


@dataclass
class LoadReport:
    options: LoadOptions
    samples: list[Sample]
    rss_mib: list[tuple[float, float]]  # (seconds since start, server RSS incl. children)
    server_log: str = ""
    conversations_done: int = 0
    load_average: tuple[float, float] = (0.0, 0.0)  # 1-min load before and after

    @property
    def measured(self) -> list[Sample]:
        return [s for s in self.samples if 0 <= s.started < self.options.duration_s]

    def latencies(self) -> np.ndarray:
        return np.array([s.seconds for s in self.measured if s.kind == "message" and s.outcome == "ok"])

    def count(self, outcome: str) -> int:
        return sum(s.outcome == outcome for s in self.measured)

    @property
    def error_rate(self) -> float:
        return self.count("error") / max(1, len(self.measured))

    @property
    def throughput(self) -> float:
        """Answered shopper messages per second."""
        return len(self.latencies()) / self.options.duration_s

    def windows(self) -> list[tuple[float, float, float]]:
        """Per window: start second, mean RSS (MiB), turns answered per second."""
        width = self.options.duration_s / self.options.windows
        out = []
        for w in range(self.options.windows):
            lo, hi = w * width, (w + 1) * width
            rss = [m for t, m in self.rss_mib if lo <= t < hi]
            turns = sum(lo <= s.started < hi and s.kind == "message" and s.outcome == "ok" for s in self.samples)
            out.append((lo, float(np.mean(rss)) if rss else float("nan"), turns / width))
        return out

    def rss_slope(self, since: float = 0.0) -> float:
        """Least-squares slope of server RSS from ``since`` to the end of the measured phase, MiB/min."""
        points = [(t, m) for t, m in self.rss_mib if since <= t < self.options.duration_s]
        if len(points) < 2:
            return float("nan")
        t, m = np.array(points).T
        return float(np.polyfit(t, m, 1)[0] * 60)

    def memory_trend(self) -> str:
        """``flat``, ``levelling off`` or ``growing``, from the RSS slopes of the whole run and its second half.

        Memory that only fills allocator pools and bounded caches rises at first and then stops, so
        the whole-run slope alone overstates a leak; a leak keeps its slope in the second half.
        """
        early, late = self.rss_slope(), self.rss_slope(since=self.options.duration_s / 2)
        if np.isnan(late):
            return "not measured"
        if late <= FLAT_MIB_PER_MIN:
            return "flat"
        return "levelling off" if late <= early / 3 else "growing"

    def errors(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for s in self.measured:
            if s.outcome == "error":
                found[s.detail] = found.get(s.detail, 0) + 1
        return found

    def table(self) -> str:
        """One markdown row per run (see :func:`format_reports`)."""
        return format_reports([self])


def format_reports(reports: Sequence[LoadReport]) -> str:
    """Markdown: the summary per run, then the memory windows per run, then what the errors were."""
    o = reports[0].options
    lines = [
        f"Closed loop on loopback: think time {o.think_s:g} s (uniform ×0.5–1.5), client timeout "
        f"{o.timeout_s:g} s, {o.warmup_s:g} s warm-up not counted; a 429/503 with Retry-After is "
        "backpressure, not an error; `retried`: sent again once (same Idempotency-Key) after a broken "
        "keep-alive connection. RSS slopes: least squares over the whole measured phase and over its "
        f"second half; memory is `flat` when the second half rises at most {FLAT_MIB_PER_MIN:g} MiB/min, "
        "`levelling off` when it rises at most a third of the whole-run slope, else `growing`. The first "
        "windows still fill caches and allocator pools (warm-up); the verdict is about the second half.",
        "",
        "| reply writer | conversations | seconds | turns/s | p50 ms | p95 ms | p99 ms | errors | error rate "
        "| backpressure | retried | RSS MiB start → end | RSS slope MiB/min | 2nd half MiB/min | memory | load avg |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---|---|",
    ]
    for r in reports:
        lat = r.latencies() * 1000
        p50, p95, p99 = np.percentile(lat, [50, 95, 99]) if lat.size else (float("nan"),) * 3
        windows = r.windows()
        lines.append(
            f"| {_writer(r.options.llm)} | {r.options.conversations} | {r.options.duration_s:g} | "
            f"{r.throughput:.1f} | {p50:.0f} | {p95:.0f} | {p99:.0f} | {r.count('error')} | "
            f"{100 * r.error_rate:.2f} % | {r.count('backpressure')} | {r.count('retried')} | "
            f"{windows[0][1]:.0f} → {windows[-1][1]:.0f} | "
            f"{r.rss_slope():+.1f} | {r.rss_slope(since=r.options.duration_s / 2):+.1f} | {r.memory_trend()} | "
            f"{r.load_average[0]:.1f} → {r.load_average[1]:.1f} |"
        )
    lines += ["", "| reply writer | window | from s | mean RSS MiB | Δ MiB | turns/s |",
              "|---|---:|---:|---:|---:|---:|"]
    for r in reports:
        windows = r.windows()
        lines += [f"| {_writer(r.options.llm)} | {i + 1} | {start:.0f} | {rss:.0f} | "
                  f"{rss - windows[i - 1][1] if i else 0:+.0f} | {rate:.1f} |"
                  for i, (start, rss, rate) in enumerate(windows)]
    for r in reports:
        if r.errors():
            lines += ["", f"Errors ({_writer(r.options.llm)}): "
                      + ", ".join(f"{what} × {n}" for what, n in sorted(r.errors().items()))]
    return "\n".join(lines)


def _writer(llm: str) -> str:
    return {"none": "templates only", "local": "local LLM"}.get(llm, llm)


# --- shoppers ------------------------------------------------------------------------------


def shoppers_from_store(engine: Engine, count: int, seed: int) -> list[Shopper]:
    """``count`` shoppers with orders, each paired with a product and one of its option values."""
    rng = random.Random(seed)
    with transaction(engine) as db:
        users = list(db.scalars(select(User).options(selectinload(User.orders))))
        products = list(db.scalars(select(Product).options(selectinload(Product.variants))))
        users = [u for u in users if u.orders]
        if not users or not products:
            raise ValueError("the store has no users with orders or no products to script shoppers from")
        shoppers = []
        for user in rng.sample(users, k=min(count, len(users))):
            product = rng.choice(products)
            options = [str(v) for variant in product.variants for v in (variant.options or {}).values()]
            shoppers.append(Shopper(
                email=user.email, name=f"{user.first_name} {user.last_name}", zip=user.zip,
                order_ids=tuple(o.order_id for o in user.orders), product=product.name,
                option=rng.choice(options) if options else "",
            ))
    return shoppers


def script(shopper: Shopper, rng: random.Random) -> list[str]:
    """One realistic session: greeting, an order question, identity, a product search, a policy
    question, goodbye; each turn in one of a few wordings, the middle ones in random order."""
    order = rng.choice(shopper.order_ids)
    identity = rng.choice([
        f"my email is {shopper.email}",
        f"It's {shopper.name}, zip code {shopper.zip}.",
        f"sure, {shopper.email}",
    ])
    status = rng.choice([
        f"Where is my order {order}?",
        f"can you check the status of {order} please",
        "has my last order shipped yet?",
    ])
    search = rng.choice([
        f"do you have the {shopper.product} in {shopper.option}?".replace(" in ?", "?"),
        f"I'm looking for a {shopper.product.lower()}",
        f"show me something like the {shopper.product}, {shopper.option} if possible",
    ])
    policy = rng.choice([
        "what is your return policy?",
        "How long do I have to return something?",
        "do you charge for shipping?",
    ])
    middle = [search, policy]
    rng.shuffle(middle)
    return [
        rng.choice(["hi there", "Hello!", "hey, good morning"]),
        status,
        identity,
        *middle,
        rng.choice(["thanks, bye", "That's all, thank you!", "great, goodbye"]),
    ]


# --- server --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mib(pid: int) -> float:
    """Resident memory of ``pid`` and its children (a Piper voice runs as a child), Linux /proc."""
    total, stack, seen = 0, [pid], set()
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            for task in Path(f"/proc/{current}/task").iterdir():
                stack += [int(c) for c in (task / "children").read_text().split()]
    return total / 1024


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    engine_url: str

    def log_tail(self, lines: int = 20) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def reset_store(data_dir: Path) -> None:
    """Drop the shop database in ``data_dir`` so the next start seeds the same demo shop afresh."""
    data_dir.mkdir(parents=True, exist_ok=True)
    for name in ("shop.db", "shop.db-wal", "shop.db-shm"):
        (data_dir / name).unlink(missing_ok=True)


@contextlib.contextmanager
def serve(data_dir: Path, llm: str, ready_timeout_s: float = 1200.0) -> Iterator[Server]:
    """``shopagent serve`` on a free loopback port over a freshly seeded demo shop in ``data_dir``.

    Models, the intent artifact and the search index stay in ``data_dir`` between runs (the demo shop
    is the same every time, so nothing is re-embedded); only the shop database starts anew.
    """
    reset_store(data_dir)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPAGENT_") or k.startswith(_PASS_THROUGH)}
    env.update(SHOPAGENT_DATA_DIR=str(data_dir), SHOPAGENT_LLM=llm)
    port = free_port()
    log_path = data_dir / f"server-{llm}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "shopagent.agent.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    server = Server(f"http://127.0.0.1:{port}", process, log_path, f"sqlite:///{data_dir / 'shop.db'}")
    try:
        _wait_ready(server, ready_timeout_s)
        yield server
    finally:
        process.send_signal(signal.SIGINT)  # uvicorn's graceful shutdown
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_ready(server: Server, timeout_s: float) -> None:
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per request
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"the server exited ({server.process.returncode}):\n{server.log_tail()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{server.url}/ready", timeout=5).status_code == 200:
                return
        time.sleep(1)
    raise RuntimeError(f"the server was not ready within {timeout_s:.0f} s:\n{server.log_tail()}")


# --- client --------------------------------------------------------------------------------


class _Client:
    def __init__(self, http: httpx.AsyncClient, options: LoadOptions, start: float) -> None:
        self.http, self.options, self.start = http, options, start
        self.until = start + options.duration_s
        self.samples: list[Sample] = []
        self.done = 0

    async def request(self, kind: str, path: str, json: dict[str, str] | None = None) -> httpx.Response | None:
        """One request, retried after Retry-After while the service sheds load, and once after a broken
        connection (a pooled keep-alive connection the server closed as it was reused): messages carry
        an Idempotency-Key, so a retry is answered once, as the API tells clients to do. None on error."""
        headers = {"Idempotency-Key": uuid.uuid4().hex} if kind == "message" else {}
        reconnected = False
        while True:
            began = time.monotonic()
            try:
                response = await self.http.post(path, json=json, headers=headers)
            except httpx.TimeoutException:
                return self._record(kind, began, "error", "client timeout")
            except httpx.TransportError as exc:
                if reconnected:
                    return self._record(kind, began, "error", type(exc).__name__)
                self._record(kind, began, "retried", type(exc).__name__)
                reconnected = True
                continue
            retry_after = response.headers.get("retry-after")
            if response.status_code in (429, 503) and retry_after:
                self._record(kind, began, "backpressure", str(response.status_code))
                if time.monotonic() >= self.until:
                    return None
                await asyncio.sleep(min(float(retry_after) if retry_after.isdigit() else 1.0, 10.0))
                continue
            if not response.is_success:
                return self._record(kind, began, "error", f"HTTP {response.status_code}")
            if kind == "message" and not response.json().get("text"):
                return self._record(kind, began, "error", "empty reply")
            self._record(kind, began, "ok")
            return response

    def _record(self, kind: str, began: float, outcome: str, detail: str = "") -> None:
        self.samples.append(Sample(began - self.start, time.monotonic() - began, kind, outcome, detail))

    async def shopper(self, shoppers: Sequence[Shopper], rng: random.Random) -> None:
        """Play shoppers one after another until the end; a failed request ends that conversation."""
        while time.monotonic() < self.until:
            created = await self.request("create", "/v1/conversations")
            if created is None:
                await asyncio.sleep(self.options.think_s)
                continue
            path = f"/v1/conversations/{created.json()['conversation_id']}/messages"
            for text in script(rng.choice(shoppers), rng):
                await asyncio.sleep(self.options.think_s * rng.uniform(0.5, 1.5))
                if time.monotonic() >= self.until or await self.request("message", path, {"text": text}) is None:
                    break
            else:
                self.done += 1


async def drive(url: str, shoppers: Sequence[Shopper], options: LoadOptions, pid: int) -> LoadReport:
    """Run the shoppers against ``url`` and sample the RSS of ``pid`` (the server) as they go."""
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per request
    limits = httpx.Limits(max_connections=options.conversations, max_keepalive_connections=options.conversations)
    async with httpx.AsyncClient(base_url=url, timeout=options.timeout_s, limits=limits) as http:
        start = time.monotonic() + options.warmup_s
        client = _Client(http, options, start)
        rss: list[tuple[float, float]] = []

        async def sample_memory() -> None:
            while time.monotonic() < client.until:
                rss.append((time.monotonic() - start, rss_mib(pid)))
                await asyncio.sleep(0.5)

        before = os.getloadavg()[0]
        await asyncio.gather(sample_memory(), *(
            client.shopper(shoppers, random.Random(options.seed * 1000 + i))
            for i in range(options.conversations)
        ))
    return LoadReport(options, client.samples, rss, conversations_done=client.done,
                      load_average=(before, os.getloadavg()[0]))


def run_load(options: LoadOptions, data_dir: Path) -> LoadReport:
    """Start the service on ``data_dir``, drive it with ``options``, stop it, return the measurements."""
    from shopagent.agent.store.db import create_engine

    with serve(data_dir, options.llm) as server:
        engine = create_engine(server.engine_url)
        try:
            shoppers = shoppers_from_store(engine, 200, options.seed)
        finally:
            engine.dispose()
        report = asyncio.run(drive(server.url, shoppers, options, server.process.pid))
        report.server_log = server.log_tail(40)
    return report
