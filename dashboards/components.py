"""Building blocks every page uses: money, KPI tiles, drill-downs, tables with CSV, freshness, explanations."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import altair as alt
import pandas as pd
import streamlit as st

from dashboards import metrics, queries
from dashboards.filters import Filters

# ISO 4217 minor-unit exponents and symbols for the currencies a store is likely to use; others show their code.
EXPONENTS = {
    "JPY": 0,
    "KRW": 0,
    "VND": 0,
    "CLP": 0,
    "ISK": 0,
    "KWD": 3,
    "BHD": 3,
    "OMR": 3,
    "JOD": 3,
    "TND": 3,
}
SYMBOLS = {
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "JPY": "¥",
    "CNY": "¥",
    "INR": "₹",
    "KRW": "₩",
    "AUD": "A$",
    "CAD": "C$",
}
# The marts file does not carry the store currency yet (see the dashboards README notes); the demo store's.
FALLBACK_CURRENCY = "USD"


def currency(snap: queries.Snapshot) -> str:
    return snap.currency or FALLBACK_CURRENCY


def exponent(code: str) -> int:
    return EXPONENTS.get(code, 2)


def major(minor: int | float | None, code: str) -> Decimal | None:
    """Minor units to an exact decimal amount of the currency."""
    if minor is None or pd.isna(minor):
        return None
    # Ratios (AOV) arrive as fractional minor units: round half up to a whole minor unit, as the marts do.
    whole = Decimal(str(minor)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return whole.scaleb(-exponent(code))


def money(minor: int | float | None, code: str) -> str:
    amount = major(minor, code)
    if amount is None:
        return "–"
    digits = exponent(code)
    sign = "−" if amount < 0 else ""
    body = f"{abs(amount):,.{digits}f}"
    symbol = SYMBOLS.get(code)
    return f"{sign}{symbol}{body}" if symbol else f"{sign}{body} {code}"


def pct(value: float | None, digits: int = 1) -> str:
    if value is None or pd.isna(value):
        return "–"
    return f"{value * 100:.{digits}f} %"


def ratio(numerator: float, denominator: float) -> float | None:
    return None if not denominator else numerator / denominator


def amounts(df: pd.DataFrame, code: str, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Copy of ``df`` with each ``*_minor`` column turned into a ``*_amount`` float column for charts and tables.

    Floats are fine for display; every figure that is compared stays in integer minor units.
    """
    out = df.copy()
    scale = 10 ** exponent(code)
    for col in columns or [c for c in df.columns if c.endswith("_minor")]:
        if col in out:
            out[col.removesuffix("_minor") + "_amount"] = out[col].astype("float64") / scale
            out = out.drop(columns=col)
    for col in out.columns:
        # DuckDB DATEs arrive as midnight timestamps; show them as the days they are.
        if pd.api.types.is_datetime64_any_dtype(out[col]) and (
            col.endswith(("_date", "_month", "_week")) or col in ("day", "week")
        ):
            out[col] = out[col].dt.date
    return out


# -- freshness and explanations ----------------------------------------------------------------


def data_as_of(snap: queries.Snapshot) -> None:
    """'Data as of …': the lake snapshot the marts were built from, in the store's time zone."""
    zone = ZoneInfo(snap.store_timezone) if snap.store_timezone else None

    def local(ts: datetime | None) -> str:
        if ts is None or pd.isna(ts):
            return "unknown"
        ts = pd.Timestamp(ts).to_pydatetime()
        return (ts.astimezone(zone) if zone else ts).strftime("%Y-%m-%d %H:%M %Z")

    currency_note = "" if snap.currency else f" · currency not published, shown as {FALLBACK_CURRENCY}"
    st.caption(
        f"Data as of {local(snap.snapshot_created_at)} (store snapshot, commit {snap.commit_seq}) · "
        f"published {local(snap.published_at)} · publication `{snap.publication_id}`{currency_note}"
    )


def explain(*keys: str) -> None:
    with st.expander("What these numbers mean"):
        st.markdown("\n".join(f"- **{t}**: {d}" for t, d in (metrics.explanation(k) for k in keys)))


# -- KPI tiles -----------------------------------------------------------------------------------


