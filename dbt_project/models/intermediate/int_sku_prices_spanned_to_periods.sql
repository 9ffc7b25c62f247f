-- Grain: one price period of a SKU, the span during which one sku_prices row
-- was the SKU's catalogue price: from its effective_from to the next row's
-- (DECISIONLOG.md §2.1). Two rows effective from the same instant: the one
-- created last is the price (the others never were), so they are dropped
-- here rather than given an empty period.

with

prices as (

    select * from {{ ref('stg_lake__sku_prices') }}

),

ranked_at_instant as (

    select
        *,
        row_number() over (
            partition by sku_id, effective_from
            order by created_at desc, price_id desc
        ) as version_no

    from prices

),

effective as (

    select
        price_id,
        sku_id,
        reason,
        price_minor,
        compare_at_minor,
        effective_from,
        lead(effective_from) over (
            partition by sku_id
            order by effective_from
        ) as effective_until,
        row_number() over (
            partition by sku_id
            order by effective_from
        ) as period_no

    from ranked_at_instant
    where version_no = 1

)

select * from effective
