"""Creating the store: its currency, timezone and tax mode are fixed from then on."""

from __future__ import annotations

import secrets
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from transactional.domain.errors import Conflict, Invalid
from transactional.domain.money import currency_exponent
from transactional.domain.words import TAX_MODES, require_word
from transactional.storage.unit_of_work import UnitOfWork


def create_store(
    uow: UnitOfWork,
    *,
    name: str,
    currency: str,
    timezone: str,
    tax_mode: str,
    order_ttl_seconds: int = 1800,
) -> dict[str, object]:
    if list(uow.scan("store")):
        raise Conflict("this data dir already holds a store", code="store_exists")
    currency = currency.upper()
    currency_exponent(currency)
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid(f"unknown IANA timezone {timezone!r}", code="invalid_timezone") from None
    require_word("tax_mode", tax_mode, TAX_MODES)
    if not 60 <= order_ttl_seconds <= 30 * 86400:
        raise Invalid("order_ttl_seconds must be between 60 and 2592000", code="invalid_order_ttl")
    if not name.strip():
        raise Invalid("the store needs a name", code="invalid_name")
    store_id = uow.new_id("sto")
    row = {
        "store_id": store_id,
        "name": name.strip(),
        "currency": currency,
        "timezone": timezone,
        "tax_mode": tax_mode,
        "order_ttl_seconds": order_ttl_seconds,
        "created_at": uow.now,
    }
    uow.insert("store", row)
    # Signs customer tokens; lives in the store so tokens survive restarts.
    uow.insert("server_secrets", {"name": "customer_token_key", "value": secrets.token_hex(32)})
    uow.audit("store.create", "store", store_id, currency=currency, timezone=timezone, tax_mode=tax_mode)
    return store_view(row)


def store_view(row: object) -> dict[str, object]:
    r = dict(row)  # type: ignore[call-overload]
    return {
        "store_id": r["store_id"],
        "name": r["name"],
        "currency": r["currency"],
        "currency_exponent": currency_exponent(r["currency"]),
        "timezone": r["timezone"],
        "tax_mode": r["tax_mode"],
        "order_ttl_seconds": r["order_ttl_seconds"],
        "created_at": r["created_at"],
    }
