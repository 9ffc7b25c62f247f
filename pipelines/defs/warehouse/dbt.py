"""Every dbt model, test and unit test as Dagster assets and asset checks (dagster-dbt).

dbt reads the lake the raw snapshot just wrote and builds the warehouse file.
It holds that file's lock while it runs, so the step belongs to the
``warehouse`` pool (one at a time) and the jobs run in process.
"""

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
import orjson
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from pipelines.defs.partitions import daily, single_run
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


def refresh_vars(context: dg.AssetExecutionContext) -> dict[str, str]:
    """The store-local days this run refreshes: the incremental models rebuild only these."""
    window = context.partition_key_range
    return {"refresh_from": window.start, "refresh_to": window.end}


@dbt_assets(
    manifest=ensure_manifest(),
    project=emporium_dbt,
    dagster_dbt_translator=TRANSLATOR,
    partitions_def=daily,
    backfill_policy=single_run,
    pool="warehouse",
)
def emporium_dbt_models(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    store: StoreResource,
    warehouse: WarehouseResource,
) -> Any:
    """``dbt build`` of the selected models with their tests, for the run's days."""
    Path(warehouse.warehouse_path).parent.mkdir(parents=True, exist_ok=True)
    # One target dir for every run (runs are one at a time): dbt's partial parse then saves seconds.
    target = Path(warehouse.dbt_target_dir)
    with _dbt_environment(store, warehouse):
        invocation = dbt.cli(
            ["build", "--vars", orjson.dumps(refresh_vars(context)).decode()],
            context=context,
            target_path=target,
        )
        yield from invocation.stream()
