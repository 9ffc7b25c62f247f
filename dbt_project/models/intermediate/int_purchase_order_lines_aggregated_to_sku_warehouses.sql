-- Grain: one SKU × warehouse with goods on order: the units still to come on
-- purchase orders that can still be received (open or partially received),
-- i.e. ordered − received per line, summed. Received and cancelled orders
-- bring nothing more. The PO line's quantity_received is the snapshot's
-- running total, taken in the same read transaction as the receipts, so it
-- agrees with the receipt journal.

with

purchase_orders as (

    select * from {{ ref('stg_lake__purchase_orders') }}

),

purchase_order_lines as (

    select * from {{ ref('stg_lake__purchase_order_lines') }}

),

open_lines as (

    select
        purchase_orders.warehouse_id,
        purchase_order_lines.sku_id,
        purchase_orders.purchase_order_id,
        purchase_orders.expected_on,
        purchase_order_lines.quantity_ordered - purchase_order_lines.quantity_received
            as quantity_outstanding

    from purchase_order_lines
    inner join purchase_orders
        on purchase_order_lines.purchase_order_id = purchase_orders.purchase_order_id
    where
        purchase_orders.purchase_order_status in ('open', 'partially_received')
        and purchase_order_lines.quantity_ordered > purchase_order_lines.quantity_received

),

final as (

    select
        ---------- ids
        sku_id,
        warehouse_id,
        ---------- numerics
        cast(sum(quantity_outstanding) as {{ dbt.type_bigint() }}) as incoming,
        cast(count(distinct purchase_order_id) as {{ dbt.type_bigint() }}) as open_purchase_orders,
        ---------- dates
        min(expected_on) as next_expected_on

    from open_lines
    group by sku_id, warehouse_id

)

select * from final
