import copy
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from transactional.domain.errors import Invalid
from transactional.domain.events import (
    CLIENT_EVENT_NAMES,
    ITEMS_REQUIRED,
    EventItem,
    NormalizedEvent,
    parse_timestamp,
    server_purchase_event,
    server_refund_event,
    validate_batch,
    validate_event,
)
from transactional.domain.words import DEVICES, TRAFFIC_SOURCES

NOW = datetime(2024, 5, 2, 12, 0, tzinfo=UTC)
PAN = "4111 1111 1111 1111"


def event(**overrides) -> dict:
    raw = {
        "event_id": "97C1C172-5D2A-4A4E-96CE-97E7255B05C6",
        "event_name": "add_to_cart",
        "session_id": "s_1714650000",
        "anonymous_id": "123456789.1714650000",
        "customer_id": None,
        "timestamp": "2024-05-02T13:59:00+02:00",
        "traffic_source": "paid_search",
        "utm_source": "google",
        "utm_medium": "cpc",
        "utm_campaign": "spring_sale",
        "device": "mobile",
        "items": [
            {"item_id": "sku_0000018f3a2b4c5d6e7f8a9b", "item_name": "Merino Crew Tee", "price_minor": 3800}
        ],
    }
    raw.update(overrides)
    return {k: v for k, v in raw.items() if v is not ...}


def reject(raw: dict, **kwargs) -> Invalid:
    with pytest.raises(Invalid) as err:
        validate_event(raw, now=NOW, **kwargs)
    return err.value


# --- one event ----------------------------------------------------------------------------------


def test_valid_event_is_normalized():
    e = validate_event(event(), now=NOW)
    assert e == NormalizedEvent(
        event_id="97c1c172-5d2a-4a4e-96ce-97e7255b05c6",
        event_name="add_to_cart",
        source="client",
        occurred_at=datetime(2024, 5, 2, 11, 59, tzinfo=UTC),
        session_id="s_1714650000",
        anonymous_id="123456789.1714650000",
        customer_id=None,
        traffic_source="paid_search",
        utm_source="google",
        utm_medium="cpc",
        utm_campaign="spring_sale",
        device="mobile",
        items=(EventItem("sku_0000018f3a2b4c5d6e7f8a9b", item_name="Merino Crew Tee", price_minor=3800),),
    )
    assert e.occurred_at.tzinfo is UTC


def test_optional_fields_and_empty_strings():
    e = validate_event(
        event(
            event_name="view_cart",
            items=...,
            utm_source="",
            utm_medium=...,
            utm_campaign="  ",
            customer_id="cus_0000018f3a2b4c5d6e7f8a9b",
            timestamp="2024-05-02T11:00:00Z",
            currency="USD",
            value_minor=0,
            payment_type=None,
        ),
        now=NOW,
    )
    assert (e.items, e.utm_source, e.utm_medium, e.utm_campaign) == ((), None, None, None)
    assert e.customer_id == "cus_0000018f3a2b4c5d6e7f8a9b"
    assert (e.currency, e.value_minor) == ("USD", 0)


@pytest.mark.parametrize("name", sorted(CLIENT_EVENT_NAMES))
def test_every_client_event_name_is_accepted(name):
    assert validate_event(event(event_name=name), now=NOW).event_name == name


