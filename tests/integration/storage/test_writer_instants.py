"""Instants in any zone are stored as the same instant, even after pandera is imported.

Importing pandera's pandas typing (the pipeline and its tests do) changes how
pyarrow converts an aware datetime in a zone other than UTC: it took the wall
time for UTC, and a price effective from midnight in New York was stored four
hours early. The writer now hands Arrow UTC datetimes only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pandera.typing  # noqa: F401 - the import is the condition under test

from tests.integration.conftest import ADMIN
from transactional.storage.writer import Writer

NEW_YORK_MIDNIGHT = datetime(2025, 6, 1, tzinfo=ZoneInfo("America/New_York"))


def test_an_instant_in_another_zone_is_stored_as_the_same_instant(writer: Writer) -> None:
    def add_supplier(uow):  # type: ignore[no-untyped-def]
        return uow.insert(
            "suppliers",
            {"supplier_id": "sup_tz", "name": "Zone Supplies", "email": None, "lead_time_days": 3,
             "created_at": NEW_YORK_MIDNIGHT},
        )  # fmt: skip

    writer.run(add_supplier, ADMIN)
    stored = writer.con.execute("select created_at from suppliers where supplier_id = 'sup_tz'").fetchone()
    assert stored is not None
    assert stored[0] == NEW_YORK_MIDNIGHT
    assert stored[0].astimezone(UTC).hour == 4
