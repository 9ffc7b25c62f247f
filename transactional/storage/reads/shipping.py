"""Reads for carriers, shipments, tracking events and shipping notifications."""

from __future__ import annotations

from typing import Any

import duckdb

from transactional.storage.reads import fetch_dicts, fetch_one, page


def list_carriers(cur: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Every carrier with its service levels and their transit days per region."""
    carriers = fetch_dicts(cur, "select * exclude (commit_seq) from carriers order by carrier_code")
    services = fetch_dicts(
        cur, "select * exclude (commit_seq) from carrier_services order by carrier_code, service_code"
    )
    transit = fetch_dicts(cur, "select * exclude (commit_seq) from carrier_transit_days order by region")
    for service in services:
        service["transit_days"] = {
            t["region"]: t["transit_days"]
            for t in transit
            if (t["carrier_code"], t["service_code"]) == (service["carrier_code"], service["service_code"])
        }
    for carrier in carriers:
        carrier["services"] = [s for s in services if s["carrier_code"] == carrier["carrier_code"]]
    return carriers


def webhook_secret(cur: duckdb.DuckDBPyConnection, name: str) -> str | None:
    row = fetch_one(cur, "select value from server_secrets where name = ?", [name])
    return None if row is None else str(row["value"])


def list_shipments(
    cur: duckdb.DuckDBPyConnection,
    *,
    limit: int,
    after: str | None,
    order_id: str | None = None,
    carrier_code: str | None = None,
    tracking_status: str | None = None,
    capture_status: str | None = None,
) -> dict[str, Any]:
    sql = "select * exclude (commit_seq) from shipments where true"
    params: list[Any] = []
    for column, value in (
        ("order_id", order_id),
        ("carrier_code", carrier_code),
        ("tracking_status", tracking_status),
        ("capture_status", capture_status),
    ):
        if value is not None:
            sql += f" and {column} = ?"
            params.append(value)
    return page(cur, sql, params, id_column="shipment_id", limit=limit, after=after)


def get_shipment(cur: duckdb.DuckDBPyConnection, shipment_id: str) -> dict[str, Any] | None:
    """A shipment with its lines, every tracking event received and the notifications sent."""
    shipment = fetch_one(
        cur, "select * exclude (commit_seq) from shipments where shipment_id = ?", [shipment_id]
    )
    if shipment is None:
        return None
    shipment["lines"] = fetch_dicts(
        cur,
        "select * exclude (commit_seq) from shipment_lines where shipment_id = ? order by shipment_line_id",
        [shipment_id],
    )
    shipment["tracking_events"] = fetch_dicts(
        cur,
        "select * exclude (commit_seq) from tracking_events where shipment_id = ? "
        "order by received_at, tracking_event_id",
        [shipment_id],
    )
    shipment["notifications"] = fetch_dicts(
        cur,
        "select * exclude (commit_seq) from shipping_notifications where shipment_id = ? order by notification_id",
        [shipment_id],
    )
    return shipment
