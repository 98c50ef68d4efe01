"""Which reported months must be recomputed, and why: stated once, for `kim run`, the inbox
sensor and `kim status`.

A month is *reported* when a run wrote its reports; the run then records in `meta.month_builds`
when (`built_at`) and with which reference data (`seeds_id`, a fingerprint of the seed files
kept in `meta.seed_fingerprints`). A reported month is *stale* when something it was computed
from has changed since:

1. **a corrected source file waits in the inbox**: a file whose name was loaded before with a
   different SHA-256. A monthly file of month M makes M and every later reported month stale; a
   yearly plan file of year Y every reported month from January of Y (only if a month of Y was
   reported: its file is loaded by a run over a month of Y);
2. **a source file was loaded after the month was built** (a correction loaded by a run that did
   not reach the reports, or by a run over a narrower window): every reported month from the
   file's period on whose build is older than the load;
3. **a seed file changed** against the fingerprint the month was built with. Seeds that hold
   values by period are fingerprinted per period, so only the months from the earliest changed
   period on become stale: targets and inhabitants by `year` (January of the year), staff FTE by
   `month`, accommodation places by `valid_from` (a changed row counts from its old and its new
   `valid_from`). Every other seed (products, accounts, catalogue, social spaces, settings) is
   fingerprinted whole: a change makes every reported month stale. A changed header counts as a
   change of the whole seed.

Everything a cumulative figure (year to date, forecast, 12-month rates, K11's cohort) of a later
month reads is thus recomputed: the window always runs on to the newest reported month.
`find_stale` is pure; `read_staleness` gathers its inputs, `record_build` writes the record.

A month is *up to date* (`up_to_date`: `kim run` then has nothing to do) when it is reported and
not stale, the newest report of it was built with the same seeds and the same `build_id` (the
program's files and the pseudonymisation key, `build_id`), every source file of it and of the
months before it waits in the inbox exactly as it was loaded, and its report folders exist.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import io
import json
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ingest.inbox import InboxFile
from kim_settings import DBT_PROJECT_DIR, PACKAGE_ROOT, internal_dir, public_dir

# What the program is: its Python packages and the dbt project's models and macros (the seeds
# are fingerprinted on their own, by period). A changed file means a month's reports may differ.
PROGRAM_PARTS = (
    PACKAGE_ROOT / "kim_settings.py",
    PACKAGE_ROOT / "ingest",
    PACKAGE_ROOT / "expectations",
    PACKAGE_ROOT / "reports",
    PACKAGE_ROOT / "dagster_project",
    DBT_PROJECT_DIR / "dbt_project.yml",
    DBT_PROJECT_DIR / "models",
    DBT_PROJECT_DIR / "macros",
)
PROGRAM_SUFFIXES = {".py", ".sql", ".yml", ".csv", ".css", ".html", ".j2"}

# seed file name -> (column holding the period, value -> first month 'YYYY-MM' it affects)
PERIOD_COLUMNS: dict[str, tuple[str, Callable[[str], str]]] = {
    "targets.csv": ("year", lambda v: f"{v.strip()}-01"),
    "social_space_inhabitants.csv": ("year", lambda v: f"{v.strip()}-01"),
    "staff_fte.csv": ("month", lambda v: v.strip()[:7]),
    "accommodation.csv": ("valid_from", lambda v: v.strip()[:7]),
}
WHOLE = ""  # period key of a whole-file fingerprint (and of a header): affects every month

# seed file -> period ('YYYY-MM' or WHOLE) -> SHA-256 of that period's rows
Fingerprint = dict[str, dict[str, str]]


@dataclass(frozen=True)
class Build:
    """The latest reporting of a month."""

    built_at: dt.datetime
    seeds_id: str | None


@dataclass(frozen=True)
class Load:
    """The newest load of a source file."""

    file_name: str
    period: str  # 'YYYY-MM' or 'YYYY'
    sha256: str
    loaded_at: dt.datetime


@dataclass(frozen=True)
class Staleness:
    """Stale months (ascending keys) with the reasons each must be recomputed (German)."""

    reasons: Mapping[str, tuple[str, ...]]

    @property
    def months(self) -> list[str]:
        return sorted(self.reasons)

    @property
    def start(self) -> str | None:
        return self.months[0] if self.reasons else None

    @property
    def end(self) -> str | None:
        return self.months[-1] if self.reasons else None

    def summary(self) -> str:
        """Every distinct reason once, in order of the first month it affects."""
        seen: dict[str, None] = {}
        for month in self.months:
            seen.update(dict.fromkeys(self.reasons[month]))
        return "; ".join(seen)


def seeds_changed(before: Fingerprint, now: Fingerprint) -> dict[str, str]:
    """Seed -> earliest period whose rows differ (WHOLE sorts before every month)."""
    changed = {}
    for seed in sorted(before.keys() | now.keys()):
        old, new = before.get(seed, {}), now.get(seed, {})
        periods = [p for p in old.keys() | new.keys() if old.get(p) != new.get(p)]
        if periods:
            changed[seed] = min(periods)
    return changed


def _seed_reason(seed: str, earliest: str) -> str:
    return f"{seed} geändert" + (f" (ab {earliest})" if earliest != WHOLE else "")


def find_stale(
    reported: Mapping[str, Build],
    loads: Sequence[Load],
    inbox: Sequence[InboxFile],
    fingerprints: Mapping[str, Fingerprint],
    seeds_now: Fingerprint,
) -> Staleness:
    """The stale reported months and why (module docstring: the three triggers)."""
    months = sorted(reported)
    if not months:
        return Staleness({})
    reasons: dict[str, list[str]] = defaultdict(list)

    def mark(stale: list[str], reason: str) -> None:
        for month in stale:
            if reason not in reasons[month]:
                reasons[month].append(reason)

    loaded = {load.file_name: load for load in loads}
    for f in inbox:
        before = loaded.get(f.name)
        if f.kind == "teilergebnisplan" or before is None or before.sha256 == f.sha256:
            continue
        if len(f.period) == 7 and f.period >= months[0]:
            mark(sorted({f.period, *(m for m in months if m > f.period)}), f"{f.name} ersetzt")
        elif len(f.period) == 4 and any(m[:4] == f.period for m in months):
            mark([m for m in months if m >= f"{f.period}-01"], f"{f.name} ersetzt")
    for load in loads:
        first = load.period if len(load.period) == 7 else f"{load.period}-01"
        mark(
            [m for m in months if m >= first and reported[m].built_at < load.loaded_at],
            f"{load.file_name} ersetzt",
        )
    for month in months:
        before = fingerprints.get(reported[month].seeds_id or "")
        if before is None:  # built before fingerprints were recorded: nothing to compare
            continue
        for seed, earliest in seeds_changed(before, seeds_now).items():
            if earliest <= month:
                mark([month], _seed_reason(seed, earliest))
    return Staleness({m: tuple(r) for m, r in reasons.items()})


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def fingerprint_seed(name: str, data: bytes) -> dict[str, str]:
    """Period -> SHA-256 of the seed's rows of that period (sorted), or the whole file."""
    if name not in PERIOD_COLUMNS:
        return {WHOLE: hashlib.sha256(data).hexdigest()}
    column, month_of = PERIOD_COLUMNS[name]
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    header, body = rows[0], [r for r in rows[1:] if any(cell.strip() for cell in r)]
    by_period: dict[str, list[str]] = defaultdict(list)
    index = header.index(column)
    for row in body:
        by_period[month_of(row[index]) if row[index].strip() else WHOLE].append("\x1f".join(row))
    by_period[WHOLE].append("\x1e".join(header))
    return {period: _sha("\n".join(sorted(lines))) for period, lines in by_period.items()}


