"""The planning asset (issue 13): scenarios, projection, proposal and the planning workbook.

Not month-partitioned: the planning models (dbt tag `planning`) are recomputed from the whole
history each time, so the monthly dbt step leaves them out (warehouse.run_planning_dbt; except
a run whose window holds a June or a December) and this asset builds them on demand
(`kim plan`, or materialised in the UI after the monthly pipeline), then writes
`output/internal/plan/Planung_<YYYY>.xlsx`.
"""

import duckdb
from dagster import Config, Failure, MaterializeResult, MetadataValue, asset

from dagster_project.assets.warehouse import run_planning_dbt
from dagster_project.resources import KimPaths
from reports.planning import PlanningError, last_actual_month, write_planning_workbook


class PlanningConfig(Config):
    year: int = 0  # plan year; 0 = the year after the last actual month
    scenarios: list[str] = []  # scenarios of the workbook; empty = all of dbt/seeds/scenarios.csv


@asset(group_name="planning", owners=["team:controlling"])
def planning_workbook(config: PlanningConfig, kim_paths: KimPaths) -> MaterializeResult:
    kim_paths.export_to_dbt()
    run_planning_dbt(kim_paths.warehouse_file)
    kim_paths.mirror_marts()
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
