"""Domain errors: every rule the store enforces fails with one of these.

Each error carries a stable machine-readable ``code`` (part of the public API:
clients branch on it) and a ``kind`` that the HTTP layer maps to a status.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

Kind = Literal["invalid", "not_found", "conflict", "forbidden", "unauthorized", "too_large"]


class DomainError(Exception):
    """A broken rule. Raising it means nothing was staged for the command."""

    kind: ClassVar[Kind] = "invalid"
    default_code: ClassVar[str] = "invalid_request"

    def __init__(self, detail: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code or self.default_code
        self.extra = extra


class Invalid(DomainError):
    """The request is well-formed but breaks a rule (HTTP 422)."""

    kind = "invalid"
    default_code = "invalid_request"


class NotFound(DomainError):
    """A referenced object does not exist or is not visible to the caller (HTTP 404)."""

    kind = "not_found"
    default_code = "not_found"


class Conflict(DomainError):
    """The request conflicts with the current state (HTTP 409)."""

    kind = "conflict"
    default_code = "conflict"


class OutOfStock(Conflict):
    default_code = "out_of_stock"


class IllegalTransition(Conflict):
    default_code = "illegal_transition"


class Forbidden(DomainError):
    kind = "forbidden"
    default_code = "forbidden"


class Unauthorized(DomainError):
    kind = "unauthorized"
    default_code = "unauthorized"
