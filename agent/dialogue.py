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
from dataclasses import asdict, dataclass, field, replace
from functools import cache
from importlib import resources
from typing import Any

from shopagent.agent import addresses, answers, resolve, variant_choice
from shopagent.agent.availability import SearchUnavailable
from shopagent.agent.entities import Entities, PaymentMention, find_emails, name_candidates, named_products
from shopagent.agent.intents import segments
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
    # changes done or declined here, so a restated request is acknowledged, not redone:
    # {"tool", "summary", "order_id", "items" (product names), "address", "was" (an order's former address), "declined"}
    done: list[dict[str, Any]] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)  # products the shopper lost: refused once, never offered again
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
        # The shopper's account and orders as read in this turn: many rules consult them, and only a
        # confirmed change (``_confirm``) alters them, which drops this snapshot.
        self._snapshot: tuple[str, dict[str, Any], list[dict[str, Any]]] | None = None
        self._trying = False  # a change is being previewed only to compare it (``_rival_changes``)

    # --- the turn ---------------------------------------------------------------------------

    def step(self, state: DialogueState, text: str, understanding: Understanding) -> Decision:
        state.turns += 1
        decision = Decision()
        understanding = _address_in_pieces(text, understanding)
        self._authenticate_from(text, understanding.entities, decision)
        if state.pending is not None:
            answer = resolve.yes_or_no(text)
            if answer is True:
                self._confirm(state, decision)
                return self._continue(state, decision)
            if self._aside_while_pending(state, text, understanding, decision):  # "wait, how much is that?"
                decision.plans.append(plan("confirm_change", summary=state.pending["summary"]))
                decision.awaiting = "confirmation"
                return decision
            if answer is False:
                if "memo" in state.pending:
                    state.done.append({**state.pending["memo"], "declined": True})
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
            decision.say("money_total", money=_money_line(back))
            return self._continue(state, decision)
        fresh = state.flow is None or self._switches(state, understanding)
        if fresh:
            state.finish_flow()
            text, understanding = self._unsaid(state, text, understanding, decision)
            if not text:
                return self._continue(state, decision)
            state.flow = understanding.intent
            if state.flow in _ASIDES:  # "The tablet: the cheapest one." asks to change an owned tablet
                own = text
                for _, clause in understanding.other_requests:
                    own = own.replace(clause, " ")
                state.flow = self._item_request(own) or state.flow
                if state.flow in _ASIDES:  # "how many tees do you have? And I'd like my small ones in purple."
                    asked = [(flow, part) for part in segments(own)[1:] if (flow := self._asked_item_flow(part))]
                    understanding = replace(understanding, other_requests=[*understanding.other_requests, *asked])
        elif state.awaiting == "reason" and (reason := resolve.cancel_reason(text)):
            state.slots["reason"] = reason  # "the lamp, I no longer need it": the answer, though it names an item
        own_words = text
        queued = len(state.queue)
        for intent, clause in understanding.other_requests:
            asked = (_order_change(clause) or self._item_request(clause)) if intent in _ASIDES and intent != state.flow else None
            if asked:
                intent = asked  # queued below like any other request; its words already ask for a change
            if intent != state.flow and intent in (*ACCOUNT_FLOWS, "human_agent"):
                if intent == "order_status" and not _STATUS_ASKED.search(clause):
                    continue  # "it's on one of my orders" mentions an order, it asks nothing about it
                if not asked and intent in _ITEM_FLOWS and not resolve.asks_item_change(clause) and (
                        intent != "modify_order" or _order_change(clause) is None and _modification(clause) is None):
                    continue  # "I received two tablets but only need one" describes, the request is elsewhere
                if _CONDITIONAL.match(clause):
                    continue  # "if that's not available, cancel it": the current request's fallback
                said = clause
                if intent in ("return_item", "exchange_item") and (lost := _LOST.search(text)) and not _LOST.search(clause):
                    said = f"{lost.group()}. {clause}"  # what was lost, for the flow to weigh
                state.queue.extend(_by_kind(clause, f"{state.turns}:{clause[:40]}") if intent == "modify_order"
                                   else [{"flow": intent, "said": said}])
                if not text.lstrip().startswith(clause):  # the opening words also carry the main request
                    own_words = own_words.replace(clause, " ")
            elif (intent == "product_question" or intent == "product_search" and clause.rstrip().endswith("?")) and \
                    self._product_aside(state, clause, decision):  # "… also how many lamps do you have?"
                own_words = own_words.replace(clause, " ")
        if fresh and state.queue[queued:] and state.queue[queued]["flow"] in _ITEM_FLOWS and \
                _CONDITIONAL.match(_FILLER_LEAD.sub("", own_words)):
            # "Also the skateboard: make it maple. If you can't, cancel that order.": the intent read was the
            # fallback's; the request is the change it falls back from, whose flow weighs the fallback itself
            request = state.queue.pop(queued)
            state.flow, own_words = request["flow"], f"{request['said']} {own_words}"
        if fresh:
            self._split_actions(state, own_words)
            if self._lock_free_first(state, own_words):
                return self._continue(state, decision)
        state.slots.setdefault("said", []).append(own_words)
        self._run(state, decision)
        return self._continue(state, decision)

    def _aside_while_pending(self, state: DialogueState, text: str, understanding: Understanding,
                             decision: Decision) -> bool:
        """A question asked while a change awaits its yes ("how much would I get back?", "what's the
        return policy?") is answered and the change keeps waiting: only a new request replaces it."""
        assert state.pending is not None
        if understanding.other_requests:
            return False
        if _TOTAL_ASKED.search(text):
            decision.say("pending_money", money=_money_line(state.pending.get("back", 0.0)))
            return True
        if understanding.intent not in _QUESTION_FLOWS or not _QUESTION.search(text):
            return False
        kept = state.flow, state.slots, state.pending
        state.flow, state.slots, state.pending = understanding.intent, {"said": [text]}, None
        self._run(state, decision)
        state.flow, state.slots, state.pending = kept
        return True

    def _split_actions(self, state: DialogueState, own_words: str) -> None:
        """"Return the bottle, and exchange the bed": two requests in one sentence. The other action's words
        are queued next. Not when either depends on the other ("exchange it if the new one is under $200,
        otherwise return it"): the flow weighs that condition itself."""
        if state.flow not in ("return_item", "exchange_item") or _CONDITION_WORD.search(own_words):
            return
        for flow, action in (("return_item", "return"), ("exchange_item", "exchange")):
            words = resolve.clauses_for(action, own_words)
            if flow != state.flow and words != own_words and all(r["flow"] != flow for r in state.queue):
                state.queue.insert(0, {"flow": flow, "said": words})

    def _lock_free_first(self, state: DialogueState, own_words: str) -> bool:
        """A change of a pending order's items locks it, so changes of its address or payment go first:
        a change request mixing kinds is split by kind, and the requests are requeued lock-free first.
        True when that changed anything (the current flow then waits in the queue)."""
        requests = [{"flow": state.flow or "", "said": own_words}]
        if state.flow == "modify_order" or state.flow == "exchange_item" and _modification(own_words) == "address":
            requests = _by_kind(own_words, str(state.turns))  # "swap my jigsaw for … and fix my address to …"
        everything = [*requests, *state.queue]
        ordered = sorted(everything, key=lambda r: _change_kind(r["flow"], r["said"]) not in ("address", "payment"))
        if len(requests) == 1 and ordered == everything:
            return False
        state.finish_flow()
        state.queue = ordered
        return True

    def _unsaid(
        self, state: DialogueState, text: str, understanding: Understanding, decision: Decision
    ) -> tuple[str, Understanding]:
        """The message without the parts that restate a change already done (or declined) here: the
        shopper often repeats the whole request when adding to it. Each is acknowledged, never redone;
        the request is what is left (the first remaining part's intent if the first one was dropped)."""
        parts = segments(text)
        restated = {part: memo for part in parts if (memo := self._restates(state, part)) is not None}
        if not restated:
            return text, understanding
        for memo in restated.values():
            self._acknowledge(memo, decision)
        others = [(intent, clause) for intent, clause in understanding.other_requests if clause not in restated]
        rest, labelled = [p for p in parts if p not in restated], {clause for _, clause in others}
        intent = understanding.intent
        if rest and all(p in labelled for p in rest):  # what carried the message's intent was dropped
            (intent, _), others = others[0], others[1:]
        return " ".join(rest), replace(understanding, intent=intent, other_requests=others)

    def _acknowledge(self, memo: Mapping[str, Any], decision: Decision) -> None:
        decision.say("already_declined" if memo["declined"] else "already_done", done=memo["summary"])

    def _restates(self, state: DialogueState, clause: str) -> dict[str, Any] | None:
        """The change done or declined in this conversation that the clause asks for again: the same new
        address, or a change to products a change here already touched ("the other tablet" is new)."""
        if not state.done or self.session.user_id is None or "?" in clause:
            return None
        named_orders = set(resolve.orders_named(clause))
        address = None
        if _ADDRESS_SAID.search(clause):
            address = addresses.parse_address(clause) or addresses.address_mentioned(clause, self._known_addresses())
        account = _ACCOUNT_TARGET.search(clause) is not None  # "my default address too": not an order's
        # "change my pending orders to it" is not the account's change; "the address on one of my orders" only says where
        orders = (bool(named_orders) or len(_ORDER_WORD.findall(clause)) > len(_ORDER_SOURCE.findall(clause))
                  or addresses.means_both_addresses(clause))  # "on my other orders and on my account": orders too
        action = resolve.action_asked(clause)
        gone = action is None and resolve.asks_item_change(clause)  # "I no longer need the lamp"
        asks_change = not _ANOTHER.search(clause) and (action or gone or self._item_request(clause) is not None)
        # the same kind of change: "return the watch" after cancelling an order with a watch is new
        actions = (action,) if action else ("return", "cancel") if gone else ("return", "cancel", "exchange")
        owned = self._owned_names() if asks_change else set()
        products = set(named_products(clause, owned))
        for memo in reversed(state.done):
            if named_orders and memo["order_id"] not in named_orders:
                continue
            if memo["address"] is not None and address is not None and addresses.same_address(address, memo["address"]):
                if not (orders if memo["order_id"] is None else account):  # the same target: account or order
                    return memo
            if memo["items"] and products and products <= set(memo["items"]) and _TOOL_ACTION[memo["tool"]] in actions:
                return memo
        return None

    def _item_request(self, clause: str) -> str | None:
        """The item flow a clause asks for when the classifier took it for a product or status
        question: it names an owned item and either says what to do with it ("the t-shirts: change
        them to purple") or only what it should become ("The tablet: the cheapest one.")."""
        if self.session.user_id is None or "?" in clause or _SEARCHING.search(clause):
            return None
        items = [i for o in self._orders() if o["status"] in ("pending", "delivered") for i in o["items"]]
        named = named_products(clause, {i["name"] for i in items})
        if not named:
            return None
        if (action := resolve.action_asked(clause)) is not None:
            return _ACTION_FLOWS[action]
        if not _WISH.search(clause):
            return None  # "the more expensive tablet" only tells which one
        for item in items:
            if item["name"] in named:
                variants = self.session.get_product_details(item["product_id"])["variants"].values()
                if variant_choice.choose_variant(clause, item, variants) is not None:
                    return "exchange_item"  # delivered: an exchange; pending: it becomes a change to the order
        return None

    def _asked_item_flow(self, clause: str) -> str | None:
        """:meth:`_item_request`; before sign-in, when the owned items are not known yet, the item
        action the clause's verb asks for ("I'd like my small tees switched to purple")."""
        if self.session.user_id is not None:
            return self._item_request(clause)
        if "?" in clause or _SEARCHING.search(clause) or (action := resolve.action_asked(clause)) is None:
            return None
        return _ACTION_FLOWS[action]

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
            if "order_id" not in request and (memo := self._restates(state, request["said"])) is not None:
                self._acknowledge(memo, decision)  # queued before an earlier request already did it
                continue
            state.flow, state.slots = request["flow"], {"said": [request["said"]]}
            state.slots.update({k: request[k] for k in ("order_id", "with", "alone") if k in request})
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
        if entities.first_name and entities.last_name and entities.zip:  # "sofia li, san antonio 78260": each name
            names = dict.fromkeys([(entities.first_name, entities.last_name),
                                   *((n.first, n.last) for n in name_candidates(text) if n.last)])
            attempts += [("find_user_id_by_name_zip", {"first_name": first, "last_name": last, "zip": entities.zip})
                         for first, last in names]
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
        return self._shopper()[1]

    def _shopper(self) -> tuple[str, dict[str, Any], list[dict[str, Any]]]:
        user_id = self.session.user_id
        assert user_id is not None
        if self._snapshot is None or self._snapshot[0] != user_id:
            user = self.session.get_user_details(user_id)
            self._snapshot = (user_id, user, [self.session.get_order_details(o) for o in user["orders"]])
        return self._snapshot

    # --- orders -----------------------------------------------------------------------------

    def _orders(self) -> list[dict[str, Any]]:
        return self._shopper()[2]

    def _owned_names(self, statuses: tuple[str, ...] | None = None) -> set[str]:
        """Names of the products in the shopper's orders (only orders of ``statuses`` when given)."""
        return {i["name"] for o in self._orders() if statuses is None or o["status"] in statuses for i in o["items"]}

    def _resolve_order(
        self, state: DialogueState, text: str, decision: Decision, statuses: tuple[str, ...] | None
    ) -> dict[str, Any] | None:
        """The order the shopper means: named by id, implied by a product or by recency, or the only
        candidate. Naming another order drops the choices made for the previous one."""
        words = state.slots["said"][-1] if state.slots.get("said") else text
        words = words if resolve.orders_named(words) else text
        named = resolve.orders_named(words)
        if len(named) > 1:  # the one named where this request is asked, or "the older of #W… and #W…"
            own = set(resolve.orders_asked(state.flow or "", words))
            placed = [order_id for order_id in self._user()["orders"] if order_id in named]
            named = list(own) if len(own) == 1 else [resolve.pick_by_recency(words, placed) or named[-1]]
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
        orders = self._orders()
        candidates = [o for o in orders if statuses is None or o["status"] in statuses]
        said = state.slots.get("said") or [text]
        # orders moved here are still known by where they went before
        former = {d["order_id"]: d["was"] for d in state.done if d.get("was") and not d.get("declined")}
        views = [{**o, "former_addresses": [former[o["order_id"]]]} if o["order_id"] in former else o for o in candidates]
        # the answer to "which order?" first, then everything said
        for words in dict.fromkeys((said[-1], text)) if len(candidates) > 1 else (text,):
            picked, several = resolve.orders_meant(words, views, [o for o in orders if o not in candidates])
            picked = [o for o in candidates if any(p["order_id"] == o["order_id"] for p in picked)]
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
        text = self._recall_items(state, text)
        if self._all_excluded(state, text, decision):
            return
        if "order_id" not in state.slots and resolve.cancel_or_return(text) and not state.slots.get("either_way"):
            state.slots["either_way"] = True  # the returns once the cancellations are done
            state.queue.insert(0, {"flow": "return_item", "said": text})
        elif "order_id" not in state.slots and self._only_held_in(text, _FLOW_STATUS["return_item"][0]):
            state.flow = "return_item"  # "cancel the lamp I received": received items can only be returned
            decision.say("delivered_so_return")
            self._flow_return_item(state, text, decision)
            return
        if (text := self._described_items(state, text, decision)) is None:
            return
        order = self._resolve_order(state, text, decision, statuses=_FLOW_STATUS["cancel_order"][0])
        if order is None:
            return
        chosen = resolve.items_to_cancel(text, order["items"]) or order["items"]
        if self._price_condition_fails(state, text, order, chosen, decision) or self._partial_cancel_refused(
                state, text, order, chosen, decision):
            return
        reason = state.slots.get("reason") or resolve.cancel_reason(text)
        if reason is None:
            state.awaiting = "reason"
            decision.say("ask_reason", order_id=order["order_id"])
            return
        state.slots["reason"] = reason
        self._preview(state, decision, "cancel_pending_order", {"order_id": order["order_id"], "reason": reason})

    def _recall_items(self, state: DialogueState, text: str) -> str:
        """"Cancel any other order with those items too": the products of the changes made here are
        what the words mean (so an order holding none of them is not taken for one)."""
        if not state.done or not resolve.refers_back(text) or self._names_bought_products(text):
            return text
        names = ", ".join(dict.fromkeys(name for memo in state.done for name in memo["items"]))
        if not names:
            return text
        said = state.slots.setdefault("said", [text])
        said[-1] = f"{said[-1]} ({names})"
        return f"{text} ({names})"

    def _price_condition_fails(
        self, state: DialogueState, text: str, order: Mapping[str, Any], items: list[Mapping[str, Any]],
        decision: Decision,
    ) -> bool:
        """"If it costs more than $300, …": checked against the store's prices before anything is done.
        The shopper hears the price either way; when the condition does not hold the flow ends here."""
        condition = None if state.slots.get("condition_checked") else resolve.price_condition(text)
        fallback = resolve.fallback_request(text, order["status"])
        if condition is None or (fallback is not None and fallback[0] == state.flow):
            return False  # this request is the "otherwise …" branch: the condition chose it already
        state.slots["condition_checked"] = True
        subject = order["items"] if condition.about_total else items
        named = f"order {order['order_id']} in total" if subject is order["items"] and len(subject) > 1 else (
            "the " + ", ".join(i["name"] for i in subject))
        total = sum(float(i["price"]) for i in subject)
        if condition.holds(total):
            decision.say("condition_met", subject=named, price=f"${total:,.2f}", bound=condition.bound())
            return False
        decision.say("condition_unmet", subject=named, price=f"${total:,.2f}", bound=condition.bound())
        state.finish_flow()
        return True

    def _partial_cancel_refused(
        self, state: DialogueState, text: str, order: Mapping[str, Any], chosen: list[Mapping[str, Any]],
        decision: Decision,
    ) -> bool:
        """A pending order is cancelled whole or not at all. Asked for only some of its items, the
        shopper hears so; the whole order is offered unless they ruled that out ("never cancel the whole
        order", "just the speaker", "all except the boots"), and never cancelled without their yes."""
        others = [i for i in order["items"] if i not in chosen]
        if not others or state.slots.get("whole_order"):
            return False
        facts = {"order_id": order["order_id"], "items": ", ".join(i["name"] for i in chosen),
                 "others": ", ".join(i["name"] for i in others)}
        decision.say("partial_cancel", **facts)
        if resolve.whole_order_cancel(text) is False:
            decision.say("partial_cancel_kept", **facts)
            state.finish_flow()
            return True
        state.slots["whole_order"] = True
        return False

    def _all_excluded(self, state: DialogueState, text: str, decision: Decision) -> bool:
        """An order taken up for "every order except the boots" that holds only what was excluded is
        left alone (and the shopper told so), never changed because it is the only item there."""
        if "order_id" not in state.slots or "item_ids" in state.slots:
            return False
        order = self.session.get_order_details(state.slots["order_id"])
        excluded = resolve.excluded_items(text, order["items"])
        if not excluded or len(excluded) < len(order["items"]):
            return False
        state.finish_flow()
        decision.say("order_kept_excluded", order_id=order["order_id"], items=", ".join(i["name"] for i in excluded))
        return True

    def _described_items(self, state: DialogueState, text: str, decision: Decision) -> str | None:
        """Items chosen by a description the store cannot check ("everything that isn't gaming
        related"): the shopper is asked which items they mean, never guessed for; their answer naming
        items becomes the request's words. None while asking."""
        what = resolve.described_scope(text)
        if what is None or "item_ids" in state.slots:
            return text
        owned = self._owned_names()
        if named_products(what, owned):
            return text  # "everything that isn't the kettle" names the item
        said = state.slots.setdefault("said", [text])
        if state.slots.get("scope_asked") and named_products(said[-1], owned) and not resolve.described_scope(said[-1]):
            original = " ".join(said[:-1])
            state.queue[:] = [r for r in state.queue if r["said"] != original]  # "cancel or return": this answer covers both
            state.slots["said"] = [resolve.without_described_scope(original), said[-1]]
            return " ".join(state.slots["said"])
        if state.slots.get("scope_asked"):  # asked once, still no item named: never guess, never ask in circles
            state.finish_flow()
            decision.say("described_items_unknown", description=what)
            return None
        statuses = _FLOW_STATUS[state.flow or "return_item"][0]
        items = "; ".join(f"{_item_label(i)} in order {o['order_id']}" for o in self._orders() if o["status"] in statuses
                          for i in o["items"])
        if not items:
            return text  # no order this could change: the flow says so
        state.slots["scope_asked"] = True
        state.awaiting = "items"
        decision.say("ask_described_items", description=what, items=items)
        return None

    def _flow_return_item(self, state: DialogueState, text: str, decision: Decision) -> None:
        if self._lost(state, text, decision) or self._all_excluded(state, text, decision) or (text := self._described_items(state, text, decision)) is None:
            return
        self._item_change(state, text, decision, "return_delivered_order_items", swap=False)

    def _flow_exchange_item(self, state: DialogueState, text: str, decision: Decision) -> None:
        if self._lost(state, text, decision) or self._all_excluded(state, text, decision):
            return
        named = {o["status"] for o in self._orders() if o["order_id"] in resolve.orders_named(text)}
        if "order_id" not in state.slots and (named and named <= set(_FLOW_STATUS["modify_order"][0])
                                              or self._only_held_in(text, _FLOW_STATUS["modify_order"][0])):
            state.flow, state.slots["modify"] = "modify_order", "items"  # not received yet: a change to the order
            self._flow_modify_order(state, text, decision)
            return
        self._item_change(state, text, decision, "exchange_delivered_order_items", swap=True)

    def _lost(self, state: DialogueState, text: str, decision: Decision) -> bool:
        """A product the shopper lost cannot be returned or exchanged: both need it sent back (policy), so
        "I lost my new tablet, can I get a refund?" is refused, and the shopper told why."""
        owned = self._owned_names()
        lost = _LOST.search(text)
        gone = set(named_products(lost.group(), owned)) if lost else set()
        if not gone or not set(named_products(text[lost.end():], owned)) <= gone:
            # named again later ("the charger, I don't need it without the tablet"): of the products this
            # flow could act on, only lost ones
            statuses = _FLOW_STATUS[state.flow or "return_item"][0]
            held = self._owned_names(statuses)
            named = set(named_products(text, held))
            if not named or not named <= set(state.lost):
                return False  # "I lost the receipt", or the request is about another product
            gone = named
        state.lost = sorted({*state.lost, *gone})
        state.finish_flow()
        decision.say("refused", reason=f"a lost {' or '.join(sorted(gone))} cannot be returned or exchanged, "
                                       "since both need the item sent back to us")
        return True

    def _names_bought_products(self, text: str) -> bool:
        return bool(named_products(text, self._owned_names()))

    def _only_held_in(self, text: str, statuses: tuple[str, ...]) -> bool:
        """The products named are only in orders of these statuses (e.g. not received yet); those named
        as exceptions ("cancel everything except the boots") do not count, nor orders the words rule out
        ("the sunglasses I just ordered" are in no delivered order)."""
        orders = self._orders()
        names = sorted(self._owned_names())
        holders: set[str] = set()
        for name in named_products(resolve.without_exclusion(text), names):
            where = resolve.copy_placed(text, name, names) or resolve.placed(text, name)
            holders |= {o["status"] for o in orders if where in (None, o["status"]) and any(i["name"] == name for i in o["items"])}
        return bool(holders) and holders <= set(statuses)

    def _flow_modify_order(self, state: DialogueState, text: str, decision: Decision) -> None:
        if "order_id" not in state.slots and addresses.means_account_address(text):
            state.flow = "update_address"  # "change my default address to the one that order went to"
            self._flow_update_address(state, text, decision)
            return
        if "order_id" not in state.slots and addresses.means_both_addresses(text) and not state.slots.get("alone") and all(
                r["flow"] != "update_address" for r in state.queue):  # "… my orders and my default address to …"
            state.queue.append({"flow": "update_address", "said": text, "alone": True})  # alone: it queues no order back
        order = self._resolve_order(state, text, decision, statuses=_FLOW_STATUS["modify_order"][0])
        if order is None:
            return
        what = state.slots.get("modify") or _modification(text)
        if what in (None, "items") and order["status"] in _FLOW_STATUS["exchange_item"][0]:
            state.flow = "exchange_item"  # "change the lamp in order #W…", already received: only an exchange can
            self._item_change(state, text, decision, "exchange_delivered_order_items", swap=True)
            return
        if what == "address" or what is None and addresses.parse_address(text):  # an items change keeps to its items
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
            if tool == "modify_pending_order_items" and (later := self._same_order_changes(state, order)):
                state.slots.setdefault("said", [text]).extend(later)  # a pending order changes once: all items now
                text = " ".join(state.slots["said"])
            # only the words about this action: "return the bottle and exchange the bed"
            own = " ".join(resolve.clauses_for(verb, said) for said in state.slots.get("said") or [text])
            known = [{**v, "name": i["name"]} for i in order["items"]  # "my small t-shirt": sizes it comes in
                     for v in self.session.get_product_details(i["product_id"])["variants"].values()]
            owned_names = self._owned_names()
            chosen = resolve.chosen_items(own, order["items"], known, order["status"], others=owned_names)
            if tool != "modify_pending_order_items":
                self._queue_unreceived(state, own, chosen)
            if not chosen and len(order["items"]) == 1 and not named_products(own, [order["items"][0]["name"]]):
                chosen = order["items"]  # the only item, not named otherwise than it is
            if not chosen or resolve.unclear_items(own, order["items"]):
                state.awaiting = "items"
                decision.say("ask_items", order_id=order["order_id"], action=verb, items=_items_line(order["items"]))
                return
            if not swap and self._price_condition_fails(state, text, order, chosen, decision):
                return  # "return the lamp if it cost more than $50", and it did not (in a swap "it" may be the new one)
            state.slots["item_ids"] = [item["item_id"] for item in chosen]
        if swap and "new_item_ids" not in state.slots:
            items = {item["item_id"]: item for item in order["items"]}
            new_ids: list[str] = []
            wanted_new: list[dict[str, Any]] = []
            owned = [(o["status"], i) for o in self._orders() for i in o["items"]]
            for n, item_id in enumerate(list(state.slots["item_ids"])):
                item = items[item_id]
                product = self.session.get_product_details(item["product_id"])
                wanted = variant_choice.words_about(text, item["name"], {i["name"]: None for _, i in owned})
                if (units := state.slots["item_ids"].count(item_id)) > 1:  # "two kettles: one for …, the other for …"
                    wishes = variant_choice.unit_wishes(wanted, units)
                    wanted = wishes[state.slots["item_ids"][:n].count(item_id)] if wishes else wanted
                if like := variant_choice.copied_options(wanted, item, owned):  # "the same type as the one I received"
                    variant = variant_choice.variant_with(like, item, product["variants"].values())
                else:  # asked once already: the best fit, even if it changes an option never mentioned
                    variant = variant_choice.choose_variant(wanted, item, product["variants"].values(), strict=state.awaiting != "items")
                    if variant is not None and (rivals := variant_choice.alternatives(wanted, item, product["variants"].values())):
                        decision.say("variant_choices", item=item["name"], chosen=_item_label(variant), options="; ".join(
                            ", ".join(str(x) for x in v["options"].values()) + f" at ${v['price']:.2f}" for v in rivals[:6]))
                if variant is None and len(state.slots["item_ids"]) > 1 and variant_choice.price_preference(text):
                    state.slots["item_ids"].remove(item_id)  # "all to the cheapest": this one already is
                    continue
                if variant is None:
                    missing = variant_choice.missing_wishes(wanted, item, product["variants"].values())
                    if variant_choice.leaves_alone(text, item["name"], [i["name"] for i in order["items"]]):
                        state.slots["item_ids"].remove(item_id)  # "if that exact one doesn't exist, leave it alone"
                        decision.say("variant_kept", item=item["name"], wanted=", ".join(missing) or "what you asked for")
                        continue
                    if (fallback := resolve.fallback_request(text, order["status"])) is not None:
                        # "if that's not available, cancel the order": do that instead, now
                        state.finish_flow()
                        state.queue.insert(0, {"flow": fallback[0], "said": fallback[1], "order_id": order["order_id"]})
                        decision.say("no_variant_fallback", item=item["name"])
                        return
                    state.awaiting = "items"
                    if missing:  # "clicky, RGB, full size" and no such keyboard: say what is missing, never substitute
                        decision.say("variant_missing", item=_item_label(item), wanted=", ".join(missing),
                                     options=_variant_options(product, item))
                    else:
                        decision.say("ask_new_variant", item=_item_label(item), options=_variant_options(product, item))
                    return
                new_ids.append(variant["item_id"])
                wanted_new.append({**variant, "name": item["name"]})
            if not state.slots["item_ids"]:  # every item was to be left as it is
                state.finish_flow()
                return
            if self._price_condition_fails(state, text, order, wanted_new, decision):
                # "exchange it for the cheapest one if that's under $200, otherwise return it": the new one's price
                if (fallback := resolve.fallback_request(text, order["status"])) is not None:
                    state.queue.insert(0, {"flow": fallback[0], "said": fallback[1], "order_id": order["order_id"]})
                return
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

    def _same_order_changes(self, state: DialogueState, order: Mapping[str, Any]) -> list[str]:
        """Queued item changes ("… and also change item 1656367028 to …") that pick items of this pending
        order: taken out of the queue, since the order can be modified only once."""
        later = [r for r in state.queue if r["flow"] in ("modify_order", "exchange_item")
                 and r.get("order_id", order["order_id"]) == order["order_id"]
                 and _modification(r["said"]) is None and resolve.chosen_items(r["said"], order["items"])]
        state.queue[:] = [r for r in state.queue if r not in later]
        return [r["said"] for r in later]

    def _queue_unreceived(self, state: DialogueState, words: str, chosen: list[Mapping[str, Any]]) -> None:
        """"Swap the helmet … and make my new grill order the same grill I received": a product the
        words place in a pending order and ask to change is a change to that order, queued next (once)."""
        names = sorted(self._owned_names())
        pending = self._owned_names(_FLOW_STATUS["modify_order"][0])
        done = {n for memo in state.done if memo["tool"] == "modify_pending_order_items" for n in memo["items"]}
        queued = {n for r in state.queue if r["flow"] == "modify_order" for n in named_products(r["said"], names)}
        for name in (set(named_products(words, names)) & pending) - {i["name"] for i in chosen} - done - queued:
            about = variant_choice.words_about(words, name, names)
            copy = resolve.copy_placed(words, name, names)
            if (copy or resolve.placed(about, name)) == "pending" and (copy or resolve.asks_item_change(about)):
                state.queue.append({"flow": "modify_order", "said": about})

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
        """The method the shopper chose among those the policy allows here. One they named that is not
        possible is never swapped for another: they hear why, and their own fallback ("if that's not
        possible, return everything to my gift card") is followed instead, else they choose again."""
        if "payment_method_id" in state.slots:
            return state.slots["payment_method_id"]
        user = self._user()
        methods = list(user["payment_methods"].values())
        usable = [
            m for m in methods
            if not (exclude_original and m["id"] == original)
            and (not refund_only or m["id"] == original or m["source"] == "gift_card")
        ]
        order_id = state.slots.get("order_id")
        elsewhere = [resolve.original_payment_method(o) or "" for o in self._orders() if o["order_id"] != order_id]
        first_choice = " ".join(resolve.before_fallback(words) for words in state.slots.get("said") or [text])
        said = resolve.payment_method_mentioned(first_choice, usable, original, elsewhere)
        unusable = None if said else resolve.payment_method_mentioned(first_choice, methods, original, elsewhere)
        missing = [] if said or unusable else resolve.payment_methods_missing(first_choice, methods)
        if unusable is not None or missing:
            reason = _NOT_ALLOWED[0 if refund_only else 1] if unusable else "there is no such method on your account"
            decision.say("payment_unavailable", method=_method_label(unusable) if unusable else _mention_label(missing[0]),
                         purpose=purpose, reason=reason, methods="; ".join(_method_label(m) for m in usable) or "none")
            status = self.session.get_order_details(order_id)["status"] if order_id else ""
            if (fallback := resolve.fallback_request(text, status)) is not None:
                state.finish_flow()
                state.queue.insert(0, {"flow": fallback[0], "said": fallback[1], **({"order_id": order_id} if order_id else {})})
                decision.say("fallback_instead")
                return None
            second_choice = " ".join(resolve.after_fallback(words) for words in state.slots.get("said") or [text])
            if (said := resolve.payment_method_mentioned(second_choice, usable, original, elsewhere)) is not None:
                decision.say("fallback_instead")  # "if that's not allowed, the original payment method"
        elif said is None and len(usable) == 1 and state.awaiting == "payment_method":
            said = usable[0]  # asked, and there is only one possible answer
        if said is None:
            state.awaiting = "payment_method"
            if not (unusable or missing):
                decision.say("ask_payment", purpose=purpose, methods="; ".join(_method_label(m) for m in usable))
            return None
        state.slots["payment_method_id"] = said["id"]
        return said["id"]

    # --- addresses and account ----------------------------------------------------------------

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
        pending = [o for o in orders if o["status"] in _FLOW_STATUS["modify_order"][0]]
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
            decision.say("address_already", address=_address_line(current))
            return
        self._preview(state, decision, tool, {**target, **address})

    def _known_addresses(self) -> list[tuple[str, dict[str, Any]]]:
        """The shopper's own addresses as :func:`addresses.address_mentioned` takes them."""
        user = self._user()
        return [("default", user["address"])] + [
            (" | ".join([o["order_id"], *(i["name"] for i in o["items"])]), o.get("address") or {})
            for o in self._orders()
        ]

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
                         "back": _money_back(preview.details), "memo": self._memo(tool, args, preview.summary)}
        state.awaiting = "confirmation"
        if tool in _ONCE_PER_ORDER and not self._trying:
            self._rival_changes(state, decision, args["order_id"])
        decision.plans.append(plan("confirm_change", summary=preview.summary))
        if "order_id" in args and "with" in state.slots:
            self._share_order(state, args["order_id"])

    def _rival_changes(self, state: DialogueState, decision: Decision, order_id: str) -> None:
        """A delivered order takes one return or exchange, so another one asked for the same order cannot
        follow the one previewed now: before the yes the shopper hears so, with the money each would bring
        ("how much would I save with each?"). The others are previewed only to compare them."""
        assert state.pending is not None
        order = self.session.get_order_details(order_id)
        held = {i["name"] for i in order["items"]}
        options = [state.pending]
        for request in state.queue:
            if (request["flow"] not in ("return_item", "exchange_item") or request.get("order_id", order_id) != order_id
                    or not named_products(request["said"], held)):
                continue
            method = resolve.original_payment_method(order)  # any allowed one: only the amount is compared
            trial = DialogueState(flow=request["flow"],
                                  slots={"said": [request["said"]], "order_id": order_id, "payment_method_id": method})
            self._trying = True
            try:
                self._run(trial, Decision())
            finally:
                self._trying = False
            if trial.pending is not None:
                options.append(trial.pending)
        if len(options) > 1:
            options_line = "; ".join(f"{_TOOL_ACTION[o['tool']]} the {', '.join(o['memo']['items'])}: {_money_line(o['back'])}"
                                     for o in options)
            decision.say("one_change_per_order", order_id=order_id, options=options_line)

    def _share_order(self, state: DialogueState, order_id: str) -> None:
        """The other changes split from the same message ("change the backpack in my order, and ship the
        order to my default address") are about the order found for this one, unless they name another
        order or a product it does not hold."""
        held = {i["name"] for i in self.session.get_order_details(order_id)["items"]}
        owned = self._owned_names()
        for request in state.queue:
            if (request.get("with") == state.slots["with"] and "order_id" not in request
                    and not resolve.orders_named(request["said"]) and not _ANOTHER.search(request["said"])
                    and set(named_products(request["said"], owned)) <= held):
                request["order_id"] = order_id

    def _confirm(self, state: DialogueState, decision: Decision) -> None:
        pending = state.pending
        assert pending is not None
        key = f"{self.session.conversation_id}:{pending['token'][:24]}"
        old_default = self._user()["address"] if pending["tool"] == "modify_user_address" else None
        self._snapshot = None  # the change alters the account or an order
        try:
            self.session.confirm(pending["token"], idempotency_key=key)
        except StoreError as exc:
            decision.actions.append(ActionRecord(pending["tool"], pending["arguments"], ok=False, detail=exc.reason))
            state.finish_flow()
            decision.say("refused", reason=exc.reason.rstrip("."))
            return
        decision.actions.append(ActionRecord(pending["tool"], pending["arguments"], ok=True))
        state.money_back.append(pending.get("back", 0.0))
        if "memo" in pending:
            state.done.append(pending["memo"])
        state.finish_flow()
        decision.say("change_done", done=pending["summary"])
        if old_default is not None:
            self._offer_order_addresses(state, decision, old_default, pending["arguments"])

    def _offer_order_addresses(
        self, state: DialogueState, decision: Decision, old: Mapping[str, Any], new: Mapping[str, Any]
    ) -> None:
        """A corrected default address ("I typed my address wrong") leaves pending orders still going to
        the old one: each is offered the new address, with its own preview and yes. Not when a queued
        request changes order addresses anyway, nor for an order this conversation already moved (or
        kept) where it goes."""
        if any(_change_kind(r["flow"], r["said"]) == "address" for r in state.queue if r["flow"] == "modify_order"):
            return
        settled = {d["order_id"] for d in state.done if d["order_id"] and d["address"] is not None}
        stale = [o for o in self._orders() if o["status"] in _FLOW_STATUS["modify_order"][0] and o["order_id"] not in settled
                 and addresses.same_address(o.get("address") or {}, old) and not addresses.same_address(o.get("address") or {}, new)]
        if not stale:
            return
        said = f"Change its address to {_address_line(new)}."
        state.queue[0:0] = [{"flow": "modify_order", "said": said, "order_id": o["order_id"]} for o in stale]
        decision.say("order_address_offer", orders=", ".join(o["order_id"] for o in stale))

    def _memo(self, tool: str, args: Mapping[str, Any], summary: str) -> dict[str, Any]:
        """What a change touches (products, the new address), to recognise it when it is asked again."""
        items: list[str] = []
        if "order_id" in args and "address1" not in args and tool != "modify_pending_order_payment":
            order = self.session.get_order_details(args["order_id"])
            chosen = set(args.get("item_ids") or [i["item_id"] for i in order["items"]])
            items = sorted({i["name"] for i in order["items"] if i["item_id"] in chosen})
        address = {k: str(args.get(k, "")) for k in _ADDRESS_KEYS} if "address1" in args else None
        # where the order went before, so "the one sent to my son in Denver" still finds it once moved
        was = self.session.get_order_details(args["order_id"])["address"] if address and "order_id" in args else None
        return {"tool": tool, "summary": summary, "order_id": args.get("order_id"), "items": items,
                "address": address, "was": was, "declined": False}

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


