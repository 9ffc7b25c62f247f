"""Forecast inventory alerts from the analytics pipeline (reverse ETL): publish replaces its list.

The pipeline's alerts asset posts its whole current list (stockout forecasts
and overstock per SKU × warehouse) with a pipeline key; they live in
stock_alerts with ``source = 'pipeline'`` beside the core's low-stock alerts,
so operators list and acknowledge one list. The rules of a publish are in
domain/forecast_alerts.py; this module applies them to the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from transactional.domain import forecast_alerts as rules
from transactional.domain.errors import Conflict, Invalid
from transactional.domain.forecast_alerts import Bad, ForecastAlert
from transactional.services.inventory import ALERT_OPEN, ALERT_RESOLVED
from transactional.storage.state import Row
from transactional.storage.unit_of_work import UnitOfWork

Quantity = Annotated[int, Field(strict=True, ge=0, le=rules.MAX_QUANTITY)]
EntityId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
# An identifier the pipeline makes (a lake snapshot or Dagster run id), never free text.
SnapshotId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")]


class ForecastAlertIn(BaseModel):
    """One alert as the pipeline posts it; decimals may be JSON numbers or strings."""

    model_config = ConfigDict(extra="forbid")

    sku_id: EntityId
    warehouse_id: EntityId
    kind: Literal["stockout_forecast", "overstock"]
    severity: Literal["critical", "warning", "info"]
    abc_class: Literal["A", "B", "C"] | None = None
    on_hand: Quantity
    reserved: Quantity
    available: Quantity
    incoming: Quantity
    daily_demand: Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=rules.DEMAND_SCALE)]
    days_of_cover: Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=rules.COVER_SCALE)] | None = (
        None
    )
    forecast_stockout_date: date | None = None
    suggested_reorder_quantity: Quantity

    def to_domain(self) -> ForecastAlert:
        return ForecastAlert(**self.model_dump())


class PublishForecastAlerts(BaseModel):
    """The pipeline's whole current list; an empty list resolves every live pipeline alert."""

    model_config = ConfigDict(extra="forbid")

    as_of: date
    source_snapshot_id: SnapshotId
    # Counted by the service (413 too_many_alerts), not here, so the limit has its own code.
    alerts: list[ForecastAlertIn]


def _store_today(uow: UnitOfWork) -> date:
    return uow.now.astimezone(ZoneInfo(uow.store["timezone"])).date()


def _bad_references(uow: UnitOfWork, alerts: Sequence[ForecastAlert]) -> list[Bad]:
    bad: list[Bad] = []
    for i, a in enumerate(alerts):
        if uow.get("skus", a.sku_id) is None:
            bad.append(Bad(i, "sku_not_found", "sku_id", "no SKU has this id"))
        if uow.get("warehouses", a.warehouse_id) is None:
            bad.append(Bad(i, "warehouse_not_found", "warehouse_id", "no warehouse has this id"))
    return bad


def _answer(publication: Row) -> dict[str, Any]:
    return {
        "as_of": publication["as_of"],
        "source_snapshot_id": publication["source_snapshot_id"],
        "raised": publication["raised"],
        "updated": publication["updated"],
        "resolved": publication["resolved"],
        "open": publication["open"],
    }


def _figures(a: ForecastAlert, as_of: date, source_snapshot_id: str, uow: UnitOfWork) -> dict[str, Any]:
    return {
        "abc_class": a.abc_class,
        "severity": a.severity,
        "on_hand": a.on_hand,
        "reserved": a.reserved,
        "available": a.available,
        "incoming": a.incoming,
        "daily_demand": a.daily_demand,
        "days_of_cover": a.days_of_cover,
        "forecast_stockout_date": a.forecast_stockout_date,
        "suggested_reorder_quantity": a.suggested_reorder_quantity,
        "as_of": as_of,
        "source_snapshot_id": source_snapshot_id,
        "updated_at": uow.now,
    }


