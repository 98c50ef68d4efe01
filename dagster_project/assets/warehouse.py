"""The dbt project as Dagster assets, in two parts:

- `warehouse_dbt`: the tables that read the data (incremental facts, `dim_month`), partitioned
  by month. One dbt invocation per run, whatever the number of months: a backfill of 36 months
  is one `dbt build` over the half-open window [min_month, max_month), not 36 invocations.
- `warehouse_reference`: seeds, views and tables built from seeds alone, not partitioned.

A monthly run costs what its month costs:
- The window is written to the one-row table `meta.run_window` (read by the `month_window`
  macro at run time), not passed as `--vars`: the parsed project stays the same, so dbt parses
  only at install (`make install`) and every run reuses that parse.
- dbt keeps its parse cache and artifacts beside the warehouse (`<warehouse>.dbt/`): the
  profile names the warehouse file, and a profile other than the one parsed at install would
  otherwise force a full re-parse on every run.
- The reference part changes only when the dbt project changes: `kim run` includes its step
  only when the project's files differ from those it was last built from (recorded in the
  warehouse, `meta.dbt_project_build`). Not partitioned, it also costs one stored event per
  asset, not one per asset and month (a 36-month backfill: 34 instead of 1,224).
"""

import hashlib
import importlib.metadata
import json
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import duckdb
from dagster import (
    AssetDep,
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    BackfillPolicy,
    Failure,
    MetadataValue,
)
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    dbt_assets,
)
from dagster_dbt.errors import DagsterDbtCliRuntimeError
from packaging import version

from dagster_project.dbt_manifest import dbt_invocation, dbt_target_dir, prepared_project
from dagster_project.partitions import add_months, monthly_partitions, months_of
from dagster_project.resources import KimPaths
from kim_settings import dbt_project_dir

dbt_project = prepared_project()

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

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project) -> AssetSpec:
        """Every model also depends directly on the raw tables it reads through its parents: a
        month's run may leave the reference part (the staging views) out, and the facts must
        still wait for the ingest step and be stopped by a failed raw gate."""
        spec = super().get_asset_spec(manifest, unique_id, project)
        known = {dep.asset_key for dep in spec.deps}
        raw = [key for key in _raw_read(manifest, unique_id) if key not in known]
        return spec.replace_attributes(deps=[*spec.deps, *map(AssetDep, raw)]) if raw else spec


def _raw_read(manifest: Mapping[str, Any], unique_id: str) -> list[AssetKey]:
    """The raw tables (dbt sources) a node reads, directly or through its parents."""
    found: set[str] = set()
    stack, seen = [unique_id], set()
    while stack:
        uid = stack.pop()
        if uid in seen:
            continue
        seen.add(uid)
        if uid.startswith("source."):
            found.add(uid)
            continue
        node = manifest["nodes"].get(uid)
        if node is not None:
            stack.extend(node.get("depends_on", {}).get("nodes", []))
    sources = manifest["sources"]
    return sorted(AssetKey([sources[u]["source_name"], sources[u]["name"]]) for u in found)


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
    """dbt selectors of the *reference part*: the nodes whose stored result does not depend on
    the month: seeds, views (a view stores its definition, not rows) and tables that read no
    source, unless they lie downstream of a table that reads the data (then they are built with
    it: otherwise the two parts would depend on each other and Dagster would split them into
    several dbt invocations)."""
    nodes = manifest["nodes"]
    models = {uid: n for uid, n in nodes.items() if n["resource_type"] == "model"}

    def parents(uid: str) -> list[str]:
        return nodes[uid]["depends_on"].get("nodes", []) if uid in nodes else []

    @cache
    def reads_data(uid: str) -> bool:
        return uid.startswith("source.") or any(reads_data(p) for p in parents(uid))

    @cache
    def after_data_table(uid: str) -> bool:
        """The node is, or lies downstream of, a table or incremental model that reads data."""
        node = models.get(uid)
        if node is None:
            return False
        if node["config"]["materialized"] != "view" and reads_data(uid):
            return True
        return any(after_data_table(p) for p in parents(uid))

    reference = sorted(
        n["name"]
        for uid, n in models.items()
        if not after_data_table(uid) and "planning" not in n["config"].get("tags", [])
    )
    return ["resource_type:seed", *reference]


SOURCE_TESTS = "source:*"  # excluding the sources excludes the tests on them
# The planning models (scenarios, projection, proposal) are recomputed on demand by the planning
# asset (dagster_project/assets/planning.py). The monthly run builds them only when its window
# holds a June or a December: the June controlling workbook shows the mid-year forecast
# (fct_midyear_forecast), the yearly council report its outlook (fct_planning_outlook).
PLANNING = "tag:planning"
PLANNING_MONTHS = ("06", "12")