_PAID_ASKED = re.compile(r"\b(?:how much|what|total)\b.*\b(?:i|we) (?:\w+ )?(?:pa(?:y|id)|spen[dt])\b", re.I)
_ITEM_FLOWS = ("cancel_order", "return_item", "exchange_item", "modify_order")
_TOTAL_ASKED = re.compile(r"\b(?:how much|what(?:'s| is| will be| would be)? (?:the |my )?total)\b(?!.*\b(?:did i|have i|i paid|i spent)\b)"
                          r"(?:.*\b(?:in total|total|altogether|in all|back|refund\w*|save|pay)\b|(?<=total))|\btotal (?:refund|amount)", re.I)
_QUESTION_FLOWS = ("policy_question", "product_question", "product_search", "account_info")  # they change nothing
_QUESTION = re.compile(r"\?|^\W*(?:what|how|which|when|where|who|why|is|are|do|does|can|could|will|would)\b", re.I)
_CONDITION_WORD = re.compile(r"\b(?:if|unless|otherwise|or else|failing that)\b", re.I)
_CONDITIONAL = re.compile(r"\W*(?:if|otherwise|or else|failing that|unless)\b", re.I)
_FILLER_LEAD = re.compile(r"^\W*(?:(?:also|and|plus|oh|so|then|now|um|uh)\b\W*)*", re.I)
_STATUS_ASKED = re.compile(r"\?|\b(?:track\w*|status|where|when|arriv\w*|deliver\w*|shipped)\b", re.I)
_ASIDES = ("product_search", "product_question", "order_status")  # labels an item request can be mistaken for
_ACTION_FLOWS = {"return": "return_item", "cancel": "cancel_order", "exchange": "exchange_item"}
_SEARCHING = re.compile(r"\b(?:show|find|search|look(?:ing)? for|recommend|suggest|similar|something like|do you (?:have|sell))\b", re.I)
_ANOTHER = re.compile(r"\b(?:other|another|next|remaining|rest)\b", re.I)  # "the other tablet" is not the one done
_ADDRESS_SAID = re.compile(r"\baddress", re.I)
_WISH = re.compile(r"[:\u2013\u2014]|\b(?:to|for|into|instead)\b", re.I)  # "the lamp: a dimmer one", "the lamp for a dimmer one"
_ASKS = re.compile(r"\b(?:change|modify|switch|update|use|put|pay|charge|ship|send|deliver|fix|correct|set|move)\b"
                   r"|\bshould (?:be|go)\b", re.I)  # "ship it to …", not "my card only has $50 left"