@pytest.mark.parametrize("name", ["purchase", "refund"])
def test_purchase_and_refund_are_server_only(name):
    err = reject(event(event_name=name, transaction_id="ord_0000018f3a2b4c5d6e7f8a9b"))
    assert err.code == "server_only_event"
    assert err.extra == {"field": "event_name"}


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"event_name": "page_view"}, "invalid_event_name", "event_name"),
        ({"event_name": None}, "invalid_event_name", "event_name"),
        ({"event_id": "not-a-uuid"}, "invalid_event_id", "event_id"),
        ({"event_id": "97c1c1725d2a4a4e96ce97e7255b05c6"}, "invalid_event_id", "event_id"),
        ({"event_id": ...}, "invalid_event_id", "event_id"),
        ({"session_id": ""}, "missing_field", "session_id"),
        ({"session_id": ...}, "missing_field", "session_id"),
        ({"session_id": "has space"}, "invalid_id", "session_id"),
        ({"session_id": "x" * 129}, "invalid_id", "session_id"),
        ({"anonymous_id": ...}, "missing_field", "anonymous_id"),
        ({"anonymous_id": 12345}, "invalid_id", "anonymous_id"),
        ({"customer_id": "cus_123"}, "invalid_customer_id", "customer_id"),
        ({"timestamp": ...}, "missing_field", "timestamp"),
        ({"timestamp": "2024-05-02T11:59:00"}, "invalid_timestamp", "timestamp"),
        ({"timestamp": "yesterday"}, "invalid_timestamp", "timestamp"),
        ({"timestamp": 1714650000}, "invalid_timestamp", "timestamp"),
        ({"timestamp": "2024-05-02"}, "invalid_timestamp", "timestamp"),
        ({"traffic_source": "tiktok"}, "invalid_traffic_source", "traffic_source"),
        ({"traffic_source": ...}, "missing_field", "traffic_source"),
        ({"device": "watch"}, "invalid_device", "device"),
        ({"payment_type": "crypto"}, "invalid_payment_type", "payment_type"),
        ({"currency": "usd"}, "invalid_currency", "currency"),
        ({"value_minor": 12.5}, "invalid_value_minor", "value_minor"),
        ({"value_minor": -1}, "invalid_value_minor", "value_minor"),
        ({"utm_campaign": "x" * 201}, "invalid_text", "utm_campaign"),
        ({"utm_source": 7}, "invalid_text", "utm_source"),
        ({"items": "sku_1"}, "invalid_items", "items"),
        ({"items": []}, "missing_items", "items"),
        ({"items": ...}, "missing_items", "items"),
        ({"items": [{"item_id": "a"}] * 201}, "too_many_items", "items"),
        ({"items": ["sku_1"]}, "invalid_item", "items[0]"),
        ({"items": [{"item_name": "Tee"}]}, "missing_field", "items[0].item_id"),
        ({"items": [{"item_id": "a", "quantity": 0}]}, "invalid_quantity", "items[0].quantity"),
        ({"items": [{"item_id": "a", "quantity": True}]}, "invalid_quantity", "items[0].quantity"),
        ({"items": [{"item_id": "a", "quantity": 10_001}]}, "invalid_quantity", "items[0].quantity"),
        ({"items": [{"item_id": "a", "price": 38.0}]}, "invalid_price", "items[0].price"),
        ({"items": [{"item_id": "a", "price_minor": 38.0}]}, "invalid_price_minor", "items[0].price_minor"),
        ({"items": [{"item_id": "a", "price_minor": -1}]}, "invalid_price_minor", "items[0].price_minor"),
        ({"items": [{"item_id": "a", "index": -1}]}, "invalid_index", "items[0].index"),
        ({"items": [{"item_id": "a", "colour": "red"}]}, "unknown_field", "items[0].colour"),
        ({"page_title": "Home"}, "unknown_field", "page_title"),
        ({"transaction_id": "ord_0000018f3a2b4c5d6e7f8a9b"}, "unknown_field", "transaction_id"),
    ],
)
def test_invalid_fields(overrides, code, field):
    err = reject(event(**overrides))
    assert (err.code, err.extra.get("field")) == (code, field)


def test_not_an_object():
    assert reject(["event"]).code == "invalid_event"  # type: ignore[arg-type]


def test_store_currency():
    assert validate_event(event(currency="EUR"), now=NOW, store_currency="EUR").currency == "EUR"
    assert reject(event(currency="USD"), store_currency="EUR").code == "currency_mismatch"


def test_future_timestamps():
    at_limit = (NOW + timedelta(minutes=5)).isoformat()
    assert validate_event(event(timestamp=at_limit), now=NOW).occurred_at == NOW + timedelta(minutes=5)
    beyond = (NOW + timedelta(minutes=5, microseconds=1)).isoformat()
    err = reject(event(timestamp=beyond))
    assert (err.code, err.extra) == ("timestamp_in_future", {"field": "timestamp"})
    assert validate_event(event(timestamp=beyond), now=NOW, max_future=timedelta(hours=1))


def test_past_timestamps_up_to_72_hours():
    at_limit = (NOW - timedelta(hours=72)).isoformat()
    assert validate_event(event(timestamp=at_limit), now=NOW).occurred_at == NOW - timedelta(hours=72)
    beyond = (NOW - timedelta(hours=72, microseconds=1)).isoformat()
    err = reject(event(timestamp=beyond))
    assert (err.code, err.extra) == ("timestamp_too_old", {"field": "timestamp"})
    assert "72 h" in err.detail
    assert reject(event(timestamp="2023-01-01T00:00:00+09:00")).code == "timestamp_too_old"
    assert validate_event(event(timestamp=beyond), now=NOW, max_past=timedelta(days=4))


