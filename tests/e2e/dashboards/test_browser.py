"""The dashboards in Chromium: every page, a filter, a drill-down, screenshots, and a re-publish under a live app."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from pipelines.publish import publish_marts
from tests.e2e.dashboards.app_server import (
    PAGES,
    REPO,
    DashboardApp,
    assert_no_errors,
    chromium,
    full_page_screenshot,
    last_run,
    serve,
    wait_rendered,
)
from transactional.storage import lake

pytestmark = pytest.mark.slow
ARTIFACTS = REPO / "test-artifacts" / "dashboards"
VIEWPORT = {"width": 1440, "height": 900}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("no /usr/bin/chromium (apt-get install -y chromium)")
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def served(published_marts: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DashboardApp]:
    with serve(published_marts, tmp_path_factory.mktemp("streamlit")) as app:
        yield app


def _shot(page: Any, tmp_path: Path, name: str) -> None:
    target = full_page_screenshot(page, tmp_path / f"{name}.png", VIEWPORT["width"], VIEWPORT["height"])
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(target, ARTIFACTS / target.name)


def _no_errors(page: Any, app: DashboardApp) -> None:
    assert_no_errors(page, app.log())


def test_every_page_loads_with_kpis_charts_and_freshness(
    served: DashboardApp, browser: Any, tmp_path: Path
) -> None:
    page = browser.new_page(viewport=VIEWPORT)
    for name, path in PAGES.items():
        page.goto(f"{served.url}/{path}")
        wait_rendered(page)
        _no_errors(page, served)
        assert page.locator('[data-testid="stMetricValue"]').count() >= 3, name
        assert page.locator('[data-testid="stVegaLiteChart"]').count() >= 1, name
        assert page.get_by_text("Data as of ").count() == 1, name
        _shot(page, tmp_path, f"page-{name}")
    page.close()


def test_a_filter_and_a_drill_down_in_the_browser(served: DashboardApp, browser: Any, tmp_path: Path) -> None:
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(f"{served.url}/")
    wait_rendered(page)
    orders = (
        page.locator('[data-testid="stMetric"]')
        .filter(has_text="Orders")
        .locator('[data-testid="stMetricValue"]')
    )
    before = orders.inner_text()

    run = last_run(page)
    page.locator('[data-testid="stMultiSelect"]').filter(has_text="Sales channel").click()
    page.get_by_role("option", name="web", exact=True).click()
    page.keyboard.press("Escape")
    wait_rendered(page, after=run)
    _no_errors(page, served)
    assert orders.inner_text() != before
    _shot(page, tmp_path, "overview-filtered")

    run = last_run(page)
    page.locator('[data-testid="stExpander"] summary').filter(has_text="Rows behind orders").click()
    wait_rendered(page, after=run)
    _no_errors(page, served)
    check = page.get_by_text("re-adds to orders")
    assert check.count() == 1
    assert orders.inner_text().replace(",", "") in check.inner_text().replace(",", "")
    # The deferred CSV's button arrives just after the run's last element.
    page.locator('[data-testid="stDownloadButton"]').filter(has_text="Download all").wait_for(timeout=10_000)
    _shot(page, tmp_path, "overview-drilldown")
    page.close()


def test_republishing_under_an_open_app_shows_the_new_data_without_errors(
    built: Path, browser: Any, tmp_path: Path
) -> None:
    marts = tmp_path / "marts.duckdb"
    manifest = lake.read_manifest(built / "lake")
    assert manifest is not None

    def publish() -> str:
        return publish_marts(built / "warehouse.duckdb", marts, manifest=manifest).publication_id

    publications = [publish()]
    with serve(marts, tmp_path) as app:
        page = browser.new_page(viewport=VIEWPORT)
        page.goto(f"{app.url}/sales")
        assert wait_rendered(page) == publications[0]
        for target in ("Finance", "Sales", "Inventory"):
            # Publish while the page reruns, as a materialization finishing mid-click would.
            with ThreadPoolExecutor(1) as pool:
                pending = pool.submit(publish)
                run = last_run(page)
                page.get_by_role("link", name=target).click()
                shown = wait_rendered(page, after=run)
                publications.append(pending.result())
            _no_errors(page, app)
            assert shown in publications[-2:]
            # The next click, no restart and no reload, shows the new publication.
            run = last_run(page)
            page.get_by_role("link", name="Overview").click()
            assert wait_rendered(page, after=run) == publications[-1]
            _no_errors(page, app)
            assert page.get_by_text(publications[-1]).count() == 1
        _shot(page, tmp_path, "after-republish")
        assert "Traceback" not in app.log()
        page.close()
