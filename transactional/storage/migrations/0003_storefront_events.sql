-- Emporium core schema, version 3: storefront clickstream events (issue 4, ANA-2).
-- GA4 e-commerce events from the storefront (source 'client') and the server's own
-- purchase/refund events (source 'server'). Append-only journals, so no primary key:
-- the writer deduplicates on event_id before it writes (storage/recent_ids.py).
-- event_id is a lower-case UUID string: VARCHAR rather than UUID because the bulk
-- insert casts strings ~2.3 us/row slower into UUID (measured) and the store never
-- looks an event up by id; VARCHAR also reads the same in Parquet, polars and Postgres.
-- Items live in their own table, as a portable relational shape (no LIST of STRUCT).
create table storefront_events (
    event_id varchar not null,
    event_name varchar not null,
    source varchar not null,
    occurred_at timestamptz not null,
    received_at timestamptz not null,
    session_id varchar,
    anonymous_id varchar,
    customer_id varchar,
    traffic_source varchar,
    utm_source varchar,
    utm_medium varchar,
    utm_campaign varchar,
    device varchar,
    currency varchar,
    value_minor bigint,
    tax_minor bigint,
    shipping_minor bigint,
    transaction_id varchar,
    coupon varchar,
    item_list_id varchar,
    item_list_name varchar,
    shipping_tier varchar,
    payment_type varchar,
    commit_seq bigint not null
);

-- One row per item of an event, in the event's order (item_index from 0).
-- item_list_index is GA4's optional position of the item in its list.
create table storefront_event_items (
    event_id varchar not null,
    item_index integer not null,
    item_id varchar not null,
    item_name varchar,
    item_brand varchar,
    item_category varchar,
    item_variant varchar,
    item_list_index integer,
    price_minor bigint,
    quantity integer not null,
    commit_seq bigint not null
);