def test_a_digit_run_split_over_two_fields_is_not_a_card_number():
    # Each free-text value is scanned on its own: halves of a PAN in two fields are not one.
    e = validate_event(event(utm_source="4111 1111", utm_medium="1111 1111"), now=NOW)
    assert (e.utm_source, e.utm_medium) == ("4111 1111", "1111 1111")
    assert reject(event(utm_medium="4111\u20131111\u20131111\u20131111")).code == "card_data_rejected"


def test_parse_timestamp():
    assert parse_timestamp("2024-05-02T12:00:00Z") == NOW
    assert parse_timestamp("2024-05-02 08:00:00.123456-04:00") == NOW + timedelta(microseconds=123456)
    with pytest.raises(Invalid):
        parse_timestamp("2024-05-02T12:00:00" + "0" * 80)


@pytest.mark.parametrize(
    "overrides",
    [
        {"utm_campaign": f"promo {PAN}"},
        {"utm_source": PAN.replace(" ", "-")},
        {"coupon": "4111111111111111"},
        {"item_list_name": f"list{PAN}"},
        {"shipping_tier": PAN},
        {"items": [{"item_id": "a", "item_name": f"Tee {PAN}"}]},
        {"items": [{"item_id": "a"}, {"item_id": "b", "item_variant": PAN}]},
    ],
)
def test_card_numbers_in_free_text_are_rejected_without_echo(overrides):
    err = reject(event(**overrides))
    assert err.code == "card_data_rejected"
    assert err.extra["field_kind"] == "free_text"
    text = f"{err} {err.extra!r}"
    assert "4111" not in text and "1111" not in text


def test_cvv_fields_are_rejected():
    err = reject(event(cvv="123"))
    assert (err.code, err.extra) == ("cvv_not_accepted", {"field": "cvv"})
    err = reject(event(items=[{"item_id": "a", "card_cvc": "123", "price": 1}]))
    assert (err.code, err.extra) == ("cvv_not_accepted", {"field": "items[0].card_cvc"})


def test_unknown_field_named_like_a_card_number_is_redacted():
    err = reject(event(**{"4111111111111111": "x"}))
    assert (err.code, err.extra) == ("unknown_field", {"field": "<redacted>"})
    assert "4111" not in str(err)


def test_values_are_never_echoed_in_reasons():
    secret = "SECRET4111111111111111"
    for overrides in (
        {"traffic_source": secret},
        {"device": secret},
        {"session_id": secret + " x"},
        {"event_id": secret},
        {"timestamp": secret},
        {"customer_id": secret},
        {"currency": secret},
        {"event_name": secret},
        {"items": [{"item_id": secret + "!"}]},
    ):
        err = reject(event(**overrides))
        assert secret not in f"{err} {err.extra!r}", overrides


def test_machine_identifiers_are_not_scanned():
    # A GA4-style client id, a 13-digit millisecond timestamp as a session id,
    # a uuid and an id whose digits happen to pass Luhn: all valid identifiers.
    luhn_uuid = "41111111-1111-4111-8111-111111111111"
    e = validate_event(
        event(
            event_id=luhn_uuid,
            session_id="4222222222222",
            anonymous_id=luhn_uuid,
            customer_id="cus_000041111111111111110000",
            item_list_id="4111111111111111",
            items=[{"item_id": "4242424242424242"}],
        ),
        now=NOW,
    )
    assert e.event_id == luhn_uuid


@given(
    event_id=st.uuids(version=4),
    session=st.uuids(version=4),
    anonymous=st.uuids(),
    customer_hex=st.text(alphabet="0123456789abcdef", min_size=24, max_size=24),
    moment=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2024, 5, 2, 12)),
    offset=st.integers(-12 * 60, 14 * 60),
)
def test_property_uuids_ids_and_timestamps_never_trip_the_card_check(
    event_id, session, anonymous, customer_hex, moment, offset
):
    tz = timezone(timedelta(minutes=offset))
    stamp = moment.replace(tzinfo=UTC).astimezone(tz).isoformat()
    e = validate_event(
        event(
            event_id=str(event_id).upper(),
            session_id=str(session),
            anonymous_id=str(anonymous),
            customer_id=f"cus_{customer_hex}",
            timestamp=stamp,
            items=[{"item_id": f"sku_{customer_hex}", "item_name": f"ordered {stamp}"}],
        ),
        now=NOW,
        max_past=timedelta(days=366 * 25),  # any instant: this is about the card check
    )
    assert e.event_id == str(event_id)
    assert e.occurred_at == moment.replace(tzinfo=UTC)


