"""Who is acting: API-key roles and the actor a command runs for."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    storefront = "storefront"
    operator = "operator"
    finance = "finance"
    admin = "admin"
    pipeline = "pipeline"


@dataclass(frozen=True, slots=True)
class Actor:
    """The caller of a command: an API key (with its role), maybe acting for a customer.

    ``key_id`` is None for the server's own work (expiry, due checks) and for
    offline admin commands run from the CLI, which record ``role`` as ``system``
    or ``admin`` respectively.
    """

    role: str
    key_id: str | None = None
    customer_id: str | None = None
    # SHA-256 of a guest's order access token, when the caller presented one.
    order_token_sha256: str | None = None

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.operator, Role.finance, Role.admin, Role.pipeline, "system")


SYSTEM = Actor(role="system")


def new_api_secret(role: str) -> str:
    """A 256-bit random API key secret, prefixed so leaked keys are recognisable in logs and scanners."""
    import secrets

    return f"emp_{role[:2]}_{secrets.token_urlsafe(32)}"


def hash_secret(secret: str) -> str:
    """SHA-256 of an API key secret. Not a password hash: the secret has 256 bits of entropy,
    and a per-request lookup must stay cheap."""
    import hashlib

    return hashlib.sha256(secret.encode()).hexdigest()
