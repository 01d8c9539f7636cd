"""Dialogue: decide what to do with a shopper's message, under the shop's policy.

:meth:`Dialogue.step` takes the persisted :class:`DialogueState`, the message and its understanding
(intent + entities) and returns a :class:`Decision`: reply plans (template + verified facts), what the
agent now awaits, product cards and the store actions taken. Code decides everything here; the LLM
only phrases the plans afterwards. Policy is enforced twice: the flows ask for what the policy needs
(identity first, an explicit yes before any change), and the store operations refuse anything
outside it whatever the dialogue does.

This module is the turn (routing, the request queue, identity, preview → yes → confirm); the flows
per resource are mixins: :mod:`~shopagent.agent.flows_orders`, :mod:`~shopagent.agent.flows_account`,
:mod:`~shopagent.agent.flows_products`, :mod:`~shopagent.agent.flows_conversation`; how a message is
cut into requests is :mod:`~shopagent.agent.clauses`, and how records read in a reply
:mod:`~shopagent.agent.wording`.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from functools import cache
from importlib import resources
from typing import Any

from shopagent.agent import addresses, clauses, resolve, variant_choice, wording
from shopagent.agent.entities import Entities, find_emails, name_candidates, named_products
from shopagent.agent.flows_account import AccountFlows
from shopagent.agent.flows_conversation import ConversationFlows
from shopagent.agent.flows_orders import FLOW_STATUS, OrderFlows
from shopagent.agent.flows_products import ProductFlows
from shopagent.agent.intents import STATUS_CONDITION, segments
from shopagent.agent.store.errors import StoreError, WrongUser
from shopagent.agent.store.shop import ShopSession
from shopagent.agent.turn import ActionRecord, Awaiting, ProductCard
from shopagent.agent.writer import ReplyPlan

ORDER_FLOWS = ("order_status", "cancel_order", "modify_order", "return_item", "exchange_item")
ACCOUNT_FLOWS = (*ORDER_FLOWS, "update_address", "account_info")


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

class Dialogue(OrderFlows, AccountFlows, ProductFlows, ConversationFlows):
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
        understanding = clauses.address_in_pieces(text, understanding)
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
            if answer is None and self._adds_items(state, text):  # "oh, and the kettle: the 1L one": previewed again
                state.pending = None
                state.slots["said"].append(text)
                self._run(state, decision)
                return self._continue(state, decision)
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
            decision.say("money_total", money=wording.money_line(back))
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
                parts = segments(own)  # "The mugs swapped to the cheapest ones please. What would I save?": the first asks
                state.flow = self._asked_item_flow(own) or (parts and self._asked_item_flow(parts[0])) or state.flow
                if state.flow in _ASIDES:  # "how many tees do you have? And I'd like my small ones in purple."
                    asked = [(flow, part) for part in parts[1:] if (flow := self._asked_item_flow(part))]
                    understanding = replace(understanding, other_requests=[*understanding.other_requests, *asked])
        elif state.awaiting == "reason" and (reason := resolve.cancel_reason(text)):
            state.slots["reason"] = reason  # "the lamp, I no longer need it": the answer, though it names an item
        own_words = text
        queued = len(state.queue)
        for intent, clause in understanding.other_requests:
            asked = (clauses.order_change(clause) or self._asked_item_flow(clause)) if intent in _ASIDES and intent != state.flow else None
            if asked:
                intent = asked  # queued below like any other request; its words already ask for a change
            if intent != state.flow and intent in (*ACCOUNT_FLOWS, "human_agent"):
                if intent == "order_status" and not _STATUS_ASKED.search(clause):
                    continue  # "it's on one of my orders" mentions an order, it asks nothing about it
                if not asked and intent in _ITEM_FLOWS and clauses.describes_only(intent, clause):
                    continue  # "I received two tablets but only need one", "you'll find the address on my tablet order"
                if _CONDITIONAL.match(clause) and not STATUS_CONDITION.match(clause):
                    continue  # "if that's not available, cancel it": the current request's fallback
                said = clause
                if intent in ("return_item", "exchange_item") and (lost := clauses.LOST.search(text)) and not clauses.LOST.search(clause):
                    said = f"{lost.group()}. {clause}"  # what was lost, for the flow to weigh
                state.queue.extend(clauses.by_kind(clause, f"{state.turns}:{clause[:40]}") if intent == "modify_order"
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
            decision.say("pending_money", money=wording.money_line(state.pending.get("back", 0.0)))
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
        if state.flow == "modify_order" or state.flow == "exchange_item" and clauses.modification(own_words) == "address":
            requests = clauses.by_kind(own_words, str(state.turns))  # "swap my jigsaw for … and fix my address to …"
        everything = [*requests, *state.queue]
        ordered = sorted(everything, key=lambda r: clauses.change_kind(r["flow"], r["said"]) not in ("address", "payment"))
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
        orders = (bool(named_orders) or not clauses.orders_only_as_source(clause)
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
        if self.session.user_id is None or "?" in clause or clauses.SEARCHING.search(clause):
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
        if "?" in clause or clauses.SEARCHING.search(clause) or (action := resolve.action_asked(clause)) is None:
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

    # --- the shopper's records (orders, addresses) ---------------------------------------------

    def _orders(self) -> list[dict[str, Any]]:
        return self._shopper()[2]

    def _owned_names(self, statuses: tuple[str, ...] | None = None) -> set[str]:
        """Names of the products in the shopper's orders (only orders of ``statuses`` when given)."""
        return {i["name"] for o in self._orders() if statuses is None or o["status"] in statuses for i in o["items"]}

    def _known_addresses(self) -> list[tuple[str, dict[str, Any]]]:
        """The shopper's own addresses as :func:`addresses.address_mentioned` takes them."""
        user = self._user()
        return [("default", user["address"])] + [
            (" | ".join([o["order_id"], *(i["name"] for i in o["items"])]), o.get("address") or {})
            for o in self._orders()
        ]

    # --- changes: preview, then an explicit yes -------------------------------------------------

    def _preview(self, state: DialogueState, decision: Decision, tool: str, args: dict[str, Any]) -> None:
        try:
            preview = self.session.preview(tool, args)
        except StoreError as exc:
            decision.actions.append(ActionRecord(tool, args, ok=False, detail=exc.reason))
            raise
        state.pending = {"token": preview.token, "tool": tool, "arguments": args, "summary": preview.summary,
                         "back": wording.money_back(preview.details), "memo": self._memo(tool, args, preview.summary)}
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
            options_line = "; ".join(f"{_TOOL_ACTION[o['tool']]} the {', '.join(o['memo']['items'])}: {wording.money_line(o['back'])}"
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
        if any(clauses.change_kind(r["flow"], r["said"]) == "address" for r in state.queue if r["flow"] == "modify_order"):
            return
        settled = {d["order_id"] for d in state.done if d["order_id"] and d["address"] is not None}
        stale = [o for o in self._orders() if o["status"] in FLOW_STATUS["modify_order"][0] and o["order_id"] not in settled
                 and addresses.same_address(o.get("address") or {}, old) and not addresses.same_address(o.get("address") or {}, new)]
        if not stale:
            return
        said = f"Change its address to {wording.address_line(new)}."
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
_ANOTHER = re.compile(r"\b(?:other|another|next|remaining|rest)\b", re.I)  # "the other tablet" is not the one done
_ADDRESS_SAID = re.compile(r"\baddress", re.I)
# "the lamp: a dimmer one", "the lamp for a dimmer one", "and the jacket, a medium please", "the kettle, make it glass"
_WISH = re.compile(r"[:\u2013\u2014]|\b(?:to|for|into|instead)\b|,\s*(?:a|an|in|make it)\b", re.I)
_ONCE_PER_ORDER = ("return_delivered_order_items", "exchange_delivered_order_items")  # one of them per delivered order
_ACCOUNT_TARGET = re.compile(r"\b(?:default|account|profile)\b", re.I)
_TOOL_ACTION = {"return_delivered_order_items": "return", "cancel_pending_order": "cancel",
                "modify_pending_order_items": "exchange", "exchange_delivered_order_items": "exchange"}
_ADDRESS_KEYS = ("address1", "address2", "city", "state", "zip", "country")