def dbt_build_args(full_refresh: bool = False) -> list[str]:
    """The dbt command of the monthly step (pure, so it is unit-tested without dbt); dagster-dbt
    adds the selection (every node but the reference part and the sources)."""
    # Unit tests run on fixed fixtures in `make test`; data tests of the models run here.
    # `cautious`: a test is left out only when all its parents are, so the relationships tests
    # from the facts to the (excluded) dimensions still run.
    args = ["build", "--exclude-resource-type", "unit_test", "--indirect-selection", "cautious"]
    return args + ["--full-refresh"] if full_refresh else args


def project_fingerprint(project_dir: Path) -> str:
    """SHA-256 over the names and contents of the dbt project's files."""
    digest = hashlib.sha256()
    # A deployment's project (kim_settings.dbt_project_dir) has its own seeds beside links to
    # the shipped models: the paths and contents under it are what was built.
    for entry in PROJECT_FILES:
        root = project_dir / entry
        files = sorted(root.rglob("*")) if root.is_dir() else [root]
        for path in (p for p in files if p.is_file()):
            digest.update(str(path.relative_to(project_dir)).encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def write_run_window(con, months: list[str]) -> None:
    """The window the `month_window` macro reads (dbt/macros/month_window.sql), on a DuckDB or
    a psycopg connection: the same statements on both. The dates are literals of the partition
    keys (YYYY-MM, checked by the partitions definition)."""
    start, end = month_window(months)
    con.execute("create schema if not exists meta")
    con.execute("drop table if exists meta.run_window")
    con.execute(
        "create table meta.run_window as"
        f" select date '{start}' as min_month, date '{end}' as max_month"
    )


def drop_run_window(con) -> None:
    """After a run: a plain `dbt build` then builds every month again."""
    con.execute("drop table if exists meta.run_window")


@contextmanager
def run_window(kim_paths: KimPaths, months: list[str]) -> Iterator[None]:
    """meta.run_window where dbt builds (the server, or the DuckDB file) while dbt runs. No
    DuckDB connection stays open while dbt (a subprocess) holds the file's write lock."""
    connect = kim_paths.server if kim_paths.warehouse_url else _duckdb(kim_paths.warehouse)
    with connect() as con:
        write_run_window(con, months)
    try:
        yield
    finally:
        with connect() as con:
            drop_run_window(con)


def _duckdb(path: str):
    return lambda: duckdb.connect(path)


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


def failed_nodes_text(target: Path) -> str:
    """The failed models and tests of the last dbt invocation, one German sentence each
    (from run_results.json; empty when dbt failed before running any node)."""
    path = target / "run_results.json"
    if not path.exists():
        return ""
    results = json.loads(path.read_text(encoding="utf-8"))["results"]
    failed = [r for r in results if r["status"] in ("error", "fail")]
    return " ".join(
        f"dbt: {r['unique_id'].split('.', 2)[-1]} fehlgeschlagen"
        + (f" ({r['failures']} Zeilen verletzen die Regel)" if r.get("failures") else "")
        + (f": {r['message'].strip()}" if r.get("message") else "")
        + "."
        for r in failed
    )


@cache
def _manifest() -> dict[str, Any]:
    return json.loads(Path(dbt_project.manifest_path).read_text(encoding="utf-8"))


# The reference part as dbt selectors: the nodes of the one asset that is not month-partitioned.
REFERENCE = " ".join(reference_selection(_manifest()))
TRANSLATOR = KimDbtTranslator(
    # dbt's data tests run inside `dbt build` (a failing error-severity test fails the step and
    # so stops the reports); as Dagster asset checks they would add two stored events per test
    # and run (≈ 150 per month, most of the run's event-log cost) and repeat the dbt log.
    settings=DagsterDbtTranslatorSettings(enable_asset_checks=False)
)


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=TRANSLATOR,
    select=REFERENCE,
    name="warehouse_reference",
)
def warehouse_reference(context: AssetExecutionContext, dbt: DbtCliResource, kim_paths: KimPaths):
    """Seeds, views and the tables built from seeds alone: not month-partitioned (their content
    does not depend on the month), built when the dbt project changed. `kim run` leaves this step
    out while the warehouse records the current project (`reference_current`)."""
    kim_paths.export_to_dbt()
    warehouse = kim_paths.warehouse_file
    # `cautious`: the tests whose parents are all reference nodes; the relationships tests from
    # the facts to the dimensions run with the facts.
    # --full-refresh: a seed whose columns changed with the program is recreated, not appended
    # to (the reference part holds no incremental model; the facts are not touched).
    args = ["build", "--exclude-resource-type", "unit_test", "--indirect-selection", "cautious"]
    yield from _stream(dbt, [*args, "--full-refresh"], context, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        record_fingerprint(con, project_fingerprint(dbt_project_dir(warehouse)))


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=TRANSLATOR,
    # The contract's tests on the raw sources (generated from ingest/contracts.py) are left out:
    # the raw gates check the same contract before dbt runs (they run in `make test` and in a
    # plain `dbt build`). Excluding the sources excludes the tests on them.
    # The planning models are not assets of the monthly step: see `run_planning_dbt`.
    exclude=f"{SOURCE_TESTS} {PLANNING} {REFERENCE}",
    partitions_def=monthly_partitions,
    backfill_policy=BackfillPolicy.single_run(),
    name="warehouse_dbt",
)
def warehouse_dbt(context: AssetExecutionContext, dbt: DbtCliResource, kim_paths: KimPaths):
    """The tables that read the data (incremental facts, dim_month), for the run's months."""
    kim_paths.export_to_dbt()
    warehouse = kim_paths.warehouse_file
    with run_window(kim_paths, months_of(context)):
        yield from _stream(dbt, dbt_build_args(), context, warehouse)
    if any(m[5:7] in PLANNING_MONTHS for m in months_of(context)):
        run_planning_dbt(warehouse)
    kim_paths.mirror_marts()


