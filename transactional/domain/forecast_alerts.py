"""Forecast inventory alerts published by the analytics pipeline (reverse ETL): the rules of a publish.

The pipeline posts the whole current list of its alerts per SKU × warehouse ×
kind; the core keeps ONE live list with its own low-stock alerts. Rules (copied
into the decision log):

- A publish replaces the pipeline's list: an alert in the list that is live
  (open or acknowledged) is updated in place and keeps its status; one that is
  not is raised; a live pipeline alert missing from the list is resolved.
  Core low-stock alerts are never touched.
- ``as_of`` is the store-local day the forecast is for. Publishes apply in
  as_of order: one older than the latest applied is stale; one dated after the
  store's tomorrow is refused, since it would make every later publish stale.
- The same ``source_snapshot_id`` with the same ``as_of`` and the same list is
  a replay (answered with the first answer); with anything else it is a conflict.
- Figures must agree with each other (below, ``check_alerts``); a list with
  any bad alert is refused whole, naming every bad index.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from transactional.domain.errors import DomainError

SOURCE_CORE = "core"
SOURCE_PIPELINE = "pipeline"
SOURCES = frozenset({SOURCE_CORE, SOURCE_PIPELINE})

LOW_STOCK = "low_stock"
STOCKOUT_FORECAST = "stockout_forecast"
OVERSTOCK = "overstock"
PIPELINE_KINDS = frozenset({STOCKOUT_FORECAST, OVERSTOCK})
KINDS = frozenset({LOW_STOCK, *PIPELINE_KINDS})

SEVERITIES = frozenset({"critical", "warning", "info"})
ABC_CLASSES = frozenset({"A", "B", "C"})

MAX_ALERTS = 20_000
MAX_QUANTITY = 10**12
# Column scales: daily_demand DECIMAL(18,4), days_of_cover DECIMAL(18,1).
DEMAND_SCALE = 4
COVER_SCALE = 1
_DIGITS = 18

# stock_alerts columns that only pipeline alerts fill; a core alert stores them as null.
PIPELINE_COLUMNS = (
    "abc_class",
    "severity",
    "on_hand",
    "reserved",
    "available",
    "incoming",
    "daily_demand",
    "days_of_cover",
    "forecast_stockout_date",
    "suggested_reorder_quantity",
    "as_of",
    "source_snapshot_id",
    "updated_at",
)

AlertKey = tuple[str, str, str]  # (sku_id, warehouse_id, kind)


class TooManyAlerts(DomainError):
    kind = "too_large"
    default_code = "too_many_alerts"


@dataclass(frozen=True, slots=True)
class ForecastAlert:
    sku_id: str
    warehouse_id: str
    kind: str
    severity: str
    abc_class: str | None
    on_hand: int
    reserved: int
    available: int
    incoming: int
    daily_demand: Decimal
    days_of_cover: Decimal | None
    forecast_stockout_date: date | None
    suggested_reorder_quantity: int

    @property
    def key(self) -> AlertKey:
        return (self.sku_id, self.warehouse_id, self.kind)


@dataclass(frozen=True, slots=True)
class Bad:
    """One broken rule of one alert of the list: ``index`` into the list as posted."""

    index: int
    code: str
    field: str
    reason: str

    def as_dict(self) -> dict[str, object]:
        return {"index": self.index, "code": self.code, "field": self.field, "reason": self.reason}


def empty_pipeline_columns() -> dict[str, None]:
    """The pipeline-only columns of a core alert row."""
    return dict.fromkeys(PIPELINE_COLUMNS)


def check_count(n: int) -> None:
    if n > MAX_ALERTS:
        raise TooManyAlerts(
            f"a publish holds at most {MAX_ALERTS} alerts, got {n}", max_alerts=MAX_ALERTS, received=n
        )


def _fits(value: Decimal, scale: int) -> bool:
    """True if ``value`` is finite and fits DECIMAL(18, scale) without rounding."""
    if not value.is_finite():
        return False
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    return -exponent <= scale and abs(value) < Decimal(10) ** (_DIGITS - scale)


def _check_one(i: int, a: ForecastAlert, as_of: date) -> list[Bad]:
    bad: list[Bad] = []

    def no(field: str, code: str, reason: str) -> None:
        bad.append(Bad(i, code, field, reason))

    if a.kind not in PIPELINE_KINDS:
        no("kind", "invalid_kind", f"must be one of {', '.join(sorted(PIPELINE_KINDS))}")
    if a.severity not in SEVERITIES:
        no("severity", "invalid_severity", f"must be one of {', '.join(sorted(SEVERITIES))}")
    if a.abc_class is not None and a.abc_class not in ABC_CLASSES:
        no("abc_class", "invalid_abc_class", "must be A, B, C or null")
    for field in ("on_hand", "reserved", "available", "incoming", "suggested_reorder_quantity"):
        value = getattr(a, field)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_QUANTITY:
            no(field, "invalid_quantity", f"must be an integer from 0 to {MAX_QUANTITY}")
    if not bad and a.available != a.on_hand - a.reserved:
        # The core's definition of available; a forecast on other figures would not match the stock list.
        no("available", "available_mismatch", "must equal on_hand - reserved")
    if not _fits(a.daily_demand, DEMAND_SCALE) or a.daily_demand < 0:
        no("daily_demand", "invalid_daily_demand", f"must be >= 0 with at most {DEMAND_SCALE} decimals")
    elif a.daily_demand == 0 and a.days_of_cover is not None:
        no("days_of_cover", "days_of_cover_without_demand", "must be null when daily_demand is 0")
    elif a.daily_demand > 0 and a.days_of_cover is None:
        no("days_of_cover", "days_of_cover_required", "is required when daily_demand is above 0")
    if a.days_of_cover is not None and (not _fits(a.days_of_cover, COVER_SCALE) or a.days_of_cover < 0):
        no("days_of_cover", "invalid_days_of_cover", f"must be >= 0 with at most {COVER_SCALE} decimal")
    if a.forecast_stockout_date is None:
        if a.kind == STOCKOUT_FORECAST:
            no("forecast_stockout_date", "stockout_date_required", "is required for a stockout_forecast")
    elif a.forecast_stockout_date < as_of:
        no("forecast_stockout_date", "stockout_date_before_as_of", "must not be before as_of")
    return bad


def check_alerts(as_of: date, alerts: Sequence[ForecastAlert]) -> list[Bad]:
    """Every broken rule of the list, in index order (empty: the list may be applied)."""
    bad: list[Bad] = []
    first: dict[AlertKey, int] = {}
    for i, alert in enumerate(alerts):
        bad += _check_one(i, alert, as_of)
        seen = first.setdefault(alert.key, i)
        if seen != i:
            bad.append(
                Bad(i, "duplicate_alert", "kind", f"repeats sku_id, warehouse_id and kind of alert {seen}")
            )
    return bad


def replace_plan(
    live: Iterable[AlertKey], posted: Iterable[AlertKey]
) -> tuple[set[AlertKey], set[AlertKey], set[AlertKey]]:
    """(raise, update, resolve): posted and not live, posted and live, live and not posted."""
    live_set, posted_set = set(live), set(posted)
    return posted_set - live_set, posted_set & live_set, live_set - posted_set


def fingerprint(alerts: Iterable[ForecastAlert]) -> str:
    """A digest of the list that ignores its order (a replay may list the same alerts otherwise)."""
    lines = sorted(
        "\x1f".join(
            "" if v is None else str(v)
            for v in (
                a.sku_id,
                a.warehouse_id,
                a.kind,
                a.severity,
                a.abc_class,
                a.on_hand,
                a.reserved,
                a.available,
                a.incoming,
                # normalized so 1.5 and 1.50 are the same figure
                a.daily_demand.normalize() if a.daily_demand.is_finite() else a.daily_demand,
                a.days_of_cover.normalize()
                if a.days_of_cover is not None and a.days_of_cover.is_finite()
                else a.days_of_cover,
                a.forecast_stockout_date,
                a.suggested_reorder_quantity,
            )
        )
        for a in alerts
    )
    return hashlib.sha256("\x1e".join(lines).encode()).hexdigest()
