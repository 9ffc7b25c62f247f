"""The frame validator decides what validate_batch decides: a property over random batches of
valid events and events broken in each way the per-event validator knows, compared on acceptance,
on every bad index with its code, field and reason, and on the normalized rows."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from transactional.domain.errors import Invalid
from transactional.domain.event_frames import (
    EVENT_COLUMNS,
    ITEM_TEXT,
    PY_WHITESPACE,
    TIMESTAMP,
    validate_frames,
)
from transactional.domain.events import CLIENT_EVENT_NAMES, ITEMS_REQUIRED, NormalizedEvent, validate_batch

NOW = datetime(2024, 5, 2, 12, 0, tzinfo=UTC)
PAN = "4111 1111 1111 1111"
NOT_A_PAN = "4111 1111 1111 1112"  # a 16-digit run that fails Luhn: scanned, not refused
CURRENCY = "USD"


def to_frames(raws: list[Mapping[str, Any]]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The frames holding the same events as ``raws`` (items attached once per event id)."""
    columns: dict[str, list[Any]] = {name: [] for name in EVENT_COLUMNS}
    item_rows: list[dict[str, Any]] = []
    keys: set[str] = set()
    for raw in raws:
        for name in EVENT_COLUMNS:
            value = raw.get(name)
            columns[name].append(datetime.fromisoformat(value) if name == "timestamp" and value else value)
        event_id = raw.get("event_id")
        if event_id is None or event_id.lower() in keys:
            continue
        keys.add(event_id.lower())
        for n, item in enumerate(raw.get("items") or []):
            row = {key: item.get(key) for key in ("item_id", "price_minor", "quantity", *ITEM_TEXT)}
            item_rows.append(
                {"event_id": event_id, "item_index": n, "item_list_index": item.get("index"), **row}
            )
    schema = {**EVENT_COLUMNS, "timestamp": pl.Datetime("us", "UTC")}
    events = pl.DataFrame(columns, schema=schema)
    items = pl.DataFrame(
        item_rows,
        schema={
            "event_id": pl.String,
            "item_index": pl.Int64,
            "item_list_index": pl.Int64,
            "item_id": pl.String,
            "price_minor": pl.Int64,
            "quantity": pl.Int64,
            **dict.fromkeys(ITEM_TEXT, pl.String),
        },
    )
    return events, items


