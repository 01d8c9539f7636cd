"""Oracle replay: the store's operations and exporter against the benchmark's own results.

For each of the 74 train tasks, the gold actions are replayed through the real session entry points
(authenticate as the owner by email, preview, confirm with a fresh idempotency key). Every call must
succeed or fail as the benchmark's tools did, with the benchmark's reason, and every record that
differs from the original ``db.json`` afterwards must equal the benchmark's final record.

Money is compared to the cent: the benchmark keeps float noise in item price differences
(17.860000000000014), the store keeps exact cents.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from shopagent.agent.store.shop import Shop
from shopagent.agent.store.tau2 import data_dir, export_tau2, replay

OPTIONAL_ORDER_FIELDS = (
    "cancel_reason",
    "exchange_items",
    "exchange_new_items",
    "exchange_payment_method_id",
    "exchange_price_difference",
    "return_items",
    "return_payment_method_id",
)


def _task_ids() -> list[str]:
    path = data_dir() / "tasks_train.json"
    return [task["id"] for task in json.loads(path.read_text())] if path.is_file() else ["(no τ² data)"]


@pytest.fixture(scope="module")
def benchmark(tau2_dir: Path) -> dict[str, Any]:
    original = json.loads((tau2_dir / "db.json").read_text())
    for order in original["orders"].values():  # the benchmark's model writes absent fields as null
        for name in OPTIONAL_ORDER_FIELDS:
            order.setdefault(name, None)
    return {
        "original": original,
        "tasks": {t["id"]: t for t in json.loads((tau2_dir / "tasks_train.json").read_text())},
        "expected": json.loads((tau2_dir / "expected_train.json").read_text()),
    }


def _to_cents(value: Any) -> Any:
    if isinstance(value, float):
        return round(value * 100)
    if isinstance(value, dict):
        return {k: _to_cents(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_cents(v) for v in value]
    return value


@pytest.mark.parametrize("task_id", _task_ids())
def test_gold_actions_reproduce_the_benchmark(task_id: str, tau2_engine, benchmark: dict[str, Any]) -> None:
    task, expected = benchmark["tasks"][task_id], benchmark["expected"][task_id]
    original = benchmark["original"]

    outcomes = replay(Shop(tau2_engine), task["evaluation_criteria"]["actions"])

    assert [(o.name, o.ok) for o in outcomes] == [(c["name"], c["ok"]) for c in expected["calls"]]
    for outcome, call in zip(outcomes, expected["calls"], strict=True):
        if "has no attribute" in call.get("error", ""):  # a tool this benchmark version lacks
            assert repr(outcome.name) in call["error"] and outcome.name in outcome.error
        elif not call["ok"]:
            assert outcome.error == call["error"]
    exported = export_tau2(tau2_engine)
    assert {k: list(v) for k, v in exported.items()} == {k: list(v) for k, v in original.items()}
    changed = {
        kind: {key: record for key, record in records.items() if record != original[kind][key]}
        for kind, records in exported.items()
    }
    assert _to_cents(changed) == _to_cents(expected["changed"])
