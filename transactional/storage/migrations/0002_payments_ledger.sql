-- Emporium core schema, version 2: payments, refunds, store credit and the ledger (issue 4).
-- Same conventions as 0001: BIGINT minor units of the store currency, TIMESTAMPTZ
-- instants (UTC), commit_seq stamped by the writer; append-only journals
-- (ledger_postings, ledger_lines, store_credit_movements) have no primary key.
-- Card data: a provider token plus brand and last 4, never a card number.

-- One row per payment attempt (a retry is a new row). The recognized_* and
-- refunded_*_minor columns say how much of the attempt the ledger has booked
-- as revenue, tax and shipping, and given back, so that the next capture or
-- refund is split over what is left (domain.ledger.split_amount). attempt_id is
-- the authorize call's id, by which the provider is asked about a bank transfer.
create table payments (
    payment_id varchar primary key,
    order_id varchar not null,
    customer_id varchar,
    method varchar not null,
    currency varchar not null,
    amount_minor bigint not null,
    authorized_minor bigint not null,
    captured_minor bigint not null,
    refunded_minor bigint not null,
    voided_minor bigint not null,
    fee_minor bigint not null,
    recognized_revenue_minor bigint not null,
    recognized_tax_minor bigint not null,
    recognized_shipping_minor bigint not null,
    refunded_revenue_minor bigint not null,
    refunded_tax_minor bigint not null,
    refunded_shipping_minor bigint not null,
    status varchar not null,
    provider varchar,
    provider_ref varchar,
    attempt_id varchar,
    token varchar,
    card_brand varchar,
    card_last4 varchar,
    expires_at timestamptz,
    failure_code varchar,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    commit_seq bigint not null
);

-- Each call to a provider (authorize, capture, void, refund). operation_id is
-- the attempt id sent to the provider as its idempotency key; the row is
-- committed 'pending' before the call and settled by a second command.
create table payment_operations (
    operation_id varchar primary key,
    payment_id varchar not null,
    order_id varchar not null,
    refund_id varchar,
    kind varchar not null,
    amount_minor bigint not null,
    captured_before_minor bigint not null,
    status varchar not null,
    fee_minor bigint not null,
    provider varchar,
    provider_ref varchar,
    error_code varchar,
    requested_at timestamptz not null,
    settled_at timestamptz,
    actor_key_id varchar,
    request_id varchar,
    commit_seq bigint not null
);

create table refunds (
    refund_id varchar primary key,
    order_id varchar not null,
    payment_id varchar not null,
    operation_id varchar,
    amount_minor bigint not null,
    destination varchar not null,
    reason varchar not null,
    lines_json varchar,
    status varchar not null,
    revenue_minor bigint not null,
    tax_minor bigint not null,
    shipping_minor bigint not null,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    actor_key_id varchar,
    request_id varchar,
    commit_seq bigint not null
);

-- The double-entry ledger: append-only; a correction is a new (reversal) posting.
create table ledger_postings (
    posting_id varchar not null,
    kind varchar not null,
    reference_type varchar not null,
    reference_id varchar not null,
    reverses varchar,
    order_id varchar,
    payment_id varchar,
    posted_at timestamptz not null,
    actor_key_id varchar,
    request_id varchar,
    commit_seq bigint not null
);

create table ledger_lines (
    posting_id varchar not null,
    line_no integer not null,
    account varchar not null,
    provider varchar,
    debit_minor bigint not null,
    credit_minor bigint not null,
    commit_seq bigint not null
);

create table store_credit_accounts (
    customer_id varchar primary key,
    balance_minor bigint not null,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    commit_seq bigint not null
);

-- Append-only: sum(delta_minor) = balance_minor per customer.
create table store_credit_movements (
    movement_id varchar not null,
    customer_id varchar not null,
    kind varchar not null,
    delta_minor bigint not null,
    reference_type varchar not null,
    reference_id varchar not null,
    reason varchar,
    occurred_at timestamptz not null,
    actor_key_id varchar,
    request_id varchar,
    commit_seq bigint not null
);
