-- Grain: one stock movement of the append-only journal (DECISIONLOG.md §4):
-- receipt, reservation, release, shipment, adjustment or return, with its
-- on-hand and reserved changes, dated by the store-local day it occurred.

with

movements as (

    select * from {{ ref('stg_lake__stock_movements') }}

),

final as (

    select
        ---------- ids
        movement_id,
        sku_id,
        warehouse_id,
        reference_id,
        ---------- strings
        kind,
        reason,
        reference_type,
        ---------- numerics
        on_hand_delta,
        reserved_delta,
        on_hand_delta - reserved_delta as available_delta,
        commit_seq,
        ---------- dates
        occurred_date as movement_date,
        ---------- timestamps
        occurred_at

    from movements

)

select * from final
