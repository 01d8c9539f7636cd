"""Dialogue: decide what to do with a shopper's message, under the shop's policy.

:meth:`Dialogue.step` takes the persisted :class:`DialogueState`, the message and its understanding
(intent + entities) and returns a :class:`Decision`: reply plans (template + verified facts), what the
agent now awaits, product cards and the store actions taken. Code decides everything here; the LLM
only phrases the plans afterwards. Policy is enforced twice: the flows ask for what the policy needs
(identity first, an explicit yes before any change), and the store operations refuse anything
outside it whatever the dialogue does.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from shopagent.agent import answers, resolve
from shopagent.agent.availability import SearchUnavailable
from shopagent.agent.entities import Entities, find_emails, named_products
from shopagent.agent.store.errors import NotFound, StoreError, WrongUser
from shopagent.agent.store.shop import ShopSession
from shopagent.agent.turn import ActionRecord, Awaiting, ProductCard
from shopagent.agent.writer import ReplyPlan

ORDER_FLOWS = ("order_status", "cancel_order", "modify_order", "return_item", "exchange_item")
ACCOUNT_FLOWS = (*ORDER_FLOWS, "update_address", "account_info")
# Which order statuses each flow can act on, and how the policy words it.
_FLOW_STATUS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "cancel_order": (("pending",), "cancelled", "pending"),
    "modify_order": (("pending",), "changed", "pending"),
    "return_item": (("delivered",), "returned", "delivered"),
    "exchange_item": (("delivered",), "exchanged", "delivered"),
}


@cache
def templates() -> dict[str, dict[str, Any]]:
    text = resources.files("shopagent.agent").joinpath("prompts/replies.toml").read_text()
    return tomllib.loads(text)


def plan(name: str, /, **facts: Any) -> ReplyPlan:
    entry = templates()[name]
    return ReplyPlan(entry["text"], {k: str(v) for k, v in facts.items()}, rephrase=not entry.get("exact", False))


@dataclass
class DialogueState:
    """Everything the dialogue remembers between turns (persisted as JSON with the conversation)."""

    flow: str | None = None
    slots: dict[str, Any] = field(default_factory=dict)
    awaiting: Awaiting = "none"
    pending: dict[str, Any] | None = None  # preview token, tool, arguments, summary
    queue: list[dict[str, str]] = field(default_factory=list)  # later requests: {"flow", "said"[, "order_id"]}
    money_back: list[float] = field(default_factory=list)  # per change done: to the shopper (+) or charged (-)
    turns: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> DialogueState:
        return cls(**data) if data else cls()

    def finish_flow(self) -> None:
        self.flow, self.slots, self.awaiting, self.pending = None, {}, "none", None


@dataclass
class Understanding:
    intent: str
    confidence: float
    entities: Entities
    # Other requests in the same message, each with the words that belong to it.
    other_requests: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Decision:
    plans: list[ReplyPlan] = field(default_factory=list)
    awaiting: Awaiting = "none"
    cards: list[ProductCard] = field(default_factory=list)
    actions: list[ActionRecord] = field(default_factory=list)
    handoff: bool = False

    def say(self, name: str, /, **facts: Any) -> Decision:
        self.plans.append(plan(name, **facts))
        return self


ProductSearch = Callable[[str, str | None], list[ProductCard]]
PolicySearch = Callable[[str], list[tuple[str, str]]]  # → [(source title, passage)]


class Dialogue:
    """One conversation's decision-maker over its :class:`ShopSession`."""

    def __init__(
        self,
        session: ShopSession,
        *,
        search_products: ProductSearch | None = None,
        search_policy: PolicySearch | None = None,
    ) -> None:
        self.session = session
        self.search_products = search_products
        self.search_policy = search_policy

    # --- the turn ---------------------------------------------------------------------------

    def step(self, state: DialogueState, text: str, understanding: Understanding) -> Decision:
        state.turns += 1
        decision = Decision()
        self._authenticate_from(text, understanding.entities, decision)
        if state.pending is not None:
            answer = resolve.yes_or_no(text)
            if answer is True:
                self._confirm(state, decision)
                return self._continue(state, decision)
            if answer is False:
                state.finish_flow()
                decision.say("change_declined")
                return self._continue(state, decision)
            if not self._switches(state, understanding):
                decision.plans.append(plan("confirm_change", summary=state.pending["summary"]))
                decision.awaiting = "confirmation"
                return decision
            state.finish_flow()
        if state.money_back and _TOTAL_ASKED.search(text) and not understanding.other_requests:
            back = sum(state.money_back)  # "how much do I get back in total?" over the changes made here
            decision.say("money_total", total=f"${abs(back):,.2f}", way="back to you" if back >= 0 else "to pay")
            return self._continue(state, decision)
        if state.flow is None or self._switches(state, understanding):
            state.finish_flow()
            state.flow = understanding.intent
        own_words = text
        for intent, clause in understanding.other_requests:
            if intent != state.flow and intent in (*ACCOUNT_FLOWS, "human_agent"):
                if intent == "order_status" and not _STATUS_ASKED.search(clause):
                    continue  # "it's on one of my orders" mentions an order, it asks nothing about it
                if intent in _ITEM_FLOWS and not resolve.asks_item_change(clause) and (
                        intent != "modify_order" or _modification(clause) is None):
                    continue  # "I received two tablets but only need one" describes, the request is elsewhere
                if _CONDITIONAL.match(clause):
                    continue  # "if that's not available, cancel it": the current request's fallback
                state.queue.append({"flow": intent, "said": clause})
                if not text.lstrip().startswith(clause):  # the opening words also carry the main request
                    own_words = own_words.replace(clause, " ")
            elif intent == "product_question" and self._product_aside(state, clause, decision):
                own_words = own_words.replace(clause, " ")
        state.slots.setdefault("said", []).append(own_words)
        self._run(state, decision)
        return self._continue(state, decision)

    def _switches(self, state: DialogueState, understanding: Understanding) -> bool:
        """A confident, different request replaces the current flow; answers to questions don't."""
        if state.flow is None:
            return True
        switchable = (*ACCOUNT_FLOWS, "human_agent", "complaint", "product_search", "policy_question", "goodbye")
        return (
            understanding.intent != state.flow
            and understanding.intent in switchable
            and understanding.confidence >= 0.6
            and state.awaiting in ("none", "confirmation")
        )

    def _continue(self, state: DialogueState, decision: Decision) -> Decision:
        """After a flow finishes, start the next queued request in the same turn."""
        while state.flow is None and state.queue and not decision.handoff:
            request = state.queue.pop(0)
            state.flow, state.slots = request["flow"], {"said": [request["said"]]}
            if "order_id" in request:
                state.slots["order_id"] = request["order_id"]
            self._run(state, decision)
        decision.awaiting = state.awaiting
        return decision

    def _run(self, state: DialogueState, decision: Decision) -> None:
        flow = state.flow or "clarify"
        if flow in ACCOUNT_FLOWS and self.session.user_id is None:
            state.awaiting = "identity"
            decision.say("ask_identity")
            return
        handler = getattr(self, f"_flow_{flow}", None)
        if handler is None:
            state.finish_flow()
            decision.say("clarify")
            return
        try:
            handler(state, " ".join(state.slots.get("said", [])), decision)
        except WrongUser:
            state.finish_flow()
            decision.say("other_user")
        except StoreError as exc:
            state.finish_flow()
            decision.say("refused", reason=exc.reason.rstrip("."))

    # --- identity ---------------------------------------------------------------------------

    def _authenticate_from(self, text: str, entities: Entities, decision: Decision) -> None:
        if self.session.user_id is not None:
            return
        # "my email is a@x.com, or maybe b@x.com": try each one said
        attempts: list[tuple[str, dict[str, str]]] = [
            ("find_user_id_by_email", {"email": email}) for email in find_emails(text)]
        if entities.first_name and entities.last_name and entities.zip:
            attempts.append(("find_user_id_by_name_zip", {
                "first_name": entities.first_name, "last_name": entities.last_name, "zip": entities.zip}))
        for tool, args in attempts:
            try:
                self.session.call(tool, args)
            except StoreError as exc:
                decision.actions.append(ActionRecord(tool, args, ok=False, detail=exc.reason))
                continue
            decision.actions.append(ActionRecord(tool, args, ok=True))
            return
        if attempts:
            decision.say("identity_not_found")

    def _user(self) -> dict[str, Any]:
        assert self.session.user_id is not None
        return self.session.get_user_details(self.session.user_id)

    # --- orders -----------------------------------------------------------------------------

    def _orders(self, user: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [self.session.get_order_details(order_id) for order_id in user["orders"]]

    def _resolve_order(
        self, state: DialogueState, text: str, decision: Decision, statuses: tuple[str, ...] | None
    ) -> dict[str, Any] | None:
        """The order the shopper means: named by id, implied by a product or by recency, or the only
        candidate. Naming another order drops the choices made for the previous one."""
        named = resolve.orders_named(state.slots["said"][-1]) if state.slots.get("said") else []
        named = named or resolve.orders_named(text)
        if named and named[-1] != state.slots.get("order_id"):
            for slot in ("order_id", "item_ids", "new_item_ids", "payment_method_id"):
                state.slots.pop(slot, None)
            state.slots["order_id"] = named[-1]
        if "order_id" in state.slots:
            try:
                return self.session.get_order_details(state.slots["order_id"])
            except NotFound:
                missing = state.slots.pop("order_id")
                user = self._user()
                state.awaiting = "order_id"
                decision.say("order_unknown", order_id=missing, orders=", ".join(user["orders"]) or "none")
                return None
        orders = self._orders(self._user())
        candidates = [o for o in orders if statuses is None or o["status"] in statuses]
        said = state.slots.get("said") or [text]
        # the answer to "which order?" first, then everything said
        for words in dict.fromkeys((said[-1], text)) if len(candidates) > 1 else (text,):
            picked, several = resolve.orders_meant(words, candidates, [o for o in orders if o not in candidates])
            if len(picked) == 1 or several:
                break
        if several and len(picked) > 1:  # "both orders": this one now, the others next, same request
            state.queue[0:0] = [{"flow": state.flow or "", "said": text, "order_id": o["order_id"]} for o in picked[1:]]
            picked = picked[:1]
        candidates = picked
        if len(candidates) == 1:
            state.slots["order_id"] = candidates[0]["order_id"]
            return candidates[0]
        if not candidates:
            action, status = _FLOW_STATUS.get(state.flow or "", ((), "changed", "open"))[1:]
            state.finish_flow()
            decision.say("no_suitable_order", action=action, status=status)
            return None
        named = named_products(text, {i["name"] for o in candidates for i in o["items"]})
        shared = {n for n in named if all(any(i["name"] == n for i in o["items"]) for o in candidates)}
        # "the laptop", and every order has one: ask which item, its options tell the orders apart (once;
        # if that did not help, ask for the order itself)
        if shared and state.awaiting != "items":
            state.awaiting = "items"
            decision.say("ask_which_item", items="; ".join(
                f"{_item_label(i)} in order {o['order_id']}" for o in candidates for i in o["items"] if i["name"] in shared))
            return None
        state.awaiting = "order_id"
        decision.say("ask_order", orders="; ".join(_order_line(o) for o in candidates))
        return None

    def _flow_order_status(self, state: DialogueState, text: str, decision: Decision) -> None:
        if _PAID_ASKED.search(text) and answers.about_purchase(text) and self._names_bought_products(text):
            self._flow_product_search(state, text, decision)  # "what did I pay for the grills I bought?"
            return
        order = self._resolve_order(state, text, decision, statuses=None)
        if order is None:
            return
        tracking = [t for f in order.get("fulfillments", []) for t in f.get("tracking_id", [])]
        decision.say(
            "order_status",
            order_id=order["order_id"],
            status=order["status"],
            items=_items_line(order["items"]),
        )
        if tracking:
            decision.say("order_tracking", tracking=", ".join(tracking))
        decision.say("order_total", total=f"${sum(item['price'] for item in order['items']):,.2f}")
        kept = [i for i in order["items"] if i["item_id"] not in (order.get("return_items") or [])]
        if len(kept) < len(order["items"]):
            decision.say("order_kept_total", kept=f"${sum(i['price'] for i in kept):,.2f}")
        state.finish_flow()

    def _flow_cancel_order(self, state: DialogueState, text: str, decision: Decision) -> None:
        if "order_id" not in state.slots and self._only_held_in(text, _FLOW_STATUS["return_item"][0]):
            state.flow = "return_item"  # "cancel the lamp I received": received items can only be returned
            decision.say("delivered_so_return")
            self._flow_return_item(state, text, decision)
            return
        order = self._resolve_order(state, text, decision, statuses=_FLOW_STATUS["cancel_order"][0])
        if order is None:
            return
        reason = state.slots.get("reason") or resolve.cancel_reason(text)
        if reason is None:
            state.awaiting = "reason"
            decision.say("ask_reason", order_id=order["order_id"])
            return
        state.slots["reason"] = reason
        self._preview(state, decision, "cancel_pending_order", {"order_id": order["order_id"], "reason": reason})

    def _flow_return_item(self, state: DialogueState, text: str, decision: Decision) -> None:
        self._item_change(state, text, decision, "return_delivered_order_items", swap=False)

    def _flow_exchange_item(self, state: DialogueState, text: str, decision: Decision) -> None:
        if "order_id" not in state.slots and self._only_held_in(text, _FLOW_STATUS["modify_order"][0]):
            state.flow, state.slots["modify"] = "modify_order", "items"  # not received yet: a change to the order
            self._flow_modify_order(state, text, decision)
            return
        self._item_change(state, text, decision, "exchange_delivered_order_items", swap=True)

    def _names_bought_products(self, text: str) -> bool:
        return bool(named_products(text, {i["name"] for o in self._orders(self._user()) for i in o["items"]}))

    def _only_held_in(self, text: str, statuses: tuple[str, ...]) -> bool:
        """The products named are only in orders of these statuses (e.g. not received yet)."""
        orders = self._orders(self._user())
        named = named_products(text, {i["name"] for o in orders for i in o["items"]})
        holders = {o["status"] for o in orders if any(i["name"] in named for i in o["items"])}
        return bool(holders) and holders <= set(statuses)

    def _flow_modify_order(self, state: DialogueState, text: str, decision: Decision) -> None:
        order = self._resolve_order(state, text, decision, statuses=_FLOW_STATUS["modify_order"][0])
        if order is None:
            return
        what = state.slots.get("modify") or _modification(text)
        if what in (None, "items") and order["status"] in _FLOW_STATUS["exchange_item"][0]:
            state.flow = "exchange_item"  # "change the lamp in order #W…", already received: only an exchange can
            self._item_change(state, text, decision, "exchange_delivered_order_items", swap=True)
            return
        if what == "address" or resolve.parse_address(text):
            state.slots["modify"] = "address"
            self._address_change(state, text, decision, "modify_pending_order_address", {"order_id": order["order_id"]})
        elif what == "payment":
            state.slots["modify"] = "payment"
            method = self._payment_method(state, text, decision, "to pay for this order",
                                          resolve.original_payment_method(order), exclude_original=True)
            if method is not None:
                self._preview(state, decision, "modify_pending_order_payment",
                              {"order_id": order["order_id"], "payment_method_id": method})
        else:
            state.slots["modify"] = "items"
            self._item_change(state, text, decision, "modify_pending_order_items", swap=True)

    def _item_change(self, state: DialogueState, text: str, decision: Decision, tool: str, *, swap: bool) -> None:
        statuses = _FLOW_STATUS[state.flow or "return_item"][0]
        order = self._resolve_order(state, text, decision, statuses=statuses)
        if order is None:
            return
        verb = {"return_delivered_order_items": "return", "exchange_delivered_order_items": "exchange"}.get(tool, "change")
        if "item_ids" not in state.slots:
            # only the words about this action: "return the bottle and exchange the bed"
            own = " ".join(resolve.clauses_for(verb, said) for said in state.slots.get("said") or [text])
            chosen = resolve.chosen_items(own, order["items"])
            if not chosen and len(order["items"]) == 1:
                chosen = order["items"]
            if not chosen or resolve.unclear_items(own, order["items"]):
                state.awaiting = "items"
                decision.say("ask_items", order_id=order["order_id"], action=verb, items=_items_line(order["items"]))
                return
            state.slots["item_ids"] = [item["item_id"] for item in chosen]
        if swap and "new_item_ids" not in state.slots:
            items = {item["item_id"]: item for item in order["items"]}
            new_ids: list[str] = []
            for n, item_id in enumerate(list(state.slots["item_ids"])):
                item = items[item_id]
                product = self.session.get_product_details(item["product_id"])
                wanted = text
                if (units := state.slots["item_ids"].count(item_id)) > 1:  # "two kettles: one for …, the other for …"
                    wishes = resolve.unit_wishes(text, units)
                    wanted = wishes[state.slots["item_ids"][:n].count(item_id)] if wishes else text
                # asked once already: the best fit, even if it changes an option never mentioned
                variant = resolve.choose_variant(wanted, item, product["variants"].values(), strict=state.awaiting != "items")
                if variant is None and len(state.slots["item_ids"]) > 1 and resolve.price_preference(text):
                    state.slots["item_ids"].remove(item_id)  # "all to the cheapest": this one already is
                    continue
                if variant is None:
                    if (fallback := resolve.fallback_request(text, order["status"])) is not None:
                        # "if that's not available, cancel the order": do that instead, now
                        state.finish_flow()
                        state.queue.insert(0, {"flow": fallback[0], "said": fallback[1], "order_id": order["order_id"]})
                        decision.say("no_variant_fallback", item=item["name"])
                        return
                    state.awaiting = "items"
                    decision.say("ask_new_variant", item=_item_label(item), options=_variant_options(product, item))
                    return
                new_ids.append(variant["item_id"])
            state.slots["new_item_ids"] = new_ids
        original = resolve.original_payment_method(order)
        if tool == "return_delivered_order_items":  # refunds go to the original method or a gift card
            method = self._payment_method(state, text, decision, "for the refund", original, refund_only=True)
        else:
            method = self._payment_method(state, text, decision, "for any price difference", original)
        if method is None:
            return
        args: dict[str, Any] = {"order_id": order["order_id"], "item_ids": state.slots["item_ids"]}
        if swap:
            args["new_item_ids"] = state.slots["new_item_ids"]
        args["payment_method_id"] = method
        self._preview(state, decision, tool, args)

    def _payment_method(
        self,
        state: DialogueState,
        text: str,
        decision: Decision,
        purpose: str,
        original: str | None,
        *,
        refund_only: bool = False,
        exclude_original: bool = False,
    ) -> str | None:
        if "payment_method_id" in state.slots:
            return state.slots["payment_method_id"]
        usable = [
            m for m in self._user()["payment_methods"].values()
            if not (exclude_original and m["id"] == original)
            and (not refund_only or m["id"] == original or m["source"] == "gift_card")
        ]
        said = resolve.payment_method_mentioned(text, usable, original)
        if said is None and len(usable) == 1 and state.awaiting == "payment_method":
            said = usable[0]  # asked, and there is only one possible answer
        if said is None:
            state.awaiting = "payment_method"
            decision.say("ask_payment", purpose=purpose, methods="; ".join(_method_label(m) for m in usable))
            return None
        state.slots["payment_method_id"] = said["id"]
        return said["id"]

    # --- addresses and account ----------------------------------------------------------------

    def _flow_update_address(self, state: DialogueState, text: str, decision: Decision) -> None:
        assert self.session.user_id is not None
        if resolve.means_order_address(text):
            state.flow, state.slots["modify"] = "modify_order", "address"
            self._flow_modify_order(state, text, decision)
            return
        self._address_change(state, text, decision, "modify_user_address", {"user_id": self.session.user_id})

    def _address_change(
        self, state: DialogueState, text: str, decision: Decision, tool: str, target: dict[str, str]
    ) -> None:
        """A new address said in full, or one of the shopper's own ("my default address", "the one on
        my other order")."""
        user = self._user()
        current = self.session.get_order_details(target["order_id"])["address"] if "order_id" in target else user["address"]
        said = state.slots.get("said") or [text]
        address = resolve.parse_address(said[-1]) or resolve.parse_address(text)
        if address is None:
            known = [("default", user["address"])] + [
                (" | ".join([o["order_id"], *(i["name"] for i in o["items"])]), o.get("address") or {})
                for o in self._orders(user)
            ]
            found = resolve.address_mentioned(said[-1], known, current) or resolve.address_mentioned(text, known, current)
            address = {k: str(found.get(k, "")) for k in ("address1", "address2", "city", "state", "zip", "country")} if found else None
        if address is None:
            state.awaiting = "address"
            decision.say("ask_address")
            return
        if resolve.same_address(address, current):  # e.g. said again once done: nothing to change
            state.finish_flow()
            decision.say("address_already", address=_address_line(current))
            return
        self._preview(state, decision, tool, {**target, **address})

    def _flow_account_info(self, state: DialogueState, text: str, decision: Decision) -> None:
        user = self._user()
        decision.say(
            "account_info",
            name=f"{user['name']['first_name']} {user['name']['last_name']}",
            email=user["email"],
            address=_address_line(user["address"]),
            methods="; ".join(_method_label(m) for m in user["payment_methods"].values()),
        )
        state.finish_flow()

    # --- changes: preview, then an explicit yes -------------------------------------------------

    def _preview(self, state: DialogueState, decision: Decision, tool: str, args: dict[str, Any]) -> None:
        try:
            preview = self.session.preview(tool, args)
        except StoreError as exc:
            decision.actions.append(ActionRecord(tool, args, ok=False, detail=exc.reason))
            raise
        state.pending = {"token": preview.token, "tool": tool, "arguments": args, "summary": preview.summary,
                         "back": _money_back(preview.details)}
        state.awaiting = "confirmation"
        decision.plans.append(plan("confirm_change", summary=preview.summary))

    def _confirm(self, state: DialogueState, decision: Decision) -> None:
        pending = state.pending
        assert pending is not None
        key = f"{self.session.conversation_id}:{pending['token'][:24]}"
        try:
            self.session.confirm(pending["token"], idempotency_key=key)
        except StoreError as exc:
            decision.actions.append(ActionRecord(pending["tool"], pending["arguments"], ok=False, detail=exc.reason))
            state.finish_flow()
            decision.say("refused", reason=exc.reason.rstrip("."))
            return
        decision.actions.append(ActionRecord(pending["tool"], pending["arguments"], ok=True))
        state.money_back.append(pending.get("back", 0.0))
        state.finish_flow()
        decision.say("change_done", done=pending["summary"])

    # --- everything else ----------------------------------------------------------------------

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
        can, else queued for after it; False when it is the current flow's own question."""
        if state.flow in ("product_question", "product_search"):
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


_PAID_ASKED = re.compile(r"\b(?:how much|what|total)\b.*\b(?:i|we) (?:\w+ )?(?:pa(?:y|id)|spen[dt])\b", re.I)
_ITEM_FLOWS = ("cancel_order", "return_item", "exchange_item", "modify_order")
_TOTAL_ASKED = re.compile(r"\bhow much\b(?!.*\b(?:did i|have i|i paid|i spent)\b).*\b(?:in total|total|altogether|in all|back|refund\w*|save|pay)\b|\btotal (?:refund|amount)", re.I)
_CONDITIONAL = re.compile(r"\W*(?:if|otherwise|or else|failing that|unless)\b", re.I)
_STATUS_ASKED = re.compile(r"\?|\b(?:track\w*|status|where|when|arriv\w*|deliver\w*|shipped)\b", re.I)


def _money_back(details: Mapping[str, Any]) -> float:
    """What a change gives back to the shopper (a charge is negative), from the store's preview."""
    if "refunds" in details:
        return float(sum(r["amount"] for r in details["refunds"]))
    if "refund_amount" in details:
        return float(details["refund_amount"])
    return -float(details.get("price_difference") or 0.0)


# --- wording helpers (facts all come from store records) ----------------------------------------


def _modification(text: str) -> str | None:
    lowered = text.lower()
    if re.search(r"\baddress\b|\bship(?:ping)? to\b|\bdeliver(?:y)? to\b", lowered):
        return "address"
    if re.search(r"\bpay(?:ment|ing)?\b|\bcard\b|\bpaypal\b|\bgift card\b", lowered) and not re.search(
        r"\b(?:item|size|color|colour|switch|version)\b", lowered
    ):
        return "payment"
    return None


def _item_label(item: Mapping[str, Any]) -> str:
    options = ", ".join(f"{v}" for v in item["options"].values())
    return f"{item['name']} ({options})" if options else item["name"]


def _items_line(items: list[Mapping[str, Any]]) -> str:
    return "; ".join(f"{_item_label(item)} at ${item['price']:.2f}" for item in items)


def _order_line(order: Mapping[str, Any]) -> str:
    names = ", ".join(item["name"] for item in order["items"])
    return f"{order['order_id']} ({order['status']}: {names})"


def _variant_options(product: Mapping[str, Any], current: Mapping[str, Any]) -> str:
    available = [v for v in product["variants"].values() if v.get("available") and v["item_id"] != current["item_id"]]
    lines = [", ".join(str(x) for x in v["options"].values()) + f" at ${v['price']:.2f}" for v in available[:8]]
    return "; ".join(lines) or "none right now"


def _method_label(method: Mapping[str, Any]) -> str:
    if method["source"] == "gift_card":
        balance = method.get("balance")
        return f"gift card ({method['id']}, balance ${balance:.2f})" if balance is not None else f"gift card ({method['id']})"
    if method["source"] == "credit_card":
        return f"{method.get('brand', 'credit')} card ending {method.get('last_four', '????')}"
    return method["source"]


def _address_line(address: Mapping[str, str]) -> str:
    parts = [address.get(k, "") for k in ("address1", "address2", "city", "state", "zip", "country")]
    return ", ".join(p for p in parts if p)