# --- batches ------------------------------------------------------------------------------------


def test_batch_accepts_and_deduplicates_first_wins():
    first = event(event_id=str(uuid.UUID(int=1)), event_name="view_item")
    dup = event(event_id=str(uuid.UUID(int=1)).upper(), event_name="add_to_cart")
    other = event(event_id=str(uuid.UUID(int=2)), event_name="view_cart")
    out = validate_batch([first, dup, other, first], now=NOW)
    assert [(e.event_id, e.event_name) for e in out] == [
        (str(uuid.UUID(int=1)), "view_item"),
        (str(uuid.UUID(int=2)), "view_cart"),
    ]


def test_batch_with_bad_events_is_rejected_whole_listing_every_bad_index():
    batch = [
        event(event_id=str(uuid.UUID(int=1))),
        event(event_id=str(uuid.UUID(int=2)), event_name="purchase"),
        event(event_id=str(uuid.UUID(int=3))),
        event(event_id=str(uuid.UUID(int=4)), utm_campaign=PAN),
        event(event_id="nope"),
    ]
    with pytest.raises(Invalid) as err:
        validate_batch(batch, now=NOW)
    assert err.value.code == "invalid_events"
    bad = err.value.extra["bad"]
    assert [b["index"] for b in bad] == [1, 3, 4]
    assert [b["code"] for b in bad] == ["server_only_event", "card_data_rejected", "invalid_event_id"]
    assert [b["field"] for b in bad] == ["event_name", "utm_campaign", "event_id"]
    assert all(isinstance(b["reason"], str) and b["reason"] for b in bad)
    assert "4111" not in repr(err.value.extra)


def test_batch_size_limits():
    with pytest.raises(Invalid) as err:
        validate_batch([], now=NOW)
    assert err.value.code == "empty_batch"
    with pytest.raises(Invalid) as err:
        validate_batch([event()] * 4, now=NOW, max_batch=3)
    assert (err.value.code, err.value.extra) == ("batch_too_large", {"max_batch": 3})
    with pytest.raises(Invalid) as err:
        validate_batch("events", now=NOW)  # type: ignore[arg-type]
    assert err.value.code == "invalid_events"
    with pytest.raises(ValueError):
        validate_batch([event()], now=datetime(2024, 5, 2))


def test_batch_of_1000_validates():
    batch = [event(event_id=str(uuid.UUID(int=n))) for n in range(1000)]
    assert len(validate_batch(batch, now=NOW)) == 1000


@st.composite
def valid_events(draw: st.DrawFn) -> dict:
    name = draw(st.sampled_from(sorted(CLIENT_EVENT_NAMES)))
    n_items = draw(st.integers(1 if name in ITEMS_REQUIRED else 0, 3))
    items = [
        {
            "item_id": f"sku_{draw(st.integers(0, 10**6))}",
            "item_name": draw(
                st.sampled_from(["Merino Crew Tee", "Stoneware Mug", "Coffee 250g", "Trail Runner 42"])
            ),
            "quantity": draw(st.integers(1, 5)),
            "price_minor": draw(st.integers(0, 50_000)),
        }
        for _ in range(n_items)
    ]
    ahead = draw(st.integers(-72 * 3600, 300))
    return event(
        event_id=str(draw(st.uuids(version=4))),
        event_name=name,
        session_id=str(draw(st.uuids(version=4))),
        timestamp=(NOW + timedelta(seconds=ahead)).isoformat(),
        traffic_source=draw(st.sampled_from(sorted(TRAFFIC_SOURCES))),
        device=draw(st.sampled_from(sorted(DEVICES))),
        items=items or ...,
    )


