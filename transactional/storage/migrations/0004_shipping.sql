-- Emporium core schema, version 4: carriers, shipments with tracking, shipping notifications (issue 4).
-- Same conventions as 0001: BIGINT minor units, TIMESTAMPTZ instants (UTC), commit_seq stamped by
-- the writer; journals (tracking_events, shipping_notifications) have no primary key.

-- The carrier catalogue: a carrier offers service levels; each has a handling promise, a rate
-- rule (base + per started kg, the store's cost) and transit days per ship-to region ('*' is
-- the fallback). Rules in domain/carriers.py.
create table carriers (
    carrier_code varchar primary key,
    name varchar not null,
    status varchar not null,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    commit_seq bigint not null
);

create table carrier_services (
    carrier_code varchar not null,
    service_code varchar not null,
    name varchar not null,
    handling_hours integer not null,
    base_minor bigint not null,
    per_kg_minor bigint not null,
    max_weight_grams integer,
    status varchar not null,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    commit_seq bigint not null,
    primary key (carrier_code, service_code)
);

create table carrier_transit_days (
    carrier_code varchar not null,
    service_code varchar not null,
    region varchar not null,
    transit_days integer not null,
    commit_seq bigint not null,
    primary key (carrier_code, service_code, region)
);

-- A parcel's weight drives the carrier's rate.
alter table skus add column weight_grams integer not null default 500;

-- A shipment is one parcel: carrier, service, tracking number, what it cost the store, the
-- promise made at dispatch, and the capture of its share of a card authorization.
alter table shipments add column carrier_code varchar;
alter table shipments add column service_code varchar;
alter table shipments add column tracking_number varchar;
alter table shipments add column tracking_status varchar;
alter table shipments add column weight_grams integer;
alter table shipments add column shipping_cost_minor bigint;
alter table shipments add column promised_dispatch_by timestamptz;
alter table shipments add column promised_delivery_date date;
alter table shipments add column delivered_at timestamptz;
alter table shipments add column payment_id varchar;
alter table shipments add column capture_minor bigint not null default 0;
alter table shipments add column capture_status varchar not null default 'not_needed';
alter table shipments add column updated_at timestamptz;

-- Shipment lines travel with their order in the writer's memory.
alter table shipment_lines add column order_id varchar;
update shipment_lines
set order_id = (select s.order_id from shipments as s where s.shipment_id = shipment_lines.shipment_id);

-- Operators see orders that need a person (a capture declined after the goods left).
alter table orders add column attention_code varchar;
alter table orders add column attention_at timestamptz;
-- When the last parcel arrived; delivered orders close after the return window (run_due).
alter table orders add column delivered_at timestamptz;

-- A capture made for a shipment names it.
alter table payment_operations add column shipment_id varchar;

-- Every tracking event as received (carrier webhook or operator), duplicates included.
create table tracking_events (
    tracking_event_id varchar not null,
    shipment_id varchar not null,
    order_id varchar not null,
    carrier_code varchar,
    status varchar not null,
    previous_status varchar not null,
    applied boolean not null,
    occurred_at timestamptz not null,
    received_at timestamptz not null,
    location varchar,
    source varchar not null,
    actor_key_id varchar,
    request_id varchar,
    commit_seq bigint not null
);

-- The message the customer would get at each dispatch, with the promise it makes.
create table shipping_notifications (
    notification_id varchar not null,
    shipment_id varchar not null,
    order_id varchar not null,
    kind varchar not null,
    recipient varchar,
    subject varchar not null,
    body varchar not null,
    promised_delivery_date date,
    created_at timestamptz not null,
    commit_seq bigint not null
);

-- Refunds by lines: units refunded, and of those the ones refunded before they shipped (their
-- reservation was released and they will never ship).
alter table order_lines add column quantity_refunded bigint not null default 0;
alter table order_lines add column quantity_cancelled bigint not null default 0;
