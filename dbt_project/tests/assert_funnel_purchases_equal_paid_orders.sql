-- Metric identity (BEY-3, BEY-7), DECISIONLOG.md §7: funnel purchases are paid
-- orders. Σ purchases of fct_sessions + purchase events without a session =
-- paid orders of the store, and so is Σ purchases of mart_funnel_daily. Every
-- returned row is a failure.
{{ config(meta={'dagster': {'ref': {'name': 'fct_sessions'}}}) }}


with

sessions as (

    select * from {{ ref('fct_sessions') }}

),

funnel as (

    select * from {{ ref('mart_funnel_daily') }}

),

events as (

    select * from {{ ref('stg_lake__storefront_events') }}

),

orders as (

    select * from {{ ref('stg_lake__orders') }}

),

session_purchases as (

    select coalesce(sum(purchases), 0) as purchases from sessions

),

sessionless_purchases as (

    select count(distinct transaction_id) as purchases
    from events
    where
        event_name = 'purchase'
        and event_source = 'server'
        and session_id is null

),

funnel_purchases as (

    select coalesce(sum(purchases), 0) as purchases from funnel

),

paid_orders as (

    select count(*) as orders from orders
    where paid_at is not null

)

select
    session_purchases.purchases as session_purchases,
    sessionless_purchases.purchases as sessionless_purchases,
    funnel_purchases.purchases as funnel_purchases,
    paid_orders.orders as paid_orders

from session_purchases
cross join sessionless_purchases
cross join funnel_purchases
cross join paid_orders
where
    session_purchases.purchases + sessionless_purchases.purchases
    <> paid_orders.orders
    or funnel_purchases.purchases <> session_purchases.purchases
