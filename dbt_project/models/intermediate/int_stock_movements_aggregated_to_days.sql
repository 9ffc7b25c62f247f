-- Grain: one SKU × warehouse × store-local day with at least one stock
-- movement: the day's net on-hand and reserved changes, and the units
-- received (receipt movements) and shipped (shipment movements, as a
-- positive count).

with

movements as (

    select * from {{ ref('fct_stock_movements') }}

),

final as (

    select
        ---------- ids
        sku_id,
        warehouse_id,
        ---------- numerics
        count(*) as movements,
        sum(on_hand_delta) as on_hand_delta,
        sum(reserved_delta) as reserved_delta,
        sum(case when kind = 'receipt' then on_hand_delta else 0 end) as units_received,
        sum(case when kind = 'shipment' then -on_hand_delta else 0 end) as units_shipped,
        ---------- dates
        movement_date

    from movements
    group by sku_id, warehouse_id, movement_date

)

select * from final
