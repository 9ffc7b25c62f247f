-- Grain: one item of a client view_item or add_to_cart event (event copies
-- deduplicated on event_id, the first committed copy; DECISIONLOG.md §7):
-- interest in a SKU at a moment, attributed to the SKU's price period in
-- effect when the event happened. Items carry the SKU id as item_id.
--
-- Incremental (DECISIONLOG.md §18): a run adds the items of events committed
-- after the newest commit here (an event id already here is a copy and is
-- skipped), and rebuilds the events on refresh_from..refresh_to when a run
-- asks for those days. A price backdated before events already here would
-- need a full refresh: the store only sets prices from now on.
{{ config(
    materialized='incremental',
    unique_key='event_item_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

with

events as (

    select * from {{ ref('stg_lake__storefront_events') }}
    {% if is_incremental() %}
        where
            commit_seq > (
                select coalesce(max(commit_seq), 0) from {{ this }}
            )
            {% if var('refresh_from', none) is not none %}
                or occurred_date between
                cast('{{ var("refresh_from") }}' as date)
                and cast('{{ var("refresh_to", var("refresh_from")) }}' as date)
            {% endif %}
    {% endif %}

),

event_items as (

    select * from {{ ref('stg_lake__storefront_event_items') }}
    {% if is_incremental() %}
        where event_id in (select events.event_id from events)
    {% endif %}

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
        first_copies.occurred_date,
        first_copies.commit_seq

    from first_copies
    inner join first_item_copies
        on first_copies.event_id = first_item_copies.event_id
    where
        first_copies.copy_no = 1
        and first_item_copies.copy_no = 1
    {% if is_incremental() %}
        -- a copy of an event already here, committed again later
        and not exists (
            select 1 from {{ this }} as already
            where
                already.event_id = first_copies.event_id
                and already.commit_seq < first_copies.commit_seq
        )
    {% endif %}

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
        items.commit_seq,
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
