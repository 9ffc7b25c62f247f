-- Grain: one SKU that has ever been on a purchase order. The store keeps no
-- SKU → supplier table: a SKU is bought from whoever it was last ordered from
-- (its most recent purchase order by creation time, ties by id, any status
-- and any warehouse), and that supplier's lead time is the SKU's lead time.
-- In the demo every SKU's opening stock came on a purchase order from its
-- category's supplier, so every stocked SKU has one.

with

purchase_orders as (

    select * from {{ ref('stg_lake__purchase_orders') }}

),

purchase_order_lines as (

    select * from {{ ref('stg_lake__purchase_order_lines') }}

),

suppliers as (

    select * from {{ ref('stg_lake__suppliers') }}

),

ranked as (

    select
        purchase_order_lines.sku_id,
        purchase_orders.supplier_id,
        purchase_orders.purchase_order_id,
        purchase_orders.created_at,
        row_number() over (
            partition by purchase_order_lines.sku_id
            order by purchase_orders.created_at desc, purchase_orders.purchase_order_id desc
        ) as recency_rank

    from purchase_order_lines
    inner join purchase_orders
        on purchase_order_lines.purchase_order_id = purchase_orders.purchase_order_id

),

final as (

    select
        ---------- ids
        ranked.sku_id,
        ranked.supplier_id,
        ranked.purchase_order_id as last_purchase_order_id,
        ---------- numerics
        suppliers.lead_time_days,
        ---------- timestamps
        ranked.created_at as last_ordered_at

    from ranked
    inner join suppliers
        on ranked.supplier_id = suppliers.supplier_id
    where ranked.recency_rank = 1

)

select * from final
