"""The dbt project Dagster loads, with its manifest prepared on first use.

`@dbt_assets` reads `manifest.json` when the definitions are imported. In a source checkout
`make install` writes it to `dbt/target/` (`dbt parse`). An installed package (`pip install .`)
has no make step and its project files lie in site-packages, which the pipeline never writes
to: there the manifest is parsed on first use into the warehouse's own dbt folder
(`<warehouse>.dbt/`), the target path its runs use anyway, so they reuse that parse.

A deployment with its own reference data (a district: the inbox's `stammdaten/`) gets its own
project folder beside the warehouse (`prepare_deployment`, kim_settings.dbt_project_dir); every
dbt call here runs in that folder.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from dagster_dbt import DbtProject

from kim_settings import (
    DBT_PROJECT_DIR,
    SOURCE_CHECKOUT,
    Paths,
    dbt_project_dir,
    deployment_project_dir,
)

# What a deployment's project folder links to in the shipped project (its seeds are its own).
SHARED_PROJECT_FILES = ("dbt_project.yml", "profiles.yml", "models", "macros", "tests")
# The SHA-256 of the `stammdaten/` folder the deployment's seeds were copied from.
SEEDS_ORIGIN = ".stammdaten.sha256"

# The venv's dbt, also when the venv is not activated (make, CI, cron).
DBT_EXECUTABLE = Path(sys.executable).parent / "dbt"


def dbt_target_dir(warehouse: Path) -> Path:
    """dbt's target folder of a warehouse: its parse cache and the artifacts of its last run."""
    return warehouse.with_name(warehouse.name + ".dbt")


def manifest_target_dir(source_checkout: bool, warehouse: Path) -> Path:
    """Where the manifest Dagster loads lives: `dbt/target/` in a checkout, else beside the
    warehouse (never inside the installed package)."""
    if dbt_project_dir(warehouse) != DBT_PROJECT_DIR:
        return dbt_target_dir(warehouse)
    return DBT_PROJECT_DIR / "target" if source_checkout else dbt_target_dir(warehouse)


def is_current(manifest: Path, project_dir: Path) -> bool:
    """The manifest exists and is newer than every file dbt reads (the rule of the Makefile's
    parse target): after `pip install` of a new version its files are newer, so it re-parses."""
    if not manifest.exists():
        return False
    built = manifest.stat().st_mtime
    files = [project_dir / "dbt_project.yml", project_dir / "profiles.yml"]
    for folder in ("models", "seeds", "macros"):
        # resolve(): a deployment's folders are links to the shipped ones
        files += (p for p in (project_dir / folder).resolve().rglob("*") if p.is_file())
    return all(f.stat().st_mtime <= built for f in files)


def dbt_invocation(
    args: list[str], target_path: Path, project_dir: Path | None = None
) -> tuple[list[str], dict[str, str]]:
    """The venv's dbt with `args` on the deployment's project (default: `dbt_project_dir()`),
    and its environment: artifacts and log in `target_path` (never in the project folder, which
    may be read-only when installed). Run it with cwd=the project: dbt-duckdb loads seeds by a
    path relative to it."""
    project = str(project_dir or dbt_project_dir())
    command = [str(DBT_EXECUTABLE), *args, "--project-dir", project, "--profiles-dir", project]
    command += ["--target-path", str(target_path)]
    return command, {**os.environ, "DBT_LOG_PATH": str(target_path)}


def parse_project(target_path: Path) -> None:
    """`dbt parse` into `target_path`, with dbt's log there too (not in the project folder)."""
    target_path.mkdir(parents=True, exist_ok=True)
    project_dir = dbt_project_dir()
    command, env = dbt_invocation(["parse", "--quiet"], target_path, project_dir)
    subprocess.run(command, cwd=project_dir, env=env, check=True)


def prepared_project() -> DbtProject:
    """The dbt project with a loadable manifest, parsed now if there is none or it is stale."""
    warehouse = Paths.from_env().warehouse
    # The profile reads the warehouse path; the CLI sets it, a bare import may not have.
    os.environ.setdefault("KIM_WAREHOUSE", str(warehouse))
    project_dir = dbt_project_dir(warehouse)
    project = DbtProject(
        project_dir=project_dir,
        profiles_dir=project_dir,
        target_path=manifest_target_dir(SOURCE_CHECKOUT, warehouse),
    )
    if not is_current(project.manifest_path, project_dir):
        parse_project(project.manifest_path.parent)
    return project


def folder_digest(folder: Path) -> str:
    """SHA-256 over the names and bytes of a folder's files."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def prepare_deployment(stammdaten: Path, warehouse: Path) -> Path | None:
    """Make the warehouse's own dbt project from an inbox's reference data (`stammdaten/`):
    links to the shipped project's files and a copy of the seeds. The seeds are copied again
    only when `stammdaten/` changed since (so `kim stammdaten import` edits survive the next
    run). Returns the project folder, or None when nothing was (re)copied."""
    project = deployment_project_dir(warehouse)
    project.mkdir(parents=True, exist_ok=True)
    for name in SHARED_PROJECT_FILES:  # (again) to this installation's project files
        link, target = project / name, DBT_PROJECT_DIR / name
        if link.is_symlink() and link.readlink() != target:
            link.unlink()
        if not link.is_symlink():
            link.symlink_to(target, target_is_directory=target.is_dir())
    digest = folder_digest(stammdaten)
    origin = project / SEEDS_ORIGIN
    if origin.exists() and origin.read_text(encoding="utf-8").strip() == digest:
        return None
    scratch = Path(tempfile.mkdtemp(dir=project, prefix=".seeds-"))
    for path in (p for p in stammdaten.iterdir() if p.is_file()):
        shutil.copy2(path, scratch / path.name)
    shutil.rmtree(project / "seeds", ignore_errors=True)
    scratch.rename(project / "seeds")
    origin.write_text(digest + "\n", encoding="utf-8")
    return project