def kpi(
    label: str,
    value: float | int | None,
    previous: float | int | None,
    fmt: Callable[[Any], str],
    *,
    help: str | None = None,
    inverse: bool = False,
    points: bool = False,
) -> None:
    """A tile with the change against the previous period of the same length.

    ``points``: the change of a rate in percentage points rather than relative.
    """
    delta = None
    if value is not None and previous is not None and not pd.isna(value) and not pd.isna(previous):
        if points:
            delta = f"{(value - previous) * 100:+.1f} pp"
        elif previous:
            delta = f"{(value - previous) / abs(previous) * 100:+.1f} %"
    st.metric(
        label,
        fmt(value),
        delta,
        delta_color="inverse" if inverse else "normal",
        help=help,
        border=True,
        delta_description="vs previous period" if delta else None,
    )


# -- tables ------------------------------------------------------------------------------------


def table(df: pd.DataFrame, name: str, *, key: str, height: int | str = "auto", **kwargs: Any) -> None:
    """A table with a CSV download of exactly what it shows."""
    st.dataframe(df, hide_index=True, height=height, **kwargs)
    st.download_button(
        "Download CSV",
        df.to_csv(index=False).encode(),
        file_name=f"{name}.csv",
        mime="text/csv",
        key=f"csv_{key}",
        on_click="ignore",
        icon=":material/download:",
    )


# -- drill-downs -------------------------------------------------------------------------------


def drilldown(
    snap: queries.Snapshot,
    label: str,
    drill: str,
    column: str,
    figure: int,
    f: Filters | None,
    *,
    key: str,
    where: str | None = None,
    money_check: bool = True,
    **extra: Any,
) -> None:
    """An expander with the fact rows behind a figure, a 're-adds to' check and a CSV of every row.

    Lazy: nothing is queried until the expander is opened. The check line sums ``column``
    over every matching row in SQL (not only the rows shown) and compares it with ``figure``.
    """
    expander = st.expander(
        f"Rows behind {label}", key=f"drill_{key}", on_change="rerun", icon=":material/table_rows:"
    )
    if not expander.open:
        return
    with expander:
        code = currency(snap)
        n, total = queries.drill_total(snap, drill, column, f, where=where, **extra)
        shown = money(total, code) if money_check else f"{total:,}"
        expected = money(figure, code) if money_check else f"{figure:,}"
        if total == figure:
            st.success(
                f"{n:,} rows; Σ {column.removesuffix('_minor')} = {shown}: re-adds to {label} ({expected})."
            )
        else:
            st.error(
                f"{n:,} rows; Σ {column.removesuffix('_minor')} = {shown}, but {label} shows {expected}."
            )
        rows = queries.drill_rows(snap, drill, f, where=where, **extra)
        if n > len(rows):
            st.caption(f"Showing the first {len(rows):,} of {n:,} rows; the CSV holds them all.")
        st.dataframe(amounts(rows, code, queries.DRILLS[drill].money), hide_index=True, height=300)
        st.download_button(
            f"Download all {n:,} rows (CSV)",
            lambda: queries.drill_csv(snap, drill, f, where=where, **extra),
            file_name=f"{drill}-{key}.csv",
            mime="text/csv",
            key=f"drill_csv_{key}",
            on_click="ignore",
            icon=":material/download:",
        )


# -- charts ------------------------------------------------------------------------------------


def chart(spec: alt.TopLevelMixin, *, key: str | None = None) -> None:
    st.altair_chart(spec, key=key)


def money_axis(code: str) -> dict[str, Any]:
    symbol = SYMBOLS.get(code, "")
    return {"format": f"{symbol},.0f" if symbol == "$" else ",.0f", "title": f"{code}"}


def empty(message: str) -> None:
    st.info(message, icon=":material/info:")


# -- the page's context --------------------------------------------------------------------------

CONTEXT_KEY = "_dashboard_context"


def set_context(snap: queries.Snapshot, f: Filters) -> None:
    st.session_state[CONTEXT_KEY] = (snap, f)


def context() -> tuple[queries.Snapshot, Filters]:
    """The publication and filters this run resolved in the app's frame (one per page render)."""
    return st.session_state[CONTEXT_KEY]


def header(title: str, snap: queries.Snapshot, caption: str | None = None) -> None:
    st.title(title)
    if caption:
        st.caption(caption)
    data_as_of(snap)


def done_marker(snap: queries.Snapshot, run_no: int, seconds: float) -> None:
    """An invisible mark that the page's run finished, for browser tests and the bench to wait on."""
    st.markdown(
        f'<span class="emporium-done" data-run="{run_no}" data-publication="{snap.publication_id}" '
        f'data-seconds="{seconds:.3f}"></span>',
        unsafe_allow_html=True,
    )
