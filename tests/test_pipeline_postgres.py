"""The whole monthly pipeline on PostgreSQL (docs/postgres.md): the small municipality of
test_pipeline.py run once more with KIM_WAREHOUSE_URL pointing at a throwaway server, as the
pipeline's own role `kim_pipeline` (scripts/postgres_roles.sql). Every mart is compared row by
row with the DuckDB run's (money to the cent, rates to 1e-9), the reports must carry the same
content, and the server's roles, transactions and readers behave as documented.

Skipped, with the reason printed, only when the server cannot start (conftest.postgres_url)."""

from __future__ import annotations

import csv
import subprocess
from datetime import date
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse

import duckdb
import openpyxl
import psycopg
import pytest
from support.compare import compare_marts
from support.pipeline import run_small_pipeline

from dagster_project.dbt_manifest import dbt_invocation
from ingest.pg_writer import copy_raw_tables, dbt_env, mirror_marts
from ingest.warehouse import ensure_schema
from kim_settings import DBT_PROJECT_DIR, PROJECT_ROOT

ROLES_SCRIPT = PROJECT_ROOT / "scripts" / "postgres_roles.sql"


def _as_role(url: str, role: str) -> str:
    """The server URL with another user (the test server trusts local connections)."""
    parts = urlparse(url)
    return parts._replace(netloc=f"{role}:@{parts.hostname or ''}").geturl()


@pytest.fixture(scope="module")
def pg_run(small_municipality, postgres_url, tmp_path_factory):
    """(paths, result, pipeline URL) of the PostgreSQL run; the roles are created first."""
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(ROLES_SCRIPT.read_text(encoding="utf-8"))
    url = _as_role(postgres_url, "kim_pipeline")
    paths, result = run_small_pipeline(
        small_municipality, tmp_path_factory.mktemp("pg-run"), KIM_WAREHOUSE_URL=url
    )
    assert result.success, "the pipeline run on PostgreSQL failed"
    return paths, result, url


@pytest.fixture(scope="module")
def duck_run(pipeline_run):
    paths, result = pipeline_run
    assert result.success, "the pipeline run on DuckDB failed"
    return paths


def test_marts_on_postgres_equal_the_duckdb_run(duck_run, pg_run) -> None:
    """Every mart of the DuckDB run on the server, row by row."""
    _, _, url = pg_run
    compared = compare_marts(duck_run.warehouse, url)
    assert compared["fct_caseload_monthly"] > 0 and compared["fct_indicator_values"] > 0


def test_work_file_reads_the_servers_marts(pg_run) -> None:
    """The gates and reports read the marts mirrored into the work file: exactly the server's
    rows (the money column of fct_budget_execution summed on both)."""
    paths, _, url = pg_run
    with psycopg.connect(url) as pg:
        [(server_sum, server_rows)] = pg.execute(
            "select sum(actual_to_date), count(*) from marts.fct_budget_execution"
        ).fetchall()
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        [(local_sum, local_rows)] = con.execute(
            "select sum(actual_to_date), count(*) from marts.fct_budget_execution"
        ).fetchall()
    assert server_rows > 0 and (local_sum, local_rows) == (server_sum, server_rows)


def _report_files(output: Path) -> dict[str, Path]:
    """The reports whose content must not depend on the engine: public tables and council
    reports' CSV/XLSX (byte-identical), the internal exports and the controlling workbooks
    (equal values)."""
    files = [p for p in (output / "public").rglob("*") if p.suffix in (".csv", ".xlsx")]
    files += (output / "internal").glob("*/export/*.csv")
    files += (output / "internal").glob("*/Controlling_*.xlsx")
    return {str(p.relative_to(output)): p for p in files}


def _cells(path: Path) -> dict[tuple[str, str], object]:
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        return {
            (sheet.title, f"{row}:{column}"): value
            for sheet in book.worksheets
            for row, values in enumerate(sheet.iter_rows(values_only=True))
            for column, value in enumerate(values)
            if value is not None
        }
    finally:
        book.close()