CORRUPTIONS = [
    {"event_name": "purchase"},
    {"event_name": "refund"},
    {"timestamp": (NOW + timedelta(minutes=6)).isoformat()},
    {"timestamp": (NOW - timedelta(hours=73)).isoformat()},
    {"traffic_source": "tv"},
    {"utm_campaign": "4242 4242 4242 4242"},
    {"cvv": "123"},
    {"event_id": "x"},
    {"items": [{"item_id": "a", "quantity": 0}]},
]


@given(
    batch=st.lists(valid_events(), min_size=1, max_size=12),
    corrupt=st.lists(st.tuples(st.integers(0, 11), st.sampled_from(CORRUPTIONS)), max_size=4),
)
def test_property_batch_is_all_or_nothing_and_lists_exactly_the_bad_indexes(batch, corrupt):
    batch = copy.deepcopy(batch)
    bad_indexes = set()
    for index, change in corrupt:
        if index < len(batch):
            batch[index].update(change)
            bad_indexes.add(index)
    if bad_indexes:
        with pytest.raises(Invalid) as err:
            validate_batch(batch, now=NOW)
        assert err.value.code == "invalid_events"
        assert [b["index"] for b in err.value.extra["bad"]] == sorted(bad_indexes)
    else:
        out = validate_batch(batch, now=NOW)
        assert [e.event_id for e in out] == list(dict.fromkeys(e["event_id"] for e in batch))


# --- server events ------------------------------------------------------------------------------

ORDER = {
    "order_id": "ord_0000018f3a2b4c5d6e7f8a9b",
    "customer_id": "cus_0000018f3a2b4c5d6e7f8a9c",
    "currency": "USD",
    "total_minor": 9004,
    "tax_minor": 604,
    "shipping_minor": 800,
    "traffic_source": "email",
    "utm_source": "newsletter",
    "utm_medium": "email",
    "utm_campaign": "may",
    "device": "desktop",
    "coupon_code": "SPRING10",
    "session_id": "s_1",
}
LINES = [
    {"sku_id": "sku_a", "sku_name": "Merino Crew Tee", "quantity": 2, "unit_price_minor": 3800},
    {"sku_id": "sku_b", "sku_name": "Stoneware Mug", "quantity": 1, "unit_price_minor": 1800},
]


def test_purchase_event():
    e = server_purchase_event(ORDER, "s_1", NOW, lines=LINES)
    assert e.event_name == "purchase" and e.source == "server"
    assert e.transaction_id == ORDER["order_id"]
    assert (e.value_minor, e.tax_minor, e.shipping_minor, e.currency) == (9004, 604, 800, "USD")
    assert (e.session_id, e.customer_id, e.traffic_source, e.device, e.coupon) == (
        "s_1",
        ORDER["customer_id"],
        "email",
        "desktop",
        "SPRING10",
    )
    assert e.items == (
        EventItem("sku_a", item_name="Merino Crew Tee", price_minor=3800, quantity=2, index=0),
        EventItem("sku_b", item_name="Stoneware Mug", price_minor=1800, quantity=1, index=1),
    )
    assert e.occurred_at == NOW
    uuid.UUID(e.event_id)


def test_purchase_event_id_is_keyed_on_the_order():
    again = server_purchase_event(ORDER, "s_1", NOW + timedelta(hours=1))
    assert again.event_id == server_purchase_event(ORDER, None, NOW).event_id
    other = server_purchase_event({**ORDER, "order_id": "ord_0000018f3a2b4c5d6e7f8a9d"}, "s_1", NOW)
    assert other.event_id != again.event_id
    assert server_purchase_event(ORDER, None, NOW).session_id is None


def test_refund_events_one_per_refund():
    r1 = server_refund_event(ORDER, "rfd_1", 3800, "s_1", NOW, lines=[{**LINES[0], "quantity": 1}])
    r2 = server_refund_event(ORDER, "rfd_2", 500, "s_1", NOW)
    assert (r1.event_name, r1.transaction_id, r1.value_minor) == ("refund", ORDER["order_id"], 3800)
    assert r1.items[0].quantity == 1 and r2.items == ()
    assert r1.event_id != r2.event_id
    assert r1.event_id == server_refund_event(ORDER, "rfd_1", 3800, None, NOW).event_id
    assert r1.event_id != server_purchase_event(ORDER, "s_1", NOW).event_id
    with pytest.raises(ValueError):
        server_refund_event(ORDER, "rfd_3", 0, "s_1", NOW)
    with pytest.raises(ValueError):
        server_purchase_event(ORDER, "s_1", datetime(2024, 5, 2))
