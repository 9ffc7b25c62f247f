-- Grain: one store-local day with a sale, a return or a ledger posting.
-- Sales measures come from mart_daily_sales, dated as it dates them (a sale by
-- the day its order became paid, a return by the day its refund succeeded);
-- COGS from fct_order_lines by sale day; gross margin = net sales − COGS.
-- Ledger measures come from fct_ledger_lines by posting day: revenue is
-- recognized at capture (sales_revenue + shipping_revenue, credits − debits,
-- so refunded shipping reduces it), refunds are the contra-revenue account's
-- debits, provider fees the provider_fees debits (by method in
-- mart_payment_fees_daily).

with

daily_sales as (

    select * from {{ ref('mart_daily_sales') }}

),

order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

ledger_lines as (

    select * from {{ ref('fct_ledger_lines') }}

),

cogs_by_day as (

    select
        sale_date as finance_date,
        sum(cogs_minor) as cogs_minor

    from order_lines
    group by 1

),

ledger_by_day as (

    select
        posted_date as finance_date,
        sum(
            case when ledger_account = 'sales_revenue' then credit_minor - debit_minor else 0 end
        ) as ledger_sales_revenue_minor,
        sum(
            case
                when ledger_account = 'shipping_revenue' then credit_minor - debit_minor else 0
            end
        ) as ledger_shipping_revenue_minor,
        sum(
            case when ledger_account = 'tax_payable' then credit_minor - debit_minor else 0 end
        ) as ledger_tax_minor,
        sum(
            case when ledger_account = 'refunds' then debit_minor - credit_minor else 0 end
        ) as ledger_refunds_minor,
        sum(
            case when ledger_account = 'provider_fees' then debit_minor - credit_minor else 0 end
        ) as provider_fees_minor

    from ledger_lines
    group by 1

),

days as (

    select sale_date as finance_date from daily_sales
    union
    select finance_date from ledger_by_day

),

joined as (

    select
        days.finance_date,
        coalesce(daily_sales.orders, 0) as orders,
        coalesce(daily_sales.gross_minor, 0) as gross_minor,
        coalesce(daily_sales.discount_minor, 0) as discount_minor,
        coalesce(daily_sales.returns_minor, 0) as returns_minor,
        coalesce(daily_sales.net_minor, 0) as net_minor,
        coalesce(daily_sales.tax_minor, 0) as tax_minor,
        coalesce(daily_sales.shipping_minor, 0) as shipping_minor,
        coalesce(cogs_by_day.cogs_minor, 0) as cogs_minor,
        coalesce(ledger_by_day.ledger_sales_revenue_minor, 0) as ledger_sales_revenue_minor,
        coalesce(ledger_by_day.ledger_shipping_revenue_minor, 0)
            as ledger_shipping_revenue_minor,
        coalesce(ledger_by_day.ledger_tax_minor, 0) as ledger_tax_minor,
        coalesce(ledger_by_day.ledger_refunds_minor, 0) as ledger_refunds_minor,
        coalesce(ledger_by_day.provider_fees_minor, 0) as provider_fees_minor

    from days
    left join daily_sales
        on days.finance_date = daily_sales.sale_date
    left join cogs_by_day
        on days.finance_date = cogs_by_day.finance_date
    left join ledger_by_day
        on days.finance_date = ledger_by_day.finance_date

),

measures as (

    select
        *,
        net_minor - cogs_minor as gross_margin_minor,
        ledger_sales_revenue_minor + ledger_shipping_revenue_minor
            as ledger_revenue_minor,
        ledger_sales_revenue_minor + ledger_shipping_revenue_minor - ledger_refunds_minor
            as ledger_net_revenue_minor

    from joined

),

final as (

    select
        ---------- dates
        finance_date,
        ---------- numerics
        cast(orders as {{ dbt.type_bigint() }}) as orders,
        cast(gross_minor as {{ dbt.type_bigint() }}) as gross_minor,
        cast(discount_minor as {{ dbt.type_bigint() }}) as discount_minor,
        cast(returns_minor as {{ dbt.type_bigint() }}) as returns_minor,
        cast(net_minor as {{ dbt.type_bigint() }}) as net_minor,
        cast(tax_minor as {{ dbt.type_bigint() }}) as tax_minor,
        cast(shipping_minor as {{ dbt.type_bigint() }}) as shipping_minor,
        cast(cogs_minor as {{ dbt.type_bigint() }}) as cogs_minor,
        cast(gross_margin_minor as {{ dbt.type_bigint() }}) as gross_margin_minor,
        cast(ledger_sales_revenue_minor as {{ dbt.type_bigint() }})
            as ledger_sales_revenue_minor,
        cast(ledger_shipping_revenue_minor as {{ dbt.type_bigint() }})
            as ledger_shipping_revenue_minor,
        cast(ledger_revenue_minor as {{ dbt.type_bigint() }}) as ledger_revenue_minor,
        cast(ledger_refunds_minor as {{ dbt.type_bigint() }}) as ledger_refunds_minor,
        cast(ledger_net_revenue_minor as {{ dbt.type_bigint() }}) as ledger_net_revenue_minor,
        cast(ledger_tax_minor as {{ dbt.type_bigint() }}) as ledger_tax_minor,
        cast(provider_fees_minor as {{ dbt.type_bigint() }}) as provider_fees_minor,
        {{ minor_to_amount('gross_minor') }} as gross_amount,
        {{ minor_to_amount('discount_minor') }} as discount_amount,
        {{ minor_to_amount('returns_minor') }} as returns_amount,
        {{ minor_to_amount('net_minor') }} as net_amount,
        {{ minor_to_amount('cogs_minor') }} as cogs_amount,
        {{ minor_to_amount('gross_margin_minor') }} as gross_margin_amount,
        {{ minor_to_amount('ledger_revenue_minor') }} as ledger_revenue_amount,
        {{ minor_to_amount('ledger_refunds_minor') }} as ledger_refunds_amount,
        {{ minor_to_amount('ledger_net_revenue_minor') }} as ledger_net_revenue_amount,
        {{ minor_to_amount('provider_fees_minor') }} as provider_fees_amount,
        cast(
            100 * gross_margin_minor / nullif(cast(net_minor as decimal(18, 2)), 0)
            as decimal(9, 2)
        ) as gross_margin_pct

    from measures

)

select * from final
