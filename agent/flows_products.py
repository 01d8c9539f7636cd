"""Product and policy flows: catalog questions, product search, and the shop's policy, which
change nothing.

A mixin of :class:`~shopagent.agent.dialogue.Dialogue`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shopagent.agent import answers, resolve
from shopagent.agent.availability import SearchUnavailable

if TYPE_CHECKING:
    from shopagent.agent.dialogue import Decision, DialogueState


class ProductFlows:
    """Questions answered from the catalog, searches, and the shop's policy."""

    def _flow_product_search(self, state: DialogueState, text: str, decision: Decision) -> None:
        """A question about a product is answered from the catalog (or the shopper's purchases);
        anything else is a search."""
        if answers.about_purchase(text) and self.session.user_id is None:
            state.awaiting = "identity"
            decision.say("ask_identity")
            return
        state.finish_flow()
        answer = answers.answer_product_question(self.session, text)
        if answer is not None:
            decision.say(answer.template, **answer.facts)
            return
        try:
            cards = self.search_products(text, self.session.user_id) if self.search_products else []
        except SearchUnavailable:
            decision.say("search_unavailable")
            return
        found = answers.found_products(cards)
        decision.cards.extend(cards)
        decision.say(found.template, **found.facts)

    _flow_product_question = _flow_product_search

    def _product_aside(self, state: DialogueState, clause: str, decision: Decision) -> bool:
        """A product question asked alongside another request is answered at once when the catalog
        can, else queued for after it; False when it is the current flow's own question, or no question
        but what an order holds ("Order #W… has two kettles."), which tells the request its order."""
        if state.flow in ("product_question", "product_search") or "?" not in clause and resolve.orders_named(clause):
            return False
        signed_out = answers.about_purchase(clause) and self.session.user_id is None
        answer = None if signed_out else answers.answer_product_question(self.session, clause)
        if answer is not None:
            decision.say(answer.template, **answer.facts)
        else:
            state.queue.append({"flow": "product_question", "said": clause})
        return True

    def _flow_policy_question(self, state: DialogueState, text: str, decision: Decision) -> None:
        state.finish_flow()
        try:
            passages = self.search_policy(text) if self.search_policy else []
        except SearchUnavailable:
            decision.say("search_unavailable")
            return
        if not passages:
            decision.say("policy_unknown")
            return
        source, passage = passages[0]
        decision.say("policy_answer", source=source, passage=passage)
