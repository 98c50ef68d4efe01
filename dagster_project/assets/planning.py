"""The planning asset (issue 13): scenarios, projection, proposal and the planning workbook.

Not month-partitioned: the planning models (dbt tag `planning`) are recomputed from the whole
history each time, so the monthly dbt build leaves them out (warehouse.PLANNING; except a run
whose window holds a June, for the mid-year forecast) and this asset builds them on demand
(`kim plan`, or materialised in the UI after the monthly pipeline), then writes
`output/internal/plan/Planung_<YYYY>.xlsx`.
"""

import os
import subprocess
import sys
from pathlib import Path

import duckdb
from dagster import Config, Failure, MaterializeResult, MetadataValue, asset

from dagster_project.assets.warehouse import PLANNING, dbt_target_dir
from dagster_project.resources import KimPaths
from kim_settings import DBT_PROJECT_DIR
from reports.planning import PlanningError, last_actual_month, write_planning_workbook

# The seeds the planning models read that a controller edits between runs: re-seeded each time.
PLANNING_SEEDS = ("settings", "prices", "scenarios", "planning_drivers")


class PlanningConfig(Config):
    year: int = 0  # plan year; 0 = the year after the last actual month
    scenarios: list[str] = []  # scenarios of the workbook; empty = all of dbt/seeds/scenarios.csv


def planning_dbt_args() -> list[str]:
    """The dbt command of the planning asset (pure, unit-tested without dbt)."""
    return ["build", "--select", PLANNING, *PLANNING_SEEDS, "--exclude-resource-type", "unit_test"]


def run_planning_dbt(warehouse: Path) -> None:
    """dbt as a subprocess, with the monthly run's target folder (its parse cache)."""
    target = dbt_target_dir(warehouse)
    command = [
        str(Path(sys.executable).parent / "dbt"),
        *planning_dbt_args(),
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(target),
        "--log-path",
        str(target / "logs"),
    ]
    env = {**os.environ, "KIM_WAREHOUSE": str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    # cwd = the project: dbt-duckdb loads seeds by a path relative to it.
    result = subprocess.run(
        command, cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        errors = [line for line in result.stdout.splitlines() if "Error" in line]
        raise Failure(
            description="dbt build der Planungsmodelle (tag:planning) ist fehlgeschlagen: "
            + " ".join(errors[-3:] or [result.stderr[-500:]]),
            metadata={"dbt": MetadataValue.text(result.stdout[-4000:])},
        )


@asset(group_name="planning", owners=["team:controlling"])
def planning_workbook(config: PlanningConfig, kim_paths: KimPaths) -> MaterializeResult:
    kim_paths.export_to_dbt()
    run_planning_dbt(kim_paths.warehouse_file)
    with duckdb.connect(str(kim_paths.warehouse_file), read_only=True) as con:
        year = config.year or last_actual_month(con).year + 1
        try:
            path = write_planning_workbook(
                con, year, kim_paths.output_dir, config.scenarios or None
            )
        except PlanningError as exc:
            raise Failure(description=str(exc)) from exc
    return MaterializeResult(
        metadata={"year": year, "path": MetadataValue.path(str(path))},
    )
