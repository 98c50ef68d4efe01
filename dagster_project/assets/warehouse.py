"""The dbt project as Dagster assets: every model, seed and test, partitioned by month.

One dbt invocation per run, whatever the number of months: a backfill of 36 months is one
`dbt build` over the half-open window [min_month, max_month), not 36 invocations.

A monthly run costs what its month costs:
- The window is written to the one-row table `meta.run_window` (read by the `month_window`
  macro at run time), not passed as `--vars`: the parsed project stays the same, so dbt parses
  only at install (`make install`) and every run reuses that parse.
- dbt keeps its parse cache and artifacts beside the warehouse (`<warehouse>.dbt/`): the
  profile names the warehouse file, and a profile other than the one parsed at install would
  otherwise force a full re-parse on every run.
- The *reference part* (seeds, views and tables built from seeds alone) changes only when the
  dbt project changes, so it is built when the project's files differ from those of the last
  full build recorded in the warehouse (`meta.dbt_project_build`), and excluded otherwise.
  Tables that read the data (the incremental facts and `dim_month`) build on every run.
"""

import hashlib
import importlib.metadata
import json
from collections.abc import Mapping
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import duckdb
from dagster import AssetExecutionContext, AssetKey, BackfillPolicy
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets
from packaging import version

from dagster_project.partitions import add_months, monthly_partitions, months_of
from dagster_project.resources import KimPaths
from kim_settings import DBT_PROJECT_DIR

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)

# What dbt reads of the project (the same list the Makefile's parse target depends on).
PROJECT_FILES = ("dbt_project.yml", "models", "seeds", "macros")


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


class KimDbtCliResource(DbtCliResource):
    """The dbt CLI without two fixed costs dagster-dbt adds to every call (about 7 s per run on
    this 2-core machine, whatever the data), for the pinned dbt-core 1.11:
    - an in-process dbt adapter (importing dbt and loading the project, ≈ 4 s), used only to
      fetch column metadata or row counts, which this project does not request;
    - `dbt --version` in a subprocess (≈ 3 s) to learn the version of the venv's dbt, which is
      the installed dbt-core package."""

    def _initialize_dbt_core_adapter(self, args):
        return None

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(importlib.metadata.version("dbt-core"))


def month_window(months: list[str]) -> tuple[str, str]:
    """The half-open window [first day of the first month, first day after the last month)."""
    return f"{months[0]}-01", f"{add_months(months[-1], 1)}-01"


def reference_selection(manifest: Mapping[str, Any]) -> list[str]:
    """dbt selectors of the nodes whose stored result does not depend on the data: seeds, views
    (a view stores its definition, not rows) and tables that read no source."""
    nodes = manifest["nodes"]

    @cache
    def reads_data(unique_id: str) -> bool:
        if unique_id.startswith("source."):
            return True
        return any(reads_data(parent) for parent in nodes[unique_id]["depends_on"].get("nodes", []))

    tables = sorted(
        node["name"]
        for unique_id, node in nodes.items()
        if node["resource_type"] == "model"
        and node["config"]["materialized"] != "view"
        and not reads_data(unique_id)
    )
    return ["resource_type:seed", "config.materialized:view", *tables]


SOURCE_TESTS = "source:*"  # excluding the sources excludes the tests on them
# The planning models (scenarios, projection, proposal) are recomputed on demand by the planning
# asset (dagster_project/assets/planning.py). The monthly run builds them only when its window
# holds a June or a December: the June controlling workbook shows the mid-year forecast
# (fct_midyear_forecast), the yearly council report its outlook (fct_planning_outlook).
PLANNING = "tag:planning"
PLANNING_MONTHS = ("06", "12")


def dbt_build_args(
    reference: list[str] | None = None, full_refresh: bool = False, planning: bool = False
) -> list[str]:
    """The dbt command of a run (pure, so it is unit-tested without dbt). `reference`: selectors
    of the nodes to leave out because they are current; None builds everything. `planning`:
    build the planning models too (else they are left out)."""
    # Unit tests run on fixed fixtures in `make test`; data tests of the models run here. The
    # contract's tests on the raw sources (generated from ingest/contracts.py) are left out: the
    # raw gates check the same contract before dbt runs, once is enough in production (they run
    # in `make test` and in a plain `dbt build`).
    args = [
        "build",
        "--exclude-resource-type",
        "unit_test",
        "--exclude",
        " ".join([SOURCE_TESTS, *([] if planning else [PLANNING])]),
    ]
    if reference:
        # `cautious`: a test is left out only when all its parents are, so the relationships
        # tests from the facts to the (excluded) dimensions still run.
        args[-1] = " ".join([args[-1], *reference])
        args += ["--indirect-selection", "cautious"]
    return args + ["--full-refresh"] if full_refresh else args


def project_fingerprint(project_dir: Path) -> str:
    """SHA-256 over the names and contents of the dbt project's files."""
    digest = hashlib.sha256()
    for entry in PROJECT_FILES:
        root = project_dir / entry
        files = sorted(root.rglob("*")) if root.is_dir() else [root]
        for path in (p for p in files if p.is_file()):
            digest.update(str(path.relative_to(project_dir)).encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def dbt_target_dir(warehouse: Path) -> Path:
    """dbt's target folder of a warehouse: its parse cache and the artifacts of its last run."""
    return warehouse.with_name(warehouse.name + ".dbt")


def write_run_window(con: duckdb.DuckDBPyConnection, months: list[str]) -> None:
    """The window the `month_window` macro reads (dbt/macros/month_window.sql)."""
    con.execute("create schema if not exists meta")
    con.execute(
        "create or replace table meta.run_window as"
        " select cast(? as date) as min_month, cast(? as date) as max_month",
        list(month_window(months)),
    )


def drop_run_window(con: duckdb.DuckDBPyConnection) -> None:
    """After a run: a plain `dbt build` then builds every month again."""
    con.execute("drop table if exists meta.run_window")


def built_fingerprint(con: duckdb.DuckDBPyConnection) -> str | None:
    """The project fingerprint of the last full build of this warehouse (None: never built)."""
    exists = con.execute(
        "select 1 from information_schema.tables"
        " where table_schema = 'meta' and table_name = 'dbt_project_build'"
    ).fetchall()
    rows = (
        con.execute("select fingerprint from meta.dbt_project_build").fetchall() if exists else []
    )
    return rows[0][0] if rows else None


def record_fingerprint(con: duckdb.DuckDBPyConnection, fingerprint: str) -> None:
    con.execute("create schema if not exists meta")
    con.execute(
        "create or replace table meta.dbt_project_build as select ? as fingerprint",
        [fingerprint],
    )


@cache
def _manifest() -> dict[str, Any]:
    return json.loads(Path(dbt_project.manifest_path).read_text(encoding="utf-8"))


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
    warehouse = kim_paths.warehouse_file
    fingerprint = project_fingerprint(Path(DBT_PROJECT_DIR))
    # No connection may stay open while dbt (a subprocess) holds the write lock.
    with duckdb.connect(str(warehouse)) as con:
        current = built_fingerprint(con) == fingerprint
        write_run_window(con, months_of(context))
    args = dbt_build_args(
        reference_selection(_manifest()) if current else None,
        planning=any(m[5:7] in PLANNING_MONTHS for m in months_of(context)),
    )
    try:
        yield from dbt.cli(args, context=context, target_path=dbt_target_dir(warehouse)).stream()
    finally:
        with duckdb.connect(str(warehouse)) as con:
            drop_run_window(con)
    if not current:
        with duckdb.connect(str(warehouse)) as con:
            record_fingerprint(con, fingerprint)