_ONCE_PER_ORDER = ("return_delivered_order_items", "exchange_delivered_order_items")  # one of them per delivered order
_LOST = re.compile(r"\b(?:i|we)(?:'ve| have)?(?: just| recently| already)? (?:lost|misplaced)"
                   r" (?:(?:my|our|the|a|an|this|that|new|brand|whole)\s+){0,3}[\w-]+(?: [\w-]+)?"  # "I lost my new tablet"
                   r"|\b(?:[\w-]+ )?[\w-]+(?: (?:i|we)(?: just| recently)? (?:got|received|bought|ordered))?"
                   r" (?:is|was|are|were|got|went|has been|have been) (?:lost|missing)\b", re.I)  # "the tablet I got is lost"
_MY_ORDER = re.compile(r"\b(?:my|our)\s+(?:[\w-]+\s+){0,2}?order\b|#?\bW\d{7}\b", re.I)  # not "orders": which one is open
_ORDER_LEAD = re.compile(r"\W*(?:(?:uh|um|so|and|also|now|well|okay|ok)\s+)*(?:for|on|in|about|with) (?:my|our|the|that|this)"
                         r" (?:[\w'-]+ ){0,2}?order\b", re.I)  # "so for my open order …": which order, no change yet
_LISTED = re.compile(r"\s*(?:,\s*(?:and\s+)?|\s+and\s+)(?=(?:(?:please\s+)?(?:fix|change|update|correct|set|switch|move)\s+)?"
                     r"(?:my|the|it|its|their|a|an|to)\b)", re.I)  # "…, and my …", "… and fix my address to …"