def _csv_cells(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as file:
        return [cell for row in csv.reader(file, delimiter=";") for cell in row]


def _same_text(a: str, b: str) -> bool:
    """Equal text, or two numbers (decimal comma) within 1e-9: a double's last digits differ."""
    if a == b:
        return True
    try:
        return abs(float(a.replace(",", ".")) - float(b.replace(",", "."))) <= 1e-9
    except ValueError:
        return False


def _same_cell(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= 1e-9
    return a == b


def test_reports_of_the_postgres_run_equal_the_duckdb_run(duck_run, pg_run) -> None:
    paths, _, _ = pg_run
    duck_files, pg_files = _report_files(duck_run.output), _report_files(paths.output)
    assert sorted(pg_files) == sorted(duck_files)
    assert any(name.endswith(".xlsx") for name in pg_files)
    for name, duck_file in duck_files.items():
        if name.startswith("public"):
            assert pg_files[name].read_bytes() == duck_file.read_bytes(), name
            continue
        if duck_file.suffix == ".csv":  # the unrounded internal exports: doubles to 1e-9
            duck_cells, pg_cells = _csv_cells(duck_file), _csv_cells(pg_files[name])
            assert len(pg_cells) == len(duck_cells), name
            differing = [
                (d, p) for d, p in zip(duck_cells, pg_cells, strict=True) if not _same_text(d, p)
            ]
            assert not differing, f"{name}: {differing[:5]}"
            continue
        duck_cells, pg_cells = _cells(duck_file), _cells(pg_files[name])
        assert duck_cells.keys() == pg_cells.keys(), name
        differing = [k for k in duck_cells if not _same_cell(duck_cells[k], pg_cells[k])]
        assert not differing, f"{name}: {differing[:5]}"


def test_reader_role_sees_marts_only(pg_run) -> None:
    _, _, url = pg_run
    reader = _as_role(url, "kim_reader")
    with psycopg.connect(reader) as pg:
        [(rows,)] = pg.execute("select count(*) from marts.fct_caseload_monthly").fetchall()
        assert rows > 0
        working = pg.execute(
            "select table_name from information_schema.tables"
            " where table_schema = 'marts' and table_name not similar to '(fct|dim)\\_%'"
        ).fetchall()
        assert working == []
    for statement in (
        "select count(*) from raw.personen",
        "select count(*) from staging.stg_personen",
        "select count(*) from intermediate.int_planning_person_months",
        "delete from marts.fct_caseload_monthly",
        "create table marts.eigene (x int)",
    ):
        with psycopg.connect(reader) as pg, pytest.raises(psycopg.errors.InsufficientPrivilege):
            pg.execute(statement)


def test_reader_not_blocked_while_raw_rows_are_replaced(pg_run) -> None:
    """While the writer replaces January's persons by none (an empty work file) and has not
    committed, a reader with a 1-second lock timeout still counts the old rows: the writer
    deletes, it does not TRUNCATE, so the reader waits for no lock."""
    _, _, url = pg_run
    query = "select count(*) from raw.personen where period_month = date '2024-01-01'"
    with psycopg.connect(url) as pg:
        [(january,)] = pg.execute(query).fetchall()
    assert january > 0
    empty = duckdb.connect()
    ensure_schema(empty)
    with psycopg.connect(url) as writer:
        # An open transaction around the copy (whose own becomes a savepoint): not committed.
        writer.execute("select 1")
        copied = copy_raw_tables(empty, writer, tables=("raw.personen",), months=["2024-01"])
        with psycopg.connect(url, autocommit=True) as reader:
            reader.execute("set lock_timeout = '1s'")
            [(seen,)] = reader.execute(query).fetchall()
        [(inside,)] = writer.execute(query).fetchall()
        writer.rollback()
    assert copied == {"raw.personen": 0} and inside == 0 and seen == january


def test_copy_takes_the_run_months_only(pg_run) -> None:
    """A run over January copies January's persons and the year 2024's plan, nothing else:
    December's rows on the server stay untouched (same count before and after)."""
    paths, _, url = pg_run
    count = "select count(*) from raw.personen where period_month = date '2023-12-01'"
    with duckdb.connect(str(paths.warehouse), read_only=True) as duck, psycopg.connect(url) as pg:
        [(december,)] = pg.execute(count).fetchall()
        [(january,)] = duck.execute(
            "select count(*) from raw.personen where period_month = date '2024-01-01'"
        ).fetchall()
        [(plan_2024,)] = duck.execute(
            "select count(*) from raw.haushaltsplan where jahr = 2024"
        ).fetchall()
        copied = copy_raw_tables(duck, pg, months=["2024-01"])
        assert pg.execute(count).fetchone() == (december,)
    assert copied["raw.personen"] == january and copied["raw.haushaltsplan"] == plan_2024
    assert december > 0 and january > 0


def test_failed_model_leaves_the_mart_as_it_was(pg_run, tmp_path) -> None:
    """dbt-postgres deletes and inserts an incremental model's window in one transaction: when
    the insert fails (a check constraint no new row can meet), the deleted rows are back."""
    _, _, url = pg_run
    query = "select count(*), sum(persons) from marts.fct_caseload_monthly"
    with psycopg.connect(url) as pg:
        before = pg.execute(query).fetchone()
        pg.execute(
            "alter table marts.fct_caseload_monthly"
            " add constraint kim_test_reject check (false) not valid"
        )
    command, env = dbt_invocation(["run", "--select", "fct_caseload_monthly"], tmp_path)
    env = {**env, **dbt_env(url), "KIM_WAREHOUSE": str(tmp_path / "unused.duckdb")}
    try:
        result = subprocess.run(
            command, cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True, check=False
        )
        assert result.returncode != 0 and "kim_test_reject" in result.stdout
    finally:
        with psycopg.connect(url) as pg:
            pg.execute("alter table marts.fct_caseload_monthly drop constraint kim_test_reject")
    with psycopg.connect(url) as pg:
        assert pg.execute(query).fetchone() == before
    assert before[0] > 0 and isinstance(before[1], int | Decimal) and date


def test_writer_round_trip_keeps_null_empty_decimal_date(postgres_url) -> None:
    """DuckDB → server by the raw writer (COPY of Arrow's CSV), server → DuckDB by the mirror:
    NULL stays NULL and '' stays '', money keeps its cents, dates and doubles exact."""
    rows = [
        ("a", Decimal("1234567.89"), date(2024, 2, 29), True, 0.1),
        ("", Decimal("-0.01"), None, False, 1 / 3),
        (None, None, date(1999, 12, 31), None, None),
        ('Komma, "Zitat"', Decimal("0.00"), None, True, 1e-20),
    ]
    ddl = "(s varchar, amount decimal(18,2), day date, flag boolean, rate double precision)"
    duck = duckdb.connect()
    duck.execute(f"create schema kim_roundtrip; create table kim_roundtrip.t {ddl}")
    duck.executemany("insert into kim_roundtrip.t values (?, ?, ?, ?, ?)", rows)
    with psycopg.connect(postgres_url) as pg:
        pg.execute(f"create schema kim_roundtrip; create table kim_roundtrip.t {ddl}")
        pg.execute(f"create table kim_roundtrip.empty {ddl}")  # mirrored with no rows
        copied = copy_raw_tables(duck, pg, tables=("kim_roundtrip.t",))
        back = duckdb.connect()
        mirrored = mirror_marts(pg, back, schemas=("kim_roundtrip",))
        pg.execute("drop schema kim_roundtrip cascade")
    assert copied == {"kim_roundtrip.t": 4}
    assert mirrored == {"kim_roundtrip.empty": 0, "kim_roundtrip.t": 4}
    assert back.execute("select * from kim_roundtrip.t order by amount").fetchall() == sorted(
        rows, key=lambda row: (row[1] is None, row[1])
    )
    [(kind,)] = back.execute(
        "select data_type from information_schema.columns"
        " where table_name = 't' and column_name = 'amount'"
    ).fetchall()
    assert kind == "DECIMAL(18,2)"
