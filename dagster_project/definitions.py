"""Dagster definitions of KIM Haushalt (loaded by `dagster dev`, the CLI and the tests).

Nothing here opens the warehouse: connections are opened inside asset bodies only.
"""

from __future__ import annotations

import sys
from pathlib import Path

from dagster import Definitions, in_process_executor

from dagster_project.assets.ingest import ingest_assets
from dagster_project.assets.planning import planning_workbook
from dagster_project.assets.quality import quality_checks
from dagster_project.assets.reports import report_assets
from dagster_project.assets.warehouse import (
    KimDbtCliResource,
    dbt_project,
    warehouse_dbt,
    warehouse_reference,
)
from dagster_project.automation import failure_alert, inbox_sensor, monthly_schedule
from dagster_project.jobs import monthly_pipeline
from dagster_project.resources import KimPaths
from kim_settings import Paths, dbt_project_dir


def project_for(paths: Paths):
    """The dbt project of these paths' warehouse (kim_settings.dbt_project_dir): the one this
    process loaded at import (dagster-dbt runs the project its assets were built with). A
    warehouse with other reference data than that project is refused: its run would load the
    wrong seeds. `kim`, `dagster dev` and the daemon set the warehouse before the import."""
    folder = dbt_project_dir(paths.warehouse)
    if Path(dbt_project.project_dir).resolve() != folder.resolve():
        raise RuntimeError(
            f"Das Warehouse {paths.warehouse} hat eigene Stammdaten ({folder}), dieser Prozess "
            f"hat aber das dbt-Projekt {dbt_project.project_dir} geladen: bitte in einem eigenen "
            "Prozess mit KIM_WAREHOUSE bzw. --warehouse dieses Warehouses starten (kim run)."
        )
    return dbt_project


def build_definitions(paths: Paths) -> Definitions:
    return Definitions(
        assets=[
            *ingest_assets,
            warehouse_reference,
            warehouse_dbt,
            *report_assets,
            planning_workbook,
        ],
        asset_checks=quality_checks,
        jobs=[monthly_pipeline],
        schedules=[monthly_schedule],
        sensors=[inbox_sensor, failure_alert],
        resources={
            "kim_paths": KimPaths.from_paths(paths),
            # The project of these paths' warehouse: a district's own seeds.
            "dbt": KimDbtCliResource(
                project_dir=project_for(paths),
                profiles_dir=str(dbt_project_dir(paths.warehouse)),
                # the venv's dbt, also when the venv is not activated (make, CI, cron)
                dbt_executable=str(Path(sys.executable).parent / "dbt"),
            ),
        },
        # DuckDB allows one writer: every step runs in this process, one after another.
        executor=in_process_executor,
    )


defs = build_definitions(Paths.from_env())
