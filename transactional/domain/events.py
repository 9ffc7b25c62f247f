"""Storefront clickstream events (ANA-2, BEY-7): validation of client batches, server-side events.

Rules (copied into DECISIONLOG.md):

- Clients may send the GA4 e-commerce events view_item_list, view_item,
  add_to_cart, remove_from_cart, view_cart, begin_checkout, add_shipping_info
  and add_payment_info. ``purchase`` and ``refund`` are server-only
  (``server_only_event``): the server builds them from the order and the
  ledger, keyed on the order id as ``transaction_id``, with an event_id
  derived from the order id (purchase) or refund id (refund), so emitting one
  twice still deduplicates to one event and funnel purchases equal paid
  orders (BEY-7). Their ``value_minor`` is what the customer paid (order
  total) or got back (refund amount), with tax and shipping beside it.
- A client event has event_id (a UUID, stored lower-case), event_name,
  session_id, anonymous_id, optional customer_id (our ``cus_`` id),
  timestamp (ISO 8601 with a UTC offset, within [now - ``max_past``, now +
  ``max_future``] of the server's clock, 72 h and 5 min by default: GA4's
  Measurement Protocol also takes events up to 72 h old; stored in UTC; the
  window bounds how long the store must remember an event_id to deduplicate), traffic_source and device from the store's
  words, optional utm_source / utm_medium / utm_campaign, and GA4-shaped
  items. view_item_list, view_item, add_to_cart and remove_from_cart need at
  least one item; at most 200 items per event, as in GA4.
- Money in events is integer minor units of the store's currency, never a
  float: an item carries ``price_minor`` (GA4's ``price`` is refused, since
  JSON numbers with decimals become floats), an event may carry
  ``value_minor`` and ``currency``. Quantity is an int >= 1 (default 1).
- Unknown fields are refused, so a misspelt field is an error rather than a
  silent loss. Empty optional strings count as absent.
- Session, anonymous, item and list ids are machine-made identifiers: 1-128
  characters of letters, digits and ``. _ : -``, format-checked and not
  scanned for card numbers (card_data explains why). Text a person may have
  typed (UTM values, coupon, list name, shipping tier, item name, brand,
  category, variant; 200 characters at most) goes through
  ``card_data.reject_card_data``; a field named like a CVV is refused.
- A batch (1 to ``max_batch`` events) is validated whole: if any event is
  invalid, nothing is accepted and the error ``invalid_events`` lists every
  bad index with its code, field and reason. Reasons never repeat a client's
  value. A repeated event_id within a batch is not an error: the first one
  wins and the rest are dropped (the store ignores ids it already holds).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from transactional.domain.card_data import MIN_PAN_DIGITS, is_cvv_field, reject_card_data, safe_field_name
from transactional.domain.errors import Invalid
from transactional.domain.money import CURRENCY_EXPONENTS
from transactional.domain.words import DEVICES, PAYMENT_METHODS, TRAFFIC_SOURCES

CLIENT_EVENT_NAMES: frozenset[str] = frozenset(
    {
        "view_item_list",
        "view_item",
        "add_to_cart",
        "remove_from_cart",
        "view_cart",
        "begin_checkout",
        "add_shipping_info",
        "add_payment_info",
    }
)
SERVER_EVENT_NAMES: frozenset[str] = frozenset({"purchase", "refund"})
EVENT_NAMES: frozenset[str] = CLIENT_EVENT_NAMES | SERVER_EVENT_NAMES
ITEMS_REQUIRED: frozenset[str] = frozenset({"view_item_list", "view_item", "add_to_cart", "remove_from_cart"})

MAX_ITEMS = 200
MAX_TEXT = 200
MAX_QUANTITY = 10_000
DEFAULT_MAX_FUTURE = timedelta(minutes=5)
DEFAULT_MAX_PAST = timedelta(hours=72)
DEFAULT_MAX_BATCH = 1000

# Fixed namespace for the server's event ids: uuid5(namespace, "purchase:<order_id>")
# is the same on every emission, which is what makes re-emitting harmless.
SERVER_EVENT_NAMESPACE = uuid.UUID("97c1c172-5d2a-4a4e-96ce-97e7255b05c6")

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
_CUSTOMER_ID = re.compile(r"cus_[0-9a-f]{24}")
_CURRENCIES = frozenset(CURRENCY_EXPONENTS)
# A card number needs a run of at least 13 digits (card_data's rule). Free-text values
# are joined by a newline, which ends a run, and searched once: only an event with such
# a run pays for the full scan that names the field.
_LONG_DIGIT_RUN = re.compile(rf"\d(?:[^\S\n]?\d|[-\u2010-\u2013]\d){{{MIN_PAN_DIGITS - 1},}}")

_EVENT_TEXT = ("utm_source", "utm_medium", "utm_campaign", "coupon", "item_list_name", "shipping_tier")
_EVENT_FIELDS = frozenset(
    {
        "event_id",
        "event_name",
        "session_id",
        "anonymous_id",
        "customer_id",
        "timestamp",
        "traffic_source",
        "device",
        "currency",
        "value_minor",
        "item_list_id",
        "payment_type",
        "items",
        *_EVENT_TEXT,
    }
)
_ITEM_TEXT = ("item_name", "item_brand", "item_category", "item_variant")
_ITEM_FIELDS = frozenset({"item_id", "price_minor", "quantity", "index", *_ITEM_TEXT})


# Not frozen, on purpose: a frozen dataclass's __init__ sets each field through
# object.__setattr__, which cost 4.5 us per event here against 0.4 us (measured, 3.11),
# a quarter of the ingest path's budget. Treat both as read-only values.
@dataclass(slots=True)
class EventItem:
    item_id: str
    item_name: str | None = None
    item_brand: str | None = None
    item_category: str | None = None
    item_variant: str | None = None
    price_minor: int | None = None
    quantity: int = 1
    index: int | None = None


@dataclass(slots=True)
class NormalizedEvent:
    """One valid event as stored. Client events always have session, anonymous id, source and device."""

    event_id: str
    event_name: str
    source: Literal["client", "server"]
    occurred_at: datetime
    session_id: str | None
    anonymous_id: str | None
    customer_id: str | None
    traffic_source: str | None
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    device: str | None
    currency: str | None = None
    value_minor: int | None = None
    tax_minor: int | None = None
    shipping_minor: int | None = None
    transaction_id: str | None = None
    coupon: str | None = None
    item_list_id: str | None = None
    item_list_name: str | None = None
    shipping_tier: str | None = None
    payment_type: str | None = None
    items: tuple[EventItem, ...] = ()


def _bad(field: str, reason: str, code: str) -> Invalid:
    return Invalid(f"{field}: {reason}", code=code, field=field)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _present(raw: Mapping[str, Any], key: str) -> Any:
    value = raw.get(key)
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _identifier(raw: Mapping[str, Any], key: str, path: str, *, required: bool) -> str | None:
    value = _present(raw, key)
    if value is None:
        if required:
            raise _bad(path, "is required", "missing_field")
        return None
    if not (isinstance(value, str) and _IDENTIFIER.fullmatch(value)):
        raise _bad(
            path,
            "must be 1 to 128 letters, digits or '.', '_', ':', '-', starting alphanumeric",
            "invalid_id",
        )
    return value


def _texts(
    raw: Mapping[str, Any], keys: tuple[str, ...], prefix: str, into: dict[str, str]
) -> dict[str, str]:
    """The free-text fields of ``raw`` that hold something, by key; also put into ``into`` by path."""
    found: dict[str, str] = {}
    for key in keys:
        value = raw.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or len(value) > MAX_TEXT:
            raise _bad(f"{prefix}{key}", f"must be a string of at most {MAX_TEXT} characters", "invalid_text")
        if value.strip():
            found[key] = value
            into[f"{prefix}{key}"] = value
    return found


def _word(
    raw: Mapping[str, Any], key: str, allowed: frozenset[str], *, required: bool, expected: str | None = None
) -> str | None:
    value = _present(raw, key)
    if value is None:
        if required:
            raise _bad(key, "is required", "missing_field")
        return None
    if not (isinstance(value, str) and value in allowed):
        # The value is not echoed: a client string can hold anything.
        raise _bad(key, f"must be {expected or 'one of ' + ', '.join(sorted(allowed))}", f"invalid_{key}")
    return value


def _count(
    raw: Mapping[str, Any], key: str, path: str, *, minimum: int, maximum: int | None = None
) -> int | None:
    value = raw.get(key)
    if value is None:
        return None
    if not (_is_int(value) and value >= minimum and (maximum is None or value <= maximum)):
        upper = f" and <= {maximum}" if maximum is not None else ""
        raise _bad(path, f"must be an integer >= {minimum}{upper}", f"invalid_{key}")
    return value


def parse_timestamp(value: object, *, field: str = "timestamp") -> datetime:
    """An ISO 8601 date-time with a UTC offset (``Z`` allowed), as an aware datetime in UTC."""
    if not isinstance(value, str) or len(value) > 64:
        raise _bad(field, "must be an ISO 8601 date-time string", "invalid_timestamp")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _bad(
            field, "must be an ISO 8601 date-time such as 2024-05-01T12:00:00Z", "invalid_timestamp"
        ) from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise _bad(field, "needs a UTC offset (Z or +hh:mm)", "invalid_timestamp")
    return parsed.astimezone(UTC)


def _reject_unknown(raw: Mapping[str, Any], allowed: frozenset[str], prefix: str) -> None:
    # Known fields are not security-code fields, so only the others are looked at.
    if raw.keys() <= allowed:
        return
    extra = [key for key in raw if key not in allowed]
    if not extra:
        return
    for key in extra:
        if is_cvv_field(key):
            raise _bad(
                f"{prefix}{safe_field_name(key)}",
                "card security codes are never accepted",
                "cvv_not_accepted",
            )
    raise _bad(f"{prefix}{safe_field_name(extra[0])}", "is not a known field", "unknown_field")


def _item(raw: object, path: str, texts: dict[str, str]) -> EventItem:
    if not isinstance(raw, Mapping):
        raise _bad(path, "must be an object", "invalid_item")
    prefix = f"{path}."
    if "price" in raw and not any(is_cvv_field(key) for key in raw):
        # GA4's own field, so the likeliest mistake: say what to send instead.
        raise _bad(
            f"{prefix}price", "send price_minor, an integer of minor units (never a decimal)", "invalid_price"
        )
    _reject_unknown(raw, _ITEM_FIELDS, prefix)
    item_id = _identifier(raw, "item_id", f"{prefix}item_id", required=True) or ""
    quantity = _count(raw, "quantity", f"{prefix}quantity", minimum=1, maximum=MAX_QUANTITY)
    values = _texts(raw, _ITEM_TEXT, prefix, texts)
    return EventItem(
        item_id=item_id,
        price_minor=_count(raw, "price_minor", f"{prefix}price_minor", minimum=0),
        quantity=1 if quantity is None else quantity,
        index=_count(raw, "index", f"{prefix}index", minimum=0),
        **values,
    )


def validate_event(
    raw: Mapping[str, Any],
    *,
    now: datetime,
    max_future: timedelta = DEFAULT_MAX_FUTURE,
    max_past: timedelta = DEFAULT_MAX_PAST,
    store_currency: str | None = None,
) -> NormalizedEvent:
    """One client event, validated and normalized, or Invalid with the first broken rule.

    The error's ``field`` names where the problem is; its detail never holds
    the client's value. ``store_currency``, when given, is the only currency
    an event may name.
    """
    if not isinstance(raw, Mapping):
        raise _bad("event", "must be an object", "invalid_event")
    name = raw.get("event_name")
    if name in SERVER_EVENT_NAMES:
        raise _bad("event_name", f"{name} events are sent by the server only", "server_only_event")
    if not (isinstance(name, str) and name in CLIENT_EVENT_NAMES):
        raise _bad(
            "event_name", f"must be one of {', '.join(sorted(CLIENT_EVENT_NAMES))}", "invalid_event_name"
        )
    _reject_unknown(raw, _EVENT_FIELDS, "")

    event_id = raw.get("event_id")
    if not (isinstance(event_id, str) and _UUID.fullmatch(event_id)):
        raise _bad("event_id", "must be a UUID (8-4-4-4-12 hex digits)", "invalid_event_id")
    session_id = _identifier(raw, "session_id", "session_id", required=True)
    anonymous_id = _identifier(raw, "anonymous_id", "anonymous_id", required=True)
    customer_id = _present(raw, "customer_id")
    if customer_id is not None and not (isinstance(customer_id, str) and _CUSTOMER_ID.fullmatch(customer_id)):
        raise _bad("customer_id", "must be a customer id (cus_ and 24 hex digits)", "invalid_customer_id")

    if raw.get("timestamp") is None:
        raise _bad("timestamp", "is required", "missing_field")
    occurred_at = parse_timestamp(raw["timestamp"])
    if occurred_at - now > max_future:
        raise _bad(
            "timestamp",
            f"is more than {int(max_future.total_seconds())} s ahead of the server's clock",
            "timestamp_in_future",
        )
    if now - occurred_at > max_past:
        raise _bad(
            "timestamp",
            f"is more than {int(max_past.total_seconds()) // 3600} h behind the server's clock",
            "timestamp_too_old",
        )

    traffic_source = _word(raw, "traffic_source", TRAFFIC_SOURCES, required=True)
    device = _word(raw, "device", DEVICES, required=True)
    payment_type = _word(raw, "payment_type", PAYMENT_METHODS, required=False)
    currency = _word(raw, "currency", _CURRENCIES, required=False, expected="an upper-case ISO 4217 code")
    if currency is not None and store_currency is not None and currency != store_currency:
        raise _bad("currency", f"must be the store's currency {store_currency}", "currency_mismatch")
    value_minor = _count(raw, "value_minor", "value_minor", minimum=0)
    item_list_id = _identifier(raw, "item_list_id", "item_list_id", required=False)

    # Every non-blank free-text value of the event and its items, by path, for one card-data check.
    texts: dict[str, str] = {}
    event_texts = _texts(raw, _EVENT_TEXT, "", texts)
    raw_items = raw.get("items")
    items: list[EventItem] = []
    if raw_items is not None:
        if not isinstance(raw_items, Sequence) or isinstance(raw_items, str | bytes):
            raise _bad("items", "must be a list", "invalid_items")
        if len(raw_items) > MAX_ITEMS:
            raise _bad("items", f"at most {MAX_ITEMS} items per event", "too_many_items")
        items = [_item(it, f"items[{n}]", texts) for n, it in enumerate(raw_items)]
    if name in ITEMS_REQUIRED and not items:
        raise _bad("items", f"{name} needs at least one item", "missing_items")

    # Last, once every field is known to be a string of sane length; the error
    # names the field only.
    if texts and _LONG_DIGIT_RUN.search("\n".join(texts.values())):
        reject_card_data(texts, field_kind="free_text")

    return NormalizedEvent(
        event_id=event_id.lower(),
        event_name=name,
        source="client",
        occurred_at=occurred_at,
        session_id=session_id,
        anonymous_id=anonymous_id,
        customer_id=customer_id,
        traffic_source=traffic_source,
        utm_source=event_texts.get("utm_source"),
        utm_medium=event_texts.get("utm_medium"),
        utm_campaign=event_texts.get("utm_campaign"),
        device=device,
        currency=currency,
        value_minor=value_minor,
        coupon=event_texts.get("coupon"),
        item_list_id=item_list_id,
        item_list_name=event_texts.get("item_list_name"),
        shipping_tier=event_texts.get("shipping_tier"),
        payment_type=payment_type,
        items=tuple(items),
    )


def validate_batch(
    events: Sequence[Mapping[str, Any]],
    *,
    now: datetime,
    max_future: timedelta = DEFAULT_MAX_FUTURE,
    max_past: timedelta = DEFAULT_MAX_PAST,
    max_batch: int = DEFAULT_MAX_BATCH,
    store_currency: str | None = None,
) -> list[NormalizedEvent]:
    """Every event of a batch, validated, deduplicated on event_id (first wins), in order.

    Raises Invalid ``invalid_events`` with ``bad=[{"index", "code", "field",
    "reason"}, ...]`` for every invalid event, so the batch is accepted whole
    or not at all.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    if not isinstance(events, Sequence) or isinstance(events, str | bytes):
        raise Invalid("events must be a list of event objects", code="invalid_events", bad=[])
    if not events:
        raise Invalid("the batch holds no events", code="empty_batch")
    if len(events) > max_batch:
        raise Invalid(
            f"a batch holds at most {max_batch} events, got {len(events)}",
            code="batch_too_large",
            max_batch=max_batch,
        )
    accepted: list[NormalizedEvent] = []
    seen: set[str] = set()
    bad: list[dict[str, Any]] = []
    for index, raw in enumerate(events):
        try:
            event = validate_event(
                raw, now=now, max_future=max_future, max_past=max_past, store_currency=store_currency
            )
        except Invalid as err:
            bad.append(
                {"index": index, "code": err.code, "field": err.extra.get("field"), "reason": err.detail}
            )
            continue
        if event.event_id not in seen:
            seen.add(event.event_id)
            accepted.append(event)
    if bad:
        raise Invalid(
            f"{len(bad)} of {len(events)} events are invalid; nothing was accepted",
            code="invalid_events",
            bad=bad,
        )
    return accepted


