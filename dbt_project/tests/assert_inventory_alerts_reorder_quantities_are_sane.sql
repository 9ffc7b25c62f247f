-- BEY-5: a suggested reorder is never negative, an overstock alert never
-- suggests buying more, and a stockout forecast always suggests something
-- (its supply is below the target, so the gap is at least one unit).
-- Returns the offending alerts; the test passes when there are none.
{{ config(meta={'dagster': {'ref': {'name': 'mart_inventory_alerts'}}}) }}


select
    alert_id,
    kind,
    suggested_reorder_quantity

from {{ ref('mart_inventory_alerts') }}
where
    suggested_reorder_quantity is null
    or suggested_reorder_quantity < 0
    or (kind = 'overstock' and suggested_reorder_quantity <> 0)
    or (kind = 'stockout_forecast' and suggested_reorder_quantity < 1)