def publish_forecast_alerts(
    uow: UnitOfWork, as_of: date, source_snapshot_id: str, alerts: Sequence[ForecastAlert]
) -> dict[str, Any]:
    """Replace the pipeline's live alerts with ``alerts``; ``{as_of, source_snapshot_id, raised,
    updated, resolved, open}`` where ``open`` counts the pipeline alerts live afterwards.

    All or nothing. Raises TooManyAlerts (413 ``too_many_alerts``), Invalid
    ``invalid_alerts`` (``bad``: index, code, field, reason of every broken rule,
    unknown SKUs and warehouses included) or ``as_of_in_future``, Conflict
    ``stale_forecast`` (as_of before the latest applied) or
    ``forecast_snapshot_reused`` (the snapshot id was applied with another
    as_of or list). A replay of an applied publish stages nothing.
    """
    rules.check_count(len(alerts))
    bad = rules.check_alerts(as_of, alerts) + _bad_references(uow, alerts)
    if bad:
        bad.sort(key=lambda b: b.index)
        indexes = sorted({b.index for b in bad})
        raise Invalid(
            f"{len(indexes)} of {len(alerts)} alerts break a rule; nothing was applied",
            code="invalid_alerts",
            bad=[b.as_dict() for b in bad],
        )
    latest_allowed = _store_today(uow) + timedelta(days=1)
    if as_of > latest_allowed:
        # Applied, it would make every honest publish after it stale.
        raise Invalid(
            f"as_of {as_of} is after the store's tomorrow ({latest_allowed})",
            code="as_of_in_future",
            latest_allowed=latest_allowed,
        )

    digest = rules.fingerprint(alerts)
    for prior in uow.lookup("forecast_publications", "source_snapshot_id", source_snapshot_id):
        if prior["as_of"] == as_of and prior["alerts_sha256"] == digest:
            return _answer(prior)
        raise Conflict(
            f"snapshot {source_snapshot_id} was already published with another as_of or list",
            code="forecast_snapshot_reused",
            published_as_of=prior["as_of"],
        )
    latest = max((p["as_of"] for p in uow.scan("forecast_publications")), default=None)
    if latest is not None and as_of < latest:
        raise Conflict(
            f"as_of {as_of} is older than the latest published forecast ({latest})",
            code="stale_forecast",
            latest_as_of=latest,
        )

    live = {
        (row["sku_id"], row["warehouse_id"], row["kind"]): row
        for row in uow.lookup("stock_alerts", "source", rules.SOURCE_PIPELINE)
        if row["status"] != ALERT_RESOLVED
    }
    raised, updated, resolved = rules.replace_plan(live, (a.key for a in alerts))
    for a in alerts:
        figures = _figures(a, as_of, source_snapshot_id, uow)
        current = live.get(a.key)
        if current is not None:
            # The status is the operator's: an acknowledged alert stays acknowledged.
            uow.update("stock_alerts", current["alert_id"], **figures)
            continue
        uow.insert(
            "stock_alerts",
            {
                "alert_id": uow.new_id("alr"),
                "sku_id": a.sku_id,
                "warehouse_id": a.warehouse_id,
                "kind": a.kind,
                "source": rules.SOURCE_PIPELINE,
                "status": ALERT_OPEN,
                "available_at_raise": a.available,
                "reorder_point": None,
                "raised_at": uow.now,
                "acknowledged_at": None,
                "acknowledged_by": None,
                "resolved_at": None,
                **figures,
            },
        )
    for key in sorted(resolved):
        uow.update(
            "stock_alerts",
            live[key]["alert_id"],
            status=ALERT_RESOLVED,
            resolved_at=uow.now,
            updated_at=uow.now,
        )

    publication_id = uow.new_id("fcp")
    publication = uow.insert(
        "forecast_publications",
        {
            "publication_id": publication_id,
            "source_snapshot_id": source_snapshot_id,
            "as_of": as_of,
            "alerts_sha256": digest,
            "alert_count": len(alerts),
            "raised": len(raised),
            "updated": len(updated),
            "resolved": len(resolved),
            "open": len(raised) + len(updated),
            "published_at": uow.now,
            "actor_key_id": uow.actor.key_id,
        },
    )
    answer = _answer(publication)
    uow.audit(
        "stock_alert.publish_forecasts",
        "forecast_publication",
        publication_id,
        **answer,
        alerts=len(alerts),
    )
    return answer
