"""The dbt project as Dagster assets: every model, seed and test, partitioned by month.

One dbt invocation per run, whatever the number of months: a backfill of 36 months is one
`dbt build` over the half-open window [min_month, max_month), not 36 invocations.
"""

import json
from collections.abc import Mapping
from typing import Any

from dagster import AssetExecutionContext, AssetKey, BackfillPolicy
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from dagster_project.partitions import add_months, monthly_partitions, months_of
from dagster_project.resources import KimPaths
from dagster_project.settings import DBT_PROJECT_DIR

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


class KimDbtTranslator(DagsterDbtTranslator):
    """Sources keep the ingest keys (raw/<table>); models are grouped as the warehouse."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return AssetKey([dbt_resource_props["source_name"], dbt_resource_props["name"]])
        return AssetKey([dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return "warehouse"

    def get_owners(self, dbt_resource_props: Mapping[str, Any]):
        return ["team:controlling"]


def dbt_build_args(months: list[str], full_refresh: bool = False) -> list[str]:
    """The dbt command for a run over `months` (pure, so it is unit-tested without dbt)."""
    window = {"min_month": f"{months[0]}-01", "max_month": f"{add_months(months[-1], 1)}-01"}
    # Unit tests run on fixed fixtures under the default window in `make test`; data tests run here.
    args = [
        "build",
        "--exclude-resource-type",
        "unit_test",
        "--vars",
        json.dumps(window, sort_keys=True),
    ]
    return args + ["--full-refresh"] if full_refresh else args


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=KimDbtTranslator(),
    partitions_def=monthly_partitions,
    backfill_policy=BackfillPolicy.single_run(),
    name="warehouse_dbt",
)
def warehouse_dbt(context: AssetExecutionContext, dbt: DbtCliResource, kim_paths: KimPaths):
    kim_paths.export_to_dbt()
    yield from dbt.cli(dbt_build_args(months_of(context)), context=context).stream()
