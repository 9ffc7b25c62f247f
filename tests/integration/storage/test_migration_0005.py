"""Migration 0005 on a store that already holds low-stock alerts: they become core alerts, unchanged."""

from __future__ import annotations

from importlib import resources

from transactional.storage.database import connect, migrate


def test_existing_alerts_become_core_alerts(tmp_path):
    con = connect(tmp_path)
    con.execute(
        "create table schema_migrations (version integer primary key, name varchar not null, "
        "applied_at timestamptz not null)"
    )
    folder = resources.files("transactional.storage") / "migrations"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".sql") and int(entry.name[:4]) < 5:
            con.execute(entry.read_text())
            con.execute(
                "insert into schema_migrations values (?, ?, now())", [int(entry.name[:4]), entry.name]
            )
    con.execute(
        "insert into stock_alerts values ('alr_1', 'sku_1', 'whs_1', 'low_stock', 'open', 2, 5, now(), "
        "null, null, null, 1)"
    )
    assert migrate(con) == ["0005_forecast_alerts.sql"]
    row = con.execute(
        "select source, kind, available_at_raise, reorder_point, severity, as_of, updated_at from stock_alerts"
    ).fetchone()
    assert row == ("core", "low_stock", 2, 5, None, None, None)
    # A pipeline alert needs no reorder point; every alert needs a source.
    nullable = dict(
        con.execute(
            "select column_name, is_nullable from information_schema.columns where table_name = 'stock_alerts'"
        ).fetchall()
    )
    assert (nullable["reorder_point"], nullable["source"], nullable["available_at_raise"]) == (
        "YES",
        "NO",
        "NO",
    )
    con.close()
