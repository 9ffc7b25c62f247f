"""Storefront events as polars frames: the rules of domain/events.py, vectorized (ANA-2, issue 5).

The demo simulator makes millions of client events; validating them one dict at
a time (``validate_event``, some microseconds each) would cost minutes. Here the
same rules run as polars expressions over two frames, one row per event and one
row per item, and decide the same thing (tests/unit/domain/test_event_frames.py
checks that against ``validate_batch`` on random batches):

- Each event gets the first rule it breaks, in ``validate_event``'s order, with
  the same code, field and reason; an item error names ``items[n].field`` of the
  event's first bad item. A card-number scan runs in Python only on the rare
  values a vectorized pre-filter (a 13+ digit run) picks out, through
  ``card_data.reject_card_data`` itself.
- All or nothing: any bad row raises ``invalid_events`` with ``bad`` = the first
  ``MAX_REPORTED`` bad rows by index (``index`` is the events frame's row) and
  ``bad_count`` = how many there are in all.
- Normalization as in ``validate_event``: event ids lower-cased, timestamps in
  UTC (microseconds), blank optional strings become null, quantity defaults to
  1; the rows come back deduplicated on event_id, first wins.

What a typed frame changes (deliberately):

- Types are the frame's schema (``EVENT_COLUMNS``, ``ITEM_COLUMNS``), checked
  once per frame: a column of the wrong type (a float price, a naive
  timestamp), an unknown column, items that name no event, or an event's
  item_index not running 0, 1, 2, ... raise ``invalid_frame`` for the whole
  frame. Missing known columns count as all-null. JSON's per-value type errors
  (a bool quantity, a timestamp string that does not parse) cannot arise.
- Items belong to an event_id (compared lower-case), so event rows repeating
  an id share its items; the repeats are dropped anyway.
- Batch-size limits are the HTTP endpoint's, not rules of an event: any number
  of rows is taken, and an empty events frame stores nothing and is no error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from transactional.domain.card_data import is_cvv_field, reject_card_data, safe_field_name
from transactional.domain.errors import Invalid
from transactional.domain.events import (
    CLIENT_EVENT_NAMES,
    DEFAULT_MAX_FUTURE,
    DEFAULT_MAX_PAST,
    ITEMS_REQUIRED,
    MAX_ITEMS,
    MAX_QUANTITY,
    MAX_TEXT,
    SERVER_EVENT_NAMES,
)
from transactional.domain.money import CURRENCY_EXPONENTS
from transactional.domain.words import DEVICES, PAYMENT_METHODS, TRAFFIC_SOURCES

MAX_REPORTED = 100

EVENT_TEXT = ("utm_source", "utm_medium", "utm_campaign", "coupon", "item_list_name", "shipping_tier")
ITEM_TEXT = ("item_name", "item_brand", "item_category", "item_variant")

TIMESTAMP = pl.Datetime("us", "UTC")
# The client's fields of an event, by column (``timestamp`` is any tz-aware Datetime).
EVENT_COLUMNS: dict[str, pl.DataType] = {
    "event_id": pl.String(),
    "event_name": pl.String(),
    "session_id": pl.String(),
    "anonymous_id": pl.String(),
    "customer_id": pl.String(),
    "timestamp": TIMESTAMP,
    "traffic_source": pl.String(),
    "utm_source": pl.String(),
    "utm_medium": pl.String(),
    "utm_campaign": pl.String(),
    "device": pl.String(),
    "currency": pl.String(),
    "value_minor": pl.Int64(),
    "coupon": pl.String(),
    "item_list_id": pl.String(),
    "item_list_name": pl.String(),
    "shipping_tier": pl.String(),
    "payment_type": pl.String(),
}
# One row per item; item_index is its position in the event (GA4's ``items[n]``),
# item_list_index GA4's ``index`` (its position in a list).
ITEM_COLUMNS: dict[str, pl.DataType] = {
    "event_id": pl.String(),
    "item_index": pl.Int64(),
    "item_id": pl.String(),
    "item_name": pl.String(),
    "item_brand": pl.String(),
    "item_category": pl.String(),
    "item_variant": pl.String(),
    "price_minor": pl.Int64(),
    "quantity": pl.Int64(),
    "item_list_index": pl.Int64(),
}
_INT_COLUMNS = frozenset({"value_minor", "item_index", "price_minor", "quantity", "item_list_index"})

# What str.isspace() calls white space, so "blank" means what ``not value.strip()`` means
# in events.py (polars' own strip follows Rust's, which lacks U+001C..U+001F).
PY_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680"
    + "".join(chr(c) for c in range(0x2000, 0x200B))
    + "\u2028\u2029\u202f\u205f\u3000"
)
_BLANK = "^[" + "".join(f"\\x{{{ord(c):x}}}" for c in PY_WHITESPACE) + "]*$"
_UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
_IDENTIFIER = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
_CUSTOMER_ID = r"^cus_[0-9a-f]{24}$"
# A superset of card_data's candidate run (13+ digits, one space- or dash-like character
# between two): a value without one cannot hold a card number, the others are scanned.
_DIGIT_RUN = r"\d(?:[^\S\n]?\d|[-\x{2010}-\x{2013}]\d){12,}"

_ID_REASON = "must be 1 to 128 letters, digits or '.', '_', ':', '-', starting alphanumeric"
_TEXT_REASON = f"must be a string of at most {MAX_TEXT} characters"


def _one_of(allowed: frozenset[str]) -> str:
    return "must be one of " + ", ".join(sorted(allowed))


@dataclass(frozen=True, slots=True)
class _Rule:
    code: str
    field: str  # the event's field, or the item's (named items[n].<field> in errors)
    reason: str


# Event rules in validate_event's order; index _ITEM_RULE stands for "an item is bad".
_EVENT_RULES: list[_Rule] = [
    _Rule("server_only_event", "event_name", "{name} events are sent by the server only"),
    _Rule("invalid_event_name", "event_name", _one_of(CLIENT_EVENT_NAMES)),
    _Rule("invalid_event_id", "event_id", "must be a UUID (8-4-4-4-12 hex digits)"),
    _Rule("missing_field", "session_id", "is required"),
    _Rule("invalid_id", "session_id", _ID_REASON),
    _Rule("missing_field", "anonymous_id", "is required"),
    _Rule("invalid_id", "anonymous_id", _ID_REASON),
    _Rule("invalid_customer_id", "customer_id", "must be a customer id (cus_ and 24 hex digits)"),
    _Rule("missing_field", "timestamp", "is required"),
    _Rule("timestamp_in_future", "timestamp", "is more than {future} s ahead of the server's clock"),
    _Rule("timestamp_too_old", "timestamp", "is more than {past} h behind the server's clock"),
    _Rule("missing_field", "traffic_source", "is required"),
    _Rule("invalid_traffic_source", "traffic_source", _one_of(TRAFFIC_SOURCES)),
    _Rule("missing_field", "device", "is required"),
    _Rule("invalid_device", "device", _one_of(DEVICES)),
    _Rule("invalid_payment_type", "payment_type", _one_of(PAYMENT_METHODS)),
    _Rule("invalid_currency", "currency", "must be an upper-case ISO 4217 code"),
    _Rule("currency_mismatch", "currency", "must be the store's currency {currency}"),
    _Rule("invalid_value_minor", "value_minor", "must be an integer >= 0"),
    _Rule("invalid_id", "item_list_id", _ID_REASON),
    *(_Rule("invalid_text", key, _TEXT_REASON) for key in EVENT_TEXT),
    _Rule("too_many_items", "items", f"at most {MAX_ITEMS} items per event"),
    _Rule("", "", ""),  # an item's rule: see _ITEM_RULES
    _Rule("missing_items", "items", "{name} needs at least one item"),
]
_ITEM_RULE = len(_EVENT_RULES) - 2
_CARD_RULE = len(_EVENT_RULES)  # reason and field come from card_data.reject_card_data

_ITEM_RULES: list[_Rule] = [
    _Rule("missing_field", "item_id", "is required"),
    _Rule("invalid_id", "item_id", _ID_REASON),
    _Rule("invalid_quantity", "quantity", f"must be an integer >= 1 and <= {MAX_QUANTITY}"),
    *(_Rule("invalid_text", key, _TEXT_REASON) for key in ITEM_TEXT),
    _Rule("invalid_price_minor", "price_minor", "must be an integer >= 0"),
    _Rule("invalid_index", "index", "must be an integer >= 0"),
]


@dataclass(frozen=True, slots=True)
class ValidFrames:
    """A validated frame pair, normalized and deduplicated on event_id (first wins).

    ``events``: event_id (lower case), event_name, occurred_at (UTC), session_id,
    anonymous_id, customer_id, traffic_source, utm_source, utm_medium,
    utm_campaign, device, currency, value_minor, coupon, item_list_id,
    item_list_name, shipping_tier, payment_type. ``items``: event_id,
    item_index, item_id, item_name, item_brand, item_category, item_variant,
    item_list_index, price_minor, quantity (1 when absent). ``received`` is the
    number of event rows given, repeats included.
    """

    events: pl.DataFrame
    items: pl.DataFrame
    received: int


def _frame_error(detail: str, **extra: Any) -> Invalid:
    return Invalid(detail, code="invalid_frame", **extra)


def _conform(frame: pl.DataFrame, columns: Mapping[str, pl.DataType], what: str) -> pl.DataFrame:
    """``frame`` with exactly ``columns``, each of its type; a missing column is all null."""
    if not frame.width:
        return pl.DataFrame(schema=dict(columns))  # no column at all: no rows either
    unknown = [name for name in frame.columns if name not in columns]
    if unknown:
        cvv = [safe_field_name(name) for name in unknown if is_cvv_field(name)]
        if cvv:
            raise Invalid(
                f"card security codes are never accepted: remove {', '.join(cvv)}",
                code="cvv_not_accepted",
                field=cvv[0],
            )
        names = ", ".join(safe_field_name(name) for name in unknown)
        raise _frame_error(
            f"{what} frame: unknown column {names}", columns=[safe_field_name(n) for n in unknown]
        )
    exprs = []
    for name, dtype in columns.items():
        if name not in frame.columns:
            exprs.append(pl.lit(None, dtype=dtype).alias(name))
            continue
        have = frame.schema[name]
        if have == pl.Null:
            exprs.append(pl.col(name).cast(dtype))
        elif name == "timestamp":
            if not (isinstance(have, pl.Datetime) and have.time_zone is not None):
                raise _frame_error(f"{what} frame: timestamp must be a Datetime with a time zone", field=name)
            exprs.append(pl.col(name).dt.convert_time_zone("UTC").cast(TIMESTAMP))
        elif name in _INT_COLUMNS:
            if not have.is_integer():
                raise _frame_error(f"{what} frame: {name} must hold integers", field=name)
            exprs.append(pl.col(name).cast(pl.Int64))
        elif have != pl.String:
            raise _frame_error(f"{what} frame: {name} must hold strings", field=name)
        else:
            exprs.append(pl.col(name))
    return frame.select(exprs)


def _present(name: str) -> pl.Expr:
    """Not null and not blank (``events._present``)."""
    col = pl.col(name)
    return (col.is_not_null() & ~col.str.contains(_BLANK)).fill_null(False)


def _blank_to_null(name: str) -> pl.Expr:
    return pl.when(_present(name)).then(pl.col(name)).otherwise(None).alias(name)


def _fails(name: str, pattern: str) -> pl.Expr:
    return ~pl.col(name).str.contains(pattern).fill_null(False)


def _not_in(name: str, allowed: frozenset[str]) -> pl.Expr:
    return ~pl.col(name).is_in(sorted(allowed)).fill_null(False)


def _long(name: str) -> pl.Expr:
    return (pl.col(name).str.len_chars() > MAX_TEXT).fill_null(False)


def _first_broken(conditions: list[pl.Expr]) -> pl.Expr:
    """The index of the first true condition, or null."""
    return pl.coalesce([pl.when(c).then(pl.lit(n, dtype=pl.Int32)) for n, c in enumerate(conditions)])


def _has_digit_run(names: tuple[str, ...]) -> pl.Expr:
    return pl.any_horizontal([pl.col(n).str.contains(_DIGIT_RUN).fill_null(False) for n in names])


def _item_frame(items: pl.DataFrame, keys: pl.Series) -> pl.DataFrame:
    """Items keyed by lower-case event id, with their first broken rule and a digit-run flag."""
    items = items.with_columns(pl.col("event_id").str.to_lowercase().alias("_key"))
    if items["_key"].null_count() or not items["_key"].is_in(keys.implode(), nulls_equal=False).all():
        raise _frame_error("items frame: every item must name an event_id of the events frame")
    if items["item_index"].null_count():
        raise _frame_error("items frame: item_index is required")
    shape = items.group_by("_key").agg(
        pl.len().alias("n"),
        pl.col("item_index").min().alias("lo"),
        pl.col("item_index").max().alias("hi"),
        pl.col("item_index").n_unique().alias("distinct"),
    )
    if shape.filter(
        (pl.col("lo") != 0) | (pl.col("hi") != pl.col("n") - 1) | (pl.col("distinct") != pl.col("n"))
    ).height:
        raise _frame_error(
            "items frame: each event's item_index must run 0, 1, 2, ... without gaps or repeats"
        )
    quantity = pl.col("quantity")
    return items.with_columns(
        _first_broken(
            [
                ~_present("item_id"),
                _fails("item_id", _IDENTIFIER),
                quantity.is_not_null() & ((quantity < 1) | (quantity > MAX_QUANTITY)),
                *(_long(key) for key in ITEM_TEXT),
                (pl.col("price_minor") < 0).fill_null(False),
                (pl.col("item_list_index") < 0).fill_null(False),
            ]
        ).alias("_rule"),
        _has_digit_run(ITEM_TEXT).alias("_digits"),
    )


def _per_event(items: pl.DataFrame) -> pl.DataFrame:
    """Per event id: item count, first bad item (position and rule), any digit run."""
    bad = items.filter(pl.col("_rule").is_not_null())
    return (
        items.group_by("_key")
        .agg(pl.len().alias("_n_items"), pl.col("_digits").any().alias("_item_digits"))
        .join(
            bad.group_by("_key").agg(
                pl.col("item_index").min().alias("_bad_item"),
                pl.col("_rule").sort_by("item_index").first().alias("_item_rule"),
            ),
            on="_key",
            how="left",
        )
    )


def _card_field(row: Mapping[str, Any], items: list[dict[str, Any]]) -> Invalid | None:
    """The card-data error ``validate_event`` would raise for this event, through card_data itself."""
    texts: dict[str, str] = {}
    for key in EVENT_TEXT:
        value = row[key]
        if value is not None and value.strip():
            texts[key] = value
    for item in items:
        for key in ITEM_TEXT:
            value = item[key]
            if value is not None and value.strip():
                texts[f"items[{item['item_index']}].{key}"] = value
    try:
        reject_card_data(texts, field_kind="free_text")
    except Invalid as err:
        return err
    return None


def validate_frames(
    events: pl.DataFrame,
    items: pl.DataFrame,
    *,
    now: datetime,
    max_future: timedelta = DEFAULT_MAX_FUTURE,
    max_past: timedelta = DEFAULT_MAX_PAST,
    store_currency: str | None = None,
    max_reported: int = MAX_REPORTED,
) -> ValidFrames:
    """Every event of the frames, validated as ``validate_batch`` would, normalized and deduplicated.

    Raises Invalid ``invalid_events`` (``bad``: the first ``max_reported`` bad
    rows as ``{"index", "code", "field", "reason"}``; ``bad_count``: all of
    them), ``invalid_frame`` or ``cvv_not_accepted`` (see the module docstring).
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    now = now.astimezone(UTC)
    events = _conform(events, EVENT_COLUMNS, "events").with_columns(
        pl.col("event_id").str.to_lowercase().alias("_key")
    )
    items = _item_frame(_conform(items, ITEM_COLUMNS, "items"), events["_key"].drop_nulls().unique())
    events = events.join(_per_event(items), on="_key", how="left", maintain_order="left").with_columns(
        pl.col("_n_items").fill_null(0), pl.col("_item_digits").fill_null(False)
    )
    name, stamp, currency = pl.col("event_name"), pl.col("timestamp"), pl.col("currency")
    rule = _first_broken(
        [
            name.is_in(sorted(SERVER_EVENT_NAMES)).fill_null(False),
            _not_in("event_name", CLIENT_EVENT_NAMES),
            _fails("event_id", _UUID),
            ~_present("session_id"),
            _fails("session_id", _IDENTIFIER),
            ~_present("anonymous_id"),
            _fails("anonymous_id", _IDENTIFIER),
            _present("customer_id") & _fails("customer_id", _CUSTOMER_ID),
            stamp.is_null(),
            (stamp > pl.lit(now + max_future, dtype=TIMESTAMP)).fill_null(False),
            (stamp < pl.lit(now - max_past, dtype=TIMESTAMP)).fill_null(False),
            ~_present("traffic_source"),
            _not_in("traffic_source", TRAFFIC_SOURCES),
            ~_present("device"),
            _not_in("device", DEVICES),
            _present("payment_type") & _not_in("payment_type", PAYMENT_METHODS),
            _present("currency") & _not_in("currency", frozenset(CURRENCY_EXPONENTS)),
            (
                _present("currency") & (currency != store_currency).fill_null(False)
                if store_currency is not None
                else pl.lit(False)
            ),
            (pl.col("value_minor") < 0).fill_null(False),
            _present("item_list_id") & _fails("item_list_id", _IDENTIFIER),
            *(_long(key) for key in EVENT_TEXT),
            pl.col("_n_items") > MAX_ITEMS,
            pl.col("_item_rule").is_not_null(),
            name.is_in(sorted(ITEMS_REQUIRED)).fill_null(False) & (pl.col("_n_items") == 0),
        ]
    )
    events = events.with_columns(rule.alias("_rule"), _has_digit_run(EVENT_TEXT).alias("_digits"))

    # Card numbers, last, as in validate_event: only events with a long digit run are scanned.
    card_errors: dict[int, Invalid] = {}
    suspects = events.with_row_index("_row").filter(
        pl.col("_rule").is_null() & (pl.col("_digits") | pl.col("_item_digits"))
    )
    if suspects.height:
        by_key = items.filter(pl.col("_key").is_in(suspects["_key"].implode())).sort("item_index")
        grouped: dict[str, list[dict[str, Any]]] = {}
        for item in by_key.iter_rows(named=True):
            grouped.setdefault(item["_key"], []).append(item)
        for row in suspects.iter_rows(named=True):
            err = _card_field(row, grouped.get(row["_key"], []))
            if err is not None:
                card_errors[row["_row"]] = err

    n_bad = int(events["_rule"].is_not_null().sum()) + len(card_errors)
    if n_bad:
        _raise_bad(events, card_errors, n_bad, max_future, max_past, store_currency, max_reported)

    fresh = events.filter(pl.col("_key").is_first_distinct())
    normalized = fresh.select(
        pl.col("_key").alias("event_id"),
        "event_name",
        pl.col("timestamp").alias("occurred_at"),
        "session_id",
        "anonymous_id",
        _blank_to_null("customer_id"),
        "traffic_source",
        *(_blank_to_null(key) for key in ("utm_source", "utm_medium", "utm_campaign")),
        "device",
        _blank_to_null("currency"),
        "value_minor",
        _blank_to_null("coupon"),
        _blank_to_null("item_list_id"),
        _blank_to_null("item_list_name"),
        _blank_to_null("shipping_tier"),
        _blank_to_null("payment_type"),
    )
    kept_items = items.filter(pl.col("_key").is_in(normalized["event_id"].implode())).select(
        pl.col("_key").alias("event_id"),
        "item_index",
        "item_id",
        *(_blank_to_null(key) for key in ITEM_TEXT),
        "item_list_index",
        "price_minor",
        pl.col("quantity").fill_null(1),
    )
    return ValidFrames(events=normalized, items=kept_items, received=events.height)


