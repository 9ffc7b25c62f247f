"""Screenshots of every dashboard page, for the README: one full-page PNG per page at 1440×900.

Starts ``streamlit run dashboards/app.py`` on the given marts file (its own
process group, a free loopback port), opens each page in a fresh Chromium
session (the sidebar's default filters), waits until the page's run finished
and its charts are drawn, saves ``<page>.png``, then stops Streamlit.

    python -m bench.screenshots --marts data/marts.duckdb --out docs/screenshots
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from tests.e2e.dashboards.app_server import (
    CHROMIUM,
    PAGES,
    assert_no_errors,
    chromium,
    full_page_screenshot,
    serve,
    wait_rendered,
)

WIDTH, HEIGHT = 1440, 900


def take(marts: Path, out: Path) -> list[Path]:
    """Serve ``marts`` and write one PNG per page into ``out``; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    # No "Deploy" button or developer menu in a README picture (Streamlit reads STREAMLIT_* config from env;
    # the app server passes our environment on).
    os.environ.setdefault("STREAMLIT_CLIENT_TOOLBAR_MODE", "minimal")
    written = []
    with tempfile.TemporaryDirectory(prefix="emporium-screenshots-") as logs:
        with serve(marts, Path(logs)) as app, chromium() as browser:
            for name, path in PAGES.items():
                # A new context per page: a new Streamlit session, so every page shows the default filters.
                context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
                page = context.new_page()
                page.goto(f"{app.url}/{path}")
                wait_rendered(page, timeout_ms=120_000)  # a cold server opens and caches everything once
                # A README picture of an error box is worse than none: fail instead.
                assert_no_errors(page, app.log())
                written.append(full_page_screenshot(page, out / f"{name}.png", WIDTH, HEIGHT))
                print(f"{name:<10} {written[-1]}")
                context.close()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--marts", type=Path, required=True, help="a published marts file")
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"), help="folder for the PNGs")
    args = parser.parse_args(argv)
    if not args.marts.exists():
        parser.error(f"no marts file at {args.marts}")
    if not Path(CHROMIUM).exists():
        parser.error(f"no Chromium at {CHROMIUM} (apt-get install -y chromium; never `playwright install`)")
    take(args.marts.resolve(), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
