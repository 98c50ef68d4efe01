"""The small municipality's pipeline run, shared by the DuckDB run of conftest.py and the
PostgreSQL run of test_pipeline_postgres.py: the same months, gate settings and inbox."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MONTHS = ["2023-11", "2023-12", "2024-01"]


@contextmanager
def environment(**values: str) -> Iterator[None]:
    """`values` set for the block; afterwards the environment exactly as before (a run exports
    its dbt target and warehouse to the environment, which must not leak into other tests)."""
    before = dict(os.environ)
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(before)


def run_small_pipeline(inbox: Path, base: Path, **env: str):
    """The months of MONTHS through ingest, gates, dbt and reports in one Dagster run, with the
    environment `env` (e.g. KIM_WAREHOUSE_URL); (paths, result)."""
    from dagster import DagsterInstance

    from dagster_project.cli import run_months
    from kim_settings import Paths

    paths = Paths(inbox=inbox, warehouse=base / "kim.duckdb", output=base / "output")
    # A zero row-count tolerance makes the row-count expectation fail whenever a table grows or
    # shrinks; with the core tables' (persons, ledger) band lowered to a warning too, the run
    # must still produce its reports and list the warnings.
    config = base / "gates.json"
    config.write_text(
        json.dumps({"row_count_tolerance": 0, "severities": {"row_count_core": "warning"}}),
        encoding="utf-8",
    )
    with environment(KIM_GATE_CONFIG=str(config), **env):
        result = run_months(paths, MONTHS, instance=DagsterInstance.ephemeral())
    return paths, result
