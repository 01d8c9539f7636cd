"""Privacy: export and erasure of one shopper, the retention purge (CLI, API, scheduled), both databases."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from shopagent.agent import cli
from shopagent.agent.api.app import create_app
from shopagent.agent.privacy import OPEN_STATUSES, OpenOrders, PurgeSummary, delete_user, export_user, purge
from shopagent.agent.store.db import transaction
from shopagent.agent.store.errors import NotFound
from shopagent.agent.store.schema import AuditEntry, Conversation, Message
from shopagent.agent.store.shop import Shop, ShopSession
from shopagent.agent.store.tau2 import export_tau2
from shopagent.settings import Settings

Record = dict[str, Any]
DAY0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def closed_user(world: Any, skip: int = 0) -> Record:
    """A shopper whose orders are all finished (erasable)."""
    users = [u for u in world.data["users"].values()
             if u["orders"] and all(world.data["orders"][o]["status"] not in OPEN_STATUSES for o in u["orders"])]
    return users[skip]


def open_user(world: Any) -> Record:
    return world.owner(world.order("pending"))


def chat(shop: Shop, user: Record, *turns: tuple[str, str]) -> ShopSession:
    """A conversation authenticated as ``user`` with the given (channel, text) shopper turns."""
    session = shop.session(actor="test")
    session.find_user_id_by_email(user["email"])
    for channel, text in turns:
        session.save_turn(text, {"flow": None}, channel=channel)
        session.add_message("assistant", "Noted.")
    return session


def audit_rows(engine: Engine) -> list[tuple[int, str, str]]:
    with transaction(engine) as db:
        return [(e.id, e.kind, json.dumps(e.arguments)) for e in db.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def test_export_holds_the_shoppers_data_and_nobody_elses(tau2_engine: Engine, world: Any) -> None:
    shop = Shop(tau2_engine)
    user = closed_user(world)
    mine = chat(shop, user, ("text", "where is my parcel"), ("voice", "and my other parcel"))
    chat(shop, world.other_user(user), ("text", "a secret of another shopper"))

    data = export_user(tau2_engine, user["user_id"])

    assert data["user"] == world.data["users"][user["user_id"]]
    assert sorted(o["order_id"] for o in data["orders"]) == sorted(user["orders"])
    [conversation] = data["conversations"]
    assert conversation["conversation_id"] == mine.conversation_id
    assert [(m["channel"], m["content"]) for m in conversation["messages"] if m["role"] == "user"] == [
        ("text", "where is my parcel"), ("voice", "and my other parcel")]
    assert any(e["tool"] == "find_user_id_by_email" for e in data["audit_log"])
    assert "a secret of another shopper" not in json.dumps(data)
    with pytest.raises(NotFound):
        export_user(tau2_engine, "nobody_0000")


def test_erasure_deletes_conversations_and_blanks_personal_data(tau2_engine: Engine, world: Any) -> None:
    shop = Shop(tau2_engine)
    user, other = closed_user(world), closed_user(world, skip=1)
    chat(shop, user, ("text", f"I am {user['name']['first_name']}, my email is {user['email']}"))
    kept = chat(shop, other, ("text", "the other shopper's chat"))
    before = audit_rows(tau2_engine)

    summary = delete_user(tau2_engine, user["user_id"])

    rows = audit_rows(tau2_engine)
    assert rows[: len(before)] == before  # the audit log is kept as it was
    [(_, kind, arguments)] = rows[len(before):]
    assert kind == "erasure" and user["email"] not in arguments
    assert (summary.conversations, summary.messages, summary.orders_scrubbed) == (1, 2, len(user["orders"]))
    after = export_user(tau2_engine, user["user_id"])
    assert after["conversations"] == []
    profile = json.dumps([after["user"][k] for k in ("name", "email", "address", "payment_methods")])
    profile += json.dumps([o["address"] for o in after["orders"]])
    for value in (user["email"], user["name"]["last_name"], user["address"]["address1"], user["address"]["zip"]):
        assert value not in profile
    for order in after["orders"]:  # the bookkeeping record stays
        original = world.data["orders"][order["order_id"]]
        assert (order["items"], order["payment_history"], order["status"]) == (
            original["items"], original["payment_history"], original["status"])
    with pytest.raises(NotFound):
        shop.session(actor="test").find_user_id_by_email(user["email"])
    assert [c["conversation_id"] for c in export_user(tau2_engine, other["user_id"])["conversations"]] == [
        kept.conversation_id]


def test_erasure_is_refused_while_an_order_is_open(tau2_engine: Engine, world: Any) -> None:
    user = open_user(world)
    chat(Shop(tau2_engine), user, ("text", "hello"))
    with pytest.raises(OpenOrders, match="still open"):
        delete_user(tau2_engine, user["user_id"])
    data = export_user(tau2_engine, user["user_id"])
    assert data["user"]["email"] == user["email"] and len(data["conversations"]) == 1


def _aged_conversations(engine: Engine, world: Any) -> dict[str, ShopSession]:
    """Four conversations: idle since day 0; voice on day 0 then typed on day 9; an unfinished flow
    spoken on day 5; voice on day 9."""
    now = [DAY0]
    shop = Shop(engine, clock=lambda: now[0])
    user = closed_user(world)
    idle = chat(shop, user, ("voice", "old spoken words"), ("text", "old typed words"))
    resumed = chat(shop, user, ("voice", "early spoken words"))
    now[0] = DAY0 + timedelta(days=5)
    paused = chat(shop, user)
    paused.save_turn("paused spoken words", {"flow": "return_item", "slots": {"said": ["paused spoken words"]}},
                     channel="voice")
    now[0] = DAY0 + timedelta(days=9)
    resumed.save_turn("late typed words", {}, channel="text")
    recent = chat(shop, user, ("voice", "recent spoken words"))
    return {"idle": idle, "resumed": resumed, "paused": paused, "recent": recent}


def _user_messages(engine: Engine) -> set[str]:
    with transaction(engine) as db:
        return set(db.scalars(select(Message.content).where(Message.role == "user")))


def test_purge_applies_each_retention(tau2_engine: Engine, world: Any, tmp_path: Path) -> None:
    chats = _aged_conversations(tau2_engine, world)
    now = DAY0 + timedelta(days=10)
    keep_all = Settings(data_dir=tmp_path, llm="none")
    assert purge(tau2_engine, keep_all, now=now) == PurgeSummary(0, 0)
    assert len(_user_messages(tau2_engine)) == 6

    settings = keep_all.model_copy(update={"retention_transcripts_days": 3, "retention_conversations_days": 7})
    assert purge(tau2_engine, settings, now=now) == PurgeSummary(transcripts=2, conversations=1)

    assert _user_messages(tau2_engine) == {"late typed words", "recent spoken words"}
    with transaction(tau2_engine) as db:
        left = set(db.scalars(select(Conversation.id)))
    assert chats["idle"].conversation_id not in left
    assert {c.conversation_id for name, c in chats.items() if name != "idle"} <= left
    assert chats["paused"].dialogue_state() is None  # its flow quoted the purged transcript
    assert chats["recent"].dialogue_state() is not None
    assert audit_rows(tau2_engine)[-1][1] == "purge"


def test_the_service_purges_on_schedule(tau2_engine: Engine, world: Any, tmp_path: Path) -> None:
    _aged_conversations(tau2_engine, world)  # all far older than a day
    url = tau2_engine.url.render_as_string(hide_password=False)
    settings = Settings(data_dir=tmp_path, llm="none", store_url=url, retention_conversations_days=1,
                        purge_interval_minutes=0.005)
    with TestClient(create_app(settings, warm_up=False)):  # runs the service's lifespan
        deadline = time.monotonic() + 30
        while _user_messages(tau2_engine) and time.monotonic() < deadline:
            time.sleep(0.2)
    assert _user_messages(tau2_engine) == set()


@pytest.fixture
def run(tau2_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    url = tau2_engine.url.render_as_string(hide_password=False)
    settings = Settings(data_dir=tmp_path / "data", store_url=url, llm="none", retention_transcripts_days=1)
    monkeypatch.setattr(cli, "_settings", lambda: settings)
    return lambda *args: CliRunner().invoke(cli.app, list(args))


def test_privacy_cli(run: Callable[..., Any], tau2_engine: Engine, world: Any, tmp_path: Path) -> None:
    user = closed_user(world)
    chat(Shop(tau2_engine, clock=lambda: DAY0), user, ("voice", "spoken long ago"))
    out = tmp_path / "export.json"
    exported = run("privacy", "export", user["user_id"], "--out", str(out))
    assert exported.exit_code == 0, exported.output
    assert json.loads(out.read_text())["user"]["email"] == user["email"]
    purged = run("privacy", "purge")
    assert purged.exit_code == 0 and "deleted 1 transcripts and 0 conversations" in purged.stdout
    refused = run("privacy", "delete", open_user(world)["user_id"], "--yes")
    assert refused.exit_code == 2 and "still open" in refused.output
    assert run("privacy", "delete", user["user_id"]).exit_code == 1  # asks first; no answer aborts
    erased = run("privacy", "delete", user["user_id"], "--yes")
    assert erased.exit_code == 0 and "1 conversations" in erased.stdout
    assert export_tau2(tau2_engine)["users"][user["user_id"]]["email"] != user["email"]


STAFF_KEY = "staff-secret-key-0123456789"
STAFF_DIGEST = hashlib.sha256(STAFF_KEY.encode()).hexdigest()


@pytest.mark.parametrize("configured", [STAFF_KEY, f"sha256:{STAFF_DIGEST.upper()}"],
                         ids=["plain", "digest"])
def test_privacy_api_needs_the_staff_key(tau2_engine: Engine, world: Any, tmp_path: Path, configured: str) -> None:
    settings = Settings(data_dir=tmp_path, llm="none", staff_api_key=configured)
    user = closed_user(world)
    chat(Shop(tau2_engine), user, ("text", "hello"))
    path = f"/v1/privacy/users/{user['user_id']}"

    def client(settings: Settings) -> TestClient:
        app = create_app(settings, warm_up=False)
        app.state.runtime.components["store"] = Shop(tau2_engine)
        return TestClient(app)

    for unset in (None, ""):
        off = client(Settings(data_dir=tmp_path, llm="none", staff_api_key=unset)).get(
            path, headers={"Authorization": "Bearer "})
        assert off.status_code == 403 and "no SHOPAGENT_STAFF_API_KEY" in off.text
    api = client(settings)
    assert api.get(path).status_code == 401
    for wrong in ("wrong", STAFF_DIGEST, f"sha256:{STAFF_DIGEST}", STAFF_KEY[:-1]):  # the digest itself is no key
        assert api.get(path, headers={"Authorization": f"Bearer {wrong}"}).status_code == 401
    staff = {"Authorization": f"Bearer {STAFF_KEY}"}
    exported = api.get(path, headers=staff)
    assert exported.status_code == 200 and exported.json()["user"]["email"] == user["email"]
    assert api.get("/v1/privacy/users/nobody_0000", headers=staff).status_code == 404
    refused = api.delete(f"/v1/privacy/users/{open_user(world)['user_id']}", headers=staff)
    assert refused.status_code == 409 and refused.json()["error"] == "open_orders"
    erased = api.delete(path, headers=staff)
    assert erased.status_code == 200 and erased.json()["conversations"] == 1
    assert api.post("/v1/privacy/purge", headers=staff).json() == {"transcripts": 0, "conversations": 0}
    with transaction(tau2_engine) as db:
        assert db.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.kind == "erasure")) == 1
