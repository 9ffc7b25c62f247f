"""The lake exports forecast alerts (migration 0005) with their types: decimals stay decimals, dates dates."""

from __future__ import annotations

from decimal import Decimal

import duckdb

from tests.integration.services import make_sku, make_warehouse, run
from tests.integration.services.test_inventory_forecasts import AS_OF, alert, publish
from tests.integration.storage.test_lake import export
from transactional.services import inventory as inv


def test_stock_alerts_and_publications_export_with_their_types(writer, tmp_path):
    sku = make_sku(writer)["sku_id"]
    east = make_warehouse(writer)["warehouse_id"]
    run(
        writer,
        lambda uow: inv.set_reorder_point(
            uow, sku, east, inv.SetReorderPoint(reorder_point=3, reorder_quantity=5)
        ),
    )
    publish(writer, [alert(sku, east, daily_demand=Decimal("0.1234"), days_of_cover=Decimal("81.0"))])

    lake_dir = tmp_path / "lake"
    manifest = export(writer, lake_dir)
    assert manifest["tables"]["stock_alerts"]["rows"] == 2
    assert manifest["tables"]["forecast_publications"]["rows"] == 1

    alerts = duckdb.connect()
    alerts.execute(
        f"create view a as select * from '{lake_dir / manifest['tables']['stock_alerts']['file']}'"
    )
    types = dict(alerts.execute("select column_name, column_type from (describe a)").fetchall())
    assert (types["daily_demand"], types["days_of_cover"]) == ("DECIMAL(18,4)", "DECIMAL(18,1)")
    assert (types["forecast_stockout_date"], types["as_of"]) == ("DATE", "DATE")
    assert types["updated_at"] == "TIMESTAMP WITH TIME ZONE"
    got = alerts.execute(
        "select source, kind, reorder_point, daily_demand, days_of_cover, as_of, source_snapshot_id "
        "from a order by source"
    ).fetchall()
    assert got == [
        ("core", "low_stock", 3, None, None, None, None),
        ("pipeline", "stockout_forecast", None, Decimal("0.1234"), Decimal("81.0"), AS_OF, "snap_1"),
    ]
    publications = alerts.execute(
        f"select source_snapshot_id, as_of, raised, open "
        f"from '{lake_dir / manifest['tables']['forecast_publications']['file']}'"
    ).fetchall()
    assert publications == [("snap_1", AS_OF, 1, 1)]
