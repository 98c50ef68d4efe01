"""`pip install .` brings everything a run reads (issue 17, "Install").

A full install and run in a fresh venv takes minutes (README, "Installing with pip"); here the
wheel pip would install is built (≈ 3 s) and its file list compared with the source tree: every
Python package, the whole dbt project and every data file the code opens.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from dagster_project.dbt_manifest import dbt_target_dir, is_current, manifest_target_dir
from kim_settings import DBT_PROJECT_DIR

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ("dagster_project", "ingest", "expectations", "reports")
# What dbt reads (dbt_project.yml: model-, seed-, macro-paths) and the profile it connects with.
DBT_FILES = ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds")
# Build products and caches that must not be copied into the build or land in the wheel.
NOT_SOURCE = shutil.ignore_patterns(
    ".venv", ".git", "build", "*.egg-info", "__pycache__", "target", "logs", "data", "warehouse",
    "output", ".dagster", ".pytest_cache", ".ruff_cache",
)  # fmt: skip


@pytest.fixture(scope="module")
def wheel_files(tmp_path_factory) -> set[str]:
    """Names in the wheel built from a clean copy of the tree (an in-tree build/ folder could
    carry stale files into the wheel)."""
    src = tmp_path_factory.mktemp("src") / "kim"
    shutil.copytree(ROOT, src, ignore=NOT_SOURCE)
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(src)],
        check=True,
        capture_output=True,
    )
    (wheel,) = out.glob("kim_haushalt-*.whl")
    return set(zipfile.ZipFile(wheel).namelist())


def source_files(folder: Path, pattern: str = "*") -> set[Path]:
    return {p for p in folder.rglob(pattern) if p.is_file() and "__pycache__" not in p.parts}


def test_wheel_ships_every_module_of_the_packages(wheel_files):
    expected = {"kim_settings.py"} | {
        str(p.relative_to(ROOT))
        for package in SHIPPED
        for p in source_files(ROOT / package, "*.py")
    }
    assert expected - wheel_files == set()


def test_wheel_ships_the_whole_dbt_project_as_kim_dbt(wheel_files):
    expected = {
        "kim_dbt/" + str(p.relative_to(DBT_PROJECT_DIR))
        for entry in DBT_FILES
        for p in (
            source_files(DBT_PROJECT_DIR / entry)
            if (DBT_PROJECT_DIR / entry).is_dir()
            else {DBT_PROJECT_DIR / entry}
        )
    }
    # the seeds and the contract-generated sources are among them, by name
    assert {"kim_dbt/seeds/indicators.csv", "kim_dbt/models/staging/_raw__sources.yml"} <= expected
    assert expected - wheel_files == set()
    # nothing of a local build (manifest, parse cache, dbt logs) goes along
    assert not any(n.startswith(("kim_dbt/target/", "kim_dbt/logs/")) for n in wheel_files)


def test_wheel_ships_the_data_files_the_code_opens(wheel_files):
    data = {
        str(p.relative_to(ROOT))
        for package in SHIPPED
        for p in source_files(ROOT / package)
        if p.suffix not in (".py", ".pyc")
    }
    # today: the generator's parameters and the council report's style sheet
    assert {"ingest/generator_params.csv", "reports/report.css"} <= data
    assert data - wheel_files == set()


def test_an_installed_package_parses_beside_the_warehouse_not_in_site_packages(tmp_path):
    warehouse = tmp_path / "wh" / "kim.duckdb"
    # installed: the warehouse's dbt folder, which the runs use as their target path
    assert manifest_target_dir(False, warehouse) == tmp_path / "wh" / "kim.duckdb.dbt"
    assert manifest_target_dir(False, warehouse) == dbt_target_dir(warehouse)
    # checkout: where `make install` parses
    assert manifest_target_dir(True, warehouse) == DBT_PROJECT_DIR / "target"


def test_a_manifest_older_than_a_project_file_is_parsed_again(tmp_path):
    project = tmp_path / "project"
    for name in ("dbt_project.yml", "profiles.yml", "models/a.sql", "seeds/s.csv", "macros/m.sql"):
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text("x", encoding="utf-8")
    manifest = tmp_path / "target" / "manifest.json"
    assert not is_current(manifest, project)  # none yet
    manifest.parent.mkdir()
    manifest.write_text("{}", encoding="utf-8")
    assert is_current(manifest, project)
    # a newer model (as after `pip install` of a new version) makes it stale
    later = manifest.stat().st_mtime + 10
    os.utime(project / "models" / "a.sql", (later, later))
    assert not is_current(manifest, project)
