"""The reply writer with a scripted chat model standing in for a misbehaving LLM (fault injection),
and with the real local model (prompt cache, grounded output)."""

from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from shopagent.agent import grounding
from shopagent.agent.models import LlamaCppChat, load_chat_model
from shopagent.agent.writer import ReplyPlan, ReplyWriter
from shopagent.settings import Settings

PLAN = ReplyPlan(
    template="Order {order_id} is {status}. The refund of {amount} goes to {method}.",
    facts={"order_id": "#W2611340", "status": "cancelled", "amount": "$54.04", "method": "your Visa"},
)


def scripted(*replies: str) -> GenericFakeChatModel:
    return GenericFakeChatModel(messages=iter([AIMessage(content=r) for r in replies]))


class Broken(GenericFakeChatModel):
    def _stream(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        raise ConnectionError("llm server down")


def test_template_only_without_model() -> None:
    writer = ReplyWriter(None)
    assert writer.write(PLAN) == "Order #W2611340 is cancelled. The refund of $54.04 goes to your Visa."
    assert writer.stats.template_only == 1


def test_llm_rephrasing_with_placeholders_is_filled() -> None:
    writer = ReplyWriter(scripted("Done! Order {order_id} is now {status}. You'll get {amount} back on {method}."))
    text = writer.write(PLAN)
    assert text == "Done! Order #W2611340 is now cancelled. You'll get $54.04 back on your Visa."
    assert writer.stats.llm == 1 and writer.stats.fallback == 0


def test_invented_price_falls_back_to_template() -> None:
    writer = ReplyWriter(scripted("Order {order_id} is {status}. You'll get $60.00 back on {method}."))
    events = list(writer.stream(PLAN))
    assert events[-1].kind == "reset"
    assert events[-1].text == PLAN.text
    assert "$60.00" not in events[-1].text
    assert writer.stats.fallback == 1


def test_invented_fact_in_first_sentence_never_reaches_the_client() -> None:
    writer = ReplyWriter(scripted("Your order #W0000001 is {status}. Refund {amount} to {method}."))
    events = list(writer.stream(PLAN))
    assert [e.kind for e in events] == ["delta"]
    assert events[0].text == PLAN.text


def test_dropped_fact_falls_back() -> None:
    writer = ReplyWriter(scripted("Order {order_id} is {status}."))
    assert writer.write(PLAN) == PLAN.text
    assert writer.stats.fallback_rate == 1.0


def test_unknown_or_malformed_placeholder_falls_back() -> None:
    for reply in ("Order {order_id} is {status}, refund {refund_total}.", "Order {order_id is {status}."):
        writer = ReplyWriter(scripted(reply))
        assert writer.write(PLAN) == PLAN.text


def test_backend_failure_still_answers() -> None:
    writer = ReplyWriter(Broken(messages=iter([])))
    assert writer.write(PLAN) == PLAN.text
    assert writer.stats.fallback == 1


def test_exact_plans_are_never_rephrased() -> None:
    exact = ReplyPlan(template=PLAN.template, facts=PLAN.facts, rephrase=False)
    writer = ReplyWriter(scripted("Something else entirely."))
    assert writer.write(exact) == exact.text


@pytest.mark.slow
def test_local_model_prefills_only_the_draft_and_stays_grounded(agent_settings: Settings) -> None:
    chat = load_chat_model(agent_settings.model_copy(update={"llm": "local"}))
    assert isinstance(chat, LlamaCppChat)
    writer = ReplyWriter(chat)  # evaluates the fixed system prompt once, before any shopper
    system_tokens = len(chat._model().tokenize(writer.system_prompt.encode()))
    warmed = chat.perf()
    assert warmed["prompt_tokens"] >= system_tokens
    for plan in (PLAN, ReplyPlan("Thank you, {name}. I've found your account.", {"name": "Emma"})):
        before = chat.perf()
        text = writer.write(plan)
        prefilled = chat.perf()["prompt_tokens"] - before["prompt_tokens"]
        assert 0 < prefilled < system_tokens  # only the new draft: the system prompt stays cached
        assert grounding.is_grounded(text, plan.facts)
        assert all(str(value) in text for value in plan.facts.values())
    assert writer.stats.llm + writer.stats.fallback == 2
