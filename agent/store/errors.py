"""Typed store errors.

Every refusal has its own class so callers (the agent, the API, the replay harness) branch on the type,
never on message text. ``reason`` is the text shown to the agent; where the τ²-bench retail tools
refuse the same request it is the benchmark's exact wording ("Non-pending order cannot be cancelled").
A refused call changes nothing but the audit log.
"""

from __future__ import annotations

from typing import Any


class StoreError(Exception):
    """Base class of every error raised by :mod:`shopagent.agent.store`."""

    code = "store_error"
    http_status = 400

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def as_dict(self) -> dict[str, Any]:
        return {"error": self.code, "reason": self.reason}


class BadInput(StoreError):
    """Wrong argument names or types, or absurd values (too long, too many, control characters)."""

    code = "bad_input"
    http_status = 422


class NotFound(StoreError):
    """No such user, order, product, item or payment method (for this user)."""

    code = "not_found"
    http_status = 404


class InvalidStatus(StoreError):
    """The order's status does not allow this change."""

    code = "invalid_status"
    http_status = 409


class PolicyViolation(StoreError):
    """The request breaks a shop rule: reason, refund destination, item choice, return window."""

    code = "policy_violation"
    http_status = 409


class InsufficientBalance(StoreError):
    code = "insufficient_balance"
    http_status = 409


class AuthenticationRequired(StoreError):
    """The conversation has not identified its user yet (email, or name and zip code)."""

    code = "authentication_required"
    http_status = 401


class WrongUser(StoreError):
    """The request concerns another user than the one this conversation authenticated."""

    code = "wrong_user"
    http_status = 403


class ConfirmationError(StoreError):
    """A change was attempted without a valid confirmation of exactly that change."""

    code = "confirmation_invalid"
    http_status = 409


class ConfirmationRequired(ConfirmationError):
    code = "confirmation_required"


class ConfirmationExpired(ConfirmationError):
    code = "confirmation_expired"


class ConfirmationUsed(ConfirmationError):
    code = "confirmation_used"


class ConfirmationMismatch(ConfirmationError):
    """The token confirms a different change, conversation, or an older state of the record."""

    code = "confirmation_mismatch"


class IdempotencyConflict(StoreError):
    """The idempotency key was already used for a different request."""

    code = "idempotency_conflict"
    http_status = 409


class ImportRejected(StoreError):
    """An import file failed validation; nothing was written. ``errors`` lists every bad row."""

    code = "import_rejected"
    http_status = 422

    def __init__(self, errors: list[str]) -> None:
        shown = "\n  ".join(errors[:20])
        more = f"\n  ... and {len(errors) - 20} more" if len(errors) > 20 else ""
        super().__init__(f"{len(errors)} problem(s):\n  {shown}{more}")
        self.errors = errors


class StoreNotEmpty(StoreError):
    """Importing a whole store over existing data needs an explicit ``replace``."""

    code = "store_not_empty"
    http_status = 409