def rows_of(events: list[NormalizedEvent]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    event_rows = [{name: getattr(e, name) for name in _EVENT_OUT} for e in events]
    item_rows = [
        {
            "event_id": e.event_id,
            "item_index": n,
            "item_id": it.item_id,
            **{key: getattr(it, key) for key in ITEM_TEXT},
            "item_list_index": it.index,
            "price_minor": it.price_minor,
            "quantity": it.quantity,
        }
        for e in events
        for n, it in enumerate(e.items)
    ]
    return event_rows, sorted(item_rows, key=lambda r: (r["event_id"], r["item_index"]))


_EVENT_OUT = (
    "event_id",
    "event_name",
    "occurred_at",
    "session_id",
    "anonymous_id",
    "customer_id",
    "traffic_source",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "device",
    "currency",
    "value_minor",
    "coupon",
    "item_list_id",
    "item_list_name",
    "shipping_tier",
    "payment_type",
)


def outcome(raws: list[dict[str, Any]]) -> tuple[str, Any]:
    """What validate_batch makes of a batch: ("bad", [...]) or ("ok", (event rows, item rows))."""
    try:
        accepted = validate_batch(raws, now=NOW, max_batch=10_000, store_currency=CURRENCY)
    except Invalid as err:
        assert err.code == "invalid_events"
        return "bad", err.extra["bad"]
    return "ok", rows_of(accepted)


def frame_outcome(raws: list[dict[str, Any]]) -> tuple[str, Any]:
    events, items = to_frames(raws)
    try:
        valid = validate_frames(events, items, now=NOW, store_currency=CURRENCY, max_reported=10_000)
    except Invalid as err:
        assert err.code == "invalid_events"
        assert err.extra["bad_count"] == len(err.extra["bad"])
        return "bad", err.extra["bad"]
    assert valid.received == len(raws)
    return "ok", (valid.events.to_dicts(), valid.items.sort("event_id", "item_index").to_dicts())


# --- random events ------------------------------------------------------------------------------

identifiers = st.sampled_from(["s_1", "anon.42", "GA1.2.3:4", "a" * 128, "x-y_z"])
texts = st.one_of(
    st.sampled_from(["google", "Spring sale", "", "   ", "\x1c", "a" * 200, NOT_A_PAN, "ISBN 9780306406157"]),
    st.text(max_size=12),
)
item_ids = st.sampled_from(["sku_0000018f3a2b4c5d6e7f8a9b", "sku-1", "9"])


@st.composite
def items(draw: st.DrawFn) -> dict[str, Any]:
    item: dict[str, Any] = {"item_id": draw(item_ids)}
    for key in ITEM_TEXT:
        if draw(st.booleans()):
            item[key] = draw(texts)
    for key, low in (("price_minor", 0), ("quantity", 1), ("index", 0)):
        if draw(st.booleans()):
            item[key] = draw(st.integers(low, low + 10_000 if key == "quantity" else 10**9))
    if "quantity" in item:
        item["quantity"] = min(item["quantity"], 10_000)
    return item


@st.composite
def valid_events(draw: st.DrawFn) -> dict[str, Any]:
    name = draw(st.sampled_from(sorted(CLIENT_EVENT_NAMES)))
    offset = draw(st.sampled_from([UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5))]))
    moment = NOW - timedelta(
        seconds=draw(st.integers(-300, 72 * 3600)), microseconds=draw(st.integers(0, 999))
    )
    raw: dict[str, Any] = {
        "event_id": str(uuid.UUID(int=draw(st.integers(0, 2**128 - 1)))),
        "event_name": name,
        "session_id": draw(identifiers),
        "anonymous_id": draw(identifiers),
        "timestamp": moment.astimezone(offset).isoformat(),
        "traffic_source": draw(st.sampled_from(["organic", "email", "direct"])),
        "device": draw(st.sampled_from(["desktop", "mobile"])),
    }
    optional: dict[str, st.SearchStrategy[Any]] = {
        "customer_id": st.sampled_from(["cus_0123456789abcdef01234567", "", " "]),
        "utm_source": texts,
        "utm_medium": texts,
        "utm_campaign": texts,
        "coupon": texts,
        "item_list_name": texts,
        "shipping_tier": texts,
        "currency": st.sampled_from([CURRENCY, ""]),
        "value_minor": st.integers(0, 10**7),
        "item_list_id": st.sampled_from(["home.featured", "", "cat:shoes"]),
        "payment_type": st.sampled_from(["card", "alipay", " "]),
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            raw[key] = draw(strategy)
    n_items = draw(st.integers(1 if name in ITEMS_REQUIRED else 0, 3))
    raw["items"] = [draw(items()) for _ in range(n_items)]
    return raw


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


# Each way to break an event that a typed frame can carry: (field, values), applied to the event or,
# for "items[*]." fields, to one of its items.
BREAKS: list[tuple[str, list[Any]]] = [
    ("event_name", ["purchase", "refund", "page_view", "", None, "VIEW_CART"]),
    (
        "event_id",
        [
            None,
            "",
            "not-a-uuid",
            "97c1c172-5d2a-4a4e-96ce-97e7255b05c",
            "g7c1c172-5d2a-4a4e-96ce-97e7255b05c6",
        ],
    ),
    ("session_id", [None, "", "  ", "_starts_badly", "has space", "a" * 129]),
    ("anonymous_id", [None, "\t", "é"]),
    ("customer_id", ["cus_0123456789ABCDEF01234567", "cus_1", "ord_0123456789abcdef01234567"]),
    ("timestamp", [None, "future", "old", "edge_future", "edge_old"]),
    ("traffic_source", [None, "", "Email", "tv"]),
    ("device", [None, " ", "watch"]),
    ("payment_type", ["cash", "Card"]),
    ("currency", ["usd", "EUR", "XXX"]),
    ("value_minor", [-1]),
    ("item_list_id", ["bad id", "-x"]),
    ("utm_source", ["a" * 201, f"x {PAN}"]),
    ("utm_campaign", ["b" * 201, PAN.replace(" ", "-")]),
    ("coupon", [PAN.replace(" ", "")]),
    ("item_list_name", ["c" * 201]),
    ("shipping_tier", [f"{PAN}"]),
    ("items", ["none", "too_many"]),
    ("items[*].item_id", [None, "", " ", "bad id"]),
    ("items[*].quantity", [0, 10_001, -3]),
    ("items[*].item_name", ["d" * 201, f"Mug {PAN}"]),
    ("items[*].item_variant", ["e" * 201, PAN]),
    ("items[*].price_minor", [-1]),
    ("items[*].index", [-1]),
]


def _break(raw: dict[str, Any], field: str, value: Any, pick: int) -> None:
    if field == "timestamp" and isinstance(value, str):
        moments = {
            "future": NOW + timedelta(minutes=5, microseconds=1),
            "old": NOW - timedelta(hours=72, microseconds=1),
            "edge_future": NOW + timedelta(minutes=5),
            "edge_old": NOW - timedelta(hours=72),
        }
        raw[field] = moments[value].isoformat()
    elif field == "items":
        first = raw["items"][0] if raw["items"] else {"item_id": "sku_1"}
        raw["items"] = [] if value == "none" else [dict(first) for _ in range(201)]
    elif field.startswith("items[*]."):
        if not raw["items"]:
            raw["items"] = [{"item_id": "sku_1"}]
        raw["items"][pick % len(raw["items"])][field.removeprefix("items[*].")] = value
    else:
        raw[field] = value


@st.composite
def batches(draw: st.DrawFn) -> list[dict[str, Any]]:
    batch: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(1, 6))):
        if batch and draw(st.integers(0, 5)) == 0:
            # A repeat of an earlier event (maybe with the id upper-cased): first wins.
            copy = dict(draw(st.sampled_from(batch)))
            if draw(st.booleans()):
                copy["event_id"] = _upper(copy["event_id"])
            batch.append(copy)
            continue
        raw = draw(valid_events())
        # Distinct events get distinct ids: a frame attaches items to an event id, so two
        # different events under one id cannot be written as frames (event_frames.py).
        n = int(raw["event_id"].replace("-", ""), 16)
        while any(isinstance(e["event_id"], str) and e["event_id"].lower() == raw["event_id"] for e in batch):
            n = (n + 1) % 2**128
            raw["event_id"] = str(uuid.UUID(int=n))
        for _ in range(draw(st.integers(0, 2))):
            field, values = draw(st.sampled_from(BREAKS))
            _break(raw, field, draw(st.sampled_from(values)), draw(st.integers(0, 5)))
        batch.append(raw)
    return batch