# The seeds the planning models read that a controller edits between runs: re-seeded each time.
PLANNING_SEEDS = ("settings", "prices", "scenarios", "planning_drivers")
# Models of the monthly step that read the projection (without a dbt ref, so dbt does not order
# them after it): rebuilt by a second invocation after the planning build (every month, no
# window; the newest month then takes the projection instead of the trend).
AFTER_PLANNING = ("fct_housing_capacity_outlook",)


def planning_dbt_args() -> list[str]:
    """The dbt command of the planning models (pure, unit-tested without dbt)."""
    return ["build", "--select", PLANNING, *PLANNING_SEEDS, "--exclude-resource-type", "unit_test"]


def after_planning_dbt_args() -> list[str]:
    """The dbt command run after `planning_dbt_args`: the models that read the projection."""
    return ["build", "--select", *AFTER_PLANNING, "--exclude-resource-type", "unit_test"]


def run_planning_dbt(warehouse: Path) -> None:
    """The planning models (dbt tag `planning`: scenarios, projection, proposal, mid-year
    forecast, outlook), recomputed from the whole history: by the planning asset (`kim plan`) and
    by a monthly run whose window holds a June or a December (the June workbook shows the
    mid-year forecast, the yearly council report the outlook). dbt as a subprocess with the
    monthly run's target folder (its parse cache); not Dagster assets of the monthly step."""
    for args in (planning_dbt_args(), after_planning_dbt_args()):
        _run_dbt(args, warehouse)


def _run_dbt(args: list[str], warehouse: Path) -> None:
    project_dir = dbt_project_dir(warehouse)
    command, env = dbt_invocation(args, dbt_target_dir(warehouse), project_dir)
    env = {**env, "KIM_WAREHOUSE": str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    result = subprocess.run(
        command, cwd=project_dir, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        errors = [line for line in result.stdout.splitlines() if "Error" in line]
        raise Failure(
            description="dbt build der Planungsmodelle (tag:planning) ist fehlgeschlagen: "
            + " ".join(errors[-3:] or [result.stderr[-500:]]),
            metadata={"dbt": MetadataValue.text(result.stdout[-4000:])},
        )


def _stream(dbt: DbtCliResource, args: list[str], context, warehouse: Path):
    """dbt's events as Dagster's; a failure names the failed nodes."""
    try:
        yield from dbt.cli(args, context=context, target_path=dbt_target_dir(warehouse)).stream()
    except DagsterDbtCliRuntimeError as exc:
        raise Failure(failed_nodes_text(dbt_target_dir(warehouse)) or str(exc)) from exc


def reference_current(warehouse: Path) -> bool:
    """Whether the warehouse's reference part was built from the dbt project as it is now."""
    if not warehouse.exists():
        return False
    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            return built_fingerprint(con) == project_fingerprint(dbt_project_dir(warehouse))
    except duckdb.Error:
        return False  # busy or unreadable: build it (the run reports a real problem)