def _raise_bad(
    events: pl.DataFrame,
    card_errors: dict[int, Invalid],
    n_bad: int,
    max_future: timedelta,
    max_past: timedelta,
    store_currency: str | None,
    max_reported: int,
) -> None:
    values = {
        "future": int(max_future.total_seconds()),
        "past": int(max_past.total_seconds()) // 3600,
        "currency": store_currency,
    }
    flagged = (
        events.with_row_index("_row")
        .with_columns(
            pl.when(pl.col("_row").is_in(list(card_errors)))
            .then(pl.lit(_CARD_RULE, dtype=pl.Int32))
            .otherwise(pl.col("_rule"))
            .alias("_rule")
        )
        .filter(pl.col("_rule").is_not_null())
        .head(max_reported)
        .select("_row", "_rule", "event_name", "_bad_item", "_item_rule")
    )
    bad: list[dict[str, Any]] = []
    for row in flagged.iter_rows(named=True):
        index, code_of = row["_row"], row["_rule"]
        if code_of == _CARD_RULE:
            err = card_errors[index]
            bad.append(
                {"index": index, "code": err.code, "field": err.extra.get("field"), "reason": err.detail}
            )
            continue
        if code_of == _ITEM_RULE:
            rule = _ITEM_RULES[row["_item_rule"]]
            field = f"items[{row['_bad_item']}].{rule.field}"
        else:
            rule = _EVENT_RULES[code_of]
            field = rule.field
        reason = rule.reason.format(name=row["event_name"], **values)
        bad.append({"index": index, "code": rule.code, "field": field, "reason": f"{field}: {reason}"})
    raise Invalid(
        f"{n_bad} of {events.height} events are invalid; nothing was accepted",
        code="invalid_events",
        bad=bad,
        bad_count=n_bad,
    )