@given(batches())
def test_the_frame_validator_decides_what_validate_batch_decides(batch: list[dict[str, Any]]) -> None:
    assert frame_outcome(batch) == outcome(batch)


@pytest.mark.parametrize(("field", "value"), [(f, v) for f, vs in BREAKS for v in vs])
def test_each_break_on_its_own(field: str, value: Any) -> None:
    """Every listed break, alone and beside a valid event, so none is left to chance."""
    raw = {
        "event_id": "97C1C172-5D2A-4A4E-96CE-97E7255B05C6",
        "event_name": "add_to_cart",
        "session_id": "s_1",
        "anonymous_id": "a_1",
        "timestamp": NOW.isoformat(),
        "traffic_source": "email",
        "device": "mobile",
        "currency": CURRENCY,
        "items": [{"item_id": "sku_1", "item_name": "Mug"}, {"item_id": "sku_2", "quantity": 2}],
    }
    good = {**raw, "event_id": str(uuid.UUID(int=7)), "items": [{"item_id": "sku_9"}]}
    _break(raw, field, value, 1)
    assert frame_outcome([good, raw]) == outcome([good, raw])


# --- what only frames have ----------------------------------------------------------------------


def test_python_white_space_is_what_str_isspace_says() -> None:
    assert set(PY_WHITESPACE) == {chr(c) for c in range(0x110000) if chr(c).isspace()}


