"""Forecast alerts over real HTTP: the pipeline publishes its list, operators see one list with the core's.

The tests of this module run in order on the shared server and only they publish forecasts;
they look only at this module's own SKUs (a publish replaces the pipeline's whole list).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.e2e.live import LiveServer, ok, stocked_sku
from tests.e2e.test_cli import _base_env, failed, run_many
from tests.e2e.test_cli import ok as cli_ok

PUBLISH = "/api/v1/alerts/forecasts"


@dataclass(frozen=True)
class World:
    low: str  # a SKU with a core low-stock alert
    other: str
    third: str
    east: str
    today: date


@pytest.fixture(scope="module")
def world(live: LiveServer, admin_m: httpx.Client) -> World:
    low, east = stocked_sku(admin_m, "Forecast low", stock=5)
    other, _ = stocked_sku(admin_m, "Forecast other", stock=500)
    third, _ = stocked_sku(admin_m, "Forecast third", stock=40)
    ok(
        admin_m.put(
            f"/api/v1/stock/{low}/{east}/reorder-point", json={"reorder_point": 20, "reorder_quantity": 50}
        )
    )
    timezone = ok(admin_m.get("/api/v1/store"))["timezone"]
    return World(low, other, third, east, datetime.now(ZoneInfo(timezone)).date())


@pytest.fixture(scope="module")
def pipeline(live: LiveServer, keys: dict[str, str]) -> Iterator[httpx.Client]:
    with live.client(keys["pipeline"]) as client:
        yield client


@pytest.fixture(scope="module")
def operator(live: LiveServer, keys: dict[str, str]) -> Iterator[httpx.Client]:
    with live.client(keys["operator"]) as client:
        yield client


def stockout(world: World, sku_id: str, **over: Any) -> dict[str, Any]:
    body = {
        "sku_id": sku_id,
        "warehouse_id": world.east,
        "kind": "stockout_forecast",
        "severity": "critical",
        "abc_class": "A",
        "on_hand": 5,
        "reserved": 0,
        "available": 5,
        "incoming": 0,
        "daily_demand": "2.5000",
        "days_of_cover": "2.0",
        "forecast_stockout_date": (world.today + timedelta(days=2)).isoformat(),
        "suggested_reorder_quantity": 75,
    }
    return {**body, **over}


def overstock(world: World, sku_id: str) -> dict[str, Any]:
    return stockout(
        world,
        sku_id,
        kind="overstock",
        severity="info",
        abc_class="C",
        on_hand=500,
        available=500,
        daily_demand="0.5",
        days_of_cover="1000.0",
        forecast_stockout_date=None,
        suggested_reorder_quantity=0,
    )


def body(as_of: date, alerts: list[dict[str, Any]], snapshot: str | None = None) -> dict[str, Any]:
    return {
        "as_of": as_of.isoformat(),
        "source_snapshot_id": snapshot or f"snap_{uuid.uuid4().hex}",
        "alerts": alerts,
    }


def mine(client: httpx.Client, world: World, **params: Any) -> list[dict[str, Any]]:
    """This module's alerts (every status), as operators list them."""
    found: list[dict[str, Any]] = []
    for sku in (world.low, world.other, world.third):
        found += ok(client.get("/api/v1/alerts", params={"sku_id": sku, "limit": 200, **params}))["items"]
    return sorted(found, key=lambda a: a["alert_id"])


def test_published_forecasts_join_the_core_alerts_in_one_list(
    pipeline: httpx.Client, operator: httpx.Client, world: World
) -> None:
    answer = ok(
        pipeline.post(
            PUBLISH, json=body(world.today, [stockout(world, world.low), overstock(world, world.other)])
        )
    )
    assert {k: answer[k] for k in ("raised", "updated", "resolved", "open")} == {
        "raised": 2,
        "updated": 0,
        "resolved": 0,
        "open": 2,
    }
    assert answer["as_of"] == world.today.isoformat()

    listed = mine(operator, world, status="open")
    assert sorted((a["sku_id"] == world.low, a["source"], a["kind"]) for a in listed) == [
        (False, "pipeline", "overstock"),
        (True, "core", "low_stock"),
        (True, "pipeline", "stockout_forecast"),
    ]
    by_kind = {a["kind"]: a for a in listed}
    core, forecast = by_kind["low_stock"], by_kind["stockout_forecast"]
    assert core["reorder_point"] == 20 and core["severity"] is None and core["daily_demand"] is None
    assert forecast["reorder_point"] is None
    assert (
        forecast["severity"],
        forecast["abc_class"],
        forecast["daily_demand"],
        forecast["days_of_cover"],
    ) == (
        "critical",
        "A",
        "2.5000",
        "2.0",
    )
    assert forecast["forecast_stockout_date"] == (world.today + timedelta(days=2)).isoformat()
    assert (forecast["suggested_reorder_quantity"], forecast["as_of"]) == (75, world.today.isoformat())
    assert [a["kind"] for a in mine(operator, world, source="core")] == ["low_stock"]
    assert [a["sku_id"] for a in mine(operator, world, kind="overstock")] == [world.other]
    bad_filter = operator.get("/api/v1/alerts", params={"kind": "soon"})
    assert bad_filter.status_code == 422 and bad_filter.json()["code"] == "invalid_alert_kind"


