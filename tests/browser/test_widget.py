"""The chat widget in headless Chromium against the running service: typed returns confirmed with a
chip, product cards with photos, photo search, the fake microphone, hostile text, a phone screen."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from shopagent.agent.store.db import transaction
from shopagent.agent.store.schema import Order
from shopagent.speech.tts import piper_installed

from .conftest import WIDGET_KEY, Server

pytestmark = pytest.mark.slow  # a real server with every model loaded

TURN_TIMEOUT_MS = 60_000


@pytest.fixture
def page(browser: Any, server: Server, request: pytest.FixtureRequest, artifacts: Path) -> Iterator[Any]:
    """The demo shop page with the chat open; a screenshot is kept whatever the outcome."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.add_init_script("window.__alerts = []; window.alert = m => window.__alerts.push(String(m));")
    page.goto(server.url + "/")
    page.get_by_role("button", name="Chat with us").click()
    yield page
    name = re.sub(r"[^\w.-]+", "_", request.node.name)  # a file name whatever the test's parameters
    page.screenshot(path=str(artifacts / f"{name}.png"))
    context.close()


def wait_idle(page: Any, bot_replies: int) -> None:
    """Until the widget shows more than ``bot_replies`` bot messages and no reply is in flight."""
    page.wait_for_function(
        "n => document.querySelectorAll('.sa-bot').length > n"
        " && document.querySelector('.sa-log').getAttribute('aria-busy') === 'false'",
        arg=bot_replies, timeout=TURN_TIMEOUT_MS,
    )


def type_turn(page: Any, text: str) -> None:
    before = page.locator(".sa-bot").count()
    box = page.get_by_role("textbox", name="Your message")
    box.fill(text)
    box.press("Enter")
    wait_idle(page, before)


def awaiting(page: Any) -> str | None:
    return page.get_by_role("dialog", name="Shop assistant").get_attribute("data-awaiting")


def delivered_order(server: Server) -> tuple[dict, dict]:
    """The most recently delivered order (inside the demo policy's return window) and its customer."""
    with transaction(server.store.engine) as db:
        order_id = db.scalars(select(Order.order_id).where(Order.status == "delivered")
                              .order_by(Order.delivered_at.desc(), Order.order_id)).first()
    assert order_id is not None, "the demo store has no delivered order"
    store = server.snapshot()
    order = store["orders"][order_id]
    return store["users"][order["user_id"]], order


def test_return_typed_and_confirmed_with_a_chip(page: Any, server: Server) -> None:
    user, order = delivered_order(server)
    item = order["items"][0]
    answers = {
        "identity": f"my email is {user['email']}",
        "order_id": f"it is order {order['order_id']}",
        "items": f"the {item['name']}",
        "payment_method": "refund it to the original payment method",
    }
    type_turn(page, "Hi, I want to return something I bought")
    for _ in range(len(answers) + 1):
        if awaiting(page) == "confirmation":
            break
        assert awaiting(page) in answers, page.locator(".sa-log").inner_text()
        type_turn(page, answers[awaiting(page)])
    assert awaiting(page) == "confirmation", page.locator(".sa-log").inner_text()
    assert server.snapshot()["orders"][order["order_id"]]["status"] == "delivered"  # nothing before the yes
    before = page.locator(".sa-bot").count()
    page.get_by_role("group", name="Quick replies").get_by_role("button", name="Yes, go ahead").click()
    wait_idle(page, before)
    after = server.snapshot()["orders"][order["order_id"]]
    assert after["status"] == "return requested", page.locator(".sa-log").inner_text()
    assert item["item_id"] in after["return_items"]
    assert page.locator(".sa-chip").count() == 0  # the chips went with the question


def test_product_cards_show_photo_name_variant_price_reason(page: Any, server: Server) -> None:
    product = sorted(server.snapshot()["products"].values(), key=lambda p: p["name"])[0]
    kind = product["name"].split(" ", 1)[1].lower()  # demo names are "<word> <kind>": "Acorn Bookcase"
    type_turn(page, f"I'm looking for a {kind}, what can you recommend?")
    cards = page.locator(".sa-card")
    cards.first.wait_for(timeout=TURN_TIMEOUT_MS)
    first = cards.first
    for part in ("h3", ".sa-variant", ".sa-price", ".sa-reason"):
        assert first.locator(part).inner_text().strip()
    assert first.locator(".sa-price").inner_text().startswith("$")
    image = first.locator("img")
    image.wait_for()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    assert image.get_attribute("alt")
    names = cards.locator("h3").all_inner_texts()
    assert any(name.lower().endswith(kind) for name in names), (kind, names)


