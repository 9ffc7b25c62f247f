"""The dashboards app under streamlit's AppTest, reading the session's published marts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[3] / "dashboards" / "app.py"
PAGES = ("overview", "sales", "behaviour", "market", "inventory", "finance", "logistics")


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch, published_marts: Path) -> Callable[..., AppTest]:
    """Start the app on a page (``marts``: another marts file than the session's)."""

    def start(page: str = "overview", marts: Path | None = None) -> AppTest:
        monkeypatch.setenv("EMPORIUM_MARTS", str(marts or published_marts))
        at = AppTest.from_file(str(APP), default_timeout=60).run()
        assert not at.exception, at.exception
        if page != "overview":
            at.switch_page(f"app_pages/{page}.py").run()
        assert not at.exception, at.exception
        return at

    return start


def parse_money(text: str) -> int:
    """'$1,234.56' or '−$3.00' in minor units (the demo store's currency has two decimals)."""
    negative = text.startswith(("−", "-"))
    digits = text.lstrip("−-").lstrip("$").replace(",", "")
    whole, _, cents = digits.partition(".")
    value = int(whole) * 100 + int((cents + "00")[:2])
    return -value if negative else value


def metric(at: AppTest, label: str) -> str:
    found = [m for m in at.metric if m.label == label]
    assert found, f"no KPI tile {label!r} among {[m.label for m in at.metric]}"
    return str(found[0].value)