def _frames(n: int = 1) -> tuple[pl.DataFrame, pl.DataFrame]:
    raws = [
        {
            "event_id": str(uuid.UUID(int=i + 1)),
            "event_name": "view_item",
            "session_id": "s",
            "anonymous_id": "a",
            "timestamp": NOW.isoformat(),
            "traffic_source": "direct",
            "device": "desktop",
            "items": [{"item_id": "sku_1"}],
        }
        for i in range(n)
    ]
    return to_frames(raws)


def invalid(events: pl.DataFrame, items: pl.DataFrame) -> Invalid:
    with pytest.raises(Invalid) as err:
        validate_frames(events, items, now=NOW, store_currency=CURRENCY)
    return err.value


def test_the_bad_list_is_capped_and_counted() -> None:
    events, items = _frames(250)
    events = events.with_columns(pl.lit("tv").alias("device"))
    err = invalid(events, items)
    assert err.detail == "250 of 250 events are invalid; nothing was accepted"
    assert err.extra["bad_count"] == 250
    assert [b["index"] for b in err.extra["bad"]] == list(range(100))


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda e, i: (e.with_columns(pl.col("value_minor").cast(pl.Float64)), i), "invalid_frame"),
        (lambda e, i: (e.with_columns(pl.col("timestamp").dt.replace_time_zone(None)), i), "invalid_frame"),
        (lambda e, i: (e.with_columns(pl.lit(1).alias("price")), i), "invalid_frame"),
        (lambda e, i: (e.with_columns(pl.lit("123").alias("card_cvv")), i), "cvv_not_accepted"),
        (lambda e, i: (e, i.with_columns(pl.lit(str(uuid.UUID(int=99))).alias("event_id"))), "invalid_frame"),
        (lambda e, i: (e, i.with_columns(pl.lit(1, dtype=pl.Int64).alias("item_index"))), "invalid_frame"),
        (lambda e, i: (e, pl.concat([i, i])), "invalid_frame"),
    ],
)
def test_a_frame_of_the_wrong_shape_is_refused_whole(change: Any, code: str) -> None:
    assert invalid(*change(*_frames(2))).code == code


def test_missing_columns_are_null_and_timestamps_of_any_zone_and_unit_are_utc() -> None:
    events, items = _frames(1)
    events = events.drop("utm_source", "coupon").with_columns(
        pl.col("timestamp").dt.convert_time_zone("Asia/Shanghai").cast(pl.Datetime("ns", "Asia/Shanghai"))
    )
    valid = validate_frames(events, items.drop("item_name"), now=NOW)
    assert valid.events.schema["occurred_at"] == TIMESTAMP
    assert valid.events["occurred_at"].to_list() == [NOW]
    assert valid.events["coupon"].to_list() == [None]


def test_an_empty_frame_is_no_error_and_a_frame_without_columns_is_empty() -> None:
    events, items = to_frames([])
    valid = validate_frames(events, items, now=NOW)
    assert (valid.events.height, valid.items.height, valid.received) == (0, 0, 0)
    valid = validate_frames(pl.DataFrame(), pl.DataFrame(), now=NOW)
    assert (valid.events.height, valid.items.height, valid.received) == (0, 0, 0)
    events, _ = _frames(2)
    err = invalid(events, pl.DataFrame())
    assert [b["code"] for b in err.extra["bad"]] == ["missing_items", "missing_items"]
