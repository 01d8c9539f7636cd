"""Order flows: status, cancel, return, exchange and modify (items, address, payment) of the
shopper's orders, and which order and payment method a request means.

A mixin of :class:`~shopagent.agent.dialogue.Dialogue`: it uses the dialogue's shopper records
(``_orders``, ``_user``), ``_preview`` and ``_run``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from shopagent.agent import addresses, answers, clauses, resolve, variant_choice, wording
from shopagent.agent.entities import named_products
from shopagent.agent.store.errors import NotFound

if TYPE_CHECKING:
    from shopagent.agent.dialogue import Decision, DialogueState

# Which order statuses each flow can act on, and how the policy words it.
FLOW_STATUS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "cancel_order": (("pending",), "cancelled", "pending"),
    "modify_order": (("pending",), "changed", "pending"),
    "return_item": (("delivered",), "returned", "delivered"),
    "exchange_item": (("delivered",), "exchanged", "delivered"),
}

_PAID_ASKED = re.compile(r"\b(?:how much|what|total)\b.*\b(?:i|we) (?:\w+ )?(?:pa(?:y|id)|spen[dt])\b", re.I)
# why a method the shopper has cannot be used: for a refund, for paying (a new method for the order)
_NOT_ALLOWED = ("refunds can only go back to the original payment method or to a gift card",
                "the order is already paid with it")


class OrderFlows:
    """The order flows (``_flow_*``) and the order, item and payment choices they share."""

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
            action, status = FLOW_STATUS.get(state.flow or "", ((), "changed", "open"))[1:]
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
                f"{wording.item_label(i)} in order {o['order_id']}" for o in candidates for i in o["items"] if i["name"] in shared))
            return None
        state.awaiting = "order_id"
        decision.say("ask_order", orders="; ".join(wording.order_line(o) for o in candidates))
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
            items=wording.items_line(order["items"]),
        )
        if tracking:
            decision.say("order_tracking", tracking=", ".join(tracking))
        decision.say("order_total", total=f"${sum(item['price'] for item in order['items']):,.2f}")
        kept = [i for i in order["items"] if i["item_id"] not in (order.get("return_items") or [])]
        if len(kept) < len(order["items"]):
            decision.say("order_kept_total", kept=f"${sum(i['price'] for i in kept):,.2f}")
        state.finish_flow()

    def _flow_cancel_order(self, state: DialogueState, text: str, decision: Decision) -> None:
        if "order_id" not in state.slots and resolve.status_named(text) == "cancelled":
            state.flow = "order_status"  # "the tracking number of the order I cancelled" asks about it
            self._flow_order_status(state, text, decision)
            return
        text = self._recall_items(state, text)
        if self._all_excluded(state, text, decision):
            return
        if "order_id" not in state.slots and resolve.cancel_or_return(text) and not state.slots.get("either_way"):
            state.slots["either_way"] = True  # the returns once the cancellations are done
            state.queue.insert(0, {"flow": "return_item", "said": text})
        elif "order_id" not in state.slots and self._only_held_in(text, FLOW_STATUS["return_item"][0]):
            state.flow = "return_item"  # "cancel the lamp I received": received items can only be returned
            decision.say("delivered_so_return")
            self._flow_return_item(state, text, decision)
            return
        if (text := self._described_items(state, text, decision)) is None:
            return
        order = self._resolve_order(state, text, decision, statuses=FLOW_STATUS["cancel_order"][0])
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
        statuses = FLOW_STATUS[state.flow or "return_item"][0]
        items = "; ".join(f"{wording.item_label(i)} in order {o['order_id']}" for o in self._orders() if o["status"] in statuses
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
        if "order_id" not in state.slots and (named and named <= set(FLOW_STATUS["modify_order"][0])
                                              or self._only_held_in(text, FLOW_STATUS["modify_order"][0])):
            state.flow, state.slots["modify"] = "modify_order", "items"  # not received yet: a change to the order
            self._flow_modify_order(state, text, decision)
            return
        self._item_change(state, text, decision, "exchange_delivered_order_items", swap=True)

    def _lost(self, state: DialogueState, text: str, decision: Decision) -> bool:
        """A product the shopper lost cannot be returned or exchanged: both need it sent back (policy), so
        "I lost my new tablet, can I get a refund?" is refused, and the shopper told why."""
        owned = self._owned_names()
        lost = clauses.LOST.search(text)
        gone = set(named_products(lost.group(), owned)) if lost else set()
        if not gone or not set(named_products(text[lost.end():], owned)) <= gone:
            # named again later ("the charger, I don't need it without the tablet"): of the products this
            # flow could act on, only lost ones
            statuses = FLOW_STATUS[state.flow or "return_item"][0]
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
        if ("order_id" not in state.slots and state.slots.get("modify") in (None, "items") and clauses.modification(text) in (None, "items")
                and not addresses.parse_address(text) and self._only_held_in(text, FLOW_STATUS["exchange_item"][0])):
            state.flow = "exchange_item"  # "change the camera in my other order", already received: only an exchange can
            self._flow_exchange_item(state, text, decision)
            return
        if "order_id" not in state.slots and addresses.means_both_addresses(text) and not state.slots.get("alone") and all(
                r["flow"] != "update_address" for r in state.queue):  # "… my orders and my default address to …"
            state.queue.append({"flow": "update_address", "said": text, "alone": True})  # alone: it queues no order back
        order = self._resolve_order(state, text, decision, statuses=FLOW_STATUS["modify_order"][0])
        if order is None:
            return
        what = state.slots.get("modify") or clauses.modification(text)
        if what in (None, "items") and order["status"] in FLOW_STATUS["exchange_item"][0]:
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
        statuses = FLOW_STATUS[state.flow or "return_item"][0]
        order = self._resolve_order(state, text, decision, statuses=statuses)
        if order is None:
            return
        verb = {"return_delivered_order_items": "return", "exchange_delivered_order_items": "exchange"}.get(tool, "change")
        if (said := state.slots.get("said", []))[1:] and self._adds_items(state, said[-1]):
            for slot in ("item_ids", "new_item_ids"):
                state.slots.pop(slot, None)  # chosen again below, from everything said
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
                decision.say("ask_items", order_id=order["order_id"], action=verb, items=wording.items_line(order["items"]))
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
                        decision.say("variant_choices", item=item["name"], chosen=wording.item_label(variant), options="; ".join(
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
                        decision.say("variant_missing", item=wording.item_label(item), wanted=", ".join(missing),
                                     options=wording.variant_options(product, item))
                    else:
                        decision.say("ask_new_variant", item=wording.item_label(item), options=wording.variant_options(product, item))
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

    def _adds_items(self, state: DialogueState, words: str) -> bool:
        """"… and the grill: make it the side burner one", said while this change waits for its payment method
        or its yes: another item of the same order to change along (an order changes once, a delivered one is
        exchanged once), so the items are chosen again from everything said."""
        order = next((o for o in self._orders() if o["order_id"] == state.slots.get("order_id")), None)
        if order is None or "item_ids" not in state.slots or self._item_request(words) is None:
            return False
        chosen = {item["name"] for item in order["items"] if item["item_id"] in state.slots["item_ids"]}
        return any(item["name"] not in chosen for item in resolve.chosen_items(words, order["items"]))  # not "Laptop: 13 inch"

    def _same_order_changes(self, state: DialogueState, order: Mapping[str, Any]) -> list[str]:
        """Queued item changes ("… and also change item 1656367028 to …") that pick items of this pending
        order: taken out of the queue, since the order can be modified only once."""
        later = [r for r in state.queue if r["flow"] in ("modify_order", "exchange_item")
                 and r.get("order_id", order["order_id"]) == order["order_id"]
                 and clauses.modification(r["said"]) is None and resolve.chosen_items(r["said"], order["items"])]
        state.queue[:] = [r for r in state.queue if r not in later]
        return [r["said"] for r in later]

    def _queue_unreceived(self, state: DialogueState, words: str, chosen: list[Mapping[str, Any]]) -> None:
        """"Swap the helmet … and make my new grill order the same grill I received": a product the
        words place in a pending order and ask to change is a change to that order, queued next (once)."""
        names = sorted(self._owned_names())
        pending = self._owned_names(FLOW_STATUS["modify_order"][0])
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
            decision.say("payment_unavailable", method=wording.method_label(unusable) if unusable else wording.mention_label(missing[0]),
                         purpose=purpose, reason=reason, methods="; ".join(wording.method_label(m) for m in usable) or "none")
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
                decision.say("ask_payment", purpose=purpose, methods="; ".join(wording.method_label(m) for m in usable))
            return None
        state.slots["payment_method_id"] = said["id"]
        return said["id"]
