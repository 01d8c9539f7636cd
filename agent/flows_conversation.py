"""Conversation flows: greeting, goodbye, out of scope, and handing the conversation to a human.

A mixin of :class:`~shopagent.agent.dialogue.Dialogue`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shopagent.agent.turn import ActionRecord

if TYPE_CHECKING:
    from shopagent.agent.dialogue import Decision, DialogueState


class ConversationFlows:
    """What needs no store record: greetings, goodbyes, out of scope, and handoffs to a human."""

    def _flow_human_agent(self, state: DialogueState, text: str, decision: Decision) -> None:
        self._handoff(state, decision, "handoff", f"Customer asked for a human agent: {text[:500]}")

    def _flow_complaint(self, state: DialogueState, text: str, decision: Decision) -> None:
        self._handoff(state, decision, "complaint", f"Customer complaint: {text[:500]}")

    def _handoff(self, state: DialogueState, decision: Decision, reply: str, summary: str) -> None:
        self.session.transfer_to_human_agents(summary)
        decision.actions.append(ActionRecord("transfer_to_human_agents", {"summary": summary}, ok=True))
        decision.handoff = True
        state.finish_flow()
        state.queue.clear()
        decision.say(reply)

    def _flow_greeting(self, state: DialogueState, text: str, decision: Decision) -> None:
        state.finish_flow()
        if not decision.plans:
            decision.say("greeting")

    def _flow_goodbye(self, state: DialogueState, text: str, decision: Decision) -> None:
        state.finish_flow()
        decision.say("goodbye")

    def _flow_out_of_scope(self, state: DialogueState, text: str, decision: Decision) -> None:
        state.finish_flow()
        decision.say("out_of_scope")
