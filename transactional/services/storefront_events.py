"""Storefront clickstream events (ANA-2): ingesting client batches and storing the server's own events.

Both run inside the writer like every other write (DESIGN.md, "The write
path"). A client batch is validated whole by the domain (``validate_batch``:
one bad event rejects the batch, listing every bad index); events whose
event_id the store already holds (committed, staged earlier in the writer's
batch, or repeated within this request) are accepted and ignored. Nothing here
reads the database: dedupe uses the writer's window of recent ids
(storage/recent_ids.py), which is complete because an event older than the
timestamp window cannot be accepted at all.

Rows are staged column-wise (``UnitOfWork.append_columns``): a batch of
hundreds of events costs a few list comprehensions, not a dict per row, and
the writer inserts each table with one Arrow-backed statement.

``ingest_frames`` is the in-process bulk path of the demo simulator (issue 5):
the same rules over polars frames (domain/event_frames.py), ids claimed in one
pass (``UnitOfWork.claim_ids``) and the frames' columns handed to the writer as
they are, so millions of events cost seconds, not minutes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from transactional.domain.event_frames import validate_frames
from transactional.domain.events import SERVER_EVENT_NAMES, NormalizedEvent, validate_batch
from transactional.storage.unit_of_work import UnitOfWork

EVENTS = "storefront_events"
ITEMS = "storefront_event_items"

# NormalizedEvent attributes stored as they are, in the table's column names.
_EVENT_ATTRS = (
    "event_id",
    "event_name",
    "source",
    "occurred_at",
    "session_id",
    "anonymous_id",
    "customer_id",
    "traffic_source",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "device",
    "currency",
    "value_minor",
    "tax_minor",
    "shipping_minor",
    "transaction_id",
    "coupon",
    "item_list_id",
    "item_list_name",
    "shipping_tier",
    "payment_type",
)


def _stage(uow: UnitOfWork, events: Sequence[NormalizedEvent]) -> None:
    if not events:
        return
    columns: dict[str, list[Any]] = {attr: [getattr(e, attr) for e in events] for attr in _EVENT_ATTRS}
    columns["received_at"] = [uow.now] * len(events)
    uow.append_columns(EVENTS, columns)

    pairs = [(e.event_id, n, item) for e in events for n, item in enumerate(e.items)]
    if pairs:
        uow.append_columns(
            ITEMS,
            {
                "event_id": [event_id for event_id, _, _ in pairs],
                "item_index": [n for _, n, _ in pairs],
                "item_id": [it.item_id for _, _, it in pairs],
                "item_name": [it.item_name for _, _, it in pairs],
                "item_brand": [it.item_brand for _, _, it in pairs],
                "item_category": [it.item_category for _, _, it in pairs],
                "item_variant": [it.item_variant for _, _, it in pairs],
                "item_list_index": [it.index for _, _, it in pairs],
                "price_minor": [it.price_minor for _, _, it in pairs],
                "quantity": [it.quantity for _, _, it in pairs],
            },
        )


def ingest_events(uow: UnitOfWork, raw_events: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Validate a client batch and stage its new events; ``{"received", "inserted", "duplicates"}``.

    Raises Invalid (``invalid_events`` with ``bad``, ``empty_batch``,
    ``batch_too_large``) and then stages nothing. Client timestamps are checked
    against ``uow.now``; currencies against the store's.
    """
    events = validate_batch(raw_events, now=uow.now, store_currency=uow.store["currency"])
    return store_events(uow, events, received=len(raw_events))


def store_events(uow: UnitOfWork, events: Sequence[NormalizedEvent], *, received: int) -> dict[str, int]:
    """Stage client events already validated by ``validate_batch``; counts as for ``ingest_events``.

    The HTTP route validates in the request handler, so that the writer thread
    only dedupes and writes: validation (Python, holding the GIL) of the next
    request then overlaps with DuckDB inserting this one (which releases it).
    ``received`` is the size of the batch as sent, before in-batch duplicates.
    """
    fresh = [e for e in events if uow.claim_id(EVENTS, e.event_id, e.occurred_at)]
    _stage(uow, fresh)
    return {"received": received, "inserted": len(fresh), "duplicates": received - len(fresh)}


def emit_server_event(uow: UnitOfWork, event: NormalizedEvent) -> None:
    """Stage a server-built ``purchase``/``refund`` event (domain ``server_*_event``) unless already stored.

    Its event_id is derived from the order or refund id, so emitting the same
    event again (a retried command, a reconciler) stores it once.
    """
    if event.source != "server" or event.event_name not in SERVER_EVENT_NAMES:
        raise ValueError("only server-built purchase and refund events are emitted here")
    if uow.claim_id(EVENTS, event.event_id, event.occurred_at):
        _stage(uow, [event])


def ingest_frames(uow: UnitOfWork, events: pl.DataFrame, items: pl.DataFrame) -> dict[str, int]:
    """Validate client events given as frames and stage the new ones; counts as for ``ingest_events``.

    ``events`` has one row per event (domain ``EVENT_COLUMNS``: the client's
    fields, ``timestamp`` a tz-aware Datetime), ``items`` one row per item
    (``ITEM_COLUMNS``: event_id, item_index from 0, item_id, ...). The rules,
    the all-or-nothing rejection and the dedupe (within the frame, first wins;
    against stored and staged ids) are those of ``ingest_events``; see
    domain/event_frames.py for what a typed frame changes. Raises Invalid
    (``invalid_events`` with ``bad`` capped and ``bad_count``, ``invalid_frame``)
    and then stages and claims nothing.
    """
    valid = validate_frames(events, items, now=uow.now, store_currency=uow.store["currency"])
    frame = valid.events
    if not frame.height:
        return {"received": valid.received, "inserted": 0, "duplicates": valid.received}
    fresh = uow.claim_ids(EVENTS, frame["event_id"].to_list(), frame["occurred_at"].dt.epoch("s").to_list())
    mask = pl.Series(fresh, dtype=pl.Boolean)
    if not mask.all():
        frame = frame.filter(mask)
    n = frame.height
    if n:
        columns: dict[str, Any] = {name: frame[name] for name in frame.columns}
        columns["source"] = pl.repeat("client", n, eager=True)
        columns["received_at"] = pl.repeat(uow.now, n, eager=True)
        for name in ("tax_minor", "shipping_minor", "transaction_id"):
            columns[name] = pl.repeat(None, n, eager=True)
        uow.append_columns(EVENTS, columns)
        kept = valid.items
        if kept.height and frame.height != valid.events.height:
            kept = kept.filter(pl.col("event_id").is_in(frame["event_id"].implode()))
        if kept.height:
            uow.append_columns(ITEMS, {name: kept[name] for name in kept.columns})
    return {"received": valid.received, "inserted": n, "duplicates": valid.received - n}
