"""The dbt project Dagster loads, with its manifest prepared on first use.

`@dbt_assets` reads `manifest.json` when the definitions are imported. In a source checkout
`make install` writes it to `dbt/target/` (`dbt parse`). An installed package (`pip install .`)
has no make step and its project files lie in site-packages, which the pipeline never writes
to: there the manifest is parsed on first use into the warehouse's own dbt folder
(`<warehouse>.dbt/`), the target path its runs use anyway, so they reuse that parse.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dagster_dbt import DbtProject

from kim_settings import DBT_PROJECT_DIR, SOURCE_CHECKOUT, Paths

# The venv's dbt, also when the venv is not activated (make, CI, cron).
DBT_EXECUTABLE = Path(sys.executable).parent / "dbt"


def dbt_target_dir(warehouse: Path) -> Path:
    """dbt's target folder of a warehouse: its parse cache and the artifacts of its last run."""
    return warehouse.with_name(warehouse.name + ".dbt")


def manifest_target_dir(source_checkout: bool, warehouse: Path) -> Path:
    """Where the manifest Dagster loads lives: `dbt/target/` in a checkout, else beside the
    warehouse (never inside the installed package)."""
    return DBT_PROJECT_DIR / "target" if source_checkout else dbt_target_dir(warehouse)


def is_current(manifest: Path, project_dir: Path) -> bool:
    """The manifest exists and is newer than every file dbt reads (the rule of the Makefile's
    parse target): after `pip install` of a new version its files are newer, so it re-parses."""
    if not manifest.exists():
        return False
    built = manifest.stat().st_mtime
    files = [project_dir / "dbt_project.yml", project_dir / "profiles.yml"]
    for folder in ("models", "seeds", "macros"):
        files += (p for p in (project_dir / folder).rglob("*") if p.is_file())
    return all(f.stat().st_mtime <= built for f in files)


def dbt_invocation(args: list[str], target_path: Path) -> tuple[list[str], dict[str, str]]:
    """The venv's dbt with `args` on the shipped project, and its environment: artifacts and
    log in `target_path` (never in the project folder, which may be read-only when installed).
    Run it with cwd=DBT_PROJECT_DIR: dbt-duckdb loads seeds by a path relative to it."""
    project = str(DBT_PROJECT_DIR)
    command = [str(DBT_EXECUTABLE), *args, "--project-dir", project, "--profiles-dir", project]
    command += ["--target-path", str(target_path)]
    return command, {**os.environ, "DBT_LOG_PATH": str(target_path)}


def parse_project(target_path: Path) -> None:
    """`dbt parse` into `target_path`, with dbt's log there too (not in the project folder)."""
    target_path.mkdir(parents=True, exist_ok=True)
    command, env = dbt_invocation(["parse", "--quiet"], target_path)
    subprocess.run(command, cwd=DBT_PROJECT_DIR, env=env, check=True)


def prepared_project() -> DbtProject:
    """The dbt project with a loadable manifest, parsed now if there is none or it is stale."""
    warehouse = Paths.from_env().warehouse
    # The profile reads the warehouse path; the CLI sets it, a bare import may not have.
    os.environ.setdefault("KIM_WAREHOUSE", str(warehouse))
    project = DbtProject(
        project_dir=DBT_PROJECT_DIR,
        profiles_dir=DBT_PROJECT_DIR,
        target_path=manifest_target_dir(SOURCE_CHECKOUT, warehouse),
    )
    if not is_current(project.manifest_path, DBT_PROJECT_DIR):
        parse_project(project.manifest_path.parent)
    return project
