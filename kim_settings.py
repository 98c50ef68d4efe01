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


def deployment_project_dir(warehouse: Path) -> Path:
    """Another deployment's dbt project (a district's reference data), beside its warehouse in
    the warehouse's dbt folder `<warehouse>.dbt/project/`: links to the shipped models, macros,
    tests and dbt_project.yml plus a real `seeds/` folder (dagster_project.dbt_manifest.
    prepare_deployment). dbt needs its seeds inside its project root (it writes each seed's SQL
    to target/run/<project>/<seed path>; an absolute or outside path would overwrite the seed
    files), and the shipped project (site-packages when installed) is never written to."""
    return warehouse.with_name(warehouse.name + ".dbt") / "project"


def dbt_project_dir(warehouse: Path | None = None) -> Path:
    """The dbt project of this deployment: the warehouse's own project when it has one, else
    the shipped one. Read from the warehouse path, so `kim`, the Dagster UI and the daemon
    (same KIM_WAREHOUSE) use one set of reference data without another setting."""
    folder = deployment_project_dir(warehouse or Paths.from_env().warehouse)
    return folder if (folder / "dbt_project.yml").exists() else DBT_PROJECT_DIR


def seeds_dir(warehouse: Path | None = None) -> Path:
    """The reference data (dbt seeds) of this deployment (`dbt_project_dir`): ingest validation
    and the warehouse always use one set."""
    return dbt_project_dir(warehouse) / "seeds"


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
def _labels_by_domain(seeds: Path) -> dict[str, dict[str, str]]:
    with (seeds / "labels.csv").open(encoding="utf-8", newline="") as f:
        table: dict[str, dict[str, str]] = {}
        for row in csv.DictReader(f):
            table.setdefault(row["domain"], {})[row["code"]] = row["label"]
    return table


def labels(domain: str) -> dict[str, str]:
    """German labels of the codes reports print, one domain (e.g. 'residence_status'): one
    statement, the seed labels.csv (dbt loads it as reference.labels for SQL users). A code
    without a label is printed as it is; an unknown domain is a KeyError."""
    return dict(_labels_by_domain(seeds_dir())[domain])