def _server_items(lines: Sequence[Mapping[str, Any]]) -> tuple[EventItem, ...]:
    return tuple(
        EventItem(
            item_id=str(line["sku_id"]),
            item_name=line.get("sku_name"),
            price_minor=line.get("unit_price_minor"),
            quantity=int(line["quantity"]),
            index=n,
        )
        for n, line in enumerate(lines)
    )


def _server_event(
    name: str,
    key: str,
    order: Mapping[str, Any],
    session_id: str | None,
    now: datetime,
    value_minor: int,
    lines: Sequence[Mapping[str, Any]],
    tax_minor: int | None,
    shipping_minor: int | None,
) -> NormalizedEvent:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    order_id = order["order_id"]
    return NormalizedEvent(
        event_id=str(uuid.uuid5(SERVER_EVENT_NAMESPACE, f"{name}:{key}")),
        event_name=name,
        source="server",
        occurred_at=now.astimezone(UTC),
        session_id=session_id,
        anonymous_id=None,
        customer_id=order.get("customer_id"),
        traffic_source=order.get("traffic_source"),
        utm_source=order.get("utm_source"),
        utm_medium=order.get("utm_medium"),
        utm_campaign=order.get("utm_campaign"),
        device=order.get("device"),
        currency=order["currency"],
        value_minor=value_minor,
        transaction_id=order_id,
        coupon=order.get("coupon_code"),
        items=_server_items(lines),
        tax_minor=tax_minor,
        shipping_minor=shipping_minor,
    )


