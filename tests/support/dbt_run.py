"""dbt as the tests run it: a subprocess on the project in dbt/ (as Dagster runs it), so it holds
the DuckDB lock only while it runs; target and logs in the test's own folder."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

DBT_DIR = Path(__file__).resolve().parents[2] / "dbt"


def run_dbt(
    env: Mapping[str, str], target: Path, *args: str, returncode: int = 0
) -> subprocess.CompletedProcess:
    """`dbt <args>` with `env` on top of the environment (KIM_WAREHOUSE, or the KIM_PG_*
    variables of a server); asserts dbt's exit code."""
    command = [
        str(Path(sys.executable).parent / "dbt"), *args,
        "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR),
        "--target-path", str(target), "--log-path", str(target / "logs"),
    ]  # fmt: skip
    full_env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", **env}
    result = subprocess.run(command, env=full_env, capture_output=True, text=True, check=False)
    assert result.returncode == returncode, (
        f"dbt {' '.join(args)} exited {result.returncode}:\n{result.stdout[-6000:]}"
    )
    return result


def run_dbt_duckdb(warehouse: Path, target: Path, *args: str) -> subprocess.CompletedProcess:
    """run_dbt on a DuckDB file."""
    return run_dbt({"KIM_WAREHOUSE": str(warehouse)}, target, *args)
