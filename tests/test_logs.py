import json

import structlog

from shopagent.logs import configure_logging, redact


def test_redact_masks_contact_details_and_card_numbers() -> None:
    text = "I'm jane.doe@example.com, card 4111 1111 1111 1111, call +1 (415) 555-0100"
    masked = redact(text)
    assert "jane.doe" not in masked and "4111" not in masked and "555-0100" not in masked
    assert masked.count("<email>") == 1 and "<card>" in masked and "<phone>" in masked
    assert redact("order #W2611340 for $54.04") == "order #W2611340 for $54.04"


def test_redact_leaves_identifiers_made_of_digits_and_letters_alone() -> None:
    ids = "conversation 3e5df4d0ae12345678901b8206a2c5e, request 123e4567-e89b-12d3-a456-426614174000"
    assert redact(ids) == ids
    assert redact("call 415-555-0100.") == "call <phone>."


def test_log_events_are_redacted_but_keep_timestamps(capsys) -> None:
    configure_logging("INFO", json=True)
    structlog.get_logger("test").info("turn", text="mail me at a@b.co", email="a@b.co", intent="greeting")
    event = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert event["text"] == "mail me at <email>" and event["email"] == "<redacted>"
    assert event["intent"] == "greeting" and event["timestamp"].startswith("20")