_DESTINATION_END = re.compile(r"\bto (?:my|our|the|a|an|this|that) (?:[\w'-]+ ){0,3}[\w'-]+\W*$", re.I)  # "… to my new flat"
_ITEM_WISH = re.compile(r"\b(?:in|to|for|into|instead|with(?:out)?)\b", re.I)  # "the lamp in white", not "the lamp"
_ACCOUNT_TARGET = re.compile(r"\b(?:default|account|profile)\b", re.I)
_ORDER_WORD = re.compile(r"\borders?\b", re.I)
_ORDER_SOURCE = re.compile(r"\b(?:on|from|in|with|one of|any of)\s+(?:\w+\s+){0,3}?orders?\b", re.I)  # where an address is
_TOOL_ACTION = {"return_delivered_order_items": "return", "cancel_pending_order": "cancel",
                "modify_pending_order_items": "exchange", "exchange_delivered_order_items": "exchange"}
# why a method the shopper has cannot be used: for a refund, for paying (a new method for the order)
_NOT_ALLOWED = ("refunds can only go back to the original payment method or to a gift card",
                "the order is already paid with it")
_ADDRESS_KEYS = ("address1", "address2", "city", "state", "zip", "country")


def _change_kind(flow: str, words: str) -> str | None:
    """What a request changes: "address" or "payment" (the order stays open to changes) or "items" (it does not)."""
    if flow == "update_address":
        return "address"
    if flow == "modify_order":
        return _modification(words) or "items"
    return "items" if flow == "exchange_item" else None


