"""τ² import and export: lossless round trip in the benchmark's shape; invalid files write nothing."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from shopagent.agent.store.db import is_empty
from shopagent.agent.store.errors import ImportRejected, StoreNotEmpty
from shopagent.agent.store.policy import TAU2_POLICY
from shopagent.agent.store.shop import Shop
from shopagent.agent.store.tau2 import export_tau2, import_tau2, validate, write_tau2

from .helpers import World, audit, login

NULLS = dict.fromkeys(
    (
        "cancel_reason",
        "exchange_items",
        "exchange_new_items",
        "exchange_payment_method_id",
        "exchange_price_difference",
        "return_items",
        "return_payment_method_id",
    )
)


def _benchmark_shape(data: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(data)
    for order in data["orders"].values():
        for key, value in NULLS.items():
            order.setdefault(key, value)
    return data


def test_export_is_the_benchmark_database(tau2_engine: Engine, world: World) -> None:
    exported = export_tau2(tau2_engine)
    assert exported == _benchmark_shape(world.data)
    assert json.dumps(exported) == json.dumps(_benchmark_shape(world.data))  # same key order too
    assert Shop(tau2_engine).policy == TAU2_POLICY


def test_round_trip_through_a_file(tau2_engine: Engine, empty_engine: Engine, tmp_path: Path) -> None:
    out = tmp_path / "export.json"
    write_tau2(tau2_engine, out)
    summary = import_tau2(empty_engine, out)
    assert (summary.products, summary.variants, summary.users, summary.orders) == (50, 591, 500, 1000)
    assert export_tau2(empty_engine) == json.loads(out.read_text())


def test_changes_survive_a_round_trip(tau2_engine: Engine, empty_engine: Engine, world: World, tmp_path: Path) -> None:
    order = world.order("pending")
    session = login(Shop(tau2_engine), world.owner(order))
    args = {"order_id": order["order_id"], "reason": "ordered by mistake"}
    token = session.preview("cancel_pending_order", args).token
    session.confirm(token, "k")
    write_tau2(tau2_engine, tmp_path / "out.json")
    import_tau2(empty_engine, tmp_path / "out.json")
    assert export_tau2(empty_engine)["orders"][order["order_id"]]["cancel_reason"] == "ordered by mistake"


def _broken(world: World, edit) -> dict[str, Any]:
    """A small valid document (three users with their orders, three products), then ``edit``."""
    users = {k: world.data["users"][k] for k in list(world.data["users"])[:3]}
    data = copy.deepcopy(
        {
            "products": dict(list(world.data["products"].items())[:3]),
            "users": users,
            "orders": {k: o for k, o in world.data["orders"].items() if o["user_id"] in users},
        }
    )
    assert validate(data) == []
    edit(data)
    return data


def _first(mapping: dict) -> Any:
    return next(iter(mapping.values()))


BROKEN = {
    "missing section": lambda d: d.pop("orders"),
    "price as text": lambda d: _first(_first(d["products"])["variants"]).update(price="12.50"),
    "availability as text": lambda d: _first(_first(d["products"])["variants"]).update(available="yes"),
    "unknown status": lambda d: _first(d["orders"]).update(status="lost"),
    "unknown field": lambda d: _first(d["users"]).update(nickname="x"),
    "key differs from id": lambda d: d["users"].update(someone_else=d["users"].pop(next(iter(d["users"])))),
    "order of a missing user": lambda d: _first(d["orders"]).update(user_id="ghost_user_1"),
    "user's order list wrong": lambda d: _first(d["users"])["orders"].append("#W0"),
    "payment with another's method": lambda d: _first(d["orders"])["payment_history"][0].update(
        payment_method_id="paypal_0"
    ),
    "fraction of a cent": lambda d: _first(_first(d["products"])["variants"]).update(price=10.005),
}


@pytest.mark.parametrize("problem", list(BROKEN))
def test_invalid_documents_are_rejected_whole(empty_engine: Engine, world: World, tmp_path: Path, problem: str) -> None:
    data = _broken(world, BROKEN[problem])
    path = tmp_path / "db.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ImportRejected) as raised:
        import_tau2(empty_engine, path)
    assert raised.value.errors and raised.value.errors == validate(data)
    assert is_empty(empty_engine)


def test_unreadable_file(empty_engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "db.json").write_text("{not json")
    with pytest.raises(ImportRejected):
        import_tau2(empty_engine, tmp_path / "db.json")
    with pytest.raises(ImportRejected):
        import_tau2(empty_engine, tmp_path / "missing.json")
    assert is_empty(empty_engine)


def test_import_needs_an_empty_store_or_replace(tau2_engine: Engine, tau2_dir: Path, world: World) -> None:
    login(Shop(tau2_engine), world.owner(world.order("pending")))  # some audit history
    with pytest.raises(StoreNotEmpty):
        import_tau2(tau2_engine, tau2_dir / "db.json")
    history = len(audit(tau2_engine))
    import_tau2(tau2_engine, tau2_dir / "db.json", replace=True)
    assert export_tau2(tau2_engine) == _benchmark_shape(world.data)
    assert len(audit(tau2_engine)) == history  # replacing the data keeps the audit log
