-- Emporium core schema, version 5: forecast inventory alerts published by the analytics pipeline
-- (reverse ETL) next to the core's low-stock alerts.
--
-- One table, not a companion: operators work ONE live list (GET /api/v1/alerts, `emporium alerts
-- list`, acknowledge), and every alert, whoever raised it, has the same identity and lifecycle
-- (open -> acknowledged -> resolved). A companion table would split that list in two and every
-- read, acknowledge and export would need a join. So stock_alerts gains:
--   source      'core' (low_stock, raised by the writer) | 'pipeline' (stockout_forecast, overstock)
--   the forecast's figures, null on core alerts.
-- available_at_raise keeps its meaning for pipeline alerts (available when first raised);
-- reorder_point is not what a forecast is measured against, so it becomes nullable (null on
-- pipeline alerts). DuckDB cannot add CHECK constraints with ALTER TABLE, and a failed statement
-- would abort the migration's transaction, so the words are checked by the service, not here.
alter table stock_alerts add column source varchar default 'core';
alter table stock_alerts alter column source set not null;
alter table stock_alerts alter column reorder_point drop not null;
alter table stock_alerts add column abc_class varchar;
alter table stock_alerts add column severity varchar;
alter table stock_alerts add column on_hand bigint;
alter table stock_alerts add column reserved bigint;
alter table stock_alerts add column available bigint;
alter table stock_alerts add column incoming bigint;
alter table stock_alerts add column daily_demand decimal(18, 4);
alter table stock_alerts add column days_of_cover decimal(18, 1);
alter table stock_alerts add column forecast_stockout_date date;
alter table stock_alerts add column suggested_reorder_quantity bigint;
alter table stock_alerts add column as_of date;
alter table stock_alerts add column source_snapshot_id varchar;
alter table stock_alerts add column updated_at timestamptz;

-- One row per applied publish: the stale guard (an as_of older than the latest is refused) and
-- the replay answer (the same snapshot and as_of again is a no-op returning these counts).
-- alerts_sha256 fingerprints the published list, so a snapshot id reused for another list is a
-- conflict rather than a silent no-op.
create table forecast_publications (
    publication_id varchar primary key,
    source_snapshot_id varchar not null,
    as_of date not null,
    alerts_sha256 varchar not null,
    alert_count integer not null,
    raised integer not null,
    updated integer not null,
    resolved integer not null,
    open integer not null,
    published_at timestamptz not null,
    actor_key_id varchar,
    commit_seq bigint not null
);
