-- Grain: one payment attempt (a retry is a new payment; DECISIONLOG.md §7),
-- with its method, provider, status, the amounts authorized, captured,
-- refunded and voided, and the provider fee charged on its captures (fees
-- are not returned on refunds). Dated by the store-local day it was created.

with

payments as (

    select * from {{ ref('stg_lake__payments') }}

),

final as (

    select
        ---------- ids
        payment_id,
        order_id,
        customer_id,
        ---------- strings
        payment_method,
        payment_provider,
        payment_status,
        card_brand,
        failure_code,
        ---------- numerics
        amount_minor,
        authorized_minor,
        captured_minor,
        refunded_minor,
        voided_minor,
        fee_minor,
        cast(captured_minor - refunded_minor as {{ dbt.type_bigint() }}) as net_captured_minor,
        amount_amount,
        authorized_amount,
        captured_amount,
        refunded_amount,
        voided_amount,
        fee_amount,
        {{ minor_to_amount('captured_minor - refunded_minor') }} as net_captured_amount,
        ---------- dates
        {{ store_local_date('created_at') }} as created_date,
        ---------- timestamps
        created_at,
        updated_at

    from payments

)

select * from final
