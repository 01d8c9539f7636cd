"""Account flows: the shopper's default address (and the order addresses changed with it) and the
account details.

A mixin of :class:`~shopagent.agent.dialogue.Dialogue` (see :mod:`shopagent.agent.flows_orders`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shopagent.agent import addresses, resolve, wording
from shopagent.agent.flows_orders import FLOW_STATUS

if TYPE_CHECKING:
    from shopagent.agent.dialogue import Decision, DialogueState


class AccountFlows:
    """Address changes (the account's or an order's) and the account details."""

    def _flow_update_address(self, state: DialogueState, text: str, decision: Decision) -> None:
        assert self.session.user_id is not None
        if addresses.means_order_address(text):
            state.flow, state.slots["modify"] = "modify_order", "address"
            self._flow_modify_order(state, text, decision)
            return
        if decision.plans and not addresses.asks_address_change(text):
            state.finish_flow()  # "my NYC address from my other order" beside another request: its answer, said again
            return
        if addresses.means_both_addresses(text) and not state.slots.get("alone"):  # "change it and my profile address to …"
            # the order's part, queued alone when split off, needs the whole sentence for its new address
            state.queue = [r for r in state.queue if r["flow"] != "modify_order" or "order_id" in r or r["said"] not in text]
            state.queue.insert(0, {"flow": "modify_order", "said": text, "alone": True})
        self._queue_order_address(state, text)
        self._address_change(state, text, decision, "modify_user_address", {"user_id": self.session.user_id})

    def _queue_order_address(self, state: DialogueState, text: str) -> None:
        """An order's address asked to change along with the account's ("my order still goes to my old
        flat, switch it to … . And update my default address"): queued next, with its order told now,
        while "my old address" still means the account's."""
        order_words = addresses.order_address_request(text)
        if order_words is not None and all(request["said"] != order_words for request in state.queue):
            state.queue.insert(0, {"flow": "modify_order", "said": order_words})
        asked = [r for r in state.queue if r["flow"] == "modify_order" and "order_id" not in r
                 and (r.get("alone") or addresses.means_order_address(r["said"]))]
        if not asked:
            return
        orders = self._orders()
        pending = [o for o in orders if o["status"] in FLOW_STATUS["modify_order"][0]]
        for request in asked:
            meant, _ = resolve.orders_meant(request["said"], pending, [o for o in orders if o not in pending])
            if len(meant) == 1:
                request["order_id"] = meant[0]["order_id"]

    def _address_change(
        self, state: DialogueState, text: str, decision: Decision, tool: str, target: dict[str, str]
    ) -> None:
        """A new address said in full, or one of the shopper's own ("my default address", "the one on
        my other order")."""
        user = self._user()
        current = self.session.get_order_details(target["order_id"])["address"] if "order_id" in target else user["address"]
        said = state.slots.get("said") or [text]
        address = addresses.parse_address(said[-1]) or addresses.parse_address(text)
        if address is None:
            known = [(label, a) for label, a in self._known_addresses()  # an order is never its own new address
                     if label.split(" ", 1)[0] != target.get("order_id")]
            # said again once done ("my NYC address from my other order"): it is the current one, nothing to ask
            found = next((a for exclude in (current, None) for words in dict.fromkeys((said[-1], text))
                          if (a := addresses.address_mentioned(words, known, exclude))), None)
            address = {k: str(found.get(k, "")) for k in ("address1", "address2", "city", "state", "zip", "country")} if found else None
        if address is None:
            state.awaiting = "address"
            decision.say("ask_address")
            return
        if addresses.same_address(address, current):  # e.g. said again once done: nothing to change
            state.finish_flow()
            decision.say("address_already", address=wording.address_line(current))
            return
        self._preview(state, decision, tool, {**target, **address})

    def _flow_account_info(self, state: DialogueState, text: str, decision: Decision) -> None:
        user = self._user()
        decision.say(
            "account_info",
            name=f"{user['name']['first_name']} {user['name']['last_name']}",
            email=user["email"],
            address=wording.address_line(user["address"]),
            methods="; ".join(wording.method_label(m) for m in user["payment_methods"].values()),
        )
        state.finish_flow()
