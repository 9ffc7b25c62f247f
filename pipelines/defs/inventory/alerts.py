"""Inventory alerts, reverse ETL: the forecast alert list of the marts, posted to the API.

The core raises low-stock alerts the moment stock falls under a reorder point.
Forecasts (stockout dates from trailing demand, overstock, reorder suggestions
tiered by ABC class) need history, so dbt computes them (mart_inventory_alerts)
and this asset posts the whole list to the server with the pipeline key; the
server keeps one live list that operators read through the API and
`emporium alerts`. With no server running the list stays in the marts, and the
materialization says so.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import dagster as dg

from pipelines.defs.warehouse.publish import MARTS_KEY
from pipelines.resources import StoreResource, WarehouseResource
from transactional.storage import lake

ALERT_FIELDS = (
    "sku_id",
    "warehouse_id",
    "kind",
    "abc_class",
    "severity",
    "on_hand",
    "reserved",
    "available",
    "incoming",
    "daily_demand",
    "days_of_cover",
    "forecast_stockout_date",
    "suggested_reorder_quantity",
)


def _json_value(value: Any) -> Any:
    # Decimals travel as strings so that no float ever rounds a quantity.
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def alert_body(rows: list[dict[str, Any]], *, as_of: date, snapshot_id: str) -> dict[str, Any]:
    """The request body of POST /api/v1/alerts/forecasts for these mart rows."""
    return {
        "as_of": as_of.isoformat(),
        "source_snapshot_id": snapshot_id,
        "alerts": [{k: _json_value(row[k]) for k in ALERT_FIELDS} for row in rows],
    }


@dg.asset(
    key=dg.AssetKey("inventory_alerts_posted"),
    deps=[MARTS_KEY],
    group_name="inventory",
    description="The forecast inventory alerts of the published marts, posted to the API (reverse ETL).",
    pool="warehouse",
    kinds={"api"},
)
def inventory_alerts_posted(
    context: dg.AssetExecutionContext, store: StoreResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:  # type: ignore[type-arg]
    """Post mart_inventory_alerts to the server; with no server, say the marts hold them only."""
    with warehouse.read_marts() as con:
        cursor = con.execute(f"select {', '.join(ALERT_FIELDS)}, as_of_date from mart_inventory_alerts")
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    manifest = lake.read_manifest(store.lake_path)
    assert manifest is not None
    # An empty list still resolves yesterday's forecasts, so it needs a day too: the snapshot's.
    snapshot_day = (
        datetime.fromisoformat(manifest["created_at"]).astimezone(ZoneInfo(manifest["timezone"])).date()
    )
    as_of = max((r["as_of_date"] for r in rows), default=snapshot_day)
    by_kind: dict[str, int] = {}
    for r in rows:
        by_kind[r["kind"]] = by_kind.get(r["kind"], 0) + 1
    metadata: dict[str, Any] = {"alerts": len(rows), **{f"alerts_{k}": n for k, n in sorted(by_kind.items())}}
    answer = store.post_forecast_alerts(alert_body(rows, as_of=as_of, snapshot_id=manifest["snapshot_id"]))
    if answer is None:
        context.log.warning(f"no server at {store.api_url}: the alerts are in the marts only")
        metadata["posted"] = False
        metadata["note"] = (
            f"no server at {store.api_url}: alerts kept in the marts only (mart_inventory_alerts)"
        )
    else:
        metadata["posted"] = True
        metadata.update({k: answer[k] for k in ("raised", "updated", "resolved", "open") if k in answer})
    return dg.MaterializeResult(metadata=metadata)
