"""Crashes and races around a change, checked from the database, not the replies.

SIGKILL a real `shopagent chat` process at each crash point (:mod:`shopagent.faults`), restart, and
the conversation resumes with the change applied exactly once; two workers racing on one
double-submitted "yes" apply it once (SQLite and PostgreSQL).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from shopagent.agent.build import build_agent
from shopagent.agent.intents import IntentClassifier
from shopagent.agent.store.db import transaction
from shopagent.agent.store.schema import AuditEntry
from shopagent.agent.store.shop import Shop
from shopagent.agent.store.tau2 import export_tau2
from shopagent.agent.turn import TurnInput
from shopagent.settings import Settings
from store.test_concurrency import race

SHOPAGENT = Path(sys.executable).with_name("shopagent")


POINTS = ("preview_stored", "confirmation_received", "mid_operation", "change_committed")


def only_pending_orders(world: Any) -> list[dict[str, Any]]:
    """Pending orders whose owners have no other pending order (the dialogue then needs no order id)."""
    return [
        o for o in world.orders("pending")
        if sum(world.data["orders"][x]["status"] == "pending" for x in world.owner(o)["orders"]) == 1
    ]


def cancel_request(world: Any, order: dict[str, Any]) -> str:
    return f"please cancel my order, I ordered it by mistake. my email is {world.owner(order)['email']}"


def changes(engine: Engine, order_id: str) -> list[AuditEntry]:
    with transaction(engine) as db:
        rows = db.scalars(select(AuditEntry).where(AuditEntry.kind == "change"))
        return [row for row in rows if row.arguments.get("order_id") == order_id]


def assert_cancelled_once(engine: Engine, order: dict[str, Any]) -> None:
    assert [c.tool for c in changes(engine, order["order_id"])] == ["cancel_pending_order"]
    after = export_tau2(engine)["orders"][order["order_id"]]
    assert after["status"] == "cancelled"
    refunds = [p for p in after["payment_history"] if p["transaction_type"] == "refund"]
    assert len(refunds) == len(order["payment_history"])  # one refund per payment, not two


def chats(
    engine: Engine, data_dir: Path, runs: dict[str, tuple[list[str], str]]
) -> dict[str, subprocess.CompletedProcess]:
    """`shopagent chat --conversation ID` processes run side by side on ``engine``'s database, one per
    conversation: ``runs`` maps a conversation id to the lines fed on stdin and the crash point."""
    env = {
        **os.environ,
        "SHOPAGENT_DATA_DIR": str(data_dir),  # holds the trained intent classifier
        "SHOPAGENT_STORE_URL": engine.url.render_as_string(hide_password=False),
        "SHOPAGENT_LLM": "none",
        "SHOPAGENT_LOG_LEVEL": "WARNING",
    }
    env.pop("SHOPAGENT_CRASH_AT", None)
    processes = {
        conversation: subprocess.Popen(
            [str(SHOPAGENT), "chat", "--conversation", conversation],
            env=env | {"SHOPAGENT_CRASH_AT": crash},
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for conversation, (_, crash) in runs.items()
    }
    done = {}
    for conversation, process in processes.items():
        out, err = process.communicate("".join(f"{line}\n" for line in runs[conversation][0]), timeout=600)
        done[conversation] = subprocess.CompletedProcess(process.args, process.returncode, out, err)
    return done


@pytest.mark.slow
def test_sigkill_then_restart_applies_each_change_exactly_once(
    shop: Shop, world: Any, intents: IntentClassifier, agent_settings: Settings
) -> None:
    """One killed process per crash point (SQLite, the default store: a killed process may leave the
    file mid-transaction); the restart is a fresh agent on a fresh engine, reading only the database."""
    engine = shop.engine
    orders = dict(zip(POINTS, only_pending_orders(world)))
    asks = {point: cancel_request(world, order) for point, order in orders.items()}
    first = {point: ([asks[point]] if point == "preview_stored" else [asks[point], "yes"], point) for point in POINTS}

    crashed = chats(engine, agent_settings.data_dir, first)

    restarted = build_agent(agent_settings, shop=Shop.open(str(engine.url)), intents=intents, chat_model=None)
    for point, order in orders.items():
        assert crashed[point].returncode == -signal.SIGKILL, crashed[point].stderr[-2000:]
        session = restarted.shop.session(point)
        assert session.user_id == order["user_id"]  # the conversation resumes authenticated
        state = session.dialogue_state() or {}
        if point == "preview_stored":  # the preview never reached the shopper: nothing pending, nothing done
            assert not changes(engine, order["order_id"]) and not state.get("pending")
            resume = [asks[point], "yes"]
        else:  # the shopper's yes (or the reply to it) was lost: the confirmation is still pending
            assert state["awaiting"] == "confirmation"
            assert state["pending"]["arguments"]["order_id"] == order["order_id"]
            assert len(changes(engine, order["order_id"])) == (point == "change_committed")
            resume = ["yes"]
        for text in resume:
            restarted.handle(TurnInput(point, text=text))
        assert_cancelled_once(engine, order)
        assert not (session.dialogue_state() or {}).get("pending")
    restarted.shop.engine.dispose()


def test_double_submitted_confirmation_applies_once(
    tau2_engine: Engine, world: Any, intents: IntentClassifier, agent_settings: Settings
) -> None:
    order = only_pending_orders(world)[0]
    url = tau2_engine.url.render_as_string(hide_password=False)
    workers = [  # two service processes' agents: separate engines on one database
        build_agent(agent_settings, shop=Shop.open(url), intents=intents, chat_model=None) for _ in range(2)
    ]
    turn = lambda worker, text: worker.handle(TurnInput("double-yes", text=text))  # noqa: E731
    assert turn(workers[0], cancel_request(world, order)).awaiting == "confirmation"

    results = race(*(lambda w=w: turn(w, "yes") for w in workers))

    assert not [r for r in results if isinstance(r, Exception)], results
    assert_cancelled_once(tau2_engine, order)
    for worker in workers:
        worker.shop.engine.dispose()