def fingerprint_seeds(seeds_dir: Path) -> Fingerprint:
    return {
        p.name: fingerprint_seed(p.name, p.read_bytes()) for p in sorted(seeds_dir.glob("*.csv"))
    }


def seeds_id(fingerprint: Fingerprint) -> str:
    return _sha(json.dumps(fingerprint, sort_keys=True))


def program_fingerprint(parts: Sequence[Path] = PROGRAM_PARTS) -> str:
    """SHA-256 over the names and contents of the program's source files."""
    digest = hashlib.sha256()
    for part in parts:
        files = sorted(part.rglob("*")) if part.is_dir() else [part]
        for path in files:
            if path.is_file() and path.suffix in PROGRAM_SUFFIXES:
                digest.update(path.relative_to(part.parent).as_posix().encode() + b"\0")
                digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def build_id(key: bytes, program: str | None = None) -> str:
    """Identifies what a month's reports were built with besides inputs and seeds: the program
    and the pseudonymisation key (as a keyed hash of a constant: it names the key, never shows
    it)."""
    key_id = hmac.new(key, b"kim/build-id", hashlib.sha256).hexdigest()
    return _sha(f"{program or program_fingerprint()}:{key_id}")


def _has_table(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'meta' and table_name = ?",
            [table],
        ).fetchone()[0]
    )


