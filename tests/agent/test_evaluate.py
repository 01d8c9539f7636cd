"""The dialogue evaluation harness: judging, the scripted customer, noise, and whole runs on τ² data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shopagent.agent.evaluate import (
    REQUIRED_KEYS,
    Customer,
    Responder,
    differences,
    evaluate,
    expected_state,
    load_customers,
    missing_info,
    packaged_users,
    pass_hat_k,
    speak,
)
from shopagent.agent.store.shop import Shop
from shopagent.agent.turn import ActionRecord, TurnInput, TurnResult

ORDER = {"order_id": "#W1", "status": "pending", "cancel_reason": None, "payment_history": [{"amount": 10.0}]}
CUSTOMER = Customer(
    identity="My email is sofia.rossi2645@example.com.",
    opening="Please cancel order #W5918442, I no longer need it.",
    order="It's #W5918442.",
    payment="The original payment method.",
    details="I no longer need it.",
    followups=("How much do I get back?",),
    paraphrases=("I'd like to cancel my order #W5918442.",),
)


def test_equal_states_have_no_differences() -> None:
    original = {"orders": {"#W1": dict(ORDER)}, "users": {"u": {"name": "A"}}}
    exported = {"orders": {"#W1": {**ORDER, "payment_history": [{"amount": 10.000000001}]}}, "users": {"u": {"name": "A"}}}
    assert differences(exported, original) == []  # null == absent, money to the cent


def test_a_changed_record_is_reported_with_its_fields() -> None:
    original = {"orders": {"#W1": dict(ORDER), "#W2": dict(ORDER)}}
    expected = expected_state(original, {"orders": {"#W1": {**ORDER, "status": "cancelled", "cancel_reason": "no longer needed"}}})
    assert expected["orders"]["#W2"] == ORDER
    found = differences(original, expected)
    assert len(found) == 1 and found[0].startswith("orders/#W1: ")
    assert 'status="pending" (expected "cancelled")' in found[0] and "cancel_reason" in found[0]
    assert differences({"orders": {}}, {"orders": {"#W1": ORDER}}) == ["orders/#W1: missing"]


def test_communicate_info_matches_numbers_by_value_and_text_by_words() -> None:
    replies = ["You will get $1,093.3 back.", "The kit is Brand A, size 1500."]
    assert missing_info(["1093.30", "brand a", "1500"], replies) == []
    assert missing_info(["500", "Brand B", "93.3"], replies) == ["500", "Brand B", "93.3"]


def test_pass_hat_k() -> None:
    runs = [[True, True, True, True], [True, False, True, True], [False] * 4]
    assert pass_hat_k(runs, 1) == pytest.approx((1 + 0.75 + 0) / 3)
    assert pass_hat_k(runs, 4) == pytest.approx(1 / 3)
    assert pass_hat_k(runs, 2) == pytest.approx((1 + 0.5 + 0) / 3)


def test_speech_noise_spells_ids_and_emails_and_numbers() -> None:
    spoken = speak("Order #W2378156, zip 19122: mia.garcia2723@example.com wants 2 of the $1,150 ones!")
    assert spoken == (
        "order w two three seven eight one five six zip one nine one two two mia dot garcia two seven two three "
        "at example dot com wants two of the one thousand one hundred fifty dollars ones"
    )


def test_runs_vary_deterministically_and_run_zero_is_verbatim() -> None:
    def script(run: int) -> list[str]:
        responder = Responder(CUSTOMER, "7", run)
        said = [responder.opening()]
        for awaiting in ("identity", "order_id", "confirmation", "none", "none", "none"):
            said.append(responder.answer(TurnResult("c", "", awaiting=awaiting)))
        return said

    assert script(0) == [
        CUSTOMER.opening, CUSTOMER.identity, CUSTOMER.order, "yes",
        CUSTOMER.details, CUSTOMER.followups[0], "That's all, thank you.",
    ]
    assert script(1) == script(1) and script(1) != script(2)
    assert "cancel my order w five nine one eight four four two" in script(1)[0]
    assert all(m == m.lower() and "." not in m and not any(c.isdigit() for c in m) for m in script(1))
    finished = Responder(CUSTOMER, "7", 0)
    assert finished.answer(TurnResult("c", "", handoff=True)) is None


def test_customers_load_with_only_the_five_keys(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    path.write_text(json.dumps({"1": {k: f"{k} answer" for k in REQUIRED_KEYS}}))
    customer = load_customers(path)["1"]
    assert customer.details == "details answer" and customer.followups == () and customer.paraphrases == ()
    path.write_text(json.dumps({"1": {"identity": "x", "opening": "y", "typo": "z", "followups": "w"}}))
    with pytest.raises(ValueError, match="missing .*order.*unknown .*typo.*not lists of text .*followups"):
        load_customers(path)


def test_packaged_users_cover_every_train_task(tau2_dir: Path) -> None:
    tasks = json.loads((tau2_dir / "tasks_train.json").read_text())
    assert set(load_customers(packaged_users())) == {t["id"] for t in tasks}


# --- whole runs on the τ² store, with a stand-in agent that follows a fixed script -----------------


class CancellingAgent:
    """Asks who the customer is and which order, previews the cancellation and, unless it is the idle
    task's conversation, applies it on yes."""

    def __init__(self, shop: Shop) -> None:
        self.shop, self.heard = shop, []

    def handle(self, turn: TurnInput) -> TurnResult:
        self.heard.append(turn.text)
        session = self.shop.session(turn.conversation_id)
        step = len(self.heard)
        if step == 1:
            return TurnResult(turn.conversation_id, "Your email, please?", awaiting="identity")
        if step == 2:
            session.find_user_id_by_email("sofia.rossi2645@example.com")
            return TurnResult(turn.conversation_id, "Which order?", awaiting="order_id")
        if step == 3:
            args = {"order_id": "#W5918442", "reason": "no longer needed"}
            self.token = session.preview("cancel_pending_order", args).token
            return TurnResult(turn.conversation_id, "Cancel #W5918442?", awaiting="confirmation")
        if step == 4 and not turn.conversation_id.startswith("eval-idle-"):
            session.confirm(self.token, idempotency_key="k")
            action = ActionRecord("cancel_pending_order", {"order_id": "#W5918442"}, ok=True)
            return TurnResult(turn.conversation_id, "Done: $1,463.70 goes back to your card.", actions=[action])
        return TurnResult(turn.conversation_id, "Anything else?")


