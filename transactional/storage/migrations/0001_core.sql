-- Emporium core schema, version 1.
-- Money: BIGINT minor units of the store currency. Instants: TIMESTAMPTZ (UTC).
-- commit_seq: the writer's commit sequence that last wrote the row; append-only
-- tables are exported past it as a high-water mark.
-- Append-only journals have no primary-key constraint: their ids come from the
-- writer's generator, unique by construction, and the index would cost about
-- half of each bulk insert (measured, bench/results).

create table store (
    store_id varchar primary key,
    name varchar not null,
    currency varchar not null,
    timezone varchar not null,
    tax_mode varchar not null,
    order_ttl_seconds integer not null,
    created_at timestamptz not null,
    commit_seq bigint not null
);

create table server_secrets (
    name varchar primary key,
    value varchar not null,
    commit_seq bigint not null
);

create table commits (
    commit_seq bigint not null,
    committed_at timestamptz not null,
    commands integer not null
);

create table api_keys (
    key_id varchar primary key,
    name varchar not null,
    role varchar not null,
    secret_sha256 varchar not null,
    display_prefix varchar not null,
    created_at timestamptz not null,
    revoked_at timestamptz,
    replaced_by varchar,
    commit_seq bigint not null
);

create table audit_log (
    audit_id varchar not null,
    occurred_at timestamptz not null,
    actor_key_id varchar,
    actor_role varchar,
    action varchar not null,
    target_type varchar not null,
    target_id varchar,
    request_id varchar,
    details_json varchar,
    commit_seq bigint not null
);

create table idempotency_keys (
    api_key_id varchar not null,
    route varchar not null,
    idempotency_key varchar not null,
    request_sha256 varchar not null,
    status_code integer not null,
    response_json varchar not null,
    created_at timestamptz not null,
    commit_seq bigint not null,
    primary key (api_key_id, route, idempotency_key)
);

create table categories (
    category_id varchar primary key,
    name varchar not null,
    parent_id varchar,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    archived_at timestamptz,
    commit_seq bigint not null
);

create table tax_rates (
    region varchar not null,
    tax_class varchar not null,
    rate decimal(7, 6) not null,
    updated_at timestamptz not null,
    commit_seq bigint not null,
    primary key (region, tax_class)
);

create table shipping_rates (
    region varchar not null,
    min_order_minor bigint not null,
    fee_minor bigint not null,
    updated_at timestamptz not null,
    commit_seq bigint not null,
    primary key (region, min_order_minor)
);

create table products (
    product_id varchar primary key,
    name varchar not null,
    description varchar,
    category_id varchar not null,
    tax_class varchar not null,
    attributes_json varchar not null,
    status varchar not null,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    archived_at timestamptz,
    commit_seq bigint not null
);

create table skus (
    sku_id varchar primary key,
    product_id varchar not null,
    sku_code varchar not null,
    name varchar not null,
    attributes_json varchar not null,
    unit_cost_minor bigint not null,
    status varchar not null,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    archived_at timestamptz,
    commit_seq bigint not null
);

-- Append-only: a price change is a new row; the effective price at t is the
-- row with the latest effective_from <= t (ties: the latest created).
create table sku_prices (
    price_id varchar primary key,
    sku_id varchar not null,
    price_minor bigint not null,
    compare_at_minor bigint,
    effective_from timestamptz not null,
    reason varchar,
    created_at timestamptz not null,
    created_by varchar,
    commit_seq bigint not null
);

create table customers (
    customer_id varchar primary key,
    email varchar not null,
    name varchar not null,
    phone varchar,
    region varchar not null,
    password_hash varchar,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    commit_seq bigint not null
);

create table customer_addresses (
    address_id varchar primary key,
    customer_id varchar not null,
    name varchar not null,
    line1 varchar not null,
    line2 varchar,
    city varchar not null,
    region varchar not null,
    postal_code varchar,
    country varchar not null,
    phone varchar,
    is_default boolean not null,
    created_at timestamptz not null,
    commit_seq bigint not null
);

create table warehouses (
    warehouse_id varchar primary key,
    code varchar not null,
    name varchar not null,
    region varchar not null,
    priority integer not null,
    created_at timestamptz not null,
    commit_seq bigint not null
);

create table stock_levels (
    sku_id varchar not null,
    warehouse_id varchar not null,
    on_hand bigint not null,
    reserved bigint not null,
    reorder_point bigint not null,
    reorder_quantity bigint not null,
    updated_at timestamptz not null,
    commit_seq bigint not null,
    primary key (sku_id, warehouse_id)
);

-- Append-only journal: sum(on_hand_delta) = on_hand and
-- sum(reserved_delta) = reserved per (sku_id, warehouse_id).
create table stock_movements (
    movement_id varchar not null,
    sku_id varchar not null,
    warehouse_id varchar not null,
    kind varchar not null,
    on_hand_delta bigint not null,
    reserved_delta bigint not null,
    reason varchar,
    reference_type varchar,
    reference_id varchar,
    occurred_at timestamptz not null,
    actor_key_id varchar,
    commit_seq bigint not null
);

