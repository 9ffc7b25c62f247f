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

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.operator, Role.finance, Role.admin, Role.pipeline, "system")


SYSTEM = Actor(role="system")
