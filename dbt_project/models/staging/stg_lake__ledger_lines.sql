with

source as (

    select * from {{ source('lake', 'ledger_lines') }}

),

renamed as (

    select

        ---------- ids
        {{ dbt.concat([
            "cast(posting_id as varchar)", "':'", "cast(line_no as varchar)"
        ]) }} as ledger_line_id,
        cast(posting_id as varchar) as posting_id,
        ---------- strings
        cast(account as varchar) as ledger_account,
        cast(provider as varchar) as payment_provider,
        ---------- numerics
        cast(line_no as integer) as line_no,
        cast(debit_minor as bigint) as debit_minor,
        {{ minor_to_amount('debit_minor') }} as debit_amount,
        cast(credit_minor as bigint) as credit_minor,
        {{ minor_to_amount('credit_minor') }} as credit_amount,
        cast(commit_seq as bigint) as commit_seq,
        ---------- dates
        cast(day as date) as commit_day

    from source

)

select * from renamed
