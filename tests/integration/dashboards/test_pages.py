"""Every dashboard page renders on the demo's published marts, honours a filter and opens its drill-downs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from pipelines.publish import publish_marts
from tests.integration.dashboards.conftest import PAGES, metric
from transactional.storage import lake


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_kpis_charts_freshness_and_explanations(app: Callable[..., AppTest], page: str) -> None:
    at = app(page)
    assert len(at.title) == 1
    assert any(c.value.startswith("Data as of ") for c in at.caption), "no 'data as of' line"
    assert any(c.value.startswith("Filters applied here:") for c in at.caption)
    assert len(at.metric) >= 3
    assert len(at.get("vega_lite_chart")) >= 1
    assert any(e.label == "What these numbers mean" for e in at.get("expander"))
    assert not at.error


@pytest.mark.parametrize("page", PAGES)
def test_every_drill_down_re_adds_to_its_figure(app: Callable[..., AppTest], page: str) -> None:
    at = app(page)
    keys = [e.key for e in at.get("expander") if getattr(e, "key", None) and str(e.key).startswith("drill_")]
    assert keys or page == "market", "no drill-down on the page"
    for key in keys:
        at.session_state[key] = True
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    checks = [s.value for s in at.success if "re-adds to" in s.value]
    assert len(checks) == len(keys), checks
    assert len(at.dataframe) >= len(keys)


def test_a_channel_filter_narrows_the_overview_to_what_the_marts_hold(
    app: Callable[..., AppTest], published_marts: Path
) -> None:
    at = app()
    first, last = at.date_input(key="f_dates").value
    all_orders = int(metric(at, "Orders").replace(",", ""))
    at.multiselect(key="f_channels").set_value(["web"]).run()
    assert not at.exception
    web_orders = int(metric(at, "Orders").replace(",", ""))
    con = duckdb.connect(str(published_marts), read_only=True)
    try:
        expected = con.execute(
            "select count(distinct order_id) from fct_order_lines "
            "where sales_channel = 'web' and sale_date between ? and ?",
            [first, last],
        ).fetchone()[0]  # type: ignore[index]
    finally:
        con.close()
    assert web_orders == expected
    assert 0 < web_orders < all_orders
    # The choice is global: the Sales page opened next still honours it.
    at.switch_page("app_pages/sales.py").run()
    assert at.multiselect(key="f_channels").value == ["web"]


def test_pages_say_which_filters_they_ignore(app: Callable[..., AppTest]) -> None:
    at = app("finance")
    note = next(c.value for c in at.caption if c.value.startswith("Filters applied here:"))
    assert "Ignored here: traffic source, sales channel, category, region" in note


def test_no_marts_published_shows_an_empty_state(app: Callable[..., AppTest], tmp_path: Path) -> None:
    at = app(marts=tmp_path / "marts.duckdb")
    assert not at.exception
    assert any("No marts are published yet" in i.value for i in at.info)


def test_a_new_publication_shows_without_a_restart(
    app: Callable[..., AppTest], built: Path, tmp_path: Path
) -> None:
    marts = tmp_path / "marts.duckdb"
    manifest = lake.read_manifest(built / "lake")
    assert manifest is not None
    first = publish_marts(built / "warehouse.duckdb", marts, manifest=manifest)
    at = app(marts=marts)
    assert any(first.publication_id in c.value for c in at.caption)
    second = publish_marts(built / "warehouse.duckdb", marts, manifest=manifest)
    at.run()
    assert not at.exception
    assert any(second.publication_id in c.value for c in at.caption)
    assert not any(first.publication_id in c.value for c in at.caption)


def test_figures_of_a_date_range_move_with_it(app: Callable[..., AppTest]) -> None:
    at = app()
    first, last = at.date_input(key="f_dates").value
    whole = metric(at, "Net revenue")
    at.date_input(key="f_dates").set_value((first, first)).run()
    assert not at.exception
    assert metric(at, "Net revenue") != whole


def test_a_publish_mid_render_is_noticed_not_mixed(built: Path, tmp_path: Path) -> None:
    """A query for a publication that was just replaced refuses to answer from the new file."""
    from dashboards import queries

    marts = tmp_path / "marts.duckdb"
    manifest = lake.read_manifest(built / "lake")
    assert manifest is not None
    publish_marts(built / "warehouse.duckdb", marts, manifest=manifest)
    old = queries.snapshot(marts)
    assert old is not None
    publish_marts(built / "warehouse.duckdb", marts, manifest=manifest)
    with pytest.raises(queries.PublicationChanged):
        queries.run(old, queries.DATE_BOUNDS)
    new = queries.snapshot(marts)
    assert new is not None and new.publication_id != old.publication_id
    assert not queries.run(new, queries.DATE_BOUNDS).empty