def _has_column(con: duckdb.DuckDBPyConnection, table: str, column: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.columns "
            "where table_schema = 'meta' and table_name = ? and column_name = ?",
            [table, column],
        ).fetchone()[0]
    )


def read_staleness(
    con: duckdb.DuckDBPyConnection | None, inbox: Sequence[InboxFile], seeds_dir: Path
) -> Staleness:
    """find_stale over the warehouse's meta tables (None: no warehouse yet, nothing stale)."""
    if con is None or not _has_table(con, "month_builds"):
        return Staleness({})
    reported = {
        month: Build(built_at, seeds)
        for month, built_at, seeds in con.execute(
            "select month, max(built_at), max_by(seeds_id, built_at) "
            "from meta.month_builds group by month"
        ).fetchall()
    }
    loads = [
        Load(*row)
        for row in con.execute(
            "select file_name, period, max_by(sha256, loaded_at), max(loaded_at) "
            "from meta.load_batches where file_name not ilike 'teilergebnisplan%' "
            "group by file_name, period"
        ).fetchall()
    ]
    fingerprints: dict[str, Fingerprint] = defaultdict(lambda: defaultdict(dict))
    for sid, seed, period, sha in con.execute(
        "select seeds_id, seed, period, sha256 from meta.seed_fingerprints"
    ).fetchall():
        fingerprints[sid][seed][period] = sha
    return find_stale(reported, loads, inbox, fingerprints, fingerprint_seeds(seeds_dir))


def up_to_date(
    con: duckdb.DuckDBPyConnection | None,
    months: Sequence[str],
    inbox: Sequence[InboxFile],
    seeds_dir: Path,
    build: str,
    output: Path,
) -> bool:
    """Whether every month of `months` is up to date (module docstring): a run would change
    nothing. False whenever in doubt."""
    if con is None or not months or not _has_column(con, "month_builds", "build_id"):
        return False
    if read_staleness(con, inbox, seeds_dir).reasons:
        return False
    newest = {
        month: (seeds, built_with)
        for month, seeds, built_with in con.execute(
            "select month, max_by(seeds_id, built_at), max_by(build_id, built_at) "
            "from meta.month_builds group by month"
        ).fetchall()
    }
    seeds = seeds_id(fingerprint_seeds(seeds_dir))
    if any(newest.get(month) != (seeds, build) for month in months):
        return False
    loaded = set(
        con.execute(
            "select file_name, max_by(sha256, loaded_at) from meta.load_batches group by file_name"
        ).fetchall()
    )
    last = max(months)
    inputs = [
        f
        for f in inbox
        if f.kind != "teilergebnisplan" and f.period <= (last if len(f.period) == 7 else last[:4])
    ]
    if any((f.name, f.sha256) not in loaded for f in inputs):
        return False
    return all(
        _has_files(internal_dir(output, month)) and _has_files(public_dir(output, month))
        for month in months
    )


def _has_files(folder: Path) -> bool:
    return folder.is_dir() and any(folder.iterdir())


def record_build(
    con: duckdb.DuckDBPyConnection,
    months: Sequence[str],
    run_id: str | None,
    seeds_dir: Path,
    now: dt.datetime,
    build: str | None = None,
) -> None:
    """Note that `months` were reported now with the current seeds and the program and key
    `build` (see build_id), in one transaction."""
    fingerprint = fingerprint_seeds(seeds_dir)
    sid = seeds_id(fingerprint)
    con.begin()
    try:
        known = con.execute(
            "select count(*) from meta.seed_fingerprints where seeds_id = ?", [sid]
        ).fetchone()[0]
        if not known:
            con.executemany(
                "insert into meta.seed_fingerprints values (?, ?, ?, ?)",
                [
                    (sid, seed, period, sha)
                    for seed, periods in fingerprint.items()
                    for period, sha in sorted(periods.items())
                ],
            )
        con.executemany(
            "insert into meta.month_builds (month, run_id, built_at, seeds_id, build_id)"
            " values (?, ?, ?, ?, ?)",
            [(month, run_id, now, sid, build) for month in months],
        )
        con.commit()
    except BaseException:
        con.rollback()
        raise