def test_operators_may_not_publish(operator: httpx.Client, world: World) -> None:
    before = mine(operator, world)
    response = operator.post(PUBLISH, json=body(world.today, []))
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "role_forbidden"
    assert mine(operator, world) == before


@pytest.mark.parametrize(
    ("alerts", "status", "code"),
    [
        (
            lambda w: [stockout(w, w.low), stockout(w, "sku_zzz_missing"), stockout(w, w.low)],
            422,
            "invalid_alerts",
        ),
        (lambda w: [stockout(w, w.low, on_hand=-1)], 422, "validation_error"),
        (lambda w: [stockout(w, w.low, kind="low_stock")], 422, "validation_error"),
        (lambda w: [stockout(w, w.low, daily_demand=0.1 + 0.2)], 422, "validation_error"),
        (lambda w: [stockout(w, w.low, available=4)], 422, "invalid_alerts"),
        (lambda w: [stockout(w, w.low)] * 20_001, 413, "too_many_alerts"),
    ],
    ids=["unknown_and_duplicate", "negative", "core_kind", "float_noise", "available_mismatch", "too_many"],
)
def test_bad_publishes_change_nothing(
    pipeline: httpx.Client, operator: httpx.Client, world: World, alerts: Any, status: int, code: str
) -> None:
    before = mine(operator, world)
    response = pipeline.post(PUBLISH, json=body(world.today, alerts(world)))
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == code
    if code == "invalid_alerts":
        indexes = {b["index"] for b in problem["bad"]}
        assert indexes == ({1, 2} if len(alerts(world)) == 3 else {0})
    if code == "validation_error":
        assert all(e["loc"][:3] == ["body", "alerts", 0] for e in problem["errors"]), problem
    assert mine(operator, world) == before


def test_republish_resolves_missing_keeps_acknowledged_and_refuses_stale(
    pipeline: httpx.Client, operator: httpx.Client, world: World
) -> None:
    forecast = next(
        a for a in mine(operator, world, source="pipeline", status="open") if a["sku_id"] == world.low
    )
    ok(operator.post(f"/api/v1/alerts/{forecast['alert_id']}/acknowledge"))

    publish = body(
        world.today, [stockout(world, world.low, severity="warning"), stockout(world, world.third)]
    )
    answer = ok(pipeline.post(PUBLISH, json=publish))
    assert (answer["raised"], answer["updated"], answer["resolved"], answer["open"]) == (1, 1, 1, 2)
    forecasts = {(a["sku_id"], a["kind"]): a for a in mine(operator, world, source="pipeline")}
    assert forecasts[(world.low, "stockout_forecast")]["alert_id"] == forecast["alert_id"]
    assert forecasts[(world.low, "stockout_forecast")]["status"] == "acknowledged"
    assert forecasts[(world.low, "stockout_forecast")]["severity"] == "warning"
    assert forecasts[(world.other, "overstock")]["status"] == "resolved"
    assert forecasts[(world.third, "stockout_forecast")]["status"] == "open"
    assert [a["status"] for a in mine(operator, world, source="core")] == ["open"]

    # A retry of the same publish is answered again and changes nothing.
    before = mine(operator, world)
    assert ok(pipeline.post(PUBLISH, json=publish)) == answer
    assert mine(operator, world) == before

    stale = pipeline.post(PUBLISH, json=body(world.today - timedelta(days=1), []))
    assert stale.status_code == 409, stale.text
    assert (stale.json()["code"], stale.json()["latest_as_of"]) == ("stale_forecast", world.today.isoformat())
    assert mine(operator, world) == before


def test_cli_lists_forecasts_with_their_figures(
    live: LiveServer, keys: dict[str, str], world: World, tmp_path: Path
) -> None:
    env = {**_base_env(), "EMPORIUM_API_URL": live.url, "EMPORIUM_API_KEY": keys["operator"]}
    table, as_json, bad_kind, bad_source = run_many(
        [
            (
                [
                    "alerts",
                    "list",
                    "--source",
                    "pipeline",
                    "--kind",
                    "stockout_forecast",
                    "--sku",
                    world.third,
                ],
                env,
            ),
            (["alerts", "list", "--status", "acknowledged", "--kind", "stockout_forecast", "--json"], env),
            (["alerts", "list", "--kind", "soon"], env),
            (["alerts", "list", "--source", "dbt"], env),
        ],
        tmp_path,
    )
    out = cli_ok(table)
    for header in ("kind", "source", "severity", "stockout on", "reorder qty"):
        assert header in out
    row = next(line for line in out.splitlines() if world.third in line)
    for cell in (
        "stockout_forecast",
        "pipeline",
        "critical",
        (world.today + timedelta(days=2)).isoformat(),
        "75",
    ):
        assert cell in row, row
    acknowledged = [a for a in json.loads(cli_ok(as_json))["items"] if a["sku_id"] == world.low]
    assert [(a["source"], a["severity"]) for a in acknowledged] == [("pipeline", "warning")]
    failed(bad_kind, "invalid alert_kind", "HTTP 422")
    failed(bad_source, "invalid alert_source", "HTTP 422")
