"""Tables created as the dbt project declares them, for hand-written fixtures: the marts from
their enforced column contracts (names and data types, read from the manifest that `make
install` or tests/conftest.py parses) and seeds from their `column_types` in dbt_project.yml.
A fixture then names the columns it fills; a renamed or retyped mart column breaks it loudly
instead of leaving a hand-typed copy of the schema behind."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from functools import cache

import duckdb
import yaml

from kim_settings import DBT_PROJECT_DIR


@cache
def mart_columns() -> dict[str, tuple[tuple[str, str], ...]]:
    """Mart name → (column, data type) in contract order."""
    manifest = json.loads((DBT_PROJECT_DIR / "target" / "manifest.json").read_text("utf-8"))
    return {
        node["name"]: tuple((name, col["data_type"]) for name, col in node["columns"].items())
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        and node["schema"] == "marts"
        and node["config"].get("contract", {}).get("enforced")
    }


def create_marts(con: duckdb.DuckDBPyConnection, names: Iterable[str] | None = None) -> None:
    """Empty mart tables (all of them, or those named)."""
    con.execute("create schema if not exists marts")
    for name in sorted(mart_columns() if names is None else names):
        columns = ", ".join(f"{column} {data_type}" for column, data_type in mart_columns()[name])
        con.execute(f"create table marts.{name} ({columns})")


def create_seed_table(con: duckdb.DuckDBPyConnection, seed: str) -> None:
    """reference.<seed> with the column types dbt_project.yml gives `dbt seed`."""
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text("utf-8"))
    types = project["seeds"]["kim"][seed]["+column_types"]
    con.execute("create schema if not exists reference")
    columns = ", ".join(f"{name} {data_type}" for name, data_type in types.items())
    con.execute(f"create table reference.{seed} ({columns})")


def insert(
    con: duckdb.DuckDBPyConnection, table: str, columns: str, rows: Iterable[Sequence]
) -> None:
    """Rows into the named columns (whitespace-separated); the others stay NULL."""
    names = columns.split()
    marks = ", ".join("?" * len(names))
    con.executemany(
        f"insert into {table} ({', '.join(names)}) values ({marks})", [list(r) for r in rows]
    )
