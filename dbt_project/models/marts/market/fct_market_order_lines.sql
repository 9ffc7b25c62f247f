-- Grain: one order line of a paid order (fct_order_lines), with what market
-- analysis asks of it: the category's name, the SKU's price period the line
-- was priced in and the depth of its discount. The line's price was fixed
-- when the order was placed (DECISIONLOG.md §2.1), so it belongs to the
-- period in effect at placed_at; is_at_period_price says whether the line's
-- unit price is that period's price (an order modified before payment is
-- re-priced later, so it can differ). Discount depth = the line's allocated
-- discount / its gross, both excluding tax; bands are half-open:
-- none (0), 0-10% (above 0, below 10 %), 10-20% (10 % to below 20 %), 20%+.

with

order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

price_periods as (

    select * from {{ ref('int_sku_prices_spanned_to_periods') }}

),

categories as (

    select * from {{ ref('stg_lake__categories') }}

),

priced as (

    select
        order_lines.*,
        price_periods.price_id,
        price_periods.price_minor as period_price_minor

    from order_lines
    left join price_periods
        on
            order_lines.sku_id = price_periods.sku_id
            and order_lines.placed_at >= price_periods.effective_from
            and (
                order_lines.placed_at < price_periods.effective_until
                or price_periods.effective_until is null
            )

),

banded as (

    select
        *,
        -- Integer comparisons keep the band edges exact (no rounded ratio).
        case
            when discount_minor <= 0 then 0
            when discount_minor * 10 < gross_minor then 1
            when discount_minor * 5 < gross_minor then 2
            else 3
        end as discount_band_no

    from priced

),

final as (

    select
        ---------- ids
        banded.order_line_id,
        banded.order_id,
        banded.session_id,
        banded.sku_id,
        banded.product_id,
        banded.category_id,
        banded.price_id,
        ---------- strings
        categories.category_name,
        banded.sales_channel,
        coalesce(banded.traffic_source, 'unknown') as traffic_source,
        coalesce(banded.utm_source, '(none)') as utm_source,
        coalesce(banded.utm_medium, '(none)') as utm_medium,
        banded.ship_country,
        banded.ship_region,
        case banded.discount_band_no
            when 0 then 'none'
            when 1 then '0-10%'
            when 2 then '10-20%'
            else '20%+'
        end as discount_band,
        ---------- booleans
        coalesce(banded.unit_price_minor = banded.period_price_minor, false)
            as is_at_period_price,
        ---------- numerics
        cast(banded.discount_band_no as integer) as discount_band_no,
        cast(
            cast(banded.discount_minor as decimal(18, 6))
            / nullif(banded.gross_minor, 0)
            as decimal(9, 6)
        ) as discount_depth,
        banded.quantity,
        banded.unit_price_minor,
        banded.period_price_minor,
        banded.gross_minor,
        banded.discount_minor,
        banded.returns_minor,
        banded.net_minor,
        {{ minor_to_amount('banded.net_minor') }} as net_amount,
        ---------- dates
        banded.sale_date,
        ---------- timestamps
        banded.placed_at,
        banded.paid_at

    from banded
    left join categories
        on banded.category_id = categories.category_id

)

select * from final
