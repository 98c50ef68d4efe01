"""Where things are: one place that resolves the inbox, warehouse and output paths.

Each path comes from an environment variable or a project default. The warehouse path is made
absolute here and handed to dbt as `KIM_WAREHOUSE`, so dbt (which runs in `dbt/`) and Python
always open the same file.

The bottom layer: `ingest`, `expectations`, `reports` and `dagster_project` all import it, and it
imports nothing of the project (tests/test_layout.py checks). One top-level module, not a package:
it holds a handful of names. Called `kim_settings`, not `settings`, because a bare `settings` is a
common top-level name in installed packages and would shadow or be shadowed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent
# A source checkout keeps the dbt project in `dbt/` beside this module; an installed package
# (`pip install .`) ships the same files as the data-only package `kim_dbt` (pyproject.toml
# maps it to `dbt/`; a top-level `dbt` would shadow dbt-core).
SOURCE_CHECKOUT = (PACKAGE_ROOT / "dbt" / "dbt_project.yml").is_file()
DBT_PROJECT_DIR = PACKAGE_ROOT / ("dbt" if SOURCE_CHECKOUT else "kim_dbt")
SEEDS_DIR = DBT_PROJECT_DIR / "seeds"
# Where relative paths (inbox, warehouse, output, Dagster home) resolve: the checkout, or the
# working directory of an installed package, whose own files are read-only (site-packages).
PROJECT_ROOT = PACKAGE_ROOT if SOURCE_CHECKOUT else Path.cwd()

# First month of the bundled sample municipality (fixed; never taken from the clock).
SAMPLE_START = "2023-11"
SAMPLE_MONTHS = 36


def _path(env: str, default: str) -> Path:
    value = os.environ.get(env) or default
    path = Path(value)
    if not path.is_absolute():
        path = PROJECT_ROOT / path
    return path.resolve()


def internal_dir(output: Path, *parts: str) -> Path:
    """Where unsuppressed outputs go (workbooks, data-quality pages, mart extracts, notices).

    A sibling of `public_dir`, never its parent: nothing unsuppressed lies in or above a
    published folder (domain.md, section 5)."""
    return Path(output, "internal", *parts)


def public_dir(output: Path, *parts: str) -> Path:
    """Where published outputs go (council reports, public exports): suppressed only."""
    return Path(output, "public", *parts)


@dataclass(frozen=True)
class Paths:
    inbox: Path
    warehouse: Path
    output: Path

    @classmethod
    def from_env(cls) -> Paths:
        return cls(
            inbox=_path("KIM_INBOX", "data/inbox"),
            warehouse=_path("KIM_WAREHOUSE", "warehouse/kim.duckdb"),
            output=_path("KIM_OUTPUT", "output"),
        )