def _order_change(clause: str) -> str | None:
    """"For my pending order: the lamp in white, and my office address." names an order of the shopper's
    and what it should become: a change to that order, whatever a catalog or status label says."""
    if "?" in clause or _SEARCHING.search(clause) or not _MY_ORDER.search(clause):
        return None
    return "modify_order" if _modification(clause) is not None or any(kind for _, kind in _pieces(clause)) else None


def _by_kind(words: str, tag: str) -> list[dict[str, str]]:
    """A change of a pending order mixing kinds ("For my open order: the lamp in white, and my office
    address.") as one request per kind, the words of no kind ("It's on my other order.") kept with each.
    Several are tagged as one: the order found for the first is the others' too."""
    pieces = [piece for part in segments(words) for piece in _pieces(part)]
    context = [said for said, kind in pieces if kind is None]
    requests = [{"flow": "modify_order", "said": " ".join([*context, *(said for said, k in pieces if k == kind)])}
                for kind in dict.fromkeys(k for _, k in pieces if k)]
    if len(requests) > 1:
        return [{**request, "with": tag} for request in requests]
    return requests or [{"flow": "modify_order", "said": words}]


def _address_in_pieces(text: str, understanding: Understanding) -> Understanding:
    """An address change said over several sentences (:func:`addresses.address_parts`) is one request:
    its sentences leave the other requests, and become one unless the message opens with them."""
    parts = segments(text)
    span = addresses.address_parts(parts)
    if span is None or (start := text.find(parts[span[0]])) < 0 or (end := text.find(parts[span[1]], start)) < 0:
        return understanding
    inside = set(parts[span[0] : span[1] + 1])
    others = [(intent, clause) for intent, clause in understanding.other_requests if clause not in inside]
    if span[0] > 0:
        others.append(("update_address", text[start : end + len(parts[span[1]])]))
        others.sort(key=lambda request: text.find(request[1]))
    return replace(understanding, other_requests=others)


