"""The global filters: chosen in the sidebar, kept in ``st.session_state``, honoured by each page where it applies.

Widget keys live in session state, and the sidebar is drawn by the app on
every run (whatever the page), so the choices survive moving between pages.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

import streamlit as st

from dashboards import queries

DEFAULT_DAYS = 30
KEYS = {
    "dates": "f_dates",
    "sources": "f_sources",
    "channels": "f_channels",
    "categories": "f_categories",
    "regions": "f_regions",
}
LABELS = {
    "dates": "date range",
    "sources": "traffic source",
    "channels": "sales channel",
    "categories": "category",
    "regions": "region",
}


@dataclass(frozen=True, slots=True)
class Filters:
    start: date
    end: date
    sources: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> tuple[date, date]:
        """The period of the same length just before this one (for period-over-period change)."""
        return self.start - timedelta(days=self.days), self.start - timedelta(days=1)

    def only(self, *names: str) -> Filters:
        """These filters with every dimension not in ``names`` cleared (what a page ignores)."""
        cleared = {dim: () for dim in ("sources", "channels", "categories", "regions") if dim not in names}
        return replace(self, **cleared)

    def active(self) -> list[str]:
        return [dim for dim in ("sources", "channels", "categories", "regions") if getattr(self, dim)]


def sidebar(snap: queries.Snapshot) -> Filters:
    """Draw the filters and return the current choice."""
    bounds = queries.date_bounds(snap)
    options = queries.dimension_options(snap)
    labels = queries.category_labels(snap)
    first, last = bounds if bounds else (date.today(), date.today())
    state = st.session_state
    chosen = state.get(KEYS["dates"])
    if not chosen or any(d < first or d > last for d in chosen):
        # A new publish can move the data's range; keep the choice only while it still fits.
        state[KEYS["dates"]] = (max(first, last - timedelta(days=DEFAULT_DAYS - 1)), last)
    with st.sidebar:
        st.subheader("Filters")
        picked = st.date_input(
            "Date range (store-local days)",
            min_value=first,
            max_value=last,
            key=KEYS["dates"],
            help="Sales by the day the order became paid, sessions by their first event, "
            "shipments by the day shipped, ledger lines by the posting day.",
        )
        for dim in ("sources", "channels", "categories", "regions"):
            current = [v for v in state.get(KEYS[dim], []) if v in options.get(dim, [])]
            state[KEYS[dim]] = current
            st.multiselect(
                LABELS[dim].capitalize(),
                options.get(dim, []),
                key=KEYS[dim],
                placeholder="All",
                format_func=(lambda v: labels.get(v, v)) if dim == "categories" else str,
            )
    start, end = _range(picked, first, last)
    return Filters(
        start=start,
        end=end,
        sources=tuple(state[KEYS["sources"]]),
        channels=tuple(state[KEYS["channels"]]),
        categories=tuple(state[KEYS["categories"]]),
        regions=tuple(state[KEYS["regions"]]),
    )


def _range(picked: object, first: date, last: date) -> tuple[date, date]:
    # While a range is being picked the widget holds only its first day.
    if isinstance(picked, tuple | list):
        if len(picked) == 2:
            return picked[0], picked[1]
        if len(picked) == 1:
            return picked[0], picked[0]
    if isinstance(picked, date):
        return picked, picked
    return first, last


def note(applies: tuple[str, ...], why: str = "") -> None:
    """Say which filters this page honours and which it ignores (and why)."""
    honoured = ", ".join(LABELS[d] for d in applies) or "none"
    ignored = [LABELS[d] for d in LABELS if d not in applies]
    text = f"Filters applied here: {honoured}."
    if ignored:
        text += f" Ignored here: {', '.join(ignored)}" + (f" ({why})." if why else ".")
    st.caption(text)
