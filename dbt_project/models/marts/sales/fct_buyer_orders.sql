-- Grain: one paid order (a sale), with its buyer and whether the buyer is new
-- or returning. The buyer is the customer account, or for a guest order the
-- guest's e-mail (its digest); a guest order without an e-mail is a buyer of
-- its own. An order is "returning" when the same buyer had another paid order
-- before it (earlier paid_at; two at the same instant are ordered by order
-- id), otherwise "new" (DECISIONLOG, market definitions). The lake holds the
-- store's whole history, so a first order here is the buyer's first ever.

with

orders as (

    select * from {{ ref('stg_lake__orders') }}
    where paid_at is not null

),

order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

returns as (

    select * from {{ ref('fct_returns') }}

),

lines_by_order as (

    select
        order_id,
        count(*) as order_lines,
        sum(quantity) as units,
        sum(gross_minor) as gross_minor,
        sum(discount_minor) as discount_minor

    from order_lines
    group by 1

),

returns_by_order as (

    select
        order_id,
        sum(returns_minor) as returns_minor

    from returns
    group by 1

),

buyers as (

    select
        order_id,
        customer_id,
        sales_channel,
        paid_at,
        paid_date,
        customer_id is null as is_guest,
        case
            when customer_id is not null
                then {{ dbt.concat(["'customer:'", "customer_id"]) }}
            when guest_email_hash is not null
                then {{ dbt.concat(["'guest:'", "guest_email_hash"]) }}
            else {{ dbt.concat(["'order:'", "order_id"]) }}
        end as buyer_key

    from orders

),

numbered as (

    select
        *,
        row_number() over (
            partition by buyer_key
            order by paid_at, order_id
        ) as buyer_order_no,
        lag(paid_at) over (
            partition by buyer_key
            order by paid_at, order_id
        ) as previous_paid_at

    from buyers

),

final as (

    select
        ---------- ids
        numbered.order_id,
        numbered.buyer_key,
        numbered.customer_id,
        ---------- strings
        case
            when numbered.buyer_order_no = 1 then 'new' else 'returning'
        end as buyer_type,
        numbered.sales_channel,
        ---------- booleans
        numbered.is_guest,
        ---------- numerics
        cast(numbered.buyer_order_no as {{ dbt.type_bigint() }}) as buyer_order_no,
        cast(coalesce(lines_by_order.order_lines, 0) as {{ dbt.type_bigint() }})
            as order_lines,
        cast(coalesce(lines_by_order.units, 0) as {{ dbt.type_bigint() }}) as units,
        cast(coalesce(lines_by_order.gross_minor, 0) as {{ dbt.type_bigint() }})
            as gross_minor,
        cast(coalesce(lines_by_order.discount_minor, 0) as {{ dbt.type_bigint() }})
            as discount_minor,
        cast(coalesce(returns_by_order.returns_minor, 0) as {{ dbt.type_bigint() }})
            as returns_minor,
        cast(
            coalesce(lines_by_order.gross_minor, 0)
            - coalesce(lines_by_order.discount_minor, 0)
            - coalesce(returns_by_order.returns_minor, 0)
            as {{ dbt.type_bigint() }}
        ) as net_minor,
        {{ minor_to_amount(
            'coalesce(lines_by_order.gross_minor, 0)'
            ~ ' - coalesce(lines_by_order.discount_minor, 0)'
            ~ ' - coalesce(returns_by_order.returns_minor, 0)'
        ) }} as net_amount,
        ---------- dates
        numbered.paid_date as sale_date,
        ---------- timestamps
        numbered.paid_at,
        numbered.previous_paid_at

    from numbered
    left join lines_by_order
        on numbered.order_id = lines_by_order.order_id
    left join returns_by_order
        on numbered.order_id = returns_by_order.order_id

)

select * from final