def test_photo_button_finds_the_product_in_the_photo(page: Any, server: Server, tmp_path: Path) -> None:
    import httpx
    from PIL import Image

    products = sorted(server.snapshot()["products"].values(), key=lambda p: p["product_id"])
    wanted = products[len(products) // 2]
    item_id = sorted(wanted["variants"])[0]
    photo = httpx.get(f"{server.url}/v1/items/{item_id}/image")  # what the shop shows for it
    assert photo.status_code == 200
    shot = tmp_path / "my-photo.jpg"  # the shopper's snapshot: another format, size and framing
    with Image.open(io.BytesIO(photo.content)) as drawn:
        picture = drawn.convert("RGB")
        picture.crop((8, 8, picture.width - 8, picture.height - 8)).resize((300, 300)).save(shot, quality=85)
    page.locator(".sa-file").set_input_files(str(shot))
    page.locator(".sa-card img").first.wait_for(timeout=TURN_TIMEOUT_MS)
    assert page.locator(".sa-user img.sa-thumb").count() == 1
    names = page.locator(".sa-card h3").all_inner_texts()
    assert wanted["name"] in names, (wanted["name"], names)
    reasons = page.locator(".sa-card .sa-reason").all_inner_texts()
    assert reasons and all("photo" in r for r in reasons)
    assert page.locator(".sa-error").count() == 0
    cid = page.evaluate("Object.entries(sessionStorage).find(([k]) => k.startsWith('shopagent.conversation'))[1]")
    history = httpx.get(f"{server.url}/v1/conversations/{cid}/messages", headers=server.widget).json()["messages"]
    assert [m["role"] for m in history] == ["user", "assistant"]
    assert history[1]["content"] == page.locator(".sa-bot").last.inner_text()


def test_spoken_request_through_the_fake_microphone(page: Any) -> None:
    mic = page.get_by_role("button", name="Speak your message")
    mic.click()
    assert mic.get_attribute("aria-pressed") == "true"
    heard = page.locator(".sa-user").first
    heard.wait_for(timeout=TURN_TIMEOUT_MS)
    assert "return" in heard.inner_text().lower(), heard.inner_text()
    wait_idle(page, 0)
    assert awaiting(page) == "identity"  # the agent understood a return and asks who is speaking
    page.wait_for_function("b => b.getAttribute('aria-pressed') === 'false'", arg=mic.element_handle(),
                           timeout=TURN_TIMEOUT_MS)  # one turn per press: the mic is off again
    if piper_installed():  # the reply is spoken (an optional extra the default install has)
        spoken = page.locator(".sa-bot audio")
        spoken.wait_for(timeout=TURN_TIMEOUT_MS)
        page.wait_for_function("a => a.duration > 0.5", arg=spoken.element_handle(), timeout=TURN_TIMEOUT_MS)


def test_handoff_is_shown(page: Any) -> None:
    type_turn(page, "This is not working for me, please put me through to a real person")
    notice = page.locator(".sa-system")
    assert notice.count() == 1 and "human" in notice.inner_text().lower()
    assert page.get_by_role("dialog", name="Shop assistant").get_attribute("data-handoff") == "true"


@pytest.mark.parametrize("hostile", [
    "<img src=x onerror=alert(1)>",
    "<script>alert('x')</script> where is my order?",
    '"><svg onload=alert(2)>',
], ids=["img-onerror", "script-tag", "svg-onload"])
def test_hostile_text_is_shown_as_text(page: Any, server: Server, hostile: str) -> None:
    type_turn(page, hostile)
    mine = page.locator(".sa-user").last
    assert mine.inner_text() == hostile.strip()
    assert mine.locator("*").count() == 0  # no element was created from it
    assert page.locator(".sa-log svg, .sa-log script, .sa-log [onerror], .sa-log [onload]").count() == 0
    sources = page.locator(".sa-log img").evaluate_all("imgs => imgs.map(i => i.closest('.sa-card') ? i.src : 'stray')")
    assert all(src.startswith(f"{server.url}/v1/items/") for src in sources), sources  # card photos only
    assert page.evaluate("window.__alerts") == []  # no injected handler ran


def test_phone_viewport_fits_and_works_by_keyboard(browser: Any, server: Server, artifacts: Path) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 667}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        page.goto(server.url + "/")
        # The demo page embeds the widget with the server's publishable key (every test here relies on it).
        assert page.locator("script[src='/widget.js']").get_attribute("data-key") == WIDGET_KEY
        launcher = page.get_by_role("button", name="Chat with us")
        launcher.focus()
        page.keyboard.press("Enter")
        panel = page.get_by_role("dialog", name="Shop assistant")
        panel.wait_for()
        box = panel.bounding_box()
        assert box["x"] >= 0 and box["width"] <= 375 and box["y"] >= 0 and box["y"] + box["height"] <= 667
        for name in ("Your message", "Find products like a photo", "Speak your message", "Send", "Close chat"):
            control = page.get_by_label(name).or_(page.get_by_role("button", name=name)).first
            control_box = control.bounding_box()
            assert control_box and control_box["x"] + control_box["width"] <= 375, name
        type_turn(page, "hello")
        page.screenshot(path=str(artifacts / "phone.png"))
        page.keyboard.press("Escape")
        assert panel.is_hidden()
        assert launcher.get_attribute("aria-expanded") == "false"
    finally:
        context.close()
