"""Storefront events over real HTTP: counts, dedupe on resend, whole-batch rejection, bad input.

The server holds the store file, so "stored nothing" is shown through the API
itself: the valid events of a rejected batch are sent again afterwards and
are all inserted (neither stored nor remembered as seen by the rejection).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest

from tests.e2e.live import LiveServer, ok

PAN_DIGITS = "4111111111111111"
PAN = "4111 1111 1111 1111"
PATH = "/api/v1/events"


@pytest.fixture(scope="module")
def storefront(live: LiveServer, keys: dict[str, str]) -> Iterator[httpx.Client]:
    with live.client(keys["storefront"]) as client:
        yield client


def event(**overrides: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "event_id": str(uuid.uuid4()),
        "event_name": "view_item",
        "session_id": "s_e2e",
        "anonymous_id": "anon.e2e",
        "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "traffic_source": "paid_search",
        "utm_source": "google",
        "utm_medium": "cpc",
        "utm_campaign": "autumn",
        "device": "mobile",
        "items": [{"item_id": "sku_e2e", "item_name": "Stoneware Mug", "price_minor": 1800}],
    }
    raw.update(overrides)
    return raw


def post(client: httpx.Client, events: list[dict[str, Any]]) -> httpx.Response:
    return client.post(PATH, json={"events": events})


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    return body


def assert_stored_nothing(client: httpx.Client, valid: list[dict[str, Any]]) -> None:
    assert ok(post(client, valid))["inserted"] == len(valid)


def test_a_batch_is_stored_and_a_resend_inserts_nothing(storefront: httpx.Client) -> None:
    batch = [event(event_name=name) for name in ("view_item", "add_to_cart", "view_cart")]
    batch[2]["items"] = []
    assert ok(post(storefront, batch)) == {"received": 3, "inserted": 3, "duplicates": 0}
    assert ok(post(storefront, [*batch, event()])) == {"received": 4, "inserted": 1, "duplicates": 3}
    same_id_twice = [batch[0], event(event_id=batch[0]["event_id"].upper())]
    assert ok(post(storefront, same_id_twice)) == {"received": 2, "inserted": 0, "duplicates": 2}


def test_a_large_batch_is_accepted(storefront: httpx.Client) -> None:
    batch = [event() for _ in range(500)]
    assert ok(post(storefront, batch)) == {"received": 500, "inserted": 500, "duplicates": 0}


def test_an_invalid_batch_lists_the_bad_indexes_and_stores_nothing(storefront: httpx.Client) -> None:
    good = [event(), event(), event()]
    batch = [
        good[0],
        event(traffic_source="tv"),
        good[1],
        event(items=[{"item_id": "a", "price": 1.5}]),
        good[2],
    ]
    body = assert_problem(post(storefront, batch), 422, "invalid_events")
    assert [(b["index"], b["code"], b["field"]) for b in body["bad"]] == [
        (1, "invalid_traffic_source", "traffic_source"),
        (3, "invalid_price", "items[0].price"),
    ]
    assert all(b["reason"] for b in body["bad"])
    assert "tv" not in response_text(body)
    assert_stored_nothing(storefront, good)


def response_text(body: dict[str, Any]) -> str:
    return orjson.dumps(body).decode()


@pytest.mark.parametrize("name", ["purchase", "refund"])
def test_clients_cannot_send_server_events(storefront: httpx.Client, name: str) -> None:
    good = event()
    body = assert_problem(post(storefront, [good, event(event_name=name)]), 422, "invalid_events")
    assert [(b["index"], b["code"]) for b in body["bad"]] == [(1, "server_only_event")]
    assert_stored_nothing(storefront, [good])


def test_a_timestamp_too_far_in_the_future_is_refused(storefront: httpx.Client) -> None:
    good = event()
    ahead = (datetime.now(UTC) + timedelta(minutes=10)).isoformat()
    body = assert_problem(post(storefront, [good, event(timestamp=ahead)]), 422, "invalid_events")
    assert [(b["index"], b["code"]) for b in body["bad"]] == [(1, "timestamp_in_future")]
    assert_stored_nothing(storefront, [good])


def test_a_timestamp_older_than_72_hours_is_refused(storefront: httpx.Client) -> None:
    good = event()
    old = (datetime.now(UTC) - timedelta(hours=73)).isoformat()
    body = assert_problem(post(storefront, [event(timestamp=old), good]), 422, "invalid_events")
    assert [(b["index"], b["code"]) for b in body["bad"]] == [(0, "timestamp_too_old")]
    assert_stored_nothing(storefront, [good])


@pytest.mark.parametrize(
    "overrides",
    [
        {"utm_campaign": f"promo {PAN}"},
        {"items": [{"item_id": "sku_e2e", "item_name": f"Mug {PAN_DIGITS}"}]},
    ],
    ids=["utm_campaign", "item_name"],
)
def test_a_card_number_in_free_text_is_refused_and_never_echoed(
    storefront: httpx.Client, overrides: dict[str, Any]
) -> None:
    good = event()
    response = post(storefront, [good, event(**overrides)])
    body = assert_problem(response, 422, "invalid_events")
    assert [(b["index"], b["code"]) for b in body["bad"]] == [(1, "card_data_rejected")]
    digits_only = "".join(ch for ch in response.text if ch.isdigit())
    assert PAN_DIGITS not in digits_only
    for fragment in (PAN_DIGITS, PAN, "4111 1111", "1111 1111"):
        assert fragment not in response.text
    assert_stored_nothing(storefront, [good])


@pytest.mark.parametrize(
    ("content", "status", "code"),
    [
        (b"{not json", 400, "malformed_json"),
        (b"[]", 422, "invalid_body"),
        (b'{"events": {}}', 422, "invalid_body"),
        (b'{"events": [], "extra": 1}', 422, "invalid_body"),
        (b'{"events": []}', 422, "empty_batch"),
    ],
)
def test_a_body_that_is_not_an_events_list_is_refused(
    storefront: httpx.Client, content: bytes, status: int, code: str
) -> None:
    response = storefront.post(PATH, content=content, headers={"content-type": "application/json"})
    assert_problem(response, status, code)


def test_more_than_1000_events_is_refused(storefront: httpx.Client) -> None:
    small = {"event_id": str(uuid.uuid4()), "event_name": "view_cart"}
    assert_problem(post(storefront, [small] * 1001), 422, "batch_too_large")


def test_the_pipeline_role_may_not_post_events(live: LiveServer, keys: dict[str, str]) -> None:
    with live.client(keys["pipeline"]) as client:
        assert_problem(post(client, [event()]), 403, "role_forbidden")


def test_the_body_is_documented_in_openapi(live: LiveServer) -> None:
    spec = httpx.get(f"{live.url}/openapi.json").json()
    op = spec["paths"][PATH]["post"]
    assert op["operationId"] == "events.ingest"
    schema = op["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["events"]
    assert "purchase" not in schema["properties"]["events"]["items"]["properties"]["event_name"]["enum"]
