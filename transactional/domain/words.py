"""The store's controlled vocabulary (DESIGN.md "Words").

These strings are also column values in storage and the marts, so they are
spelled exactly once, here, and every input is checked against them.
"""

from __future__ import annotations

from transactional.domain.errors import Invalid

SALES_CHANNELS: frozenset[str] = frozenset({"web", "app", "marketplace", "pos"})
TRAFFIC_SOURCES: frozenset[str] = frozenset(
    {"organic", "paid_search", "social", "email", "referral", "direct"}
)
DEVICES: frozenset[str] = frozenset({"desktop", "mobile", "tablet"})
PAYMENT_METHODS: frozenset[str] = frozenset({"card", "alipay", "wechat_pay", "bank_transfer", "store_credit"})
TAX_MODES: frozenset[str] = frozenset({"inclusive", "exclusive"})


def require_word(kind: str, value: str, allowed: frozenset[str]) -> str:
    """Return ``value`` if it is one of ``allowed``, else raise ``invalid_<kind>``."""
    if isinstance(value, str) and value in allowed:
        return value
    raise Invalid(
        f"invalid {kind} {value!r}: expected one of {', '.join(sorted(allowed))}",
        code=f"invalid_{kind}",
    )
