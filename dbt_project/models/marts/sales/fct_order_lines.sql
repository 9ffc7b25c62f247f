-- Grain: one order line of a paid order (an order that became paid is a sale,
-- dated by the store-local day of paid_at; DECISIONLOG.md §5). Removed lines
-- (an order modified before payment) are not part of the sale. Returns are
-- the line's lifetime returns of both kinds (fct_returns.return_kind): refunds
-- by lines, and cancellations by lines (the sale's card hold given back before
-- anything was captured, int_cancellation_lines_allocated).

with

orders as (

    select * from {{ ref('stg_lake__orders') }}

),

order_lines as (

    select * from {{ ref('stg_lake__order_lines') }}

),

line_returns as (

    select * from {{ ref('int_refund_lines_aggregated_to_order_lines') }}

),

cancellation_lines as (

    select * from {{ ref('int_cancellation_lines_allocated') }}

),

line_cancellations as (

    select
        order_line_id,
        cast(sum(quantity) as {{ dbt.type_bigint() }}) as quantity_cancelled,
        cast(sum(revenue_minor) as {{ dbt.type_bigint() }}) as cancelled_minor,
        cast(sum(tax_minor) as {{ dbt.type_bigint() }}) as cancelled_tax_minor

    from cancellation_lines
    group by 1

),

paid_lines as (

    select
        ---------- ids
        order_lines.order_line_id,
        order_lines.order_id,
        orders.customer_id,
        orders.session_id,
        order_lines.sku_id,
        order_lines.product_id,
        order_lines.category_id,
        ---------- strings
        orders.sales_channel,
        orders.traffic_source,
        orders.device,
        orders.ship_country,
        orders.ship_region,
        orders.utm_source,
        orders.utm_medium,
        ---------- numerics
        order_lines.line_no,
        order_lines.quantity,
        coalesce(line_returns.quantity_returned, 0)
        + coalesce(line_cancellations.quantity_cancelled, 0) as quantity_returned,
        order_lines.unit_price_minor,
        order_lines.unit_cost_minor,
        order_lines.gross_minor,
        order_lines.discount_minor,
        coalesce(line_returns.returns_minor, 0)
        + coalesce(line_cancellations.cancelled_minor, 0) as returns_minor,
        order_lines.tax_minor,
        coalesce(line_returns.returned_tax_minor, 0)
        + coalesce(line_cancellations.cancelled_tax_minor, 0) as returned_tax_minor,
        ---------- timestamps
        orders.placed_at,
        orders.paid_at,
        orders.paid_date as sale_date

    from order_lines
    inner join orders
        on order_lines.order_id = orders.order_id
    left join line_returns
        on order_lines.order_line_id = line_returns.order_line_id
    left join line_cancellations
        on order_lines.order_line_id = line_cancellations.order_line_id
    where
        orders.paid_at is not null
        and order_lines.order_line_status <> 'removed'

),

money_rules as (

    select
        *,
        gross_minor - discount_minor - returns_minor as net_minor,
        unit_cost_minor * quantity as cogs_minor

    from paid_lines

),

final as (

    select
        ---------- ids
        order_line_id,
        order_id,
        customer_id,
        session_id,
        sku_id,
        product_id,
        category_id,
        ---------- strings
        sales_channel,
        traffic_source,
        device,
        ship_country,
        ship_region,
        utm_source,
        utm_medium,
        ---------- numerics
        line_no,
        quantity,
        quantity_returned,
        unit_price_minor,
        unit_cost_minor,
        gross_minor,
        discount_minor,
        returns_minor,
        net_minor,
        tax_minor,
        returned_tax_minor,
        cogs_minor,
        {{ minor_to_amount('gross_minor') }} as gross_amount,
        {{ minor_to_amount('discount_minor') }} as discount_amount,
        {{ minor_to_amount('returns_minor') }} as returns_amount,
        {{ minor_to_amount('net_minor') }} as net_amount,
        {{ minor_to_amount('tax_minor') }} as tax_amount,
        {{ minor_to_amount('cogs_minor') }} as cogs_amount,
        ---------- dates
        sale_date,
        {{ dbt.cast(dbt.date_trunc('month', 'sale_date'), 'date') }} as sale_month,
        ---------- timestamps
        placed_at,
        paid_at

    from money_rules

)

select * from final