def _pieces(part: str) -> list[tuple[str, str | None]]:
    """A sentence and what it changes; one listing changes of several kinds without verbs ("the lamp in
    white, and my office address") in pieces, a lead-in naming the order ("For my open order:") apart."""
    kind = (_modification(part) if _ASKS.search(part) else None) or ("items" if resolve.asks_item_change(part) else None)
    lead, colon, body = part.partition(":") if _modification(part.partition(":")[0]) is None else ("", "", part)
    if not colon and (frame := _ORDER_LEAD.match(part)):  # "for my open order the lamp in white and my office address"
        lead, body = part[: frame.end()], part[frame.end() :]
    listed = [piece for piece in _LISTED.split(body) if piece.strip()]
    kinds = [_modification(piece) or ("items" if _ITEM_WISH.search(piece) else None) for piece in listed]
    # "switch it to my new flat, the address on my helmet order": that address only says where the flat is
    appositive = any(k == "address" and not _ASKS.search(piece) and _DESTINATION_END.search(before)
                     for before, piece, k in zip(listed, listed[1:], kinds[1:]))
    if len(listed) < 2 or None in kinds or len(set(kinds)) < 2 or appositive:  # one change, or the lead names the order
        return [(part, kind or ("items" if _MY_ORDER.search(lead) and _ITEM_WISH.search(body) else None))]
    return [*([(lead + colon, None)] if lead.strip() else []), *zip(listed, kinds)]


def _money_line(back: float) -> str:
    """What a change or changes come to for the shopper: "$12.50 back to you" or "$3.00 to pay"."""
    return f"${abs(back):,.2f} " + ("back to you" if back >= 0 else "to pay")


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
        r"\b(?:items?|sizes?|colou?rs?|switch(?:es)?|versions?)\b", lowered
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


def _mention_label(mention: PaymentMention) -> str:
    """A payment method the shopper named but does not have: "an amex card", "PayPal"."""
    if mention.kind == "credit_card":
        return f"a {mention.brand or 'credit'} card" + (f" ending {mention.last_four}" if mention.last_four else "")
    return {"paypal": "PayPal", "gift_card": "a gift card"}.get(mention.kind, "that method")


def _address_line(address: Mapping[str, str]) -> str:
    parts = [address.get(k, "") for k in ("address1", "address2", "city", "state", "zip", "country")]
    return ", ".join(p for p in parts if p)