TASK = {
    "id": "cancel",
    "evaluation_criteria": {
        "actions": [
            {"name": "find_user_id_by_email", "arguments": {"email": "sofia.rossi2645@example.com"}},
            {"name": "cancel_pending_order", "arguments": {"order_id": "#W5918442", "reason": "no longer needed"}},
        ],
        "communicate_info": ["1463.70"],
    },
}


def test_a_conversation_that_does_the_gold_change_passes_and_one_that_does_not_fails(tau2_dir: Path) -> None:
    agents: list[CancellingAgent] = []

    def make(shop: Shop) -> CancellingAgent:
        agents.append(CancellingAgent(shop))
        return agents[-1]

    tasks = [TASK, {**TASK, "id": "idle"}]  # no oracle: the expected state comes from replaying the gold actions
    report = evaluate(tasks, {"cancel": CUSTOMER, "idle": CUSTOMER}, tau2_dir / "db.json", make, runs=2)
    assert [o.success for o in report.outcomes["cancel"]] == [True, True], report.table()
    assert agents[0].heard[:4] == [CUSTOMER.opening, CUSTOMER.identity, CUSTOMER.order, "yes"]
    assert agents[1].heard[0].endswith(speak(CUSTOMER.paraphrases[0]))  # after an optional filler word
    for outcome in report.outcomes["idle"]:
        assert not outcome.success and outcome.end == "done"
        assert any(d.startswith("orders/#W5918442: ") and "cancelled" in d for d in outcome.differences)
        assert outcome.missing_info == ["1463.70"]
    assert report.pass_hat(1) == report.pass_hat(2) == 0.5
    assert "pass^1 50.0%, pass^2 50.0%" in report.table()


def test_the_real_agent_passes_a_task_through_the_harness(tau2_dir: Path, settings) -> None:
    build = pytest.importorskip("shopagent.agent.build", reason="the agent builder is not wired yet")
    from shopagent.agent.agents import ShopAgent

    base = build.build_agent(settings)  # templates only: settings has llm="none"
    tasks = [t for t in json.loads((tau2_dir / "tasks_train.json").read_text()) if t["id"] == "75"]
    oracle = json.loads((tau2_dir / "expected_train.json").read_text())
    report = evaluate(tasks, load_customers(packaged_users()), tau2_dir / "db.json",
                      lambda shop: ShopAgent(shop, base.stages), oracle=oracle)
    outcome = report.outcomes["75"][0]
    assert outcome.success, report.table() + "\n" + "\n".join(f"{t.customer} -> {t.agent}" for t in outcome.transcript)
