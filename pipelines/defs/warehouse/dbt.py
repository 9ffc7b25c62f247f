"""Every dbt model, test and unit test as Dagster assets and asset checks (dagster-dbt).

dbt reads the lake the raw snapshot just wrote and builds the warehouse file.
It holds that file's lock while it runs, so the step belongs to the
``warehouse`` pool (one at a time) and the jobs run in process.

The models are not partitioned: the heavy ones are incremental on the commit
sequence (a late event is picked up whatever day it belongs to), so a run's
unit of work is "what was committed since the last run", not a day. A run can
also rebuild chosen days (``refresh_from``/``refresh_to``: a backfill) or
everything (``full_refresh``), always as ONE dbt invocation (DECISIONLOG.md §18).
"""

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import dagster as dg
import orjson
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from pipelines.defs.warehouse.project import emporium_dbt, ensure_manifest
from pipelines.resources import StoreResource, WarehouseResource


class EmporiumTranslator(DagsterDbtTranslator):
    """Groups models by the folder that says their layer or business area (staging, finance, ...)."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] != "model":
            return super().get_group_name(dbt_resource_props)
        # fqn: [project, layer, (area,) model]; marts are grouped by area, other layers by layer.
        fqn = dbt_resource_props["fqn"]
        return str(fqn[2]) if fqn[1] == "marts" and len(fqn) > 3 else str(fqn[1])


TRANSLATOR = EmporiumTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


@contextmanager
def _dbt_environment(store: StoreResource, warehouse: WarehouseResource) -> Iterator[None]:
    """Point the dbt profile and sources at this deployment's lake and warehouse for one invocation.

    dbt reads them from the environment (profiles.yml, the sources' meta); dagster-dbt
    passes the process environment to dbt, so it is set around the call and restored.
    """
    wanted = {"EMPORIUM_LAKE": str(store.lake_path), "EMPORIUM_WAREHOUSE": warehouse.warehouse_path}
    saved = {k: os.environ.get(k) for k in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


class RefreshConfig(dg.Config):
    """What a run rebuilds beyond the rows committed since the last run."""

    refresh_from: str | None = None  # store-local day (YYYY-MM-DD): incremental models rebuild from here
    refresh_to: str | None = None  # last day to rebuild (default: refresh_from)
    full_refresh: bool = False  # rebuild every incremental model from the whole lake
    # The hourly refresh skips the tests that scan the whole event history (tag full_history)
    # and the unit tests (they test the SQL, which only changes with a deploy, not with data);
    # the daily refresh and any manual run keep both.
    full_history_tests: bool = True
    unit_tests: bool = True


def dbt_args(config: RefreshConfig) -> list[str]:
    """The ``dbt build`` arguments for a run's config; days are checked before dbt sees them."""
    args = ["build"]
    if config.refresh_from is not None:
        first = date.fromisoformat(config.refresh_from)
        last = date.fromisoformat(config.refresh_to) if config.refresh_to else first
        if last < first:
            raise ValueError(f"refresh_to {last} is before refresh_from {first}")
        args += ["--vars", orjson.dumps({"refresh_from": str(first), "refresh_to": str(last)}).decode()]
    elif config.refresh_to is not None:
        raise ValueError("refresh_to needs refresh_from")
    if config.full_refresh:
        args.append("--full-refresh")
    if not config.full_history_tests:
        args += ["--exclude", "tag:full_history"]
    if not config.unit_tests:
        args += ["--exclude-resource-type", "unit_test"]
    return args


@dbt_assets(
    manifest=ensure_manifest(),
    project=emporium_dbt,
    dagster_dbt_translator=TRANSLATOR,
    pool="warehouse",
)
def emporium_dbt_models(
    context: dg.AssetExecutionContext,
    config: RefreshConfig,
    dbt: DbtCliResource,
    store: StoreResource,
    warehouse: WarehouseResource,
) -> Any:
    """``dbt build`` of the selected models with their tests."""
    Path(warehouse.warehouse_path).parent.mkdir(parents=True, exist_ok=True)
    # One target dir for every run (runs are one at a time): dbt's partial parse then saves seconds.
    target = Path(warehouse.dbt_target_dir)
    with _dbt_environment(store, warehouse):
        invocation = dbt.cli(dbt_args(config), context=context, target_path=target)
        yield from invocation.stream()
