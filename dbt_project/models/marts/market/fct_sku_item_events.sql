-- Grain: one item of a client view_item or add_to_cart event (event copies
-- deduplicated on event_id, the first committed copy; DECISIONLOG.md §7):
-- interest in a SKU at a moment, attributed to the SKU's price period in
-- effect when the event happened. Items carry the SKU id as item_id.

with

events as (

    select * from {{ ref('stg_lake__storefront_events') }}

),

event_items as (

    select * from {{ ref('stg_lake__storefront_event_items') }}

),

price_periods as (

    select * from {{ ref('int_sku_prices_spanned_to_periods') }}

),

first_copies as (

    select
        *,
        row_number() over (
            partition by event_id
            order by commit_seq, received_at
        ) as copy_no

    from events
    where
        event_source = 'client'
        and event_name in ('view_item', 'add_to_cart')

),

first_item_copies as (

    select
        *,
        row_number() over (
            partition by event_item_id
            order by commit_seq
        ) as copy_no

    from event_items

),

items as (

    select
        first_item_copies.event_item_id,
        first_copies.event_id,
        first_copies.session_id,
        first_item_copies.item_id as sku_id,
        first_copies.event_name,
        first_item_copies.quantity,
        first_item_copies.price_minor,
        first_copies.occurred_at,
        first_copies.occurred_date

    from first_copies
    inner join first_item_copies
        on first_copies.event_id = first_item_copies.event_id
    where
        first_copies.copy_no = 1
        and first_item_copies.copy_no = 1

),

final as (

    select
        ---------- ids
        items.event_item_id,
        items.event_id,
        items.session_id,
        items.sku_id,
        price_periods.price_id,
        ---------- strings
        items.event_name,
        ---------- numerics
        cast(items.quantity as {{ dbt.type_bigint() }}) as quantity,
        items.price_minor,
        ---------- dates
        items.occurred_date,
        ---------- timestamps
        items.occurred_at

    from items
    left join price_periods
        on
            items.sku_id = price_periods.sku_id
            and items.occurred_at >= price_periods.effective_from
            and (
                items.occurred_at < price_periods.effective_until
                or price_periods.effective_until is null
            )

)

select * from final