create table stock_alerts (
    alert_id varchar primary key,
    sku_id varchar not null,
    warehouse_id varchar not null,
    kind varchar not null,
    status varchar not null,
    available_at_raise bigint not null,
    reorder_point bigint not null,
    raised_at timestamptz not null,
    acknowledged_at timestamptz,
    acknowledged_by varchar,
    resolved_at timestamptz,
    commit_seq bigint not null
);

create table suppliers (
    supplier_id varchar primary key,
    name varchar not null,
    email varchar,
    lead_time_days integer not null,
    created_at timestamptz not null,
    commit_seq bigint not null
);

create table purchase_orders (
    purchase_order_id varchar primary key,
    supplier_id varchar not null,
    warehouse_id varchar not null,
    status varchar not null,
    expected_on date,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    commit_seq bigint not null
);

create table purchase_order_lines (
    purchase_order_line_id varchar primary key,
    purchase_order_id varchar not null,
    sku_id varchar not null,
    quantity_ordered bigint not null,
    quantity_received bigint not null,
    unit_cost_minor bigint not null,
    commit_seq bigint not null
);

create table purchase_receipts (
    receipt_id varchar not null,
    purchase_order_id varchar not null,
    received_at timestamptz not null,
    actor_key_id varchar,
    note varchar,
    commit_seq bigint not null
);

create table purchase_receipt_lines (
    receipt_line_id varchar not null,
    receipt_id varchar not null,
    purchase_order_line_id varchar not null,
    sku_id varchar not null,
    quantity bigint not null,
    commit_seq bigint not null
);

create table coupons (
    coupon_id varchar primary key,
    code varchar not null,
    kind varchar not null,
    percent_off decimal(5, 4),
    amount_off_minor bigint,
    valid_from timestamptz not null,
    valid_until timestamptz,
    usage_limit bigint,
    times_used bigint not null,
    min_subtotal_minor bigint not null,
    is_active boolean not null,
    created_at timestamptz not null,
    commit_seq bigint not null
);

create table orders (
    order_id varchar primary key,
    customer_id varchar,
    guest_email varchar,
    status varchar not null,
    currency varchar not null,
    sales_channel varchar not null,
    session_id varchar,
    traffic_source varchar,
    utm_source varchar,
    utm_medium varchar,
    utm_campaign varchar,
    device varchar,
    ship_name varchar not null,
    ship_line1 varchar not null,
    ship_line2 varchar,
    ship_city varchar not null,
    ship_region varchar not null,
    ship_postal_code varchar,
    ship_country varchar not null,
    ship_phone varchar,
    coupon_code varchar,
    subtotal_listed_minor bigint not null,
    gross_minor bigint not null,
    discount_minor bigint not null,
    net_minor bigint not null,
    tax_minor bigint not null,
    shipping_minor bigint not null,
    total_minor bigint not null,
    access_token_sha256 varchar not null,
    placed_at timestamptz not null,
    expires_at timestamptz,
    paid_at timestamptz,
    cancelled_at timestamptz,
    updated_at timestamptz not null,
    version integer not null,
    commit_seq bigint not null
);

-- Lines are never deleted: a modification marks old lines removed and adds
-- new ones, so the order's history stays readable.
create table order_lines (
    order_line_id varchar primary key,
    order_id varchar not null,
    line_no integer not null,
    status varchar not null,
    sku_id varchar not null,
    product_id varchar not null,
    category_id varchar not null,
    sku_name varchar not null,
    quantity bigint not null,
    quantity_shipped bigint not null,
    unit_price_minor bigint not null,
    unit_cost_minor bigint not null,
    tax_rate decimal(7, 6) not null,
    list_minor bigint not null,
    gross_minor bigint not null,
    discount_minor bigint not null,
    net_minor bigint not null,
    tax_minor bigint not null,
    total_minor bigint not null,
    commit_seq bigint not null
);

-- Which warehouse holds the reservation for which part of a line.
create table order_allocations (
    allocation_id varchar primary key,
    order_id varchar not null,
    order_line_id varchar not null,
    sku_id varchar not null,
    warehouse_id varchar not null,
    quantity bigint not null,
    quantity_shipped bigint not null,
    quantity_released bigint not null,
    commit_seq bigint not null
);

create table order_discounts (
    order_discount_id varchar primary key,
    order_id varchar not null,
    source varchar not null,
    coupon_code varchar,
    reason varchar,
    kind varchar not null,
    percent_off decimal(5, 4),
    amount_off_minor bigint,
    applied_minor bigint not null,
    created_at timestamptz not null,
    actor_key_id varchar,
    is_active boolean not null,
    commit_seq bigint not null
);

create table order_status_history (
    history_id varchar not null,
    order_id varchar not null,
    from_status varchar,
    to_status varchar not null,
    changed_at timestamptz not null,
    actor_key_id varchar,
    actor_role varchar,
    reason varchar,
    request_id varchar,
    commit_seq bigint not null
);

create table shipments (
    shipment_id varchar primary key,
    order_id varchar not null,
    warehouse_id varchar not null,
    status varchar not null,
    created_at timestamptz not null,
    shipped_at timestamptz,
    commit_seq bigint not null
);

create table shipment_lines (
    shipment_line_id varchar not null,
    shipment_id varchar not null,
    order_line_id varchar not null,
    allocation_id varchar not null,
    sku_id varchar not null,
    quantity bigint not null,
    commit_seq bigint not null
);
