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

import csv
import os
from dataclasses import dataclass
from datetime import date
from functools import cache
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

# First data month of the partitions. A municipality whose data starts elsewhere sets
# KIM_FIRST_MONTH=YYYY-MM.
FIRST_MONTH = os.environ.get("KIM_FIRST_MONTH", SAMPLE_START)


MONTH_NAMES = (
    "Januar", "Februar", "März", "April", "Mai", "Juni",
    "Juli", "August", "September", "Oktober", "November", "Dezember",
)  # fmt: skip


def month_label(month: date) -> str:
    """'Oktober 2026': how reports and pages name a month."""
    return f"{MONTH_NAMES[month.month - 1]} {month.year}"


def month_key(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def add_months(month: str, n: int) -> str:
    """'YYYY-MM' shifted by n months."""
    year, mon = int(month[:4]), int(month[5:7])
    index = year * 12 + (mon - 1) + n
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_range(first: str, last: str) -> list[str]:
    """Every month from `first` to `last`, both inclusive ('YYYY-MM')."""
    months, current = [], first
    while current <= last:
        months.append(current)
        current = add_months(current, 1)
    return months


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


# Another deployment's reference data: a seed folder inside the dbt project, relative to it
# (dbt writes each seed's SQL to target/run/<project>/<seed path>: an absolute or outside path
# would make it overwrite the seed files). `kim run` sets it for an inbox with `stammdaten/`.
SEED_PATH_ENV = "KIM_SEED_PATH"
DEPLOYMENTS_DIR = DBT_PROJECT_DIR / "deployments"


def seeds_dir() -> Path:
    """The reference data (dbt seeds) of this deployment: dbt/$KIM_SEED_PATH, else the
    project's seeds. dbt reads the same variable (seed-paths in dbt_project.yml), so ingest
    validation and the warehouse always use one set."""
    value = os.environ.get(SEED_PATH_ENV)
    if not value:
        return SEEDS_DIR
    path = (DBT_PROJECT_DIR / value).resolve()
    if Path(value).is_absolute() or DBT_PROJECT_DIR not in path.parents:
        raise ValueError(f"{SEED_PATH_ENV} muss ein Ordner im dbt-Projekt sein: {value!r}")
    return path


DEPLOYMENT_MODES = ("city", "kreis")


def deployment_mode(seeds: Path | None = None) -> str:
    """'city' (a kreisfreie Stadt, the default) or 'kreis' (a Landkreis with its municipalities):
    $KIM_MODE, else the setting `deployment_mode` of the seed settings.csv. The one statement of
    the mode; ingest validation and the reports read it here."""
    mode = os.environ.get("KIM_MODE")
    if not mode:
        path = (seeds or seeds_dir()) / "settings.csv"
        with path.open(encoding="utf-8", newline="") as f:
            values = {row["setting"]: row["value"] for row in csv.DictReader(f)}
        mode = values.get("deployment_mode", "city")
    mode = mode.strip().lower()
    if mode not in DEPLOYMENT_MODES:
        raise ValueError(f"deployment_mode/KIM_MODE muss city oder kreis sein, nicht {mode!r}")
    return mode


@cache
def _labels_by_domain() -> dict[str, dict[str, str]]:
    with (SEEDS_DIR / "labels.csv").open(encoding="utf-8", newline="") as f:
        table: dict[str, dict[str, str]] = {}
        for row in csv.DictReader(f):
            table.setdefault(row["domain"], {})[row["code"]] = row["label"]
    return table


def labels(domain: str) -> dict[str, str]:
    """German labels of the codes reports print, one domain (e.g. 'residence_status'): one
    statement, the seed labels.csv (dbt loads it as reference.labels for SQL users). A code
    without a label is printed as it is; an unknown domain is a KeyError."""
    return dict(_labels_by_domain()[domain])