def server_purchase_event(
    order: Mapping[str, Any],
    session_id: str | None,
    now: datetime,
    *,
    lines: Sequence[Mapping[str, Any]] = (),
) -> NormalizedEvent:
    """The ``purchase`` event for an order that has just become paid (at ``now``).

    ``order`` is the order row (order_id, currency, total_minor, tax_minor,
    shipping_minor and the attribution columns); ``lines`` its order-line rows
    (sku_id, sku_name, quantity, unit_price_minor). ``session_id`` is the
    order's session, None for orders placed without one (they count as
    purchases by transaction_id but belong to no session's funnel).
    """
    return _server_event(
        "purchase",
        str(order["order_id"]),
        order,
        session_id,
        now,
        int(order["total_minor"]),
        lines,
        tax_minor=int(order["tax_minor"]),
        shipping_minor=int(order["shipping_minor"]),
    )


def server_refund_event(
    order: Mapping[str, Any],
    refund_id: str,
    amount_minor: int,
    session_id: str | None,
    now: datetime,
    *,
    lines: Sequence[Mapping[str, Any]] = (),
    tax_minor: int | None = None,
    shipping_minor: int | None = None,
) -> NormalizedEvent:
    """The ``refund`` event for one refund of ``order``: one event per refund id, value = amount refunded.

    ``lines`` are the refunded lines with the refunded quantities (empty for
    an amount-only refund).
    """
    if not (_is_int(amount_minor) and amount_minor > 0):
        raise ValueError("a refund event needs a positive amount")
    return _server_event(
        "refund",
        refund_id,
        order,
        session_id,
        now,
        amount_minor,
        lines,
        tax_minor=tax_minor,
        shipping_minor=shipping_minor,
    )
